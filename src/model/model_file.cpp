#include "model/model_file.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>

#include "data/extract.h"

namespace tunelens::model {
namespace {

namespace fs = std::filesystem;

constexpr std::array<char, 8> kMagic = {'T', 'L', 'N', 'S', 'M', 'O', 'D', 'L'};

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_section(std::string& out, const std::string& name, const std::string& bytes) {
  put_u32(out, static_cast<std::uint32_t>(name.size()));
  out += name;
  put_u64(out, bytes.size());
  out += bytes;
  put_u64(out, fnv1a64(bytes.data(), bytes.size()));
}

// Reads the file's bytes in order, failing with the file's name and what was expected.
class Reader {
 public:
  Reader(const fs::path& path, std::ifstream& in, std::uint64_t size) : path_(path), in_(in), left_(size) {}
  [[noreturn]] void fail(const std::string& reason) const { throw ModelError(path_.string() + ": " + reason); }
  std::string bytes(std::uint64_t count, const std::string& what) {
    if (count > left_)
      fail(fmt::format("truncated: {} needs {} bytes, the file has {} left", what, count, left_));
    std::string out(static_cast<std::size_t>(count), '\0');
    if (!in_.read(out.data(), static_cast<std::streamsize>(count))) fail("cannot read " + what);
    left_ -= count;
    return out;
  }
  void skip(std::uint64_t count, std::uint64_t& hash, const std::string& what) {
    if (count > left_)
      fail(fmt::format("truncated: {} needs {} bytes, the file has {} left", what, count, left_));
    std::array<char, 1 << 16> buffer{};
    std::uint64_t remaining = count;
    while (remaining > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer.size()));
      if (!in_.read(buffer.data(), static_cast<std::streamsize>(n))) fail("cannot read " + what);
      hash = fnv1a64(buffer.data(), n, hash);
      remaining -= n;
    }
    left_ -= count;
  }
  std::uint64_t number(int width, const std::string& what) {
    const std::string raw = bytes(static_cast<std::uint64_t>(width), what);
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(raw[static_cast<std::size_t>(i)]);
    return v;
  }
  std::uint64_t left() const { return left_; }

 private:
  const fs::path& path_;
  std::ifstream& in_;
  std::uint64_t left_;
};

template <typename T>
T field(const nlohmann::json& json, const char* key, T fallback) {
  const auto it = json.find(key);
  return it == json.end() || it->is_null() ? fallback : it->get<T>();
}

}  // namespace

std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string hex64(std::uint64_t value) { return fmt::format("{:016x}", value); }

void write_model_file(const fs::path& path, const ModelFile& file) {
  std::string out(kMagic.begin(), kMagic.end());
  put_u32(out, kModelFormatVersion);
  put_section(out, "metadata", file.metadata.dump());
  put_section(out, "weights", file.weights);
  if (!file.torchscript.empty()) put_section(out, "torchscript", file.torchscript);
  if (!file.optimizer.empty()) put_section(out, "optimizer", file.optimizer);
  put_section(out, "end", "");

  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::random_device seed;
  const fs::path temporary = path.string() + fmt::format(".partial-{:08x}", seed());
  {
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    if (!stream) throw ModelError(path.string() + ": cannot write (cannot create " + temporary.string() + ")");
    stream.write(out.data(), static_cast<std::streamsize>(out.size()));
    stream.flush();
    if (!stream) {
      stream.close();
      fs::remove(temporary, ec);
      throw ModelError(path.string() + ": cannot write (disk full?)");
    }
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    throw ModelError(path.string() + ": cannot write: " + ec.message());
  }
}

ModelFile read_model_file(const fs::path& path, bool metadata_only) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (const auto shipped = find_shipped_network(path.string())) return shipped_model_file(*shipped);
    throw ModelError(path.string() + ": no such model file or shipped network (tunelens model list shows them)");
  }
  if (fs::is_directory(path, ec)) throw ModelError(path.string() + ": is a folder, not a model file");
  const std::uint64_t size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (!in || ec) throw ModelError(path.string() + ": cannot open");
  Reader reader(path, in, size);
  if (size < kMagic.size() || reader.bytes(kMagic.size(), "the header") != std::string(kMagic.begin(), kMagic.end()))
    reader.fail("not a tunelens model file");
  const auto version = static_cast<std::uint32_t>(reader.number(4, "the format version"));
  if (version == 0 || version > kModelFormatVersion)
    reader.fail(fmt::format("model file format {} is newer than this tunelens reads ({}); update tunelens", version,
                            kModelFormatVersion));
  ModelFile file;
  bool have_metadata = false, have_weights = false, ended = false;
  while (!ended) {
    if (reader.left() == 0) reader.fail("truncated: the file ends before its end marker");
    const auto name_size = reader.number(4, "a section header");
    if (name_size > 64) reader.fail("damaged: a section name is too long");
    const std::string name = reader.bytes(name_size, "a section name");
    const std::uint64_t length = reader.number(8, "section " + name);
    std::string bytes;
    std::uint64_t hash = 0xcbf29ce484222325ull;
    const bool keep = !metadata_only || name == "metadata";
    if (keep) {
      bytes = reader.bytes(length, "section " + name);
      hash = fnv1a64(bytes.data(), bytes.size());
    } else {
      reader.skip(length, hash, "section " + name);
    }
    if (reader.number(8, "the checksum of section " + name) != hash)
      reader.fail("damaged: the checksum of section '" + name + "' does not match its contents");
    if (name == "end") {
      ended = true;
    } else if (name == "metadata") {
      try {
        file.metadata = nlohmann::json::parse(bytes);
      } catch (const nlohmann::json::exception& error) {
        reader.fail(std::string("damaged metadata: ") + error.what());
      }
      have_metadata = true;
    } else if (name == "weights") {
      file.weights = std::move(bytes);
      have_weights = true;
    } else if (name == "torchscript") {
      file.torchscript = std::move(bytes);
    } else if (name == "optimizer") {
      file.optimizer = std::move(bytes);
    }  // sections a later version adds are skipped
  }
  if (!have_metadata) reader.fail("damaged: no metadata section");
  if (!have_weights) reader.fail("damaged: no weights section");
  if (!file.metadata.is_object() || file.metadata.value("format", std::string()) != "tunelens model")
    reader.fail("damaged: the metadata is not a tunelens model's");
  return file;
}

nlohmann::json feature_config_json(const FeatureConfig& config) {
  nlohmann::json parameters = nlohmann::json::object();
  if (!config.parameters.empty()) parameters = nlohmann::json::parse(config.parameters, nullptr, false);
  nlohmann::json json = feature_settings_json(config.settings);
  json["id"] = config.id;
  json["parameters"] = parameters;
  json["window_frames"] = config.window_frames;
  json["window_hop"] = config.window_hop;
  json["normalisation"] = to_string(config.normalisation);
  json["mean"] = config.mean;
  json["std"] = config.std;
  return json;
}

FeatureConfig feature_config_from_json(const nlohmann::json& json) {
  FeatureConfig config;
  config.id = field<std::string>(json, "id", "");
  if (json.contains("parameters") && json.at("parameters").is_object() && !json.at("parameters").empty())
    config.parameters = json.at("parameters").dump();
  try {
    config.settings = feature_settings_from_json(json);
  } catch (const FeatureError& error) {
    throw ModelError(error.what());
  }
  config.window_frames = json.at("window_frames").get<std::size_t>();
  config.window_hop = field<std::size_t>(json, "window_hop", 0);
  const auto normalisation = parse_normalisation(field<std::string>(json, "normalisation", "minmax"));
  if (!normalisation) throw ModelError("unknown normalisation '" + json.at("normalisation").get<std::string>() + "'");
  config.normalisation = *normalisation;
  config.mean = field<std::vector<float>>(json, "mean", {});
  config.std = field<std::vector<float>>(json, "std", {});
  return config;
}

nlohmann::json network_settings_json(const NetworkSettings& settings) {
  nlohmann::json json = {{"name", settings.name},
                         {"depth", settings.depth},
                         {"width", settings.width},
                         {"dropout", settings.dropout},
                         {"n_mfcc", settings.n_mfcc}};
  if (!settings.pre_head.empty()) json["pre_head"] = settings.pre_head;  // older files lack it: the default
  return json;
}

NetworkSettings network_settings_from_json(const nlohmann::json& json) {
  NetworkSettings settings;
  settings.name = json.at("name").get<std::string>();
  settings.depth = field(json, "depth", settings.depth);
  settings.width = field(json, "width", settings.width);
  settings.dropout = field(json, "dropout", settings.dropout);
  settings.n_mfcc = field(json, "n_mfcc", settings.n_mfcc);
  settings.pre_head = field(json, "pre_head", settings.pre_head);
  return settings;
}

ModelInfo model_info(const fs::path& path, const ModelFile& file) {
  ModelInfo info;
  info.file = path;
  const nlohmann::json& meta = file.metadata;
  try {
    info.format_version = meta.at("format_version").get<std::uint32_t>();
    info.checkpoint = field<std::string>(meta, "kind", "model") == "checkpoint";
    info.network = network_settings_from_json(meta.at("network"));
    info.classes = meta.at("classes").get<std::vector<std::string>>();
    info.features = feature_config_from_json(meta.at("features"));
    info.input_rows = meta.at("input").at("rows").get<std::size_t>();
    info.input_frames = meta.at("input").at("frames").get<std::size_t>();
    info.embedding_size = meta.at("embedding_size").get<std::size_t>();
    info.parameters = meta.at("parameters").get<std::size_t>();
    info.weights_hash = field<std::string>(meta, "weights_hash", "");
    info.multi_label = field<std::string>(meta, "output", "softmax") == "sigmoid";
    info.tag_categories = field<std::vector<std::string>>(meta, "tag_categories", {});
    if (!info.tag_categories.empty() && info.tag_categories.size() != info.classes.size())
      throw ModelError("damaged metadata: tag categories do not match the classes");
    if (meta.contains("shipped")) info.shipped = meta.at("shipped").at("name").get<std::string>();
    info.metadata_json = meta.dump(2);
  } catch (const nlohmann::json::exception& error) {
    throw ModelError(path.string() + ": damaged metadata: " + error.what());
  } catch (const ModelError& error) {
    throw ModelError(path.string() + ": " + error.what());
  }
  if (info.classes.size() < 2) throw ModelError(path.string() + ": damaged metadata: fewer than 2 classes");
  return info;
}

}  // namespace tunelens::model

namespace tunelens {

using model::field;

ModelInfo read_model_info(const std::filesystem::path& file) {
  return model::model_info(file, model::read_model_file(file, true));
}

std::string describe(const ModelInfo& info) {
  const nlohmann::json meta = nlohmann::json::parse(info.metadata_json);
  std::string text;
  auto line = [&](const std::string& key, const std::string& value) { text += fmt::format("{:<14}{}\n", key, value); };
  line("file", info.file.string() + (info.checkpoint ? " (training checkpoint)" : ""));
  line("format", fmt::format("tunelens model, version {}", info.format_version));
  std::string network = info.network.name;
  if (info.network.name == "resnet") network += fmt::format(" depth {}", info.network.depth);
  if (info.network.width > 0) network += fmt::format(" width {}", info.network.width);
  if (info.network.name == "mfcc-linear") network += fmt::format(" ({} MFCC)", info.network.n_mfcc);
  line("network", fmt::format("{}, input {} x {}, {} parameters, embedding {}", network, info.input_rows,
                              info.input_frames, info.parameters, info.embedding_size));
  std::string classes;
  for (const auto& name : info.classes) classes += (classes.empty() ? "" : ", ") + name;
  line("classes", fmt::format("{}: {}", info.classes.size(), classes));
  const FeatureConfig& f = info.features;
  const FeatureSettings& s = f.settings;
  line("features", fmt::format("mel {} Hz, n_fft {}, hop {}, {} mels {:g}-{:g} Hz, power {:g}, db {}{}{}", s.mel.sample_rate,
                               s.mel.n_fft, s.mel.hop_length, s.mel.n_mels, s.mel.fmin, s.mel.fmax, s.mel.power, s.db,
                               s.in_db() ? fmt::format(" (top_db {:g})", s.top_db) : "",
                               f.id.empty() ? "" : ", configuration " + f.id));
  if (const std::string choices = describe_front_end_choices(s); !choices.empty()) line("", choices);
  if (s.offset > 0 || s.duration >= 0)
    line("", fmt::format("audio from {:g} s{}", s.offset, s.duration >= 0 ? fmt::format(", {:g} s", s.duration) : ""));
  line("windows", fmt::format("{} frames ({:.2f} s), hop {}, normalisation {}", f.window_frames,
                              static_cast<double>(f.window_frames) * s.mel.hop_length / s.mel.sample_rate,
                              f.window_hop == 0 ? f.window_frames : f.window_hop, to_string(f.normalisation)));
  if (meta.contains("training")) {
    const auto& t = meta.at("training");
    line("training", fmt::format("{} epochs max, batch {}, AdamW lr {} ({}), weight decay {}, patience {}, aug {}",
                                 field(t, "epochs", 0), field(t, "batch_size", 0), field(t, "learning_rate", 0.0),
                                 field<std::string>(t, "schedule", "?"), field(t, "weight_decay", 0.0),
                                 field(t, "patience", 0), field<std::string>(t, "augment", "none")));
    std::string extra;
    if (!field<std::string>(t, "init", "").empty()) extra += "init from " + t.at("init").get<std::string>() + "; ";
    if (field(t, "freeze", 0) > 0) extra += fmt::format("last {} blocks trained; ", t.at("freeze").get<int>());
    if (!field<std::string>(t, "backbone", "").empty()) extra += "backbone " + t.at("backbone").get<std::string>() + "; ";
    if (!extra.empty()) line("", extra.substr(0, extra.size() - 2));
  }
  if (meta.contains("provenance")) {
    const auto& p = meta.at("provenance");
    line("data", fmt::format("catalog {}, split '{}', {} train / {} val tracks", field<std::string>(p, "catalog", "?"),
                             field<std::string>(p, "split", "?"), field(p, "train_tracks", 0), field(p, "val_tracks", 0)));
    line("run", fmt::format("seed {}, {} epochs run, best epoch {}, {} threads on {}, tunelens {}, libtorch {}, {}",
                            field<std::uint64_t>(p, "seed", 0), field(p, "epochs_run", 0), field(p, "best_epoch", 0),
                            field(p, "threads", 0), field<std::string>(p, "device", "?"),
                            field<std::string>(p, "tunelens_version", "?"), field<std::string>(p, "libtorch_version", "?"),
                            field<std::string>(p, "created", "?")));
    if (p.contains("metrics")) {
      const auto& m = p.at("metrics");
      auto number = [&](const char* key) {
        const auto it = m.find(key);
        return it == m.end() || !it->is_number() ? std::string("n/a") : fmt::format("{:.4f}", it->get<double>());
      };
      line("metrics", fmt::format("train loss {}, accuracy {}; val loss {}, accuracy {} (best epoch)",
                                  number("train_loss"), number("train_accuracy"), number("val_loss"),
                                  number("val_accuracy")));
    }
  }
  line("weights", "hash " + info.weights_hash);
  return text;
}

}  // namespace tunelens

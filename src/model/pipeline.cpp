#include "model/pipeline.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <set>

#include <fmt/format.h>

#include "store/catalog.h"
#include "store/feature_array.h"

namespace tunelens::model {

namespace fs = std::filesystem;

TrainingData load_training_data(const fs::path& catalog_file, const std::string& split,
                                const std::string& feature_config) {
  Catalog catalog = Catalog::open(catalog_file);
  const std::string where = catalog_file.string();
  if (!catalog.split(split)) {
    std::string known;
    for (const auto& info : catalog.splits()) known += (known.empty() ? "" : ", ") + info.name;
    throw ModelError(fmt::format("{}: no split named '{}' (splits: {})", where, split, known.empty() ? "none" : known));
  }
  TrainingData data;
  std::optional<FeatureConfigInfo> config;
  if (feature_config.empty()) {
    const auto configs = catalog.feature_configs();
    if (configs.empty()) throw ModelError(where + ": has no features yet (run the extract command first)");
    if (configs.size() > 1)
      throw ModelError(where + ": has " + std::to_string(configs.size()) +
                       " feature configurations; choose one with --features");
    config = configs.front();
  } else {
    config = catalog.feature_config(feature_config);
    if (!config) throw ModelError(where + ": no feature configuration '" + feature_config + "'");
  }
  data.features.id = config->id;
  try {
    parse_feature_parameters(config->parameters, data.features);
  } catch (const ModelError& error) {
    throw ModelError(where + ": " + error.what());
  }
  data.rows = static_cast<std::size_t>(data.features.settings.mel.n_mels);

  std::map<std::int64_t, FeatureRecord> records;
  for (auto& record : catalog.feature_records(config->id))
    if (record.status == FeatureStatus::Done) records.emplace(record.track, std::move(record));

  TrackQuery query;
  query.split_name = split;
  query.labelled_only = true;
  const std::vector<Track> tracks = catalog.tracks(query);
  std::set<std::string> labels;
  for (const auto& track : tracks)
    if (track.label) labels.insert(*track.label);
  data.classes.assign(labels.begin(), labels.end());

  std::map<std::int64_t, SplitPart> parts;
  for (const auto& assignment : catalog.split_assignments(split)) parts[assignment.track] = assignment.part;
  for (const auto& track : tracks) {
    const auto part = parts.find(track.id);
    if (part == parts.end() || part->second == SplitPart::Test || !track.label) continue;
    const auto record = records.find(track.id);
    if (record == records.end() || record->second.n_mels != data.rows || record->second.frames == 0) {
      ++data.skipped;
      continue;
    }
    if (!feature_file_intact(catalog.feature_file(track.id, config->id), record->second.n_mels,
                             record->second.frames)) {
      ++data.lost;
      continue;
    }
    TrackExample example;
    example.track = track.id;
    example.file = catalog.feature_file(track.id, config->id);
    example.frames = record->second.frames;
    example.label = std::distance(data.classes.begin(),
                                  std::lower_bound(data.classes.begin(), data.classes.end(), *track.label));
    (part->second == SplitPart::Train ? data.train : data.val).push_back(std::move(example));
  }
  if (data.train.empty())
    throw ModelError(fmt::format("{}: split '{}' has no training tracks with features of configuration {}", where,
                                 split, config->id));
  if (data.classes.size() < 2)
    throw ModelError(fmt::format("{}: split '{}' has {} label(s); a classifier needs at least 2", where, split,
                                 data.classes.size()));
  return data;
}

Spectrogram mfcc_statistics(const Spectrogram& window, int n_mfcc) {
  const Spectrogram coefficients = mfcc(window, n_mfcc);
  const auto n = static_cast<std::size_t>(n_mfcc);
  Spectrogram out(2 * n, 1);
  for (std::size_t k = 0; k < n; ++k) {
    double sum = 0.0, squares = 0.0;
    for (std::size_t t = 0; t < coefficients.frames; ++t) {
      const double v = coefficients.at(k, t);
      sum += v;
      squares += v * v;
    }
    const double count = std::max<double>(1.0, static_cast<double>(coefficients.frames));
    const double mean = sum / count;
    out.at(k, 0) = static_cast<float>(mean);
    out.at(n + k, 0) = static_cast<float>(std::sqrt(std::max(0.0, squares / count - mean * mean)));
  }
  return out;
}

Spectrogram to_input(const InputFormat& format, Spectrogram window) {
  if (format.mfcc_statistics) window = mfcc_statistics(window, format.n_mfcc);
  switch (format.normalisation) {
    case Normalisation::MinMax: minmax_scale(window); break;
    case Normalisation::Standard:
      for (std::size_t r = 0; r < window.rows; ++r) {
        const float mean = format.mean.at(r);
        const float scale = 1.0f / std::max(format.std.at(r), 1e-6f);
        float* row = window.values.data() + r * window.frames;
        for (std::size_t t = 0; t < window.frames; ++t) row[t] = (row[t] - mean) * scale;
      }
      break;
    case Normalisation::None: break;
  }
  return window;
}

Spectrogram read_track_window(const TrackExample& track, std::size_t rows, std::size_t offset, std::size_t frames) {
  const FeatureArray array(track.file);
  if (array.rows() != rows)
    throw ModelError(fmt::format("{}: has {} rows, the configuration {}", track.file.string(), array.rows(), rows));
  if (array.frames() < frames) {
    Spectrogram whole(rows, array.frames());
    whole.values = array.read_all();
    WindowOptions options;
    options.frames = frames;
    return std::move(cut_windows(whole, options).front());
  }
  Spectrogram window(rows, frames);
  array.read_window(std::min(offset, array.frames() - frames), frames, window.values);
  return window;
}

void fit_standard_normalisation(InputFormat& format, const std::vector<TrackExample>& tracks,
                                std::size_t max_tracks) {
  const std::size_t rows = format.input_rows();
  std::vector<double> sum(rows, 0.0), squares(rows, 0.0);
  double count = 0.0;
  const std::size_t step = std::max<std::size_t>(1, (tracks.size() + max_tracks - 1) / std::max<std::size_t>(1, max_tracks));
  for (std::size_t i = 0; i < tracks.size(); i += step) {
    const TrackExample& track = tracks[i];
    std::vector<Spectrogram> inputs;
    if (format.mfcc_statistics) {
      for (std::size_t offset = 0; offset == 0 || offset + format.window_frames <= track.frames;
           offset += format.window_frames)
        inputs.push_back(mfcc_statistics(read_track_window(track, format.rows, offset, format.window_frames),
                                         format.n_mfcc));
    } else {
      Spectrogram whole(format.rows, track.frames);
      whole.values = FeatureArray(track.file).read_all();
      if (whole.values.size() != format.rows * track.frames)
        throw ModelError(track.file.string() + ": its size does not match the catalog's record");
      inputs.push_back(std::move(whole));
    }
    for (const auto& input : inputs) {
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t t = 0; t < input.frames; ++t) {
          const double v = input.at(r, t);
          sum[r] += v;
          squares[r] += v * v;
        }
      count += static_cast<double>(input.frames);
    }
  }
  format.mean.assign(rows, 0.0f);
  format.std.assign(rows, 1.0f);
  if (count == 0.0) return;
  for (std::size_t r = 0; r < rows; ++r) {
    const double mean = sum[r] / count;
    format.mean[r] = static_cast<float>(mean);
    format.std[r] = static_cast<float>(std::sqrt(std::max(0.0, squares[r] / count - mean * mean)));
  }
}

std::vector<Sample> consecutive_windows(const std::vector<TrackExample>& tracks, std::size_t window_frames) {
  std::vector<Sample> samples;
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    const std::size_t frames = tracks[i].frames;
    const std::size_t count = frames < window_frames ? 1 : (frames - window_frames) / window_frames + 1;
    for (std::size_t k = 0; k < count; ++k) samples.push_back({static_cast<std::uint32_t>(i), k * window_frames});
  }
  return samples;
}

std::vector<Sample> epoch_samples(const std::vector<TrackExample>& tracks, std::size_t window_frames,
                                  bool random_offsets, SplitRandom& random) {
  std::vector<Sample> samples = consecutive_windows(tracks, window_frames);
  if (random_offsets)
    for (auto& sample : samples) {
      const std::size_t frames = tracks[sample.track].frames;
      sample.offset = frames <= window_frames ? 0 : random.below(frames - window_frames + 1);
    }
  random.shuffle(samples);
  return samples;
}

double uniform(SplitRandom& random) { return static_cast<double>(random.next() >> 11) * 0x1.0p-53; }

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t value) {
  SplitRandom random(seed ^ (value * 0xd1b54a32d192ed03ull + 0x2545f4914f6cdd1dull));
  random.next();
  return random.next();
}

namespace {

double standard_normal(SplitRandom& random) {
  // Box-Muller; 1 - u keeps the logarithm finite.
  const double u = 1.0 - uniform(random), v = uniform(random);
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
}

// Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 through Gamma(shape + 1) * U^(1 / shape).
double gamma_variate(SplitRandom& random, double shape) {
  if (shape < 1.0) return gamma_variate(random, shape + 1.0) * std::pow(1.0 - uniform(random), 1.0 / shape);
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = standard_normal(random);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform(random);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

}  // namespace

double beta_symmetric(SplitRandom& random, double alpha) {
  const double x = gamma_variate(random, alpha), y = gamma_variate(random, alpha);
  return x + y > 0.0 ? x / (x + y) : 0.5;
}

void zoom(Spectrogram& window, double row_factor, double frame_factor) {
  const std::size_t rows = window.rows, frames = window.frames;
  if (rows == 0 || frames == 0) return;
  Spectrogram out(rows, frames);
  const double row_centre = (static_cast<double>(rows) - 1.0) / 2.0;
  const double frame_centre = (static_cast<double>(frames) - 1.0) / 2.0;
  // Where each output column samples the input: index of the left neighbour and the weight of the right one.
  std::vector<std::size_t> left(frames);
  std::vector<float> weight(frames);
  for (std::size_t t = 0; t < frames; ++t) {
    const double x = std::clamp(frame_centre + (static_cast<double>(t) - frame_centre) * frame_factor, 0.0,
                                static_cast<double>(frames - 1));
    left[t] = std::min(static_cast<std::size_t>(x), frames - 1);
    weight[t] = static_cast<float>(x - static_cast<double>(left[t]));
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const double y = std::clamp(row_centre + (static_cast<double>(r) - row_centre) * row_factor, 0.0,
                                static_cast<double>(rows - 1));
    const auto top = std::min(static_cast<std::size_t>(y), rows - 1);
    const std::size_t bottom = std::min(top + 1, rows - 1);
    const auto down = static_cast<float>(y - static_cast<double>(top));
    const float* a = window.values.data() + top * frames;
    const float* b = window.values.data() + bottom * frames;
    float* dst = out.values.data() + r * frames;
    for (std::size_t t = 0; t < frames; ++t) {
      const std::size_t l = left[t], h = std::min(l + 1, frames - 1);
      const float upper = a[l] + (a[h] - a[l]) * weight[t];
      const float lower = b[l] + (b[h] - b[l]) * weight[t];
      dst[t] = upper + (lower - upper) * down;
    }
  }
  window = std::move(out);
}

void zoom(Spectrogram& window, double range, SplitRandom& random) {
  const double row_factor = 1.0 - range + 2.0 * range * uniform(random);
  const double frame_factor = 1.0 - range + 2.0 * range * uniform(random);
  zoom(window, row_factor, frame_factor);
}

void mask(Spectrogram& window, const AugmentOptions& options, SplitRandom& random) {
  if (window.values.empty()) return;
  double sum = 0.0;
  for (float v : window.values) sum += v;
  const auto fill = static_cast<float>(sum / static_cast<double>(window.values.size()));
  const std::size_t rows = window.rows, frames = window.frames;
  const std::size_t max_rows = options.freq_mask_width > 0 ? static_cast<std::size_t>(options.freq_mask_width)
                                                             : std::max<std::size_t>(1, rows / 8);
  const std::size_t max_frames = options.time_mask_width > 0 ? static_cast<std::size_t>(options.time_mask_width)
                                                              : std::max<std::size_t>(1, frames / 10);
  for (int m = 0; m < options.freq_masks; ++m) {
    const std::size_t width = std::min<std::size_t>(random.below(max_rows + 1), rows);
    const std::size_t start = random.below(rows - width + 1);
    std::fill(window.values.begin() + static_cast<std::ptrdiff_t>(start * frames),
              window.values.begin() + static_cast<std::ptrdiff_t>((start + width) * frames), fill);
  }
  for (int m = 0; m < options.time_masks; ++m) {
    const std::size_t width = std::min<std::size_t>(random.below(max_frames + 1), frames);
    const std::size_t start = random.below(frames - width + 1);
    for (std::size_t r = 0; r < rows; ++r)
      std::fill_n(window.values.begin() + static_cast<std::ptrdiff_t>(r * frames + start), width, fill);
  }
}

BatchStream::BatchStream(const std::vector<TrackExample>& tracks, std::vector<Sample> samples,
                         std::size_t batch_size, const InputFormat& format, const AugmentOptions* augment,
                         std::uint64_t seed, bool drop_single, std::size_t depth)
    : tracks_(tracks), samples_(std::move(samples)), batch_size_(std::max<std::size_t>(1, batch_size)),
      format_(format), seed_(seed), depth_(std::max<std::size_t>(1, depth)) {
  if (augment) augment_ = *augment;
  batches_ = (samples_.size() + batch_size_ - 1) / batch_size_;
  if (drop_single && batches_ > 0 && samples_.size() % batch_size_ == 1) --batches_;
  producer_ = std::thread([this] { produce(); });
}

BatchStream::~BatchStream() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  producer_.join();
}

Batch BatchStream::make_batch(std::size_t index) const {
  const std::size_t begin = index * batch_size_;
  const std::size_t end = std::min(samples_.size(), begin + batch_size_);
  const std::size_t input_size = format_.input_size();
  Batch batch;
  batch.size = end - begin;
  batch.inputs.resize(batch.size * input_size);
  batch.labels.resize(batch.size);
  batch.tracks.resize(batch.size);
  for (std::size_t i = begin; i < end; ++i) {
    const Sample& sample = samples_[i];
    const TrackExample& track = tracks_[sample.track];
    Spectrogram window = read_track_window(track, format_.rows, sample.offset, format_.window_frames);
    SplitRandom random(mix_seed(seed_, i));
    const bool augment = augment_.has_value();
    if (augment && format_.mfcc_statistics) {  // the features of mfcc-linear come from the augmented window
      if (augment_->zoom) zoom(window, augment_->zoom_range, random);
      if (augment_->masks) mask(window, *augment_, random);
    }
    Spectrogram input = to_input(format_, std::move(window));
    if (augment && !format_.mfcc_statistics) {  // as the original: zoom the scaled window
      if (augment_->zoom) zoom(input, augment_->zoom_range, random);
      if (augment_->masks) mask(input, *augment_, random);
    }
    std::copy(input.values.begin(), input.values.end(), batch.inputs.begin() + static_cast<std::ptrdiff_t>((i - begin) * input_size));
    batch.labels[i - begin] = track.label;
    batch.tracks[i - begin] = sample.track;
  }
  if (augment_ && augment_->mixup && batch.size > 1) {
    SplitRandom random(mix_seed(seed_ ^ 0x6d69787570ull, index));
    std::vector<std::size_t> partner(batch.size);
    for (std::size_t i = 0; i < batch.size; ++i) partner[i] = i;
    random.shuffle(partner);
    batch.mix = static_cast<float>(beta_symmetric(random, augment_->mixup_alpha));
    const std::vector<float> original = batch.inputs;
    batch.mixed_labels.resize(batch.size);
    for (std::size_t i = 0; i < batch.size; ++i) {
      const float* a = original.data() + i * input_size;
      const float* b = original.data() + partner[i] * input_size;
      float* dst = batch.inputs.data() + i * input_size;
      for (std::size_t k = 0; k < input_size; ++k) dst[k] = batch.mix * a[k] + (1.0f - batch.mix) * b[k];
      batch.mixed_labels[i] = batch.labels[partner[i]];
    }
  }
  return batch;
}

void BatchStream::produce() {
  try {
    for (std::size_t index = 0; index < batches_; ++index) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || produced_ - consumed_ < depth_; });
        if (stop_) return;
      }
      Batch batch = make_batch(index);
      {
        std::lock_guard lock(mutex_);
        ready_.push_back(std::move(batch));
        ++produced_;
      }
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  changed_.notify_all();
}

std::optional<Batch> BatchStream::next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || error_ || produced_ == batches_; });
  if (!ready_.empty()) {
    Batch batch = std::move(ready_.front());
    ready_.pop_front();
    ++consumed_;
    lock.unlock();
    changed_.notify_all();
    return batch;
  }
  if (error_) std::rethrow_exception(error_);
  return std::nullopt;
}

}  // namespace tunelens::model

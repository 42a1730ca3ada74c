#include "server/requests.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <algorithm>
#include <fstream>
#include <memory>
#include <vector>
#include <utility>

#include "app/errors.h"
#include "audio/audio.h"
#include "features/features.h"
#include "store/json_text.h"

namespace tunelens::server {

namespace fs = std::filesystem;

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

void send_error(httplib::Response& res) {
  const auto error = [&](int status, const std::string& message) {
    send_json(res, status, {{"error", message}});
  };
  try {
    throw;
  } catch (const app::BadRequest& e) {
    error(400, e.parameter() + ": " + e.what());
  } catch (const Unauthorized& e) {
    if (!e.off()) res.set_header("WWW-Authenticate", "Bearer");
    error(e.off() ? 403 : 401, e.what());
  } catch (const app::NotFound& e) {
    error(404, e.what());
  } catch (const app::NotIndexed& e) {
    error(409, std::string(e.what()) + "; run tunelens index on the catalog");
  } catch (const TooLarge& e) {
    error(413, e.what());
  } catch (const UnreadableUpload& e) {
    error(422, e.what());
  } catch (const AudioError& e) {
    error(422, e.what());
  } catch (const FeatureError& e) {  // audio too short or too long for the model's features
    error(422, e.what());
  } catch (const std::exception& e) {
    error(500, e.what());
  } catch (...) {
    error(500, "unknown error");
  }
}

namespace {

// httplib hands its handlers its own Request object as const; it is not const itself.
void drop_ranges(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).ranges.clear();
}

// /api/tracks/<digits>/audio
bool audio_route(const std::string& path) {
  const std::string prefix = "/api/tracks/", suffix = "/audio";
  if (!path.starts_with(prefix) || !path.ends_with(suffix) || path.size() <= prefix.size() + suffix.size())
    return false;
  const std::string id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  return std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void send_refusal(const httplib::Request& req, httplib::Response& res) {
  drop_ranges(req);  // a refusal is whole, whatever range was asked
  if (!res.body.empty()) return;
  const char* reason = res.status == 404   ? "no such route"
                       : res.status == 413 ? "the request body is over the upload limit"
                       : res.status == 416 ? "the range asked for is not in the file"
                                           : "bad request";
  send_json(res, res.status, {{"error", reason}});
}


httplib::Server::HandlerResponse ranges_for_routes_that_stream(const httplib::Request& req, httplib::Response&) {
  if (!req.ranges.empty() && !audio_route(req.path)) drop_ranges(req);
  return httplib::Server::HandlerResponse::Unhandled;
}

void ranges_for_streams_only(const httplib::Request& req, const httplib::Response& res) {
  if (!req.ranges.empty() && !res.content_provider_) drop_ranges(req);
}

void send_file(httplib::Response& res, const fs::path& file, const std::string& type, const std::string& what) {
  std::error_code error;
  const auto size = fs::file_size(file, error);
  if (error) throw app::NotFound(fmt::format("{}: its file cannot be read ({})", what, error.message()));
  auto stream = std::make_shared<std::ifstream>(file, std::ios::binary);
  if (!*stream) throw app::NotFound(fmt::format("{}: its file cannot be opened", what));
  res.set_content_provider(size, type, [stream](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    std::vector<char> buffer(std::min<std::size_t>(length, 1 << 16));
    stream->clear();
    stream->seekg(static_cast<std::streamoff>(offset));
    stream->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = stream->gcount();
    if (got <= 0) return false;
    return sink.write(buffer.data(), static_cast<std::size_t>(got));
  });
}

std::size_t number_param(const httplib::Request& req, const char* name, std::size_t fallback, std::size_t low,
                         std::size_t high) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  std::size_t value = 0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size() || value < low || value > high)
    throw app::BadRequest(name,
                          fmt::format("must be a whole number from {} to {} (got '{}')", low, high, text));
  return value;
}

std::string text_param(const httplib::Request& req, const char* name, const std::string& fallback) {
  return req.has_param(name) ? req.get_param_value(name) : fallback;
}

bool flag_param(const httplib::Request& req, const char* name) {
  const std::string value = text_param(req, name, "0");
  if (value == "1" || value == "true") return true;
  if (value == "0" || value == "false") return false;
  throw app::BadRequest(name, "must be 1 or 0");
}

app::SimilarRequest similar_request(const httplib::Request& req) {
  app::SimilarRequest request;
  request.k = number_param(req, "k", 10, 1, kMostNeighbours);
  request.by = text_param(req, "by", "embedding");
  try {
    request.metric =
        parse_metric(text_param(req, "metric", request.by == "probs" ? "sqeuclidean" : "cosine"));
  } catch (const std::exception& error) {
    throw app::BadRequest("metric", error.what());
  }
  return request;
}

namespace {

// The same length and bytes, in time that does not depend on where they differ.
bool same_secret(const std::string& given, const std::string& token) {
  unsigned char differ = given.size() == token.size() ? 0 : 1;
  for (std::size_t i = 0; i < token.size(); ++i)  // every byte of the token, whatever was given
    differ |= static_cast<unsigned char>(token[i] ^ (i < given.size() ? given[i] : 0));
  return differ == 0;
}

}  // namespace

std::string read_token(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot read the token file");
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.size() < 16)
    throw std::runtime_error(file.string() + ": the token must be at least 16 characters on the first line");
  return token;
}

// A file name safe to keep: the client's name with every character but letters, digits, '.', '-' and '_' made
// '_', no leading dot, at most 80 characters.
std::string safe_name(const std::string& name) {
  std::string out;
  for (const char c : fs::path(name).filename().string())
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  if (out.size() > 80) out = out.substr(out.size() - 80);  // the end, with the extension
  while (!out.empty() && out.front() == '.') out.erase(out.begin());  // after the cut, which may begin at a dot
  return out.empty() ? "upload" : out;
}

void authorize(const httplib::Request& req, const std::string& token) {
  if (token.empty()) throw Unauthorized("writes are off: the service was started without --token-file", true);
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0 || !same_secret(header.substr(prefix.size()), token))
    throw Unauthorized("a write needs the header Authorization: Bearer <token>", false);
}

Upload::Upload(Upload&& other) noexcept
    : path(std::exchange(other.path, {})),
      name(std::move(other.name)),
      folder(std::exchange(other.folder, {})),
      keep(other.keep) {}

Upload::~Upload() {
  std::error_code ignored;
  if (keep || path.empty()) return;
  fs::remove(path, ignored);
  if (!folder.empty()) fs::remove(folder, ignored);
}

Upload receive_upload(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                    const fs::path& folder, std::size_t max_upload, std::atomic<std::uint64_t>& counter) {
  Upload upload;
  upload.path = folder / fmt::format(".incoming-{}-{}", ::getpid(), counter++);
  std::ofstream out(upload.path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + upload.path.string());
  std::size_t bytes = 0;
  bool too_large = false, write_failed = false;
  const auto write = [&](const char* data, std::size_t length) {
    bytes += length;
    if (bytes > max_upload) {
      too_large = true;
      return false;
    }
    out.write(data, static_cast<std::streamsize>(length));
    write_failed = !out;
    return !write_failed;
  };
  bool complete = false;
  if (req.is_multipart_form_data()) {
    int files = 0;
    complete = reader(
        [&](const httplib::MultipartFormData& part) {
          if (!part.filename.empty() && files++ == 0) upload.name = part.filename;
          return true;
        },
        [&](const char* data, std::size_t length) { return files == 1 ? write(data, length) : true; });
    if (files == 0) throw app::BadRequest("body", "the form holds no file");
  } else {
    complete = reader(write);
    upload.name = text_param(req, "name", "");
  }
  out.close();
  if (too_large || (!complete && res.status == 413))
    throw TooLarge(fmt::format("the upload is over the limit of {} bytes", max_upload));
  if (write_failed || !out)
    throw std::runtime_error("cannot write " + upload.path.string() + " (disk full?)");
  if (!complete) throw app::BadRequest("body", "the request body ended early");
  if (bytes == 0) throw app::BadRequest("body", "no audio in the request body");
  if (upload.name.empty()) upload.name = "upload";
  // The decoders find the format from the content; a known extension helps them with raw MP3 and AAC.
  const std::string extension = fs::path(safe_name(upload.name)).extension().string();
  if (!extension.empty()) {
    fs::path named = upload.path;
    named += extension;
    fs::rename(upload.path, named);
    upload.path = named;
  }
  return upload;
}

std::string rename_in(std::string text, const Upload& upload) {
  const std::string path = upload.path.string();
  for (std::size_t at = text.find(path); at != std::string::npos;
       at = text.find(path, at + upload.name.size()))
    text.replace(at, path.size(), upload.name);
  return text;
}

}  // namespace tunelens::server

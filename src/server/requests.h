// How tunelens serve reads a request, apart from what it does with it: parameters, the write token, the body
// written to a file, and errors turned into JSON answers. No model in it (and no libtorch), so that
// fuzz/fuzz_http.cpp runs this code under libFuzzer behind httplib's own request parsing, as the service
// runs it.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "app/search.h"

namespace tunelens::server {

// A body larger than the upload limit, found while reading it (chunked bodies have no length to refuse up
// front): 413.
class TooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// An upload the decoders cannot read (or too short for the model), named as the client named it: 422.
class UnreadableUpload : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A write request without the right token (401); `off`: the service was started without one (403).
class Unauthorized : public std::runtime_error {
 public:
  Unauthorized(const std::string& reason, bool off) : std::runtime_error(reason), off_(off) {}
  bool off() const { return off_; }

 private:
  bool off_;
};

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
// The JSON error of the exception being handled (call it in a catch block), with its status: 400
// app::BadRequest, 401/403 Unauthorized, 404 app::NotFound, 409 app::NotIndexed, 413 TooLarge, 422
// UnreadableUpload, AudioError and FeatureError, 500 anything else.
void send_error(httplib::Response& res);

// httplib's own refusals (no such route, a body over the limit, a request it cannot parse, a range it cannot
// satisfy) as JSON errors, whole whatever range was asked; its error handler.
void send_refusal(const httplib::Request& req, httplib::Response& res);

// A Range header counts on a streamed file alone (the audio route's answer). On any other answer httplib would
// cut the JSON to the range, or answer an empty 416 under a JSON content type when the range lies past its end;
// a server may ignore Range (RFC 9110, 14.2), and these answers stay whole. The pre-routing handler drops the
// ranges of a request to any other route; ranges_for_streams_only() those of an answer that is not a stream
// (an error of the audio route), called once the route has answered.
httplib::Server::HandlerResponse ranges_for_routes_that_stream(const httplib::Request& req, httplib::Response& res);
void ranges_for_streams_only(const httplib::Request& req, const httplib::Response& res);

// Streams `file` (httplib answers Range requests, 206, from the provider); app::NotFound naming `what` when it
// cannot be read.
void send_file(httplib::Response& res, const std::filesystem::path& file, const std::string& type,
               const std::string& what);

// A request parameter as a number in [low, high]; `fallback` when absent. Throws app::BadRequest naming it.
std::size_t number_param(const httplib::Request& req, const char* name, std::size_t fallback, std::size_t low,
                         std::size_t high);
std::string text_param(const httplib::Request& req, const char* name, const std::string& fallback);
// "1"/"true" or "0"/"false" (absent: false); anything else is app::BadRequest.
bool flag_param(const httplib::Request& req, const char* name);

// The most neighbours one request may ask for (the index gives at most the tracks it holds).
inline constexpr std::size_t kMostNeighbours = 1000;
// k (1 to kMostNeighbours, 10), by ("embedding") and metric (cosine, or sqeuclidean for by=probs) of a similar
// request.
app::SimilarRequest similar_request(const httplib::Request& req);

// The token of the file's first line (at least 16 characters); std::runtime_error naming the file otherwise.
std::string read_token(const std::filesystem::path& file);
// Throws Unauthorized unless the request carries "Authorization: Bearer <token>" (compared in time that does
// not depend on where it differs); `token` empty: writes are off.
void authorize(const httplib::Request& req, const std::string& token);

// A file name safe to keep: the last component of the client's name with every character but letters,
// digits, '.', '-' and '_' made '_', no leading dot, at most 80 characters; "upload" when nothing is left.
std::string safe_name(const std::string& name);

// A file the request's body was written to, removed when it goes out of scope unless kept.
struct Upload {
  std::filesystem::path path;
  std::string name;              // the client's name for it (multipart filename or ?name=), or "upload"
  std::filesystem::path folder;  // a folder made for it alone (removed with it), or empty
  bool keep = false;
  Upload() = default;
  Upload(Upload&& other) noexcept;
  Upload& operator=(Upload&&) = delete;
  ~Upload();
};

// Writes the body (raw, or the first file of a multipart form) to a new file in `folder` named from
// `counter`, refusing past `max_upload` bytes (httplib refuses a declared Content-Length over its limit before
// reading anything). Throws TooLarge, app::BadRequest (no file in the form, an empty or cut body) or
// std::runtime_error (the folder cannot be written).
Upload receive_upload(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                      const std::filesystem::path& folder, std::size_t max_upload,
                      std::atomic<std::uint64_t>& counter);

// A message about the upload's file, naming the upload as the client named it instead.
std::string rename_in(std::string text, const Upload& upload);

}  // namespace tunelens::server

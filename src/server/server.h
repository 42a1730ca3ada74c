// tunelens serve: a catalog and a model as an HTTP service (JSON API, Prometheus metrics, and a page built
// into the program). Every handler parses its request, calls the application layer (src/app) and presents the
// result; the use cases themselves live there, shared with the commands.
//
// The routes (the README's table says what each answers):
//   GET /api/health, GET /metrics, GET /
//   GET /api/tracks?q=&label=&offset=&limit=, GET /api/tracks/{id}[?timeline=1]
//   GET /api/tracks/{id}/similar?k=&by=&metric=, GET /api/tracks/{id}/audio (Range requests), GET /api/map
//   POST /api/classify[?timeline=1], POST /api/similar?k=&by=&metric= (audio in the body, raw or multipart)
//   POST /api/tracks (audio in the body, ingested; needs the token)
//
// Errors are {"error": "..."} with 400 (a bad parameter), 401 (no or wrong token), 403 (writes are off), 404
// (unknown id or route), 409 (no vectors: run tunelens index), 413 (body over the upload limit, refused
// before it is read), 422 (audio that cannot be decoded) or 500.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "recommend/catalog_index.h"

namespace tunelens::server {

struct ServerOptions {
  std::filesystem::path catalog;  // indexed with the model (tunelens index)
  std::string model;              // model file or shipped network
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (on_listening says which)
  int threads = 0;  // request threads (0: 8, or the cores if more)
  // A file holding the token that write requests present as "Authorization: Bearer <token>". Empty: writes
  // are off.
  std::filesystem::path token_file;
  std::size_t max_upload = 200u << 20;  // bytes of one request body
  int timeout_seconds = 30;             // a client that sends or reads nothing for this long is dropped
  int shutdown_seconds = 30;            // on SIGTERM: how long requests in flight may take to finish
  // The ingests' CPU priority as a nice value (0-19) added to the service's: higher leaves more of the cores
  // to reads while an upload is ingested, and makes the ingest itself slower on a busy machine.
  int ingest_nice = 10;
  // How the search indexes are opened (as tunelens similar's --index: a saved file of any kind is used; with
  // none, exact or HNSW by size, or the kind named) and searched (FAISS IVF's nprobe, HNSW's efSearch).
  IndexChoice index;
  std::size_t nprobe = IndexOptions{}.nprobe, ef_search = IndexOptions{}.ef_search;
  float probe_ratio = IndexOptions{}.probe_ratio;
  std::function<void(const std::string&)> on_log;  // one line per event (start, stop, errors); may be empty
  std::function<void(int port)> on_listening;      // once bound
};

// Serves until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish (at most
// shutdown_seconds) and closes the catalog. Throws ModelError, CatalogError or std::runtime_error (cannot
// bind, bad token file) before it starts serving.
void serve(const ServerOptions& options);

}  // namespace tunelens::server

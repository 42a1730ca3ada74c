// The errors every use case in src/app throws for a request that cannot be served as asked; front ends turn
// them into their own form:
//   BadRequest  a parameter out of range, a tag kind the model lacks: a usage error naming the option on the
//               command line, status 400 in the service;
//   NotFound    what the request names is not there (a track, a query matching nothing): 404;
//   NotIndexed  the catalog holds no vectors of the model yet (tunelens index computes them): 409.
// Audio that cannot be read stays an AudioError (422 in the service), a model or catalog that cannot be read
// a ModelError or CatalogError.
#pragma once

#include <stdexcept>
#include <string>

namespace tunelens::app {

class BadRequest : public std::invalid_argument {
 public:
  // `parameter`: the request's name for it ("tags", "k"), which a front end may spell its own way ("--tags").
  BadRequest(std::string parameter, const std::string& reason)
      : std::invalid_argument(reason), parameter_(std::move(parameter)) {}
  const std::string& parameter() const { return parameter_; }

 private:
  std::string parameter_;
};

class NotFound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class NotIndexed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tunelens::app

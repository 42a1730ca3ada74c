// The error every use case in src/app throws for a request that cannot be served as asked (a parameter out of
// range, a tag kind the model does not have): front ends turn it into their own form, a usage error naming the
// option on the command line, status 400 in the service.
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

}  // namespace tunelens::app

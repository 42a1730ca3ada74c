// Errors of dataset sources: a metadata file that cannot be read, a folder that is not there, a malformed
// CSV. what() names the file (and the line, for a CSV) and the reason.
#pragma once

#include <stdexcept>

namespace tunelens {

class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tunelens

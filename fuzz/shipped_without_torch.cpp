// The fuzz build's stand-in for src/model/pretrained.cpp, which needs libtorch (see CMakeLists.txt): a shipped
// network's weights cannot be read there. read_model_file asks for them only for a path that does not exist, and
// the harness's input always does.
#include "model/model_file.h"

namespace tunelens::model {

ModelFile shipped_model_file(const ShippedNetwork& shipped) {
  throw ModelError(shipped.name + ": shipped networks are not available in the fuzz build");
}

}  // namespace tunelens::model

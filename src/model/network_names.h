// The names of the networks tunelens trains, in one place for train's --model, the help, the command list and
// the model's "unknown network" error. No torch here: tunelens itself, without libtorch, lists them too.
#pragma once

#include <string>
#include <vector>

namespace tunelens {

// What `tunelens train --model` takes, the default first: shortchunk, convpool, convconvpool, resnet,
// mfcc-linear, and the music-tagging networks fcn, crnn and musicnn (shipped pretrained, models/, and
// trainable from scratch on their 96 mel bands too). model/model.h describes each.
inline const std::vector<std::string>& trainable_networks() {
  static const std::vector<std::string> names = {"shortchunk",  "convpool", "convconvpool", "resnet",
                                                 "mfcc-linear", "fcn",      "crnn",         "musicnn"};
  return names;
}

// The same names as text: "shortchunk, convpool, ...".
inline std::string trainable_network_list() {
  std::string list;
  for (const std::string& name : trainable_networks()) {
    if (!list.empty()) list += ", ";
    list += name;
  }
  return list;
}

}  // namespace tunelens

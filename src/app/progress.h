// How a long use case (index, analyze) tells a front end how it goes, item by item, so that it can draw a
// progress line or stream events; no model in here, so the front ends' own code needs no more than this.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace tunelens::app {

// One item (a catalog track, a song) done, well or not.
struct ItemDone {
  std::size_t total = 0;  // items of the run, this one included
  std::string item;       // the track's path, the song's file
  std::string error;      // why it failed, naming it; empty when it did not
  std::string warning;    // damage found while reading it, naming it; empty when none
};

// Called once per item, one call at a time (use cases that work in parallel hold a lock around it).
using OnItemDone = std::function<void(const ItemDone&)>;

}  // namespace tunelens::app

// JSON as text for what tunelens writes and answers. File names, tags and labels come from outside and may be
// any bytes, while JSON text is UTF-8: nlohmann::json's dump() throws on invalid UTF-8 (a raw library message,
// and no output), so every writer goes through here, where such bytes become U+FFFD.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tunelens {

// value.dump(indent), with invalid UTF-8 replaced by U+FFFD. indent -1: one line.
inline std::string json_text(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tunelens

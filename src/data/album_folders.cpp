#include "data/album_folders.h"

#include <algorithm>
#include <fstream>

#include "data/csv.h"

namespace tunelens {
namespace {

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int> plausible_year(std::optional<int> number) {
  if (number && *number >= 1000 && *number <= 2999) return number;
  return std::nullopt;
}

}  // namespace

NumberedName split_leading_number(const std::string& name, bool disc_prefix) {
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto is_separator = [](char c) {
    return c == ' ' || c == '-' || c == '_' || c == '.' || c == ')' || c == ']';
  };
  std::size_t at = name.find_first_not_of(' ');
  if (at == std::string::npos) return {std::nullopt, name};
  std::size_t end = at;
  while (end < name.size() && is_digit(name[end]) && end - at < 9) ++end;
  if (end == at || (end < name.size() && !is_separator(name[end]))) return {std::nullopt, name};
  int number = std::stoi(name.substr(at, end - at));
  // "1-07 Title": disc 1, track 7.
  if (disc_prefix && end + 1 < name.size() && name[end] == '-' && is_digit(name[end + 1])) {
    std::size_t second = end + 1;
    while (second < name.size() && is_digit(name[second]) && second - end < 9) ++second;
    if (second == name.size() || is_separator(name[second])) {
      number = std::stoi(name.substr(end + 1, second - end - 1));
      end = second;
    }
  }
  std::size_t rest = end;
  while (rest < name.size() && is_separator(name[rest])) ++rest;
  const std::string text = trim(name.substr(rest));
  return {number, text.empty() ? trim(name) : text};
}

AlbumFolderName parse_album_folder(const std::string& name) {
  AlbumFolderName parsed;
  const NumberedName leading = split_leading_number(name);
  if (leading.number) {
    parsed.number = leading.number;
    parsed.year = plausible_year(leading.number);
    parsed.title = leading.rest;
    return parsed;
  }
  // "Artist - 1971 - Album": the first " - "-separated part after the artist that is all digits.
  std::vector<std::string> parts;
  for (std::size_t at = 0;;) {
    const std::size_t next = name.find(" - ", at);
    parts.push_back(name.substr(at, next == std::string::npos ? std::string::npos : next - at));
    if (next == std::string::npos) break;
    at = next + 3;
  }
  for (std::size_t k = 1; k + 1 < parts.size(); ++k) {
    if (!all_digits(trim(parts[k]))) continue;
    std::string artist = parts[0], title = parts[k + 1];
    for (std::size_t i = 1; i < k; ++i) (artist += " - ") += parts[i];
    for (std::size_t i = k + 2; i < parts.size(); ++i) (title += " - ") += parts[i];
    parsed.artist = trim(artist);
    parsed.number = std::stoi(trim(parts[k]));
    parsed.year = plausible_year(parsed.number);
    parsed.title = trim(title);
    return parsed;
  }
  parsed.title = trim(name).empty() ? name : trim(name);
  return parsed;
}

SongFileName parse_song_file(const std::string& stem) {
  const NumberedName numbered = split_leading_number(stem, true);
  return {numbered.number, numbered.rest};
}

AlbumOrder read_album_order(const std::filesystem::path& order_file, const std::filesystem::path& root) {
  std::ifstream in(order_file);
  if (!in) throw DatasetError(order_file.string() + ": cannot read the album order file");
  AlbumOrder order;
  order.file = order_file;
  std::string line;
  while (std::getline(in, line)) {
    const std::string entry = trim(line);
    if (entry.empty() || entry.starts_with("#")) continue;
    std::error_code error;
    if (!std::filesystem::is_directory(root / entry, error))
      order.notes.push_back(order_file.string() + ": lists '" + entry + "', which is not a folder in " +
                            root.string());
    else
      order.position.emplace(entry, static_cast<long long>(order.position.size()));
  }
  return order;
}

std::optional<long long> release_key(const std::filesystem::path& folder, const AlbumFolderName& name,
                                     const std::optional<AlbumOrder>& order,
                                     std::vector<std::string>& notes) {
  if (!order) return name.number;
  if (const auto it = order->position.find(folder.filename().string()); it != order->position.end())
    return it->second;
  notes.push_back(folder.string() + ": not listed in " + order->file.string() +
                  ": placed after the listed albums");
  return std::nullopt;
}

std::optional<bool> numbered_before(std::optional<long long> a, std::optional<long long> b) {
  if (a.has_value() != b.has_value()) return a.has_value();
  if (a && *a != *b) return *a < *b;
  return std::nullopt;
}

bool released_before(const ReleasePlace& a, const ReleasePlace& b, bool by_artist) {
  if (by_artist && a.artist != b.artist) return a.artist < b.artist;
  if (const auto before = numbered_before(a.key, b.key)) return *before;
  return a.folder < b.folder;
}

}  // namespace tunelens

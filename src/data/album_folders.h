// How a folder of albums names and orders its music, for every reader of one (`tunelens dataset import
// albums` and `tunelens analyze`): album folder names ("Artist - 1971 - Album", "1965 - Rubber Soul", "03
// Abbey Road"), song file names ("07 - Michelle", "1-07 Michelle"), and the album order file (one folder name
// per line).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tunelens {

// Splits a name into a leading number and the rest: "07 - Michelle" → {7, "Michelle"}, "1965 - Rubber Soul" →
// {1965, "Rubber Soul"}, "Help!" → {nullopt, "Help!"}, "2Pac Live" → {nullopt, "2Pac Live"} (the number must
// be followed by a separator or the end). With `disc_prefix`, "1-07 Michelle" → {7, "Michelle"} (disc 1
// dropped). A name that is only a number keeps it as the rest: "07" → {7, "07"}.
struct NumberedName {
  std::optional<int> number;
  std::string rest;
};
NumberedName split_leading_number(const std::string& name, bool disc_prefix = false);

// What an album folder's name says: "Artist - 1971 - Album", "1971 - Album", "03 Album", "Album".
struct AlbumFolderName {
  std::optional<std::string> artist;  // only in the "Artist - <number> - Album" form
  std::optional<int> number;          // the leading year or number
  std::optional<int> year;            // the number when it is a plausible year (1000 to 2999)
  std::string title;                  // the name without artist and number
};
AlbumFolderName parse_album_folder(const std::string& name);

// What a song file's name (without extension) says: "07 - Title", "07 Title", "1-07 Title" (disc 1), "Title".
struct SongFileName {
  std::optional<int> number;
  std::string title;
};
SongFileName parse_song_file(const std::string& stem);

// An album order file read against the folder it orders: each listed folder name with its position (0, 1,
// ...). Blank lines and lines starting with '#' are skipped; a name that is not a folder of `root` is left
// out with a note. Throws DatasetError when the file cannot be read.
struct AlbumOrder {
  std::filesystem::path file;
  std::map<std::string, long long> position;
  std::vector<std::string> notes;
};
AlbumOrder read_album_order(const std::filesystem::path& order_file, const std::filesystem::path& root);

// An album folder's key in release order: with an order file, its position there (none, and a note in
// `notes`, when the file does not list it); without one, the number its name leads with.
std::optional<long long> release_key(const std::filesystem::path& folder, const AlbumFolderName& name,
                                     const std::optional<AlbumOrder>& order, std::vector<std::string>& notes);

// Numbered things (albums by key, songs by track number) before unnumbered ones, by number; nullopt when the
// numbers do not decide (equal, or both absent).
std::optional<bool> numbered_before(std::optional<long long> a, std::optional<long long> b);

// What places an album in release order.
struct ReleasePlace {
  std::string_view artist;  // empty when none is known
  std::optional<long long> key;
  std::string_view folder;  // the folder's own name
};
// Release order: with `by_artist`, artist by artist (by name) first; then by key, albums without one after
// those with one; ties by folder name. Without `by_artist` (an order file, which may interleave artists) the
// key alone decides.
bool released_before(const ReleasePlace& a, const ReleasePlace& b, bool by_artist);

}  // namespace tunelens

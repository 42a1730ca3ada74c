// Probing: what an audio file is (duration, rate, channels, codec) without decoding all of it, and whether
// its audio decodes at all. Used by catalog imports, which check every file of a dataset.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tunelens {

// What a file's tags say (ID3 in MP3, Vorbis comments in FLAC and Ogg, iTunes atoms in M4A), as FFmpeg reads
// them: the container's tags, else the audio stream's (Ogg keeps them there). Absent when the file has none.
struct AudioTags {
  std::optional<std::string> title, artist, album;  // artist: "artist", else "album_artist"
  std::optional<int> year;          // the leading year of "date" (or "year"): "1957-03-01" → 1957
  std::optional<int> track_number;  // "track": "2/9" → 2
};

struct AudioInfo {
  double seconds =
      0.0;  // duration: as the container declares it, or measured by decoding when it declares none
  int sample_rate = 0;  // the file's own rate, Hz
  int channels = 0;     // the file's own channel count
  std::string codec;    // FFmpeg's name of the codec ("mp3", "flac", "pcm_s16le"), not of its decoder
  bool estimated =
      false;  // the duration is FFmpeg's estimate from the bit rate (an MP3 without a length header)
  // A WAV header claiming more audio than the file holds (a truncated download, a crafted header): the seconds it
  // claims; `seconds` is what the file holds. 0 when the header tells the truth.
  double claimed_seconds = 0.0;
  AudioTags tags;
};

// Decodes the first fraction of a second (so a file whose header looks fine but whose audio does not decode
// is caught) and reads the duration and tags from the container. Throws AudioError (see audio.h) naming the
// file.
AudioInfo probe_audio(const std::filesystem::path& path);

// The tags alone: opens the container, decodes nothing. None (and no error) for a file FFmpeg cannot open or
// that has no audio: reading it for real names the problem.
AudioTags read_audio_tags(const std::filesystem::path& path);

}  // namespace tunelens

// tunelens analyze: the collection study on hand-made model outputs (album order from folder names and order
// files, album profiles, neighbours, the album share of map neighbours against its random expectation, the
// report's files), and the command end to end on a tiny generated collection with a corrupt file, an empty
// album folder and a text file in it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/collection.h"
#include "analysis/collection_report.h"
#include "report/charts.h"
#include "test_support.h"

namespace tunelens {
namespace {

namespace fs = std::filesystem;
using testing::ProgramRun;
using testing::ScratchDir;

TEST(AnalyzeFolders, YearNumberAndArtistForms) {
  const AlbumFolderName full = parse_album_folder("Trio Aurora - 1957 - Music for Piano");
  EXPECT_EQ(full.artist, "Trio Aurora");
  EXPECT_EQ(full.year, 1957);
  EXPECT_EQ(full.number, 1957);
  EXPECT_EQ(full.title, "Music for Piano");

  const AlbumFolderName dashed = parse_album_folder("Sly - Family - 1969 - Stand - Remastered");
  EXPECT_EQ(dashed.artist, "Sly - Family");
  EXPECT_EQ(dashed.year, 1969);
  EXPECT_EQ(dashed.title, "Stand - Remastered");

  const AlbumFolderName year = parse_album_folder("1965 - Rubber Soul");
  EXPECT_FALSE(year.artist);
  EXPECT_EQ(year.year, 1965);
  EXPECT_EQ(year.title, "Rubber Soul");

  const AlbumFolderName numbered = parse_album_folder("03 Abbey Road");
  EXPECT_EQ(numbered.number, 3);
  EXPECT_FALSE(numbered.year);
  EXPECT_EQ(numbered.title, "Abbey Road");

  const AlbumFolderName plain = parse_album_folder("Help!");
  EXPECT_FALSE(plain.number);
  EXPECT_FALSE(plain.artist);
  EXPECT_EQ(plain.title, "Help!");
  EXPECT_FALSE(
      parse_album_folder("Pink - Floyd - Animals").artist);  // no number: the whole name is the title

  EXPECT_EQ(parse_song_file("07 - Michelle").number, 7);
  EXPECT_EQ(parse_song_file("07 - Michelle").title, "Michelle");
  EXPECT_EQ(parse_song_file("1-09 Girl").number, 9);
  EXPECT_FALSE(parse_song_file("Norwegian Wood").number);
}

// Writes an empty file (the scan reads names only).
void touch(const fs::path& file) {
  fs::create_directories(file.parent_path());
  testing::write_bytes(file, "");
}

TEST(AnalyzeScan, ReleaseOrderArtistsAndProblems) {
  const ScratchDir scratch;
  const fs::path root = scratch / "shelf";
  touch(root / "Zed - 1990 - Late/02 - Two.wav");
  touch(root / "Zed - 1990 - Late/01 - One.flac");
  touch(root / "Zed - 1980 - Early/10 - Ten.wav");
  touch(root / "Zed - 1980 - Early/9 - Nine.wav");
  touch(root / "Abe - 2001 - First/Untitled.mp3");
  touch(root / "Abe - 2001 - First/notes.txt");
  touch(root / "Abe - 2001 - First/.hidden.wav");
  fs::create_directories(root / "Abe - 2005 - Empty");
  touch(root / "tracks.csv");
  touch(root / "loose.wav");

  const Collection collection = scan_collection(root);
  ASSERT_EQ(collection.albums.size(), 3u);
  EXPECT_EQ(collection.albums[0].artist, "Abe");
  EXPECT_EQ(collection.albums[1].title, "Early");
  EXPECT_EQ(collection.albums[2].title, "Late");
  EXPECT_EQ(collection.albums[1].year, 1980);
  ASSERT_EQ(collection.albums[1].songs.size(), 2u);
  EXPECT_EQ(collection.albums[1].songs[0].title, "Nine");  // by track number, not by name
  EXPECT_EQ(collection.albums[2].songs[0].title, "One");
  EXPECT_EQ(collection.albums[0].songs.size(), 1u);  // the hidden file is ignored

  // The text file, the empty album and the loose audio file, each once; tracks.csv at the root is no problem.
  ASSERT_EQ(collection.problems.size(), 3u);
  std::string files;
  for (const auto& problem : collection.problems) files += problem.file + "|";
  EXPECT_EQ(testing::occurrences(files, "notes.txt"), 1u) << files;
  EXPECT_EQ(testing::occurrences(files, "Abe - 2005 - Empty"), 1u) << files;
  EXPECT_EQ(testing::occurrences(files, "loose.wav"), 1u) << files;
}

// Tagged files: the title from the tags; the track number from the file name, else from the tags.
TEST(AnalyzeScan, TitlesAndTrackNumbersFromTags) {
  const ScratchDir scratch;
  const fs::path album = scratch / "shelf" / "Trio Aurora - 1957 - Music for Piano";
  fs::create_directories(album);
  fs::copy_file(testing::data_path("formats/tagged.flac"), album / "Track.flac");       // tagged track 2
  fs::copy_file(testing::data_path("formats/tagged.mp3"), album / "01 - Opening.mp3");  // its name says 1
  touch(album / "03 Untagged.wav");
  const Collection collection = scan_collection(scratch / "shelf");
  ASSERT_EQ(collection.albums.size(), 1u);
  const auto& songs = collection.albums[0].songs;
  ASSERT_EQ(songs.size(), 3u);
  EXPECT_EQ(songs[0].file.filename(), "01 - Opening.mp3");
  EXPECT_EQ(songs[0].title, testing::TaggedFixture::title);
  EXPECT_EQ(songs[1].file.filename(), "Track.flac");
  EXPECT_EQ(songs[1].track_number, testing::TaggedFixture::track);
  EXPECT_EQ(songs[1].title, testing::TaggedFixture::title);
  EXPECT_EQ(songs[2].title, "Untagged");  // an empty file: no tags, no error here
  EXPECT_EQ(songs[2].track_number, 3);
}

TEST(AnalyzeScan, OneArtistFromTheParentFolderAndAnOrderFile) {
  const ScratchDir scratch;
  const fs::path root = scratch / "The Band";
  touch(root / "1969 - Brown/01 - Up.wav");
  touch(root / "1968 - Pink/01 - Tears.wav");
  touch(root / "Rock of Ages/01 - Live.wav");
  touch(root / "02 Second/01 - A.wav");

  const Collection by_name = scan_collection(root);
  ASSERT_EQ(by_name.albums.size(), 4u);
  // Numbered folders by their number (2 before 1968), the unnumbered one last.
  EXPECT_EQ(by_name.albums[0].title, "Second");
  EXPECT_EQ(by_name.albums[1].title, "Pink");
  EXPECT_EQ(by_name.albums[2].title, "Brown");
  EXPECT_EQ(by_name.albums[3].title, "Rock of Ages");
  for (const auto& album : by_name.albums) EXPECT_EQ(album.artist, "The Band");

  testing::write_bytes(scratch / "order.txt",
                       "# release order\nRock of Ages\n1969 - Brown\n\n1968 - Pink\nGone\n");
  const Collection ordered = scan_collection(root, scratch / "order.txt");
  ASSERT_EQ(ordered.albums.size(), 4u);
  EXPECT_EQ(ordered.albums[0].title, "Rock of Ages");
  EXPECT_EQ(ordered.albums[1].title, "Brown");
  EXPECT_EQ(ordered.albums[2].title, "Pink");
  EXPECT_EQ(ordered.albums[3].title, "Second");  // not listed: after the listed ones, with a note
  EXPECT_EQ(ordered.notes.size(), 2u);           // "Gone" is not a folder; "02 Second" is not listed
  EXPECT_TRUE(ordered.problems.empty());

  // A folder of songs without album folders is one album, by the artist its parent folder names.
  touch(scratch / "The Band/Stage Fright/02 - Two.wav");
  touch(scratch / "The Band/Stage Fright/01 - One.wav");
  const Collection single = scan_collection((scratch / "The Band/Stage Fright/").string());
  ASSERT_EQ(single.albums.size(), 1u);
  EXPECT_EQ(single.albums[0].artist, "The Band");
  EXPECT_EQ(single.albums[0].title, "Stage Fright");
  ASSERT_EQ(single.albums[0].songs.size(), 2u);
  EXPECT_EQ(single.albums[0].songs[0].title, "One");
  EXPECT_TRUE(single.problems.empty());

  EXPECT_THROW(scan_collection(scratch / "nowhere"), CollectionError);
  EXPECT_THROW(scan_collection(root, scratch / "no-order.txt"), CollectionError);
}

TEST(AnalyzeMeasures, EntropyDivergenceAndTop) {
  const std::vector<double> one = {1.0, 0.0}, other = {0.0, 1.0}, even = {0.5, 0.5};
  EXPECT_DOUBLE_EQ(entropy_bits(even), 1.0);
  EXPECT_DOUBLE_EQ(entropy_bits(one), 0.0);
  EXPECT_NEAR(jensen_shannon_bits(one, other), 1.0, 1e-12);
  EXPECT_NEAR(jensen_shannon_bits(even, even), 0.0, 1e-12);
  // JS((1,0), (1/2,1/2)) = H(3/4, 1/4) - (0 + 1) / 2.
  const double h = -(0.75 * std::log2(0.75) + 0.25 * std::log2(0.25));
  EXPECT_NEAR(jensen_shannon_bits(one, even), h - 0.5, 1e-12);

  const std::vector<double> values = {0.1, 0.4, 0.1, 0.4};
  EXPECT_EQ(top_indices(values, 3), (std::vector<std::size_t>{1, 3, 0}));

  const std::vector<float> rows = {3, 4, 0, 0, 0, 8};  // three rows of two
  EXPECT_EQ(mean_rows(rows, 2), (std::vector<double>{1.0, 4.0}));
}

TEST(AnalyzeMeasures, NearestVectorsExcludeThemselves) {
  // Four points on a line at 0, 1, 3, 7 (squared distances).
  const std::vector<float> points = {0, 1, 3, 7};
  const auto nearest = nearest_vectors(points, 1, "sqeuclidean", 2);
  ASSERT_EQ(nearest.size(), 4u);
  EXPECT_EQ(nearest[0][0].song, 1u);
  EXPECT_EQ(nearest[0][1].song, 2u);
  EXPECT_DOUBLE_EQ(nearest[0][1].distance, 9.0);
  EXPECT_EQ(nearest[2][0].song, 1u);
  EXPECT_EQ(nearest[2][1].song, 0u);
  EXPECT_EQ(nearest[3][0].song, 2u);
  for (std::size_t i = 0; i < 4; ++i)
    for (const Neighbour& n : nearest[i]) EXPECT_NE(n.song, i);
  // More neighbours asked than there are others: all the others.
  EXPECT_EQ(nearest_vectors(points, 1, "sqeuclidean", 10)[0].size(), 3u);
}

TEST(AnalyzeMeasures, AlbumShareOnAConstructedMap) {
  // Two albums far apart: every neighbour from the own album.
  const std::vector<std::array<double, 2>> apart = {{0, 0}, {0, 1}, {1, 0}, {10, 10}, {10, 11}, {11, 10}};
  const std::vector<std::size_t> groups = {0, 0, 0, 1, 1, 1};
  EXPECT_DOUBLE_EQ(same_group_neighbour_share(apart, groups, 2), 1.0);
  // A random map: each song's neighbours are drawn from the 5 others, 2 of which share its album.
  EXPECT_DOUBLE_EQ(random_group_neighbour_share(groups), 2.0 / 5.0);

  // Six songs on a line, one apart, albums 0 0 1 1 0 1; the nearest neighbour (ties: the lower index) is from
  // the own album for songs 0 (→1), 1 (→0) and 3 (→2), not for 2 (→1), 4 (→3), 5 (→4): 3 of 6.
  const std::vector<std::array<double, 2>> line = {{0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}};
  EXPECT_DOUBLE_EQ(same_group_neighbour_share(line, {0, 0, 1, 1, 0, 1}, 1), 0.5);
  // Albums of sizes 1, 2 and 3 among 6 songs: (1·0 + 2·1 + 3·2) / 5 / 6.
  EXPECT_DOUBLE_EQ(random_group_neighbour_share({0, 1, 1, 2, 2, 2}), 8.0 / 30.0);
}

// A song whose every window says `probabilities`, with a 2-D embedding.
SongPrediction song(std::size_t album, std::string title, std::optional<int> track,
                    std::vector<float> probabilities, std::vector<float> embedding, std::size_t windows = 2) {
  SongPrediction prediction;
  prediction.album = album;
  prediction.title = title;
  prediction.file = title + ".wav";
  prediction.track_number = track;
  prediction.windows = windows;
  for (std::size_t w = 0; w < windows; ++w) {
    prediction.window_probabilities.insert(prediction.window_probabilities.end(), probabilities.begin(),
                                           probabilities.end());
    prediction.window_starts.push_back(3.0 * static_cast<double>(w));
  }
  prediction.embedding = std::move(embedding);
  return prediction;
}

std::vector<CollectionAlbum> three_albums() {
  std::vector<CollectionAlbum> albums(3);
  const char* titles[] = {"Early", "Unheard", "Late"};
  for (int a = 0; a < 3; ++a) {
    albums[a].folder = titles[a];
    albums[a].artist = "Band";
    albums[a].title = titles[a];
    albums[a].year = 1970 + a;
  }
  return albums;
}

std::vector<SongPrediction> four_songs() {
  return {song(2, "Late two", 2, {0.2f, 0.8f}, {0.0f, 1.0f}),
          song(0, "Early one", 1, {1.0f, 0.0f}, {1.0f, 0.0f}),
          song(2, "Late one", 1, {0.4f, 0.6f}, {0.1f, 0.995f}),
          song(0, "Early two", 2, {0.0f, 1.0f}, {0.995f, 0.1f})};
}

TEST(AnalyzeStudy, AlbumMeansOrderAndNeighbours) {
  AnalysisOptions options;
  options.top_genres = 2;
  options.neighbours = 2;
  options.iterations = 250;
  const CollectionAnalysis analysis =
      analyse_collection(three_albums(), four_songs(), {"rock", "jazz"}, options);

  // The album with no song is left out; the others keep their release order, songs their track order.
  ASSERT_EQ(analysis.albums.size(), 2u);
  EXPECT_EQ(analysis.albums[0].title, "Early");
  EXPECT_EQ(analysis.albums[1].title, "Late");
  EXPECT_EQ(analysis.albums[1].position, 2u);
  ASSERT_EQ(analysis.songs.size(), 4u);
  EXPECT_EQ(analysis.songs[0].title, "Early one");
  EXPECT_EQ(analysis.songs[1].title, "Early two");
  EXPECT_EQ(analysis.songs[2].title, "Late one");
  EXPECT_EQ(analysis.songs[3].album, 1u);

  // Early: (1, 0) and (0, 1) → mean (0.5, 0.5); each song diverges from it by H(3/4, 1/4) - 1/2 bits.
  const AlbumAnalysis& early = analysis.albums[0];
  EXPECT_NEAR(early.distribution[0], 0.5, 1e-9);
  EXPECT_NEAR(early.variety, -(0.75 * std::log2(0.75) + 0.25 * std::log2(0.25)) - 0.5, 1e-9);
  EXPECT_NEAR(early.entropy, 1.0, 1e-9);
  // Late: (0.4, 0.6) and (0.2, 0.8) → (0.3, 0.7), jazz first.
  const AlbumAnalysis& late = analysis.albums[1];
  EXPECT_NEAR(late.distribution[1], 0.7, 1e-6);
  EXPECT_EQ(late.dominant, (std::vector<std::size_t>{1, 0}));
  EXPECT_LT(late.variety, early.variety);
  EXPECT_EQ(analysis.songs[2].top, (std::vector<std::size_t>{1, 0}));
  ASSERT_EQ(analysis.songs[0].timeline.size(), 2u);

  // By probabilities, "Early two" (0, 1) is nearest "Late two" (0.2, 0.8); by embedding, nearest "Early one".
  const SongAnalysis& early_two = analysis.songs[1];
  ASSERT_EQ(early_two.nearest_by_probs.size(), 2u);
  EXPECT_EQ(early_two.nearest_by_probs[0].song, 3u);
  EXPECT_NEAR(early_two.nearest_by_probs[0].distance, 0.08, 1e-6);
  EXPECT_EQ(early_two.nearest_by_embedding[0].song, 0u);

  // Four songs: the perplexity is lowered to 1; the map is the same for the same seed.
  EXPECT_DOUBLE_EQ(analysis.perplexity, 1.0);
  EXPECT_EQ(analysis.map_method, "exact");
  const CollectionAnalysis again =
      analyse_collection(three_albums(), four_songs(), {"rock", "jazz"}, options);
  for (std::size_t s = 0; s < 4; ++s) EXPECT_EQ(analysis.songs[s].map, again.songs[s].map);
  EXPECT_DOUBLE_EQ(analysis.random_share, 1.0 / 3.0);

  auto bad = four_songs();
  bad[0].window_probabilities.pop_back();
  EXPECT_THROW(analyse_collection(three_albums(), bad, {"rock", "jazz"}, options), std::invalid_argument);
}

TEST(AnalyzeStudy, ReportFilesAndOneMarkPerSong) {
  AnalysisOptions options;
  options.iterations = 250;
  const CollectionAnalysis analysis =
      analyse_collection(three_albums(), four_songs(), {"rock", "jazz"}, options);
  const ScratchDir scratch;
  write_collection_report(analysis, {"shelf", "model.tlm", 0}, scratch / "report");
  for (const char* name : {"songs.csv", "songs.json", "albums.csv", "albums.json", "neighbours.csv",
                           "neighbours.json", "map.csv", "map.json", "map.png", "report.html"})
    EXPECT_TRUE(fs::exists(scratch / "report" / name)) << name;

  const std::string html = testing::read_bytes(scratch / "report/report.html");
  EXPECT_EQ(testing::occurrences(html, "<circle class=\"mark\""), 4u);
  EXPECT_NE(html.find("data-title=\"Late two — Late (1972)\""), std::string::npos);
  // Self-contained: nothing fetched (the SVG namespace URI is a name, not a fetch).
  EXPECT_EQ(html.find("src=\""), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);

  const auto map = nlohmann::json::parse(testing::read_bytes(scratch / "report/map.json"));
  EXPECT_DOUBLE_EQ(map["random_share"].get<double>(), 1.0 / 3.0);
  EXPECT_TRUE(map.contains("album_neighbour_share"));
  const std::string songs = testing::read_bytes(scratch / "report/songs.csv");
  EXPECT_EQ(testing::occurrences(songs, "\n"), 5u);
  EXPECT_EQ(songs.substr(0, songs.find('\n')),
            "song,album_position,artist,album,year,track,title,file,windows,entropy_bits,genre1,probability1,"
            "genre2,"
            "probability2,rock,jazz");
}

// The command end to end: a generated collection of 2 artists × 2 albums × 3 songs, a small model trained on
// it, and three bad inputs added.
class AnalyzeCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    const ScratchDir& s = *scratch_;
    const std::string collection = testing::quoted(s / "shelf");
    const std::string catalog = testing::quoted(s / "shelf.db");
    const std::string model = testing::quoted(s / "tiny.tlm");
    setup_.push_back(testing::tunelens("synth --collection --out " + collection +
                                           " --artists 2 --albums 2 --tracks 3 --seconds 5 --seed 3 -q",
                                       s));
    setup_.push_back(testing::tunelens(
        "dataset import csv " + testing::quoted(s / "shelf/tracks.csv") + " --catalog " + catalog + " -q",
        s));
    setup_.push_back(testing::tunelens(
        "dataset split --catalog " + catalog + " --scheme fraction --val 0.2 --test 0 -q", s));
    setup_.push_back(
        testing::tunelens("extract --catalog " + catalog + " --n-mels 16 --dtype float32 -q", s));
    setup_.push_back(testing::tunelens("train " + catalog + " --split default --out " + model +
                                           " --window 32 --width 4 --depth 10 --epochs 2 --batch-size 4"
                                           " --patience 0 --threads 1 --seed 1 -q",
                                       s));

    // The bad inputs: a corrupt audio file, an empty album folder and a text file in an album.
    fs::path first_album;
    for (const auto& entry : fs::directory_iterator(s / "shelf"))
      if (entry.is_directory() && (first_album.empty() || entry.path() < first_album))
        first_album = entry.path();
    testing::write_bytes(first_album / "04 - Broken Song.wav", "RIFF\x24\x10\0\0WAVEnot really audio at all");
    fs::create_directories(s / "shelf/Nobody - 1999 - Silence");
    testing::write_bytes(first_album / "liner notes.txt", "Recorded live.\n");

    run_ = new ProgramRun(analyze("--seed 4 " + collection + " --out " + testing::quoted(s / "report")));
  }
  static void TearDownTestSuite() {
    delete run_;
    delete scratch_;
    scratch_ = nullptr;
  }
  void SetUp() override {
    for (const ProgramRun& step : setup_) ASSERT_EQ(step.status, 0) << step.out << step.err;
  }
  static ProgramRun analyze(const std::string& arguments) {
    return testing::tunelens("analyze -j 2 -q --iterations 300 --model " +
                                 testing::quoted(*scratch_ / "tiny.tlm") + " " + arguments,
                             *scratch_);
  }
  static const ScratchDir& scratch() { return *scratch_; }

  static ScratchDir* scratch_;
  static std::vector<ProgramRun> setup_;
  static ProgramRun* run_;
};
ScratchDir* AnalyzeCommand::scratch_ = nullptr;
std::vector<ProgramRun> AnalyzeCommand::setup_;
ProgramRun* AnalyzeCommand::run_ = nullptr;

TEST_F(AnalyzeCommand, BadInputsAreNamedOnceAndTheRestIsAnalysed) {
  const ProgramRun& run = *run_;
  EXPECT_EQ(run.status, 1) << run.out << run.err;
  EXPECT_EQ(testing::occurrences(run.err, "04 - Broken Song.wav"), 1u) << run.err;
  EXPECT_EQ(testing::occurrences(run.err, "Nobody - 1999 - Silence"), 1u) << run.err;
  EXPECT_EQ(testing::occurrences(run.err, "liner notes.txt"), 1u) << run.err;
  EXPECT_EQ(testing::occurrences(run.err, "\n"), 3u) << run.err;  // one line each, nothing else

  EXPECT_NE(run.out.find("analyze: 4 albums, 12 songs (3 inputs left out)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("from its own album"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("report.html"), std::string::npos) << run.out;

  // Every good song is in songs.csv, and on the map as one mark whose hover text names it and its album.
  const std::string songs = testing::read_bytes(scratch() / "report/songs.csv");
  const std::string html = testing::read_bytes(scratch() / "report/report.html");
  EXPECT_EQ(testing::occurrences(songs, "\n"), 13u);
  EXPECT_EQ(testing::occurrences(html, "<circle class=\"mark\""), 12u);
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(scratch() / "shelf")) {
    if (entry.path().extension() != ".wav" || entry.path().filename() == "04 - Broken Song.wav") continue;
    ++files;
    const SongFileName name = parse_song_file(entry.path().stem().string());
    const AlbumFolderName album = parse_album_folder(entry.path().parent_path().filename().string());
    EXPECT_NE(songs.find(name.title), std::string::npos) << name.title;
    std::string hover = "data-title=\"";
    hover += report::escape(name.title);
    EXPECT_NE(html.find(hover + " — " + report::escape(album.title)), std::string::npos) << name.title;
  }
  EXPECT_EQ(files, 12u);
  const auto map = nlohmann::json::parse(testing::read_bytes(scratch() / "report/map.json"));
  EXPECT_GT(map["random_share"].get<double>(), 0.0);
}

TEST_F(AnalyzeCommand, SameSeedSameMapAndACatalogToo) {
  const ProgramRun again = analyze("--seed 4 " + testing::quoted(scratch() / "shelf") + " --out " +
                                   testing::quoted(scratch() / "again"));
  EXPECT_EQ(again.status, 1) << again.err;
  EXPECT_EQ(testing::read_bytes(scratch() / "report/map.csv"),
            testing::read_bytes(scratch() / "again/map.csv"));

  const ProgramRun catalog = analyze("--catalog " + testing::quoted(scratch() / "shelf.db") + " --out " +
                                     testing::quoted(scratch() / "db"));
  EXPECT_EQ(catalog.status, 0) << catalog.out << catalog.err;
  EXPECT_NE(catalog.out.find("analyze: 4 albums, 12 songs in"), std::string::npos) << catalog.out;

  const ProgramRun neither = analyze("--out " + testing::quoted(scratch() / "none"));
  EXPECT_EQ(neither.status, 2);
}

}  // namespace
}  // namespace tunelens

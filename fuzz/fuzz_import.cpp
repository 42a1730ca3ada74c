#include "fuzz_import.h"

#include "audio/audio.h"
#include "data/import.h"
#include "fuzz_support.h"

namespace tunelens::fuzz {

namespace fs = std::filesystem;

fs::path dataset_folder(const std::string& folder, const std::vector<std::string>& audio,
                        const std::vector<std::string>& empty) {
  const fs::path root = scratch() / folder;
  if (fs::exists(root)) return root;
  const std::vector<float> tone(800, 0.25f);  // 0.1 s at 8 kHz
  for (const auto& name : audio) {
    fs::create_directories((root / name).parent_path());
    write_wav(root / name, tone, 8000);
  }
  for (const auto& name : empty) {
    fs::create_directories((root / name).parent_path());
    write_file((fs::path(folder) / name).string(), nullptr, 0);
  }
  return root;
}

void import_scan(const SourceScan& scan) {
  std::vector<ImportCandidate> inside;
  const std::string prefix = scratch().string() + "/";
  for (const auto& candidate : scan.candidates) {
    if (!candidate.info.label || candidate.info.label->empty()) finding("a candidate without a label", candidate.origin);
    if (candidate.info.source != scan.kind) finding("a candidate of another source", candidate.info.source);
    if (fs::absolute(candidate.file).lexically_normal().string().starts_with(prefix)) inside.push_back(candidate);
  }
  const fs::path file = scratch() / "import.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  Catalog catalog = Catalog::create(file, scan.root);
  ImportOptions options;
  options.threads = 1;
  const ImportSummary summary = import_candidates(catalog, inside, options);
  if (summary.added + summary.already + summary.failed != inside.size())
    finding("an import that loses count", std::to_string(inside.size()) + " candidates");
  if (catalog.track_count() != summary.added) finding("an import that adds other rows", std::to_string(summary.added));
}

}  // namespace tunelens::fuzz

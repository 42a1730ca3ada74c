#!/usr/bin/env bash
# Screenshots of each kind of report, as headless Chromium shows them while the pointer hovers a chart mark:
# docs/report-train.png, docs/report-evaluate.png and, when the program has `analyze`, docs/report-analyze.png;
# and of the page of `tunelens serve`, a track open with its neighbours: docs/serve-page.png.
# The runs are the browser tests' (tests/browser/browser_test.sh, serve_page_test.sh), a little larger so that the
# pictures show more.
#   scripts/screenshots.sh [TUNELENS_BINARY] [OUT_DIR]
set -euo pipefail
tunelens=${1:-build/release/src/tunelens}
out=${2:-docs}
mkdir -p "$out"
RUN_GENRES=blues,classical,country,jazz,metal,reggae RUN_PER_GENRE=16 RUN_SECONDS=6 RUN_TEST=3 RUN_EPOCHS=8 \
  RUN_ARTISTS=2 RUN_ALBUMS=3 RUN_TRACKS=4 \
  bash "$(dirname "$0")/../tests/browser/browser_test.sh" "$tunelens" "$(cd "$out" && pwd)"
# The page's model trained longer (20 epochs): a track's genres and neighbours then look like its own.
RUN_GENRES=blues,classical,country,jazz,metal,reggae RUN_PER_GENRE=16 RUN_SECONDS=6 RUN_EPOCHS=20 \
  bash "$(dirname "$0")/../tests/browser/serve_page_test.sh" "$tunelens" "$(cd "$out" && pwd)/serve-page.png"
for png in "$out"/report-*.png "$out/serve-page.png"; do
  size=$(stat -c %s "$png")
  echo "$png: $((size / 1024)) KB"
  if [ "$size" -ge 512000 ]; then echo "screenshots: $png is over 500 KB" >&2; exit 1; fi
done

#!/usr/bin/env bash
# The reports in a real browser: makes a tiny run (a few short generated tracks, a small model, 2 epochs), writes
# the train, evaluate and index reports (and the analyze report when the program has that command), and checks each
# in headless Chromium with check_report.mjs: no console errors, every map mark present, the tooltip on hover.
#   tests/browser/browser_test.sh TUNELENS_BINARY [SCREENSHOT_DIR]
# With SCREENSHOT_DIR, each report's screenshot is saved there as report-<kind>.png. The size of the run can be
# raised for nicer pictures (scripts/screenshots.sh): RUN_GENRES, RUN_PER_GENRE, RUN_SECONDS, RUN_TEST, RUN_EPOCHS, and
# the analysed collection's RUN_ARTISTS, RUN_ALBUMS, RUN_TRACKS.
# Exit status 77 (ctest's SKIP_RETURN_CODE) when node or Chromium is missing.
set -euo pipefail
tunelens=$1
shots=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
check="$here/check_report.mjs"

source "$here/needs_browser.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/tunelens-browser-XXXXXX")
trap 'rm -rf "$work"' EXIT
run() { echo "+ tunelens $*"; "$tunelens" "$@"; }

# By default three genres x 4 tracks x 4 s; per-class split; 32 mel bands; a narrow short-chunk network, 2 epochs.
run synth --out "$work/corpus" --genres "${RUN_GENRES:-blues,classical,metal}" --per-genre "${RUN_PER_GENRE:-4}" \
  --seconds "${RUN_SECONDS:-4}" --seed 3 -j 2 -q
run dataset import csv "$work/corpus/tracks.csv" --catalog "$work/corpus.db" -q
run dataset split --catalog "$work/corpus.db" --scheme per-class --val 1 --test "${RUN_TEST:-1}" --seed 1 -q
run extract --catalog "$work/corpus.db" --n-mels 32 --dtype float32 -q
mkdir -p "$work/reports"
run train "$work/corpus.db" --out "$work/model.tlm" --model shortchunk --width 8 --window 64 --epochs "${RUN_EPOCHS:-2}" \
  --batch-size 8 --seed 1 -j 2 -q --report "$work/reports/train.html" --report-link "$work/reports/index.html"
test -s "$work/model.tlm.curves.svg"
run evaluate --model "$work/model.tlm" --catalog "$work/corpus.db" -j 2 --report "$work/reports/evaluate.html" \
  --charts "$work/reports/charts" --report-link "$work/reports/train.html" --report-link "$work/reports/index.html"
pages=("$work/reports/train.html" "$work/reports/evaluate.html")

# The analyze report (one mark per song on its map), when this build has the command.
songs=
if "$tunelens" analyze --help >/dev/null 2>&1; then
  run synth --collection --out "$work/band" --artists "${RUN_ARTISTS:-1}" --albums "${RUN_ALBUMS:-2}" \
    --tracks "${RUN_TRACKS:-3}" --seconds "${RUN_SECONDS:-4}" --seed 5 -j 2 -q
  songs=$(find "$work/band" -name '*.wav' | wc -l)
  run analyze --model "$work/model.tlm" "$work/band" --out "$work/analyze" -j 2 -q
  pages+=("$work/analyze/report.html")
else
  echo "(tunelens analyze is not in this build: its report is not checked)"
fi
run report index --out "$work/reports/index.html" "${pages[@]}"

# check_page PAGE KIND [CHECK_OPTIONS...]: checks one page (and saves its screenshot when asked); failures add up.
status=0
check_page() {
  local page=$1 kind=$2
  shift 2
  local options=("$@")
  if [ -n "$shots" ] && [ "$kind" != index ]; then options+=(--screenshot "$shots/report-$kind.png"); fi
  node "$check" "$page" "${options[@]}" || status=1
}
check_page "$work/reports/train.html" train
check_page "$work/reports/evaluate.html" evaluate
check_page "$work/reports/index.html" index --no-hover
if [ -n "$songs" ]; then check_page "$work/analyze/report.html" analyze --marks "$songs"; fi
exit $status

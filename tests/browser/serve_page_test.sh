#!/usr/bin/env bash
# The page of `tunelens serve` in a real browser: makes a tiny indexed catalog (a few short generated tracks, a small
# model, 2 epochs, `tunelens index`), serves it on a free port with a token, and has check_page.mjs use the page in
# headless Chromium: search, a track with its genres, timeline and neighbours (one played), a file given to the drop
# zone (classified, then added with the token), the map (hover, click, Enter), a phone's width. Then stops the
# server with SIGTERM and checks it exits 0.
#   tests/browser/serve_page_test.sh TUNELENS_BINARY [SCREENSHOT.png]
# With SCREENSHOT.png, the page is saved there (a track open with its neighbours). The size of the run can be raised
# for a nicer picture (scripts/screenshots.sh): RUN_GENRES, RUN_PER_GENRE, RUN_SECONDS, RUN_EPOCHS.
# Exit status 77 (ctest's SKIP_RETURN_CODE) when node or Chromium is missing.
set -euo pipefail
tunelens=$1
shot=${2:-}
here=$(cd "$(dirname "$0")" && pwd)

source "$here/needs_browser.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/tunelens-serve-page-XXXXXX")
server=
cleanup() {
  if [ -n "$server" ]; then kill -KILL "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
run() { echo "+ tunelens $*"; "$tunelens" "$@"; }

# By default three genres x 4 tracks x 4 s in the catalog, and one more track per genre left out of it: the last
# genre's is the file given to the drop zone. A narrow short-chunk network, 2 epochs.
per_genre=${RUN_PER_GENRE:-4}
run synth --out "$work/corpus" --genres "${RUN_GENRES:-blues,classical,metal}" --per-genre $((per_genre + 1)) \
  --seconds "${RUN_SECONDS:-4}" --seed 3 -j 2 -q
left_out=$(printf '%05d' "$per_genre")
grep -v "\.$left_out\.wav," "$work/corpus/tracks.csv" > "$work/corpus/catalog.csv"
upload="$work/corpus/$(grep "\.$left_out\.wav," "$work/corpus/tracks.csv" | tail -n 1 | cut -d, -f1)"
test -s "$upload"
run dataset import csv "$work/corpus/catalog.csv" --catalog "$work/corpus.db" -q
run dataset split --catalog "$work/corpus.db" --scheme per-class --val 1 --test 1 --seed 1 -q
run extract --catalog "$work/corpus.db" --n-mels 32 --dtype float32 -q
run train "$work/corpus.db" --out "$work/model.tlm" --model shortchunk --width 8 --window 64 --epochs "${RUN_EPOCHS:-2}" \
  --batch-size 8 --seed 1 -j 2 -q
run index --model "$work/model.tlm" --catalog "$work/corpus.db" -j 2 -q

# Served on a free port; the log's line "... on http://127.0.0.1:PORT/" names it.
token=serve-page-test-token
echo "$token" > "$work/token"
echo "+ tunelens serve --catalog $work/corpus.db --model $work/model.tlm --port 0 --token-file $work/token"
"$tunelens" serve --catalog "$work/corpus.db" --model "$work/model.tlm" --port 0 --token-file "$work/token" -j 2 \
  2> "$work/serve.log" &
server=$!
url=
for _ in $(seq 600); do
  url=$(grep -o 'on http://127\.0\.0\.1:[0-9]*/' "$work/serve.log" | head -n 1 | cut -c 4-) || true
  if [ -n "$url" ] || ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "serve page test: the server did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi

options=(--upload "$upload" --query "${RUN_QUERY:-blues}" --token "$token")
if [ -n "$shot" ]; then options+=(--screenshot "$shot"); fi
status=0
node "$here/check_page.mjs" "$url" "${options[@]}" || status=$?

# SIGTERM: the server finishes what is in flight and exits 0.
kill -TERM "$server"
served=0
wait "$server" || served=$?
server=
if [ "$served" -ne 0 ]; then
  echo "serve page test: the server exited with status $served after SIGTERM:" >&2
  cat "$work/serve.log" >&2
  status=1
elif [ "$status" -ne 0 ]; then
  echo "the server's log:" >&2
  cat "$work/serve.log" >&2
fi
exit $status

#!/usr/bin/env bash
# The demo: the whole system, end to end, on music it makes itself (and the bundled recordings).
#   scripts/demo.sh [TUNELENS_BINARY] [OUT_DIR]
# Every step is the command a user would type, with the output that user would see. A rerun reuses the generated
# audio and remakes the rest.
set -euo pipefail
tunelens=${1:-build/release/src/tunelens}
out=${2:-demo-out}
start=$SECONDS
reports=$out/reports
mkdir -p "$out" "$reports"

step() { printf '\n== %s ==\n' "$1"; }
run() {  # prints the command as a user would type it, then runs it
  printf '$ tunelens %s\n' "$*"
  "$tunelens" "$@"
}

step "1. a generated corpus: 10 genres x 50 tracks x 15 s, 5 artists per genre (FluidSynth, FluidR3 GM)"
if [ ! -f "$out/corpus/tracks.csv" ]; then
  run synth --out "$out/corpus" --per-genre 50 --seconds 15 --seed 1 -q
else
  echo "(already made: $out/corpus)"
fi

step "2. catalog: import, split by artist (no artist in two parts), mel-spectrogram features"
rm -rf "$out/corpus.db" "$out/corpus.db-wal" "$out/corpus.db-shm" "$out/corpus.db.features" "$out/corpus.db.index"
run dataset import csv "$out/corpus/tracks.csv" --catalog "$out/corpus.db" -q
run dataset split --catalog "$out/corpus.db" --scheme artist --val 0.1 --test 0.1 --seed 1 -q
run extract --catalog "$out/corpus.db" -q

step "3. train the default network, a short-chunk residual CNN (small: width 32, 3 epochs)"
run train "$out/corpus.db" --out "$out/model.tlm" --model shortchunk --width 32 --epochs 3 --batch-size 64 --seed 1 \
  --report "$reports/training.html" --report-link index.html

step "4. evaluate on the test artists (never heard in training)"
run evaluate --model "$out/model.tlm" --catalog "$out/corpus.db" --json "$out/evaluation.json" \
  --report "$reports/evaluation.html" --report-link index.html | tee "$out/evaluation.txt"

step "5. index every track, then: what sounds like this?"
run index --model "$out/model.tlm" --catalog "$out/corpus.db" -q
query=$(awk -F, 'NR == 2 { print $1 }' "$out/corpus/tracks.csv")
run similar --catalog "$out/corpus.db" --model "$out/model.tlm" "$query" -k 5
run similar --catalog "$out/corpus.db" --model "$out/model.tlm" "$query" -k 5 --by probs --metric sqeuclidean
run similar --catalog "$out/corpus.db" --model "$out/model.tlm" --quality | tee "$out/quality.txt"

step "6. cold start: a brand-new upload, recommendable at once"
if [ ! -f "$out/new/tracks.csv" ]; then
  run synth --out "$out/new" --genres jazz --per-genre 1 --seconds 15 --seed 77 -q
fi
run ingest --model "$out/model.tlm" --catalog "$out/corpus.db" "$out/new/jazz/jazz.00000.wav" -k 5

step "7. a whole collection: 3 artists x 3 albums x 6 songs, analysed album by album"
if [ ! -f "$out/collection/tracks.csv" ]; then
  run synth --collection --out "$out/collection" --artists 3 --albums 3 --tracks 6 --seconds 15 --seed 2 -q
fi
run analyze --model "$out/model.tlm" "$out/collection" --out "$reports/collection" -q | tee "$out/analyze.txt"

step "8. the bundled real recordings: the demo's model (generated music only), a real-music tagger, real genres"
run classify --model "$out/model.tlm" samples --top-k 3
run classify --model jamendo-musicnn samples --tags genre --top-k 3
run classify --model models/real-genres.tlm samples --top-k 3

step "9. one report linking the pages"
run report index --out "$reports/index.html" --title "tunelens demo" \
  "$reports/training.html" "$reports/evaluation.html" "$reports/collection/report.html"

# The figures, read back from the outputs above.
accuracy=$(awk '$1 == "accuracy" { print $2; exit }' "$out/evaluation.txt")
top3=$(awk '$1 == "top-3" { print $3; exit }' "$out/evaluation.txt")
quality() { awk -v who="$1" '$1 == who { print "same artist " $(NF - 1) ", same genre " $NF; exit }' "$out/quality.txt"; }
album_share=$(sed -n 's/^ *"album_neighbour_share": *\([0-9.]*\).*/\1/p' "$reports/collection/map.json" | head -n 1)
random_share=$(sed -n 's/^ *"random_share": *\([0-9.]*\).*/\1/p' "$reports/collection/map.json" | head -n 1)
cat <<EOF

== summary ==
genre of test artists' tracks: top-1 $accuracy, top-3 $top3 (10 genres; chance 0.10)
10 nearest tracks, original recommender (softmax, squared Euclidean): $(quality original)
10 nearest tracks, embedding recommender (cosine):                    $(quality embedding)
song map: $(awk -v s="$album_share" -v r="$random_share" 'BEGIN { printf "%.0f %% of a song'"'"'s 5 map neighbours from its album (random: %.0f %%)", 100 * s, 100 * r }')
report: $reports/index.html (training, evaluation, collection)
done in $((SECONDS - start)) s

the demo catalog as a service, with its page at http://127.0.0.1:8080/ (Ctrl-C stops it):
  $tunelens serve --catalog $out/corpus.db --model $out/model.tlm --port 8080
EOF

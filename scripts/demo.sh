#!/usr/bin/env bash
# The demo: what tunelens does today, end to end, on music it makes itself and on the bundled recordings.
#   scripts/demo.sh [TUNELENS_BINARY] [OUT_DIR]
set -euo pipefail
tunelens=${1:-build/release/src/tunelens}
out=${2:-demo-out}
start=$SECONDS
mkdir -p "$out"

step() { printf '\n== %s ==\n' "$1"; }

step "1. mel spectrograms of the bundled recordings, as librosa computes them"
"$tunelens" features samples --out "$out/features" --mfcc 20 --force -q

step "2. a generated corpus: 10 genres x 50 tracks x 15 s, 5 artists per genre (FluidSynth, FluidR3 GM)"
if [ ! -f "$out/corpus/tracks.csv" ]; then
  "$tunelens" synth --out "$out/corpus" --per-genre 50 --seconds 15 --seed 1 -q
else
  echo "(already made: $out/corpus)"
fi

step "3. catalog: import, split by artist (no artist in two parts), features"
rm -f "$out/corpus.db" "$out/corpus.db-wal" "$out/corpus.db-shm"
rm -rf "$out/corpus.db.features"
"$tunelens" dataset import csv "$out/corpus/tracks.csv" --catalog "$out/corpus.db" -q
"$tunelens" dataset split --catalog "$out/corpus.db" --scheme artist --val 0.1 --test 0.1 --seed 1 -q
"$tunelens" extract --catalog "$out/corpus.db" -q

step "4. train a small short-chunk residual CNN (3 epochs)"
"$tunelens" train "$out/corpus.db" --out "$out/model.tlm" --model shortchunk --width 32 --epochs 3 --batch-size 64 --seed 1

step "5. evaluate on the test artists (never seen in training)"
"$tunelens" evaluate --model "$out/model.tlm" --catalog "$out/corpus.db" --json "$out/evaluation.json"

step "6. classify real recordings (the model knows only generated music: a first look, not a verdict)"
"$tunelens" classify --model "$out/model.tlm" samples --top-k 3

printf '\nDone in %d s. Outputs in %s: features/, corpus/, corpus.db, model.tlm (+ history CSV/JSON), evaluation.json\n' \
  $((SECONDS - start)) "$out"

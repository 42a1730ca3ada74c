#!/usr/bin/env bash
# Tagging a whole song with every shipped pretrained network: tunelens (bench_tagging) against PyTorch in Python
# (bench/pytorch_tagging.py on Debian's python3-torch, run by bench_tagging as a child process, the two sides'
# runs alternating) on the same 16 kHz samples and thread counts, printed as one table with the ratio. Without
# python3-torch it says so and prints tunelens's side.
#   scripts/bench_tagging.sh [BUILD_DIR]
# Environment: SONG (default: the ragtime of samples/, 71 s), THREADS (1,2), REPEATS (5), NETWORKS (all),
# PYTHON (/usr/bin/python3).
set -euo pipefail
build=${1:-build/release}
song=${SONG:-samples/442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.ogg}
threads=${THREADS:-1,2}
repeats=${REPEATS:-5}
networks=${NETWORKS:-}

data="$build/bench-data"
mkdir -p "$data"
samples="$data/$(basename "${song%.*}").16k.f32"
if [ ! -f "$samples" ]; then
  ffmpeg -nostdin -v error -y -i "$song" -ac 1 -ar 16000 -f f32le "$samples.partial"
  mv "$samples.partial" "$samples"
fi

# Debian's Python, which has python3-torch (a pyenv python3 may come first on PATH).
python=${PYTHON:-/usr/bin/python3}
pytorch=(--python "$python")
if ! "$python" -c 'import numpy, torch' 2>/dev/null; then
  echo "bench_tagging: PyTorch for Python is missing (Debian's python3-torch: scripts/install-deps.sh --bench);"
  echo "               only tunelens's side is measured"
  pytorch=(--no-pytorch)
fi
"$build/bench/bench_tagging" "$samples" --threads "$threads" --repeats "$repeats" \
  ${networks:+--networks "$networks"} "${pytorch[@]}"

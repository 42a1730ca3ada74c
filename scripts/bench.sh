#!/usr/bin/env bash
# Runs the benchmarks; each prints tunelens beside its baseline, measured in the same run, and the ratio.
#   scripts/bench.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build/release}

echo "== features alone (STFT + mel + dB of 30 s at 22050 Hz), one thread =="
"$build/bench/bench_features"

# Compressed input as a catalog receives it: 48 kHz stereo Ogg Vorbis and MP3, 30 s each, made from the samples.
data="$build/bench-data"
if [ ! -f "$data/.done" ]; then
  mkdir -p "$data"
  i=0
  for src in samples/*.ogg; do
    for start in 0 30; do
      i=$((i + 1))
      ffmpeg -nostdin -v error -y -ss $start -t 30 -stream_loop -1 -i "$src" -ar 48000 -ac 2 -c:a libvorbis -q:a 5 "$data/track$i.ogg"
      ffmpeg -nostdin -v error -y -ss $start -t 30 -stream_loop -1 -i "$src" -ar 48000 -ac 2 -c:a libmp3lame -b:a 192k "$data/track$i.mp3"
    done
  done
  touch "$data/.done"
fi
echo
echo "== whole pipeline on compressed files (decode + resample + features) =="
"$build/bench/bench_pipeline" "$data" "${REPEATS:-5}"

echo
echo "== vector index: HNSW vs exact search, 200,000 clustered vectors of 256 dimensions (about 2 minutes) =="
"$build/bench/bench_index"

echo
# 200,000 vectors by default (about 8 minutes); FAISS_VECTORS=1000000 for the README's figures (about 50 minutes).
faiss_vectors=${FAISS_VECTORS:-200000}
echo "== vector index: FAISS (ivf-flat, ivf-pq, hnsw-faiss) vs exact and hnswlib, $faiss_vectors vectors of 256 dimensions =="
# FAISS's OpenMP threads wait passively: on a shared machine spinning ones starve the others (faiss_index.h).
OMP_WAIT_POLICY=PASSIVE "$build/bench/bench_faiss" --n "$faiss_vectors"

echo
echo "== workers sharing a PostgreSQL catalog: 4 with one killed vs one process on SQLite, then 1 vs 2 workers =="
# 400 generated tracks by default (about 10 minutes with the corpus); WORKER_TRACKS=2000 for the README's figures.
scripts/bench_workers.sh "$build/src/tunelens" "${WORKER_TRACKS:-400}"

echo
echo "== models: convpool training and inference, a naive libtorch loop vs tunelens's path (batch 20 x 1 x 128 x 1024) =="
"$build/bench/bench_model" 3 2

echo
echo "== cold start: ingest one new 30 s file into a catalog of 10,000 tracks and list its 10 nearest =="
"$build/bench/bench_ingest"

echo
echo "== the service: similar by id over HTTP vs in-process, 10,000 and 100,000 tracks, 8 clients (about 3 minutes) =="
"$build/bench/bench_serve"

echo
echo "== pretrained tagging networks on a whole song (71 s): PyTorch vs tunelens, 1 and 2 threads (about 75 s) =="
scripts/bench_tagging.sh "$build"

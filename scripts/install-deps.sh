#!/usr/bin/env bash
# Installs every Debian package tunelens needs to build, test and run its demo.
# Idempotent and non-interactive; safe to run on a machine that already has them.
#   scripts/install-deps.sh          what make demo and make test need
#   scripts/install-deps.sh --bench  that, and the baselines make bench measures against (PyTorch in Python)
#   scripts/install-deps.sh --fuzz   that, and clang with libFuzzer for make fuzz
set -euo pipefail

packages=(
  # build
  cmake ninja-build pkg-config g++ make
  # audio decoding and resampling (src/audio)
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libsoxr-dev ffmpeg
  # MPEG audio as librosa decodes it (libmpg123), and the fallback decoder for files FFmpeg rejects (libsndfile:
  # libvorbis, libFLAC, libopus behind it)
  libmpg123-dev libsndfile1-dev
  # features (src/features)
  libfftw3-dev
  # catalog, command line, formatting, compression (PNG pictures)
  libsqlite3-dev libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev zlib1g-dev
  # the catalog on a PostgreSQL server (libpq, its C client), and a server for its tests (tests/pg/with_postgres.sh)
  libpq-dev postgresql
  # models (src/model): libtorch on OpenBLAS
  libtorch-dev libopenblas0-pthread
  # recommendation index and HTTP service; FAISS for the ivf-flat, ivf-pq and hnsw-faiss indexes (it brings the
  # reference BLAS and LAPACK to build against; at run time libblas.so.3 is OpenBLAS, libopenblas0-pthread above)
  libhnswlib-dev libcpp-httplib-dev libfaiss-dev
  # generated music for tests and the demo: a real synthesizer and a sound font of recorded instruments
  libfluidsynth-dev fluid-soundfont-gm
  # tests and benchmarks
  googletest libgtest-dev libbenchmark-dev
  # the HTML reports checked in a real browser (tests/browser): headless Chromium driven by a Node script
  chromium nodejs
)
# Only for benchmarks: the shipped tagging networks run by PyTorch itself (bench/pytorch_tagging.py).
bench_packages=(python3-torch python3-numpy)
if [ "${1:-}" = "--bench" ]; then packages+=("${bench_packages[@]}"); fi
# Only for make fuzz: clang and its runtime libraries (libFuzzer, the sanitizers).
fuzz_packages=(clang libclang-rt-14-dev)
if [ "${1:-}" = "--fuzz" ]; then packages+=("${fuzz_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# The demo: what tunelens does today, on the bundled sample music.
set -euo pipefail
tunelens=${1:-build/release/src/tunelens}
out=${2:-demo-out}

echo "== tunelens features: mel spectrograms of the samples (librosa's defaults) =="
"$tunelens" features samples --out "$out/features" --mfcc 20 --force
echo
echo "Written to $out/features (float32 .npy, shape [n_mels, frames]). In Python:"
echo "  import numpy as np; S = np.load('$out/features/Kevin_MacLeod_-_Vibe_Ace.npy'); print(S.shape)"

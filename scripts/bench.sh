#!/usr/bin/env bash
# Runs the benchmarks; each prints tunelens beside its baseline, measured in the same run, and the ratio.
set -euo pipefail
build=${1:-build/release}
"$build/bench/bench_features"
if [ -x "$build/bench/bench_pipeline" ]; then "$build/bench/bench_pipeline"; fi

#!/usr/bin/env bash
# make fuzz: runs every harness of fuzz/harnesses.txt (or those named) for SECONDS each, one after the other, on
# one core, and prints per harness the executions and the crashes. The seeds are assembled in BUILD/seeds/<name>
# from the test fixtures (and make_seeds); what libFuzzer learns stays in BUILD/corpus/<name> for the next run.
# A crashing input (or one that leaks, runs out of memory or time) is kept in fuzz/regressions/<name>/: fix the
# bug, keep the file, and ctest replays it in every normal build from then on. Exit status 1 if anything crashed.
#   fuzz/run.sh BUILD SECONDS [harness...]      e.g. fuzz/run.sh build/fuzz 60 npy model
set -euo pipefail

# All in one function, read whole before it runs: editing this file during a long run does not disturb it.
main() {
  root=$(cd "$(dirname "$0")/.." && pwd)
  build=$(cd "${1:?usage: fuzz/run.sh BUILD SECONDS [harness...]}" && pwd)
  seconds=${2:?usage: fuzz/run.sh BUILD SECONDS [harness...]}
  shift 2
  only=" $* "
  cd "$root"

  # Leaks are findings too, but for those of system libraries in tests/sanitizers/lsan.supp (each explained there).
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

  # The harnesses' scratch folders (fuzz_support.h), in memory, removed at the end even after a crash.
  export TUNELENS_FUZZ_SCRATCH=$(mktemp -d "${TMPDIR:-/dev/shm}/tunelens-fuzz-run.XXXXXX")
  trap 'rm -rf "$TUNELENS_FUZZ_SCRATCH"' EXIT

  rows=()
  total_crashes=0
  while read -r name max_len seeds; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    [[ "$only" != "  " && "$only" != *" $name "* ]] && continue
    program=$build/fuzz/fuzz_$name
    seed_dir=$build/seeds/$name
    corpus=$build/corpus/$name
    regressions=$root/fuzz/regressions/$name
    log=$build/logs/$name.log
    rm -rf "$seed_dir"
    mkdir -p "$seed_dir" "$corpus" "$regressions" "$build/logs"
    for seed in $seeds; do  # unquoted: the globs expand
      if [[ "$seed" == make_seeds:* ]]; then
        "$build/fuzz/make_seeds" "${seed#make_seeds:}" "$seed_dir/${seed#make_seeds:}"
      elif [ -d "$seed" ]; then
        cp "$seed"/* "$seed_dir"/
      else
        cp "$seed" "$seed_dir"/
      fi
    done
    dict=()
    [ -f "fuzz/dicts/$name.dict" ] && dict=(-dict="fuzz/dicts/$name.dict")
    before=$(ls "$regressions" | wc -l)
    echo "fuzz_$name: ${seconds} s, inputs up to $max_len bytes, $(find "$seed_dir" -type f | wc -l) seeds, log $log"
    status=0
    "$program" -max_total_time="$seconds" -max_len="$max_len" -timeout=25 -rss_limit_mb=2048 \
      -report_slow_units=100000 -print_final_stats=1 -artifact_prefix="$regressions/" "${dict[@]}" \
      "$corpus" "$seed_dir" "$regressions" >"$log" 2>&1 || status=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -z "$executions" ] && executions=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    crashes=$(( $(ls "$regressions" | wc -l) - before ))
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # it stopped without saving an input
    [ "$crashes" -gt 0 ] && tail -40 "$log"
    total_crashes=$((total_crashes + crashes))
    rows+=("$(printf '%-12s %12s %8s' "$name" "${executions:-?}" "$crashes")")
    rmdir "$regressions" 2>/dev/null || true  # only a folder with kept inputs stays
  done < fuzz/harnesses.txt

  printf '\n%-12s %12s %8s   (%s s each)\n' harness executions crashes "$seconds"
  printf '%s\n' "${rows[@]}"
  if [ "$total_crashes" -gt 0 ]; then
    echo "make fuzz: $total_crashes crashing inputs kept in fuzz/regressions/ (fix them; ctest replays them)"
    exit 1
  fi
}

main "$@"

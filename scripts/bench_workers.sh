#!/usr/bin/env bash
# Workers sharing a PostgreSQL catalog (tunelens worker), on generated music:
#   check  4 workers over TRACKS tracks, one killed with SIGKILL part-way holding a batch: every track done
#          once per job (the killed batch once more, by the others), feature files and vectors byte for byte
#          those of one process on SQLite (worker --jobs extract, then tunelens index), row counts, no orphans.
#   speed  the same tracks by 1 worker, then by 2, in this run: tracks per second of each and the ratio.
#
#   scripts/bench_workers.sh [TUNELENS] [TRACKS] [MODEL]      (defaults: build/release/src/tunelens 2000
#                                                               models/real-genres.tlm; PARTS="check speed")
# Needs a PostgreSQL server: runs itself under tests/pg/with_postgres.sh unless TUNELENS_TEST_PG is set. The
# corpus (TRACKS x 30 s, tunelens synth) is kept in $WORK (default /tmp/tunelens-bench-workers) for the next run.
set -euo pipefail
tunelens=$(realpath "${1:-build/release/src/tunelens}")
tracks=${2:-2000}
model=$(realpath "${3:-models/real-genres.tlm}")
parts=${PARTS:-check speed}
work=${WORK:-/tmp/tunelens-bench-workers}
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${TUNELENS_TEST_PG:-}" ]; then exec "$here/tests/pg/with_postgres.sh" "$0" "$@"; fi
[ -n "${TUNELENS_TEST_PG:-}" ] || { echo "bench_workers: no PostgreSQL server" >&2; exit 2; }

corpus="$work/corpus-$tracks"
if [ ! -f "$corpus/.done" ]; then
  echo "making the corpus: $tracks tracks of 30 s (tunelens synth) in $corpus"
  rm -rf "$corpus"
  "$tunelens" synth --out "$corpus" --per-genre $(((tracks + 9) / 10)) --seconds 30 --seed 1 -q
  touch "$corpus/.done"
fi
run="$work/run"
rm -rf "$run" "$corpus"/*.features  # feature files of the PostgreSQL catalogs go beside the corpus (their root)
mkdir -p "$run"

# A fresh PostgreSQL catalog of the corpus in a schema of its own; prints its URI.
pg_catalog() {
  psql -q "$TUNELENS_TEST_PG" -c "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1" >/dev/null 2>&1
  local uri="$TUNELENS_TEST_PG&options=-c%20search_path%3D$1"
  "$tunelens" dataset import csv "$corpus/tracks.csv" --catalog "$uri" -q >/dev/null
  echo "$uri"
}
sql() { psql -qtA "$1" -c "$2"; }
now() { date +%s.%N; }
# Starts N workers on a catalog (extra arguments for all of them); waits; prints the seconds taken.
workers() {
  local uri=$1 n=$2 start status=0 pids=()
  shift 2
  start=$(now)
  for i in $(seq "$n"); do
    "$tunelens" worker --catalog "$uri" --model "$model" --name "w$i" "$@" >"$run/w$i.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  [ "$status" -eq 0 ] || { echo "a worker failed ($status): $(cat "$run"/w*.log)" >&2; exit 1; }
  echo "$(now) - $start" | bc -l
}

if [[ " $parts " == *" check "* ]]; then
  echo "== check: one process on SQLite, then 4 workers on PostgreSQL with one killed =="
  sqlite="$run/baseline.db"
  "$tunelens" dataset import csv "$corpus/tracks.csv" --catalog "$sqlite" -q >/dev/null
  "$tunelens" worker --catalog "$sqlite" --model "$model" --jobs extract >"$run/baseline.log" 2>&1
  "$tunelens" index -j 1 -q --model "$model" --catalog "$sqlite" >>"$run/baseline.log" 2>&1
  uri=$(pg_catalog fleet)
  # Four start together; one (TUNELENS_WORKER_KILL_AFTER) is killed with SIGKILL once it has computed a tenth
  # of the tracks, holding a batch it has not stored; the three others finish, its batch too once its lease
  # (10 s) lapses.
  (TUNELENS_WORKER_KILL_AFTER=$((tracks / 10)) exec "$tunelens" worker --catalog "$uri" --model "$model" \
    --name killed --lease 10 >"$run/killed.log" 2>&1) &
  killed=$!
  seconds=$(workers "$uri" 3 --lease 10)
  wait "$killed" && { echo "the killed worker was not killed" >&2; exit 1; }
  n=$(sql "$uri" "SELECT COUNT(*) FROM tracks")
  echo "tracks: $n; 4 workers, one killed: $seconds s"
  echo "work rows: $(sql "$uri" "SELECT state || ' ' || COUNT(*) FROM work GROUP BY state" | tr '\n' ' ')"
  echo "claims per row: $(sql "$uri" "SELECT attempts || ' claim(s): ' || COUNT(*) FROM work GROUP BY attempts ORDER BY attempts" | tr '\n' ' ')"
  echo "the killed worker's batch, finished by: $(sql "$uri" "SELECT DISTINCT worker FROM work WHERE attempts = 2 ORDER BY worker" | tr '\n' ' ')"
  # Every vector and prediction as hex, one line each, from both databases.
  sqlite3 "$sqlite" "SELECT track, model, kind, lower(hex(vector)) FROM vectors ORDER BY 1, 2, 3" >"$run/base.vectors"
  sql "$uri" "SELECT track, model, kind, encode(vector, 'hex') FROM vectors ORDER BY 1, 2, 3" >"$run/fleet.vectors"
  sqlite3 "$sqlite" "SELECT track, model, lower(hex(probabilities)) FROM predictions ORDER BY 1, 2" >"$run/base.predictions"
  sql "$uri" "SELECT track, model, encode(probabilities, 'hex') FROM predictions ORDER BY 1, 2" >"$run/fleet.predictions"
  all=$(wc -l <"$run/base.vectors")
  same=$(comm -12 <(sort "$run/base.vectors") <(sort "$run/fleet.vectors") | wc -l)
  predictions=$(comm -12 <(sort "$run/base.predictions") <(sort "$run/fleet.predictions") | wc -l)
  echo "vectors byte-identical to the SQLite run: $same of $all ($(wc -l <"$run/fleet.vectors") in PostgreSQL); predictions: $predictions of $(wc -l <"$run/base.predictions")"
  base_features=$(ls -d "$sqlite.features"/*)
  fleet_features=$(ls -d "$corpus"/*.fleet.features/*)
  if diff -rq "$base_features" "$fleet_features" >/dev/null; then
    echo "feature files byte-identical: $(ls "$fleet_features" | wc -l) of $(ls "$base_features" | wc -l)"
  else
    echo "feature files DIFFER" && exit 1
  fi
  orphans=0
  for table in features predictions vectors work; do
    orphans=$((orphans + $(sql "$uri" "SELECT COUNT(*) FROM $table x WHERE NOT EXISTS (SELECT 1 FROM tracks t WHERE t.id = x.track)")))
  done
  echo "rows: tracks $n, features $(sql "$uri" "SELECT COUNT(*) FROM features WHERE status = 'done'"), predictions $(sql "$uri" "SELECT COUNT(*) FROM predictions"), vectors $(sql "$uri" "SELECT COUNT(*) FROM vectors"); orphan rows: $orphans"
  "$tunelens" status --catalog "$uri"
  cmp -s "$run/base.vectors" "$run/fleet.vectors" && cmp -s "$run/base.predictions" "$run/fleet.predictions" &&
    [ "$orphans" -eq 0 ] || { echo "check FAILED" >&2; exit 1; }
fi

if [[ " $parts " == *" speed "* ]]; then
  echo "== speed: the same $tracks tracks (extract and index) by 1 worker, then by 2 =="
  one=$(workers "$(pg_catalog one)" 1)
  two=$(workers "$(pg_catalog two)" 2)
  printf "1 worker:  %7.1f s  %6.2f tracks/s\n" "$one" "$(echo "$tracks / $one" | bc -l)"
  printf "2 workers: %7.1f s  %6.2f tracks/s\n" "$two" "$(echo "$tracks / $two" | bc -l)"
  printf "2 workers vs 1: %.2f x\n" "$(echo "$one / $two" | bc -l)"
fi

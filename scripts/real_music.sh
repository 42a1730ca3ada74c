#!/usr/bin/env bash
# The real-music study (docs/real-music.md): on labelled real recordings (a folder per genre, such as the project's
# shared real-genres/: 409 GTZAN excerpts of 2-3 s, 10 genres), 5-fold cross-validation with folds by track (each
# excerpt is its own GTZAN track), every fold's test predictions pooled into one report per row:
#   - networks trained on the generated corpus, as they are (GENERATED: model files; default: the demo's);
#   - convpool, shortchunk and the MFCC baseline trained from scratch on the real excerpts;
#   - a new head on each shipped pretrained network (train --backbone NAME with its defaults), then the best one
#     with its upper blocks fine-tuned; ablations of the heads' defaults (solver, refit, Musicnn's layer);
#   - zero-shot: the Jamendo and MSD networks' genre tags read as the labels of the same name, no training;
#   - the recommenders: of each excerpt's 10 nearest, the share of its genre (similar --quality).
#   scripts/real_music.sh REAL_GENRES_DIR [TUNELENS_BINARY] [WORK_DIR] [DOC]
# Every step is a tunelens command; WORK_DIR keeps the catalog, the models and each row's evaluation JSON
# (REUSE=1 keeps trained models). About an hour on 2 cores.
set -euo pipefail
source_dir=${1:?usage: scripts/real_music.sh REAL_GENRES_DIR [TUNELENS_BINARY] [WORK_DIR] [DOC]}
tunelens=${2:-build/release/src/tunelens}
work=${3:-real-music-out}
doc=${4:-docs/real-music.md}
generated=${GENERATED:-demo-out/model.tlm}
db="$work/real.db"
folds=5
mkdir -p "$work/models" "$work/eval" "$work/seconds"
start=$SECONDS
step() { printf '\n== %s ==\n' "$1"; }
fold_splits() { for k in $(seq 0 $((folds - 1))); do printf -- '--split fold%s ' "$k"; done; }

step "catalog: import, $folds folds, default features"
if [ "${REUSE:-0}" != 1 ] || [ ! -f "$db" ]; then
  rm -rf "$db" "$db-wal" "$db-shm" "$db.features" "$db.index"
  "$tunelens" dataset import folders "$source_dir" --catalog "$db" -q
  for k in $(seq 0 $((folds - 1))); do
    "$tunelens" dataset split --catalog "$db" --scheme folds --folds $folds --fold "$k" --seed 1 --name "fold$k" -q
  done
  # every track a query of the recommenders
  "$tunelens" dataset split --catalog "$db" --scheme fraction --val 0 --test 0.999 --name all -q
  "$tunelens" extract --catalog "$db" -q
fi
# (read whole, not through a pipe that closes early: the writer would die of SIGPIPE and pipefail stop the script)
info=$("$tunelens" dataset info --catalog "$db")
default_features=$(awk '/^features / && !found {print $2; found = 1}' <<< "$info" | tr -d ':')

# cv NAME TRAIN_ARGS...: trains one model per fold (WORK/models/NAME.K.tlm), then the pooled evaluation.
cv() {
  local name=$1
  shift
  local begin=$SECONDS
  for k in $(seq 0 $((folds - 1))); do
    local out="$work/models/$name.$k.tlm"
    if [ "${REUSE:-0}" = 1 ] && [ -f "$out" ]; then continue; fi
    "$tunelens" train "$db" --split "fold$k" --out "$out" --seed 1 -q "$@" | tail -n 1
  done
  [ -f "$work/seconds/$name" ] && [ "${REUSE:-0}" = 1 ] || echo $((SECONDS - begin)) > "$work/seconds/$name"
  local models=()
  for k in $(seq 0 $((folds - 1))); do models+=(--model "$work/models/$name.$k.tlm"); done
  # shellcheck disable=SC2046
  "$tunelens" evaluate "${models[@]}" --catalog "$db" $(fold_splits) --json "$work/eval/$name.json" | sed -n '2,2p'
}

# as_is NAME MODEL: a model evaluated on every fold's test part (all the excerpts), no training.
as_is() {
  # shellcheck disable=SC2046
  "$tunelens" evaluate --model "$2" --catalog "$db" $(fold_splits) --json "$work/eval/$1.json" | awk '/^evaluate:/ && !shown {print; shown = 1}'
  echo 0 > "$work/seconds/$1"
}

step "generated-corpus networks, as they are"
for model in $generated; do
  [ -f "$model" ] && as_is "generated-$(basename "$model" .tlm)" "$model" || echo "skipped: no $model"
done

step "from scratch on the real excerpts"
cv mfcc-linear --features "$default_features" --model mfcc-linear --epochs 60
cv convpool --features "$default_features" --model convpool --window 128 --aug none --batch-size 20 --epochs 20
cv shortchunk --features "$default_features" --model shortchunk --width 32 --epochs 20

step "a new head on each shipped network (frozen, defaults)"
networks=$("$tunelens" model list | awk '/ trained on / {print $1}')
for network in $networks; do cv "head-$network" --backbone "$network"; done

step "ablations: the heads' defaults against the earlier ones"
cv ablation-adamw-msd-fcn --backbone msd-fcn --solver adamw --no-refit
cv ablation-adamw-jamendo-musicnn --backbone jamendo-musicnn --solver adamw --no-refit --pre-head dense
cv ablation-dense-jamendo-musicnn --backbone jamendo-musicnn --pre-head dense

step "zero-shot: genre tags read as labels"
for network in $networks; do
  case $network in jamendo-* | msd-*) as_is "zero-shot-$network" "$network" ;; esac
done

best=$(for network in $networks; do
  printf '%s %s\n' "$(grep -m1 '"accuracy"' "$work/eval/head-$network.json" | tr -dc '0-9.')" "$network"
done | sort -rn | head -n 1 | cut -d' ' -f2)
step "the best head's network fine-tuned: $best"
cv "fine-tuned-$best" --backbone "$best" --freeze 3 --epochs 6

step "recommenders: the genre of each excerpt's 10 nearest"
for model in $generated $networks; do
  [ -f "$model" ] || "$tunelens" model info "$model" > /dev/null 2>&1 || continue
  name=$(basename "$model" .tlm)
  "$tunelens" index --model "$model" --catalog "$db" -q > /dev/null
  "$tunelens" similar --quality --catalog "$db" --model "$model" --split all --part test -k 10 \
    --json "$work/eval/quality-$name.json" | sed -n '3,4p'
done

step "docs"
/usr/bin/env python3 "$(dirname "$0")/real_music_doc.py" "$work" "$doc" "$source_dir" $((SECONDS - start))
echo "wrote $doc ($((SECONDS - start)) s)"

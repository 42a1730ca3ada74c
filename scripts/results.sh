#!/usr/bin/env bash
# The results table (docs/results.md): every network on one generated corpus, split by artist, and the transfer
# comparison (five genres learnt, the other five fine-tuned with --freeze, against training from scratch); then,
# with the default network, the recommenders' quality (docs/recommendation-quality.md) and the album map
# (docs/album-map.md, by scripts/album_map.sh).
#   scripts/results.sh [TUNELENS_BINARY] [WORK_DIR] [RESULTS_FILE]
# Every step is the tunelens command a user would type; the corpus, catalogs and models stay in WORK_DIR (a rerun
# keeps the corpus and remakes the rest; REUSE=1 also keeps the catalogs and the models already trained). About an
# hour on 2 cores.
set -euo pipefail
tunelens=${1:-build/release/src/tunelens}
work=${2:-results-out}
results=${3:-docs/results.md}
docs=$(dirname "$results")
seed=1
mkdir -p "$work/models"
start=$SECONDS

step() { printf '\n== %s ==\n' "$1"; }

# catalog NAME CSV: imports CSV into WORK/NAME.db afresh, splits it by artist (60/20/20) and extracts features.
catalog() {
  local db="$work/$1.db"
  if [ "${REUSE:-0}" = 1 ] && [ -f "$db" ]; then return; fi
  rm -rf "$db" "$db-wal" "$db-shm" "$db.features"
  "$tunelens" dataset import csv "$2" --catalog "$db" -q
  "$tunelens" dataset split --catalog "$db" --scheme artist --val 0.2 --test 0.2 --seed "$seed" -q
  "$tunelens" extract --catalog "$db" -q
}

# train NAME CATALOG ARGS...: trains WORK/models/NAME.tlm (seed: $run_seed, else $seed); its training seconds (sum
# over epochs) go to NAME.seconds.
train() {
  local name=$1 db="$work/$2.db"
  shift 2
  if [ "${REUSE:-0}" = 1 ] && [ -f "$work/models/$name.seconds" ]; then return; fi
  "$tunelens" train "$db" --out "$work/models/$name.tlm" --seed "${run_seed:-$seed}" -q "$@" | tail -n 2
  awk -F, 'NR > 1 { s += $7 } END { printf "%.0f\n", s }' "$work/models/$name.tlm.history.csv" \
    > "$work/models/$name.seconds"
}

# score NAME: "top1 top3" at track level on the test artists, from evaluate's report.
score() {
  "$tunelens" evaluate --model "$work/models/$1.tlm" --catalog "$work/corpus.db" > "$work/models/$1.evaluation.txt"
  awk '$1 == "accuracy" && !t1 { t1 = $2 } $1 == "top-3" && !t3 { t3 = $3 } END { print t1, t3 }' \
    "$work/models/$1.evaluation.txt"
}

# epochs_to ACCURACY HISTORY_CSV: the first epoch whose validation accuracy reaches ACCURACY ("-" if none does).
epochs_to() {
  awk -F, -v target="$1" 'NR > 1 && $5 + 1e-9 >= target { print $1; found = 1; exit } END { if (!found) print "-" }' "$2"
}
val_accuracies() { awk -F, 'NR > 1 { printf "%s%.2f", (NR > 2 ? " " : ""), $5 }' "$1"; }
best_val_accuracy() { awk -F, 'NR > 1 && $5 > best { best = $5 } END { printf "%.3f\n", best }' "$1"; }

step "1. corpus: 10 genres x 100 tracks x 30 s, 10 artists per genre"
if [ ! -f "$work/corpus/tracks.csv" ]; then
  "$tunelens" synth --out "$work/corpus" --per-genre 100 --seconds 30 --seed "$seed" -q
fi
catalog corpus "$work/corpus/tracks.csv"

# name | settings shown in the table | train arguments
runs=(
  "mfcc-linear|20 MFCC means and spreads, softmax regression|--model mfcc-linear --epochs 60 --patience 0"
  "convpool|original, --aug none, batch 20|--model convpool --aug none --epochs 20 --batch-size 20 --patience 6"
  "convpool-zoom|original, --aug zoom (0.7-1.3), batch 20|--model convpool --aug zoom --epochs 20 --batch-size 20 --patience 6"
  "convconvpool|original, --aug none, batch 20|--model convconvpool --aug none --epochs 20 --batch-size 20 --patience 6"
  "resnet|depth 18, width 32, crop + masks|--model resnet --depth 18 --width 32 --aug crop,masks --epochs 15 --batch-size 32 --patience 5"
  "shortchunk|width 32, 128-frame chunks, masks + mixup|--model shortchunk --width 32 --aug masks,mixup --epochs 12 --batch-size 64 --patience 4"
)
rows=()
for run in "${runs[@]}"; do
  IFS='|' read -r name settings arguments <<< "$run"
  step "2. train $name ($settings)"
  # shellcheck disable=SC2086 # the arguments are words
  train "$name" corpus $arguments
  read -r top1 top3 <<< "$(score "$name")"
  epochs=$(($(wc -l < "$work/models/$name.tlm.history.csv") - 1))
  rows+=("| \`$name\` | $settings | $top1 | $top3 | $epochs | $(cat "$work/models/$name.seconds") s |")
  echo "$name: test top-1 $top1, top-3 $top3"
done

step "3. transfer: learn five genres, then fine-tune on the other five (last conv block + dense + head) vs scratch"
first="blues|classical|country|disco|hiphop"
awk -F, -v genres="^($first)$" 'NR == 1 || $2 ~ genres' "$work/corpus/tracks.csv" > "$work/corpus/first-five.csv"
awk -F, -v genres="^($first)$" 'NR == 1 || $2 !~ genres' "$work/corpus/tracks.csv" > "$work/corpus/other-five.csv"
catalog first-five "$work/corpus/first-five.csv"
catalog other-five "$work/corpus/other-five.csv"
# The case transfer is for: few labelled tracks of the new genres. Split `few`: 2 artists per genre (20 tracks) to
# learn from, 2 others to validate on, the remaining 6 left out.
"$tunelens" dataset split --catalog "$work/other-five.db" --scheme artist --val 0.2 --test 0.6 --seed "$seed" \
  --name few -q
transfer_args="--model convpool --aug none --batch-size 20 --patience 0"
few_seeds=(1 2 3)
# shellcheck disable=SC2086
train source first-five $transfer_args --epochs 12
for few_seed in "${few_seeds[@]}"; do
  # shellcheck disable=SC2086
  run_seed=$few_seed train "few-scratch-$few_seed" other-five $transfer_args --epochs 20 --split few
  # shellcheck disable=SC2086
  run_seed=$few_seed train "few-finetuned-$few_seed" other-five $transfer_args --epochs 20 --split few \
    --init "$work/models/source.tlm" --freeze 3
done
# Is 20 epochs too few for training from scratch? The same run with twice as many.
# shellcheck disable=SC2086
train few-scratch-40 other-five $transfer_args --epochs 40 --split few
# The same with all 60 training tracks per genre.
# shellcheck disable=SC2086
train scratch other-five $transfer_args --epochs 12
# shellcheck disable=SC2086
train finetuned other-five $transfer_args --epochs 12 --init "$work/models/source.tlm" --freeze 3

# transfer_rows SCRATCH FINETUNED LABEL: the table rows of one comparison (model names), scored against the
# from-scratch run's best validation accuracy.
transfer_rows() {
  local scratch="$work/models/$1.tlm.history.csv" finetuned="$work/models/$2.tlm.history.csv"
  local target
  target=$(best_val_accuracy "$scratch")
  echo "| $3 | from scratch | $(val_accuracies "$scratch") | $target | $(epochs_to "$target" "$scratch") |"
  echo "| $3 | fine-tuned | $(val_accuracies "$finetuned") | $(best_val_accuracy "$finetuned") | $(epochs_to "$target" "$finetuned") |"
}
transfer_table=()
scratch_reached=() finetuned_reached=()
for few_seed in "${few_seeds[@]}"; do
  mapfile -t -O "${#transfer_table[@]}" transfer_table < <(transfer_rows "few-scratch-$few_seed" \
    "few-finetuned-$few_seed" "20 per genre, seed $few_seed")
  few_target=$(best_val_accuracy "$work/models/few-scratch-$few_seed.tlm.history.csv")
  scratch_reached+=("$(epochs_to "$few_target" "$work/models/few-scratch-$few_seed.tlm.history.csv")")
  finetuned_reached+=("$(epochs_to "$few_target" "$work/models/few-finetuned-$few_seed.tlm.history.csv")")
done
long_best=$(best_val_accuracy "$work/models/few-scratch-40.tlm.history.csv")
long_epoch=$(epochs_to "$long_best" "$work/models/few-scratch-40.tlm.history.csv")
mapfile -t -O "${#transfer_table[@]}" transfer_table < <(transfer_rows scratch finetuned "60 per genre, seed $seed")
printf '%s\n' "${transfer_table[@]}"

step "4. $results"
{
  echo "# Results: every network on a generated corpus"
  echo
  echo "Made by \`scripts/results.sh\` ($(date -u +%Y-%m-%d), $(nproc) cores, CPU)."
  echo "Corpus: \`tunelens synth --per-genre 100 --seconds 30 --seed $seed\`: 10 genres x 100 tracks x 30 s, 10"
  echo "artists per genre; split by artist (\`--scheme artist --val 0.2 --test 0.2\`): 600 training, 200 validation"
  echo "and 200 test tracks, and no artist in two parts, so the test measures genre on artists never heard in"
  echo "training. Scores are track level (mean over a track's windows) on the test part; chance is 0.10 top-1 and"
  echo "0.30 top-3. Training time is the sum of the epochs' seconds (2 threads, a shared machine); epochs counts those"
  echo "run (early stopping on validation loss keeps the best)."
  echo
  echo "| model | settings | test top-1 | test top-3 | epochs | training time |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "## Transfer: five genres learnt, the other five fine-tuned"
  echo
  echo "convpool learnt blues, classical, country, disco and hip-hop (their artist split, 12 epochs), then jazz,"
  echo "metal, pop, reggae and rock with \`--init source.tlm --freeze 3\` (the first three convolution blocks keep"
  echo "their weights and statistics; the last one, the dense layer and a new head learn), against the same network"
  echo "from scratch, with the same seed and settings (\`$transfer_args\`). The new genres come with"
  echo "few labelled tracks (split \`few\`: 2 artists = 20 tracks per genre to learn from, 2 other artists to"
  echo "validate on; 20 epochs, three seeds), or with the full 60 training tracks per genre (12 epochs). The last"
  echo "column is the first epoch at which a run reaches the from-scratch run's best validation accuracy."
  echo
  echo "| training tracks | run | validation accuracy per epoch | best | first epoch at the from-scratch best |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${transfer_table[@]}"
  echo
  echo "With 20 tracks per genre, the fine-tuned runs reach the from-scratch best at epochs ${finetuned_reached[*]}"
  echo "(seeds ${few_seeds[*]}), the from-scratch runs themselves at epochs ${scratch_reached[*]}. Given 40 epochs instead"
  echo "of 20 (seed $seed), training from scratch reaches at best $long_best (first at epoch $long_epoch). The fine-tuned runs"
  echo "peak early and then overfit their 100 tracks a little; early stopping (\`--patience\`) keeps the best"
  echo "checkpoint. With 60 tracks per genre the fine-tuned run starts far ahead but levels off below the"
  echo "from-scratch best: the frozen blocks, learnt on five other genres, limit it once the new genres have data"
  echo "enough to learn their own features."
} > "$results"
cat "$results"

step "5. recommendations of the default network (shortchunk): same artist, same genre among the 10 nearest"
"$tunelens" index --model "$work/models/shortchunk.tlm" --catalog "$work/corpus.db" -q
"$tunelens" similar --catalog "$work/corpus.db" --model "$work/models/shortchunk.tlm" --quality -k 10 \
  --markdown "$work/quality.md"
{
  echo "# Recommendation quality: the original recommender and the embedding one"
  echo
  echo "Made by \`scripts/results.sh\` ($(date -u +%Y-%m-%d)) with the shortchunk model of [the results table](results.md),"
  echo "trained on the training artists of the generated corpus (10 genres x 100 tracks x 30 s, 10 artists per genre)."
  echo "Each of the 200 test tracks (artists the model never heard) asks for its 10 nearest other tracks among all"
  echo "1,000; we count how many are by the same artist and how many have the same genre. The original study's"
  echo "recommender ranks by squared Euclidean distance between the tracks' mean softmax vectors; the embedding"
  echo "recommender by cosine distance between their mean penultimate-layer vectors (L2-normalised). Random is what"
  echo "a recommender drawing 10 tracks at random gives in expectation."
  echo
  cat "$work/quality.md"
  echo
  echo "The softmax keeps only how much a track resembles each of the 10 genres the network was trained on, so two"
  echo "tracks of one artist that are both \"mostly rock\" look alike to it as much as any other rock track; the"
  echo "embedding keeps the network's whole description of the sound, in which an artist's instruments, tempo and"
  echo "habits stay apart. Reproduce: \`tunelens index\`, then"
  echo "\`tunelens similar --catalog corpus.db --model shortchunk.tlm --quality --markdown quality.md\`."
} > "$docs/recommendation-quality.md"
cat "$docs/recommendation-quality.md"

step "6. the album map: does analyze's song map keep albums together?"
"$(dirname "$0")/album_map.sh" "$tunelens" "$work/models/shortchunk.tlm" "$work/album-map"

printf '\nDone in %d s.\n' $((SECONDS - start))

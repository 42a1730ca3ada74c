#!/usr/bin/env bash
# Does the song map keep albums together? Generates a collection of several artists with several albums each,
# runs `tunelens analyze` on it with a model, and writes docs/album-map.md: the share of each song's 5 nearest map
# neighbours that are from its own album, beside what a random map gives, and a picture of the map.
#
#   scripts/album_map.sh TUNELENS MODEL OUT_DIR      e.g. scripts/album_map.sh build/release/src/tunelens genre.tlm /tmp/album-map
#
# Settings through the environment: ARTISTS (3), ALBUMS (4 per artist), TRACKS (8 per album), SECONDS_PER_TRACK (30),
# SEED (1, for the collection and the map), MAP_BY (embedding). A collection already in OUT_DIR/collection is
# reused. Exits 1 when the ratio is below 3.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 TUNELENS MODEL OUT_DIR" >&2
  exit 2
fi
tunelens=$1 model=$2 out=$3
artists=${ARTISTS:-3} albums=${ALBUMS:-4} tracks=${TRACKS:-8} seconds=${SECONDS_PER_TRACK:-30}
seed=${SEED:-1} map_by=${MAP_BY:-embedding}
repo=$(cd "$(dirname "$0")/.." && pwd)
docs=$repo/docs

mkdir -p "$out"
collection=$out/collection report=$out/report
synth=("$tunelens" synth --collection --out "$collection" --artists "$artists" --albums "$albums" --tracks "$tracks"
       --seconds "$seconds" --seed "$seed" -q)
analyze=("$tunelens" analyze --model "$model" "$collection" --out "$report" --seed "$seed" --map-by "$map_by")

if [ ! -f "$collection/tracks.csv" ]; then
  echo "generating the collection: ${synth[*]}"
  "${synth[@]}"
fi
echo "analysing: ${analyze[*]}"
start=$(date +%s)
"${analyze[@]}" | tee "$out/analyze.txt"
elapsed=$(( $(date +%s) - start ))

# The two figures from map.json (written by nlohmann::json, one "key": value per line).
field() { sed -n "s/^ *\"$1\": *\([0-9.eE+-]*\).*/\1/p" "$report/map.json" | head -n 1; }
share=$(field album_neighbour_share)
random=$(field random_share)
songs=$(grep -c '"song":' "$report/map.json" || true)
ratio=$(awk -v s="$share" -v r="$random" 'BEGIN { printf "%.2f", (r > 0 ? s / r : 0) }')
percent() { awk -v x="$1" 'BEGIN { printf "%.1f %%", 100 * x }'; }

# A command as the document shows it: the paths of this run replaced by the script's argument names.
shown() {
  local line="$*"
  line=${line//"$model"/MODEL}
  line=${line//"$out"/OUT_DIR}
  printf '%s' "${line//"$tunelens"/TUNELENS}"
}

mkdir -p "$docs"
cp "$report/map.png" "$docs/album-map.png"
model_line=$("$tunelens" model info "$model" 2>/dev/null | sed -n 's/^network *//p' || true)
model_metrics=$("$tunelens" model info "$model" 2>/dev/null | sed -n 's/^metrics *//p' || true)
cat > "$docs/album-map.md" <<EOF
# Does the song map keep albums together?

A generated collection of $artists artists × $albums albums × $tracks songs of ${seconds} s (\`tunelens synth
--collection\`: each artist stays within one or two genres, and its albums drift in style), analysed with
\`tunelens analyze\`, which draws every song on a 2-D t-SNE map (of the model's embeddings: \`--map-by $map_by\`).
For each song we look at its 5 nearest songs on the map and count those from its own album.

| | share of the 5 map neighbours from the song's own album |
|---|---|
| the map | **$(percent "$share")** |
| a random map (expected: mean over songs of (album size − 1) / (songs − 1)) | $(percent "$random") |
| ratio | **${ratio} ×** |

$songs songs; the model: \`$(basename "$model")\`${model_line:+ ($model_line)}${model_metrics:+; $model_metrics}; analyze
took ${elapsed} s.

![The song map: one dot per song, coloured by album from dark (first) to light (last) in release order](album-map.png)

The interactive map (song and album on hover) is in \`OUT_DIR/report/report.html\`.

Reproduce:

\`\`\`sh
scripts/album_map.sh TUNELENS MODEL OUT_DIR
# which runs
$(shown "${synth[@]}")
$(shown "${analyze[@]}")
\`\`\`
EOF
echo "album share $(percent "$share") vs random $(percent "$random"): ${ratio}x -> $docs/album-map.md"
awk -v r="$ratio" 'BEGIN { exit (r >= 3 ? 0 : 1) }'

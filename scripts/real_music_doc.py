#!/usr/bin/env python3
"""Writes docs/real-music.md from the evaluations scripts/real_music.sh left in its work folder (standard library
only): one row per model with its pooled cross-validated top-1, top-3 and macro F1, the per-class F1 of every row,
the confusion matrix of the best row, and the recommenders' same-genre shares.

    real_music_doc.py WORK_DIR DOC SOURCE_DIR SECONDS
"""
import json
import os
import sys

work, doc, source, total_seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
evaluations = os.path.join(work, "eval")

# Row order and what each row is, by the prefix of its evaluation's name.
KINDS = [
    ("generated-", "trained on the generated corpus only, as it is"),
    ("mfcc-linear", "from scratch: 20 MFCC means and spreads, softmax regression"),
    ("convpool", "from scratch: the original study's network, 128-frame windows"),
    ("shortchunk", "from scratch: short-chunk residual CNN, width 32"),
    ("head-", "a new head on the frozen shipped network (`train --backbone NAME`, defaults)"),
    ("ablation-adamw-", "the head as trained before: AdamW minibatches, no refit (`--solver adamw --no-refit`)"),
    ("ablation-dense-", "the head on Musicnn's 200-d dense layer, not the pooled one (`--pre-head dense`)"),
    ("fine-tuned-", "the best head's network, last 3 blocks fine-tuned (`--freeze 3`)"),
    ("zero-shot-", "zero-shot: genre tags of the same name, no training"),
]


def load(name):
    with open(os.path.join(evaluations, name)) as file:
        return json.load(file)


def seconds(name):
    path = os.path.join(work, "seconds", name)
    return int(open(path).read()) if os.path.exists(path) else 0


rows = []
for kind, what in KINDS:
    for file in sorted(os.listdir(evaluations)):
        name = file[: -len(".json")]
        if not file.endswith(".json") or file.startswith("quality-") or not name.startswith(kind):
            continue
        result = load(file)
        classes = result["classes"]
        f1 = {c: result["report"][c]["f1-score"] for c in classes}
        rows.append({
            "name": name,
            "what": what,
            "top1": result["accuracy"],
            "top3": result["top_k_accuracy"].get("3", float("nan")),
            "macro_f1": sum(f1.values()) / len(f1),
            "f1": f1,
            "classes": classes,
            "confusion": result["confusion_matrix"],
            "examples": result["examples"],
            "seconds": seconds(name),
        })

lines = [
    "# Real music: genre from real recordings",
    "",
    f"Made by `scripts/real_music.sh {source}`"
    + (f" ({total_seconds // 60} min on this 2-core machine)." if total_seconds > 0 else ".") + " The recordings:",
    f"{rows[0]['examples'] if rows else 0} real excerpts of 2-3 s, 10 genres (GTZAN tracks 10-50 of each genre; research",
    "use, not in the repository). 5-fold cross-validation, folds by track (each excerpt is a distinct GTZAN track, so",
    "no recording is on both sides; the folds are stratified by genre): each model is trained on 3 folds, stopped on",
    "the 4th, tested on the 5th, and the five test folds' predictions are pooled, so every figure is over all the",
    "excerpts. Chance: top-1 0.10, top-3 0.30. Training time: wall seconds of the five trainings on 2 cores (for the",
    "heads, the first fold also extracts the network's features and caches its vectors). The heads' defaults: the",
    "head alone is a convex problem, solved exactly (L-BFGS) along an L2 path, the 4th fold picks the penalty, then",
    "the head is refitted on the 3 training folds and the 4th together (`--solver lbfgs --refit`); a Musicnn head reads",
    "the network's pooled layer (1,506-d) rather than its 200-d dense one (`--pre-head pooled`). The ablation rows",
    "show what each default is worth.",
    "",
]
if os.environ.get("REAL_MUSIC_NOTE"):  # how a particular measurement was made, when it differs from one plain run
    lines += [os.environ["REAL_MUSIC_NOTE"], ""]
lines += [
    "| model | what | top-1 | top-3 | macro F1 | training (5 folds) |",
    "|---|---|---|---|---|---|",
]
for row in rows:
    lines.append(f"| `{row['name']}` | {row['what']} | {row['top1']:.3f} | {row['top3']:.3f} | "
                 f"{row['macro_f1']:.3f} | {row['seconds']} s |")

missing = [what for kind, what in KINDS if not any(row["name"].startswith(kind) for row in rows)]
if missing:
    lines += ["", "Not in this measurement: " + "; ".join(missing) + " (`scripts/real_music.sh` runs every row)."]

if rows:
    classes = rows[0]["classes"]
    lines += ["", "## F1 per genre", "", "| model | " + " | ".join(classes) + " |",
              "|---|" + "---|" * len(classes)]
    for row in rows:
        lines.append(f"| `{row['name']}` | " + " | ".join(f"{row['f1'].get(c, 0):.2f}" for c in classes) + " |")
    trained = [row for row in rows if not row["name"].startswith("zero-shot-")]
    best = max(trained, key=lambda row: row["top1"])
    lines += ["", f"## Confusion of the best row, `{best['name']}` (rows: truth, columns: predicted)", "",
              "| | " + " | ".join(best["classes"]) + " |", "|---|" + "---|" * len(best["classes"])]
    for label, counts in zip(best["classes"], best["confusion"]):
        lines.append(f"| **{label}** | " + " | ".join(str(n) for n in counts) + " |")

quality = sorted(f for f in os.listdir(evaluations) if f.startswith("quality-"))
if quality:
    lines += ["", "## Recommendation: the genre of each excerpt's 10 nearest excerpts", "",
              "`tunelens index --model M` then `tunelens similar --quality -k 10` over every excerpt. "
              "Embedding: the network's pre-head vector, mean over chunks, unit length, cosine; probabilities: the "
              "softmax (or the 50 tag probabilities) by squared Euclidean distance, the original study's recommender.",
              "", "| model | same genre (embedding) | same genre (probabilities) | random |", "|---|---|---|---|"]
    for file in quality:
        result = load(file)
        by = {r["name"]: r for r in result["recommenders"]}
        embedding = by.get("embedding", {}).get("same_genre", float("nan"))
        probs = by.get("original", {}).get("same_genre", float("nan"))
        lines.append(f"| `{file[len('quality-'):-len('.json')]}` | {embedding:.3f} | {probs:.3f} | "
                     f"{result['random']['same_genre']:.3f} |")

os.makedirs(os.path.dirname(doc) or ".", exist_ok=True)
with open(doc + ".partial", "w") as out:
    out.write("\n".join(lines) + "\n")
os.replace(doc + ".partial", doc)

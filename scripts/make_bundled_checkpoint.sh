#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rebuilds resources/checkpoints/tiny-untrained: a BPE tokenizer trained on the sample text and a
# 2-layer ALiBi model with seeded random weights (marked untrained), until trained defaults exist.
# Usage: make_bundled_checkpoint.sh [path/to/attnscope-cli]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:-$root/build/app/cli/attnscope-cli}
out=$root/resources/checkpoints/tiny-untrained
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cli" bpe-train --text "$root/resources/text/sample.txt" --vocab-size 384 --out "$tmp/tokenizer.json"
rm -rf "$out"
"$cli" init --config "$root/resources/configs/tiny-alibi.json" --out "$out" --seed 1 \
  --tokenizer "$tmp/tokenizer.json" \
  --note "untrained: seeded random weights (seed 1) for a first look at the window; trained defaults replace it"
"$cli" info "$out" | head -8

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Retrains the default set: every config in resources/configs/defaults/ in one process, all runs
# at once on CUDA (one thread each, sharing the GPU) or one after another on the CPU, then copies
# each finished run's checkpoint (16-bit weights, tokenizer, training log and summary) into
# resources/checkpoints/<name>/. Running it again continues unfinished runs where they stopped.
# Usage: scripts/train_defaults.sh [--device cuda|cpu] [--time-limit MINUTES] [--jobs N]
# Environment: ATTN_CLI (default build/app/cli/attnscope-cli), ATTN_RUNS_DIR (default runs/defaults,
# git-ignored: the run folders with their resume states).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${ATTN_CLI:-$root/build/app/cli/attnscope-cli}
runs=${ATTN_RUNS_DIR:-$root/runs/defaults}
rc=0
"$cli" train-set --configs "$root/resources/configs/defaults" --out "$runs" --resume "$@" || rc=$?
for run in "$runs"/*/; do
  name=$(basename "$run")
  [ -f "$run/train_summary.json" ] || continue
  out=$root/resources/checkpoints/$name
  rm -rf "$out.partial" && mkdir -p "$out.partial"
  cp "$run"/{config.json,model.safetensors,tokenizer.json,train_log.jsonl,train_summary.json} \
    "$out.partial/"
  rm -rf "$out" && mv "$out.partial" "$out"
done
echo "default checkpoints: $(du -sbc "$root"/resources/checkpoints/*/ | tail -1 | cut -f1) bytes"
exit $rc

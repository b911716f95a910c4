#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Evaluates the default set across lengths and writes resources/results/extrapolation.json and
# .csv, which the README's table and the window's curves come from.
# Usage: scripts/eval_defaults.sh [--device cuda|cpu] [--lengths 128,...] [--windows K]
#        [--split validation|test] [--groups G]
# The twelve checkpoints are split into G groups (default 3) evaluated by G `attnscope-cli eval`
# processes at once (they share one GPU well), and the results are merged in checkpoint order.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${ATTN_CLI:-$root/build/app/cli/attnscope-cli}
device=cuda lengths=128,256,512,1024,2048,4096,8192 windows=16 split=test groups=3
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;; --lengths) lengths=$2; shift 2 ;;
    --windows) windows=$2; shift 2 ;; --split) split=$2; shift 2 ;;
    --groups) groups=$2; shift 2 ;;
    *) echo "eval_defaults: unknown option $1" >&2; exit 2 ;;
  esac
done
out=$root/resources/results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mapfile -t cks < <(ls "$root"/resources/checkpoints/*/config.json | xargs -n1 dirname)
pids=()
for ((g = 0; g < groups; g++)); do
  args=()
  for ((i = g; i < ${#cks[@]}; i += groups)); do args+=(--checkpoint "${cks[$i]}"); done
  [ ${#args[@]} -gt 0 ] || continue
  "$cli" eval "${args[@]}" --split "$split" --lengths "$lengths" --windows "$windows" \
    --device "$device" --out "$tmp/part$g.json" >"$tmp/part$g.out" 2>"$tmp/part$g.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || { cat "$tmp"/part*.log >&2; exit 1; }; done
mkdir -p "$out"
python3 - "$tmp" "$out" "${cks[@]}" <<'PY'
import json, os, sys
tmp, out, order = sys.argv[1], sys.argv[2], [os.path.basename(c) for c in sys.argv[3:]]
parts = [json.load(open(os.path.join(tmp, f))) for f in sorted(os.listdir(tmp)) if f.endswith(".json")]
merged = dict(parts[0])
by_name = {c["name"]: c for p in parts for c in p["checkpoints"]}
merged["checkpoints"] = [by_name[n] for n in order]
for c in merged["checkpoints"]:
    c["dir"] = "checkpoints/" + c["name"]  # relative to resources/
with open(os.path.join(out, "extrapolation.json.tmp"), "w") as f:
    json.dump(merged, f, indent=1)
os.replace(os.path.join(out, "extrapolation.json.tmp"), os.path.join(out, "extrapolation.json"))
rows = ["checkpoint,variant,position,train_len,length,windows,ppl_tail,ppl_tail_sd,ppl_window,ppl_window_sd"]
for c in merged["checkpoints"]:
    for r in c["results"]:
        rows.append(",".join(str(x) for x in [c["name"], c["variant"], c["position"], c["train_len"],
            r["length"], r["windows"], round(r["ppl_tail"], 4), round(r["tail_ppl"]["sd"], 4),
            round(r["ppl_window"], 4), round(r["window_ppl"]["sd"], 4)]))
open(os.path.join(out, "extrapolation.csv"), "w").write("\n".join(rows) + "\n")
print("%-16s" % "ppl (last 256)" + "".join("%9d" % L for L in merged["lengths"]))
for c in merged["checkpoints"]:
    print("%-16s" % c["name"] + "".join("%9.2f" % r["ppl_tail"] for r in c["results"]))
PY

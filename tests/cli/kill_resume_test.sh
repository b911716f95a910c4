#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Training survives SIGKILL: a run killed at random moments (three times) and resumed each time
# ends with the same weights and optimizer state as an uninterrupted run of the same seed, and
# leaves every file whole. Usage: kill_resume_test.sh CLI SOURCE_DIR PYTHON
set -u
cli=$1 src=$2 py=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
zcat "$src/resources/corpus/brown/validation.txt.gz" | head -c 60000 >"$work/tr.txt"
zcat "$src/resources/corpus/brown/test.txt.gz" | head -c 8000 >"$work/va.txt"
cat >"$work/run.json" <<'JSON'
{"model": {"vocab_size": 256, "d_model": 32, "n_layer": 2, "n_head": 4, "train_len": 32},
 "attention": {"variant": "dape_v2"}, "position": {"kind": "kerple"},
 "tokenizer": {"kind": "byte"}, "data": {"train": "tr.txt", "validation": "va.txt"},
 "train": {"steps": 400, "batch_size": 4, "warmup_steps": 10, "eval_interval": 100,
           "eval_windows": 4, "checkpoint_interval": 7, "log_interval": 5}}
JSON
run() { "$cli" train --config "$work/run.json" --device cpu --threads 1 "$@" >/dev/null 2>"$work/err"; }
run --out "$work/straight" || { echo "FAIL: uninterrupted run"; cat "$work/err"; exit 1; }

kills=0
for attempt in 1 2 3; do
  extra=()
  [ -f "$work/killed/train_state.safetensors" ] && extra=(--resume)
  "$cli" train --config "$work/run.json" --device cpu --threads 1 --out "$work/killed" \
    "${extra[@]}" >/dev/null 2>"$work/err" &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  if kill -KILL "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
done
extra=()
[ -f "$work/killed/train_state.safetensors" ] && extra=(--resume)
run --out "$work/killed" "${extra[@]}" || { echo "FAIL: resumed run"; cat "$work/err"; exit 1; }
echo "killed $kills time(s) at random moments, then resumed to the end"

"$py" - "$work/straight" "$work/killed" <<'PY'
import json, os, struct, sys

def tensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        assert e <= len(body), f"{path}: {name} runs past the end"
        out[name] = struct.unpack(f"<{(e - b) // 4}f", body[b:e])
    return header.get("__metadata__", {}), out

a_meta, a = tensors(os.path.join(sys.argv[1], "train_state.safetensors"))
b_meta, b = tensors(os.path.join(sys.argv[2], "train_state.safetensors"))
assert a_meta["step"] == b_meta["step"] == "400", (a_meta["step"], b_meta["step"])
assert a.keys() == b.keys()
worst = max(abs(x - y) for k in a for x, y in zip(a[k], b[k]))
assert worst <= 1e-6, f"weights differ by {worst}"
for d in sys.argv[1:]:
    left = [f for f in os.listdir(d) if ".tmp." in f]
    assert not left, f"{d}: temporary files left: {left}"
    json.load(open(os.path.join(d, "config.json")))
    tensors(os.path.join(d, "model.safetensors"))
    for line in open(os.path.join(d, "train_log.jsonl")):
        json.loads(line)
print(f"same weights and moments as the uninterrupted run (max difference {worst:g}); every file whole")
PY

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end test of attnscope-cli. Usage: cli_test.sh CLI SOURCE_DIR PYTHON
set -u
cli=$1 src=$2 py=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

source "$(dirname "$0")/test_lib.sh"

expect 0 "--version" -- "$cli" --version
grep -q "attnscope-cli" "$work/out" || { echo "FAIL: --version output"; fails=$((fails + 1)); }
expect 0 "--help" -- "$cli" --help
expect 2 "no command" -- "$cli"
expect 2 "unknown command" -- "$cli" frobnicate
for c in info trace tokenize init bpe-train variants train train-set eval; do
  expect 0 "$c --help" -- "$cli" "$c" --help
  grep -q "usage: attnscope-cli $c" "$work/out" || { echo "FAIL: $c --help text"; fails=$((fails + 1)); }
done

expect 0 "variants --json" -- "$cli" variants --json
"$py" -c "
import json; d=json.load(open('$work/out'))
names=[v['name'] for v in d['variants']]
assert {'dot','dape_v1','dape_v2'} <= set(names), names
v2=[v for v in d['variants'] if v['name']=='dape_v2'][0]
assert v2['stages']['alibi']==['raw','bias','conv','logits','probs'], v2['stages']
assert v2['stages']['nope']==['raw','conv','logits','probs'], v2['stages']
assert [p['name'] for p in d['positions']]==['nope','rope','alibi','kerple','fire']
" || { echo "FAIL: variants --json content"; fails=$((fails + 1)); }

# A seeded checkpoint with a BPE tokenizer trained here.
expect 0 "bpe-train" -- "$cli" bpe-train --text "$src/resources/text/sample.txt" --vocab-size 300 \
  --out "$work/tok.json"
expect 2 "bpe-train without --vocab-size" -- "$cli" bpe-train --text "$src/resources/text/sample.txt" --out "$work/t2.json"
expect 0 "init" -- "$cli" init --config "$src/resources/configs/tiny-alibi.json" --out "$work/ck" \
  --seed 3 --tokenizer "$work/tok.json"
for f in config.json model.safetensors tokenizer.json; do
  [ -f "$work/ck/$f" ] || { echo "FAIL: init wrote no $f"; fails=$((fails + 1)); }
done
expect 0 "info" -- "$cli" info "$work/ck"
grep -q "parameters" "$work/out" || { echo "FAIL: info lacks parameters"; fails=$((fails + 1)); }
grep -q "blocks.1.attn.q_proj.weight" "$work/out" || { echo "FAIL: info lacks tensors"; fails=$((fails + 1)); }
expect 0 "info --json" -- "$cli" info "$work/ck" --json
"$py" -c "import json,sys; d=json.load(open('$work/out')); assert d['model']['n_layer']==2 and d['parameters']>0" \
  || { echo "FAIL: info --json"; fails=$((fails + 1)); }
expect 0 "tokenize" -- "$cli" tokenize --checkpoint "$work/ck" --text-string "Attention, please."

# Traces.
expect 0 "trace all layers" -- "$cli" trace --checkpoint "$work/ck" --text-string \
  "The quick brown fox jumps over the lazy dog, twice: 1, 2." --out "$work/t.safetensors"
n=$("$cli" tokenize --checkpoint "$work/ck" --text-string "The quick brown fox jumps over the lazy dog, twice: 1, 2." 2>/dev/null | wc -l)
"$py" "$src/tests/cli/check_trace.py" "$work/t.safetensors" "$n" 4 0,1 raw,bias,logits,probs \
  || { echo "FAIL: trace file content"; fails=$((fails + 1)); }
expect 0 "trace one layer, two stages, max tokens" -- "$cli" trace --checkpoint "$work/ck" \
  --text "$src/resources/text/sample.txt" --layers 1 --stages raw,probs --max-tokens 40 --out "$work/t2.safetensors"
stderr_has "first 40" "trace reports truncation"
"$py" "$src/tests/cli/check_trace.py" "$work/t2.safetensors" 40 4 1 raw,probs \
  || { echo "FAIL: trace file content (one layer)"; fails=$((fails + 1)); }

# Errors: usage errors exit 2, others 1, each with a message on stderr.
expect 2 "trace without --out" -- "$cli" trace --checkpoint "$work/ck" --text-string "x"
expect 2 "trace with both texts" -- "$cli" trace --checkpoint "$work/ck" --text-string x --text y --out "$work/x"
expect 2 "trace unknown option" -- "$cli" trace --checkpoint "$work/ck" --colour red
expect 2 "trace layer out of range" -- "$cli" trace --checkpoint "$work/ck" --text-string x --layers 7 --out "$work/x"
stderr_has "layer 7" "names the layer"
expect 2 "trace unknown stage" -- "$cli" trace --checkpoint "$work/ck" --text-string x --stages conv --out "$work/x"
expect 1 "trace missing checkpoint" -- "$cli" trace --checkpoint "$work/nope" --text-string x --out "$work/x"
stderr_has "$work/nope" "names the checkpoint"
expect 1 "trace empty text" -- "$cli" trace --checkpoint "$work/ck" --text-string "" --out "$work/x"
stderr_has "empty" "says the text is empty"
printf 'bad \xff byte' >"$work/bad.txt"
expect 1 "trace invalid UTF-8" -- "$cli" trace --checkpoint "$work/ck" --text "$work/bad.txt" --out "$work/x"
stderr_has "UTF-8" "says UTF-8"
expect 1 "trace unwritable output" -- "$cli" trace --checkpoint "$work/ck" --text-string x --out "$work/no/such/dir/x.safetensors"
stderr_has "no/such/dir" "names the output path"
cp -r "$work/ck" "$work/bad"
printf '{"format": "attnscope-checkpoint", "format_version": 7}' >"$work/bad/config.json"
expect 1 "info on a future format" -- "$cli" info "$work/bad"
stderr_has "format_version 7" "names the version"
head -c 100 "$work/ck/model.safetensors" >"$work/bad/model.safetensors"
cp "$work/ck/config.json" "$work/bad/config.json"
expect 1 "info on truncated weights" -- "$cli" info "$work/bad"
stderr_has "model.safetensors" "names the file"
cp "$work/ck/config.json" "$work/bad/config.json"
sed -i 's/"n_layer": *[0-9]*/"n_layer": 1e999/' "$work/bad/config.json"
expect 1 "info on a config with an overflowing number" -- "$cli" info "$work/bad"
stderr_has "config.json" "names the config file"
expect 1 "unknown device" -- "$cli" trace --checkpoint "$work/ck" --text-string x --device tpu --out "$work/x"
stderr_has "tpu" "names the device"

# Precision: --precision (and its older name --dtype) on the commands that run a model.
for c in trace eval; do
  "$cli" "$c" --help | grep -q -- "--precision float32|bfloat16|float16" \
    || { echo "FAIL: $c --help lacks --precision"; fails=$((fails + 1)); }
done
expect 0 "trace --precision float32" -- "$cli" trace --checkpoint "$work/ck" --text-string \
  "Attention, please." --precision float32 --out "$work/p.safetensors"
expect 0 "trace --dtype float32 (the older name)" -- "$cli" trace --checkpoint "$work/ck" \
  --text-string "Attention, please." --dtype float32 --out "$work/p.safetensors"
expect 1 "trace unknown precision" -- "$cli" trace --checkpoint "$work/ck" --text-string x \
  --precision half --out "$work/x"
stderr_has 'precision "half" is unknown: use float32, bfloat16 or float16' "names the precision and the choices"
expect 1 "trace half precision on the CPU" -- "$cli" trace --checkpoint "$work/ck" --text-string x \
  --device cpu --precision bfloat16 --out "$work/x"
stderr_has "bfloat16 runs on CUDA only" "says half precision needs CUDA"
expect 2 "trace --dtype and --precision disagree" -- "$cli" trace --checkpoint "$work/ck" \
  --text-string x --dtype float32 --precision float16 --out "$work/x"
stderr_has "disagree" "says they disagree"
"$cli" trace --checkpoint "$work/ck" --text-string "Attention, please." --device cuda \
  --precision bfloat16 --out "$work/p.safetensors" 2>"$work/err"
got=$?
if grep -q "no usable GPU" "$work/err"; then  # CUDA fell back to the CPU: so does the precision
  if [ "$got" = 0 ] && grep -q "bfloat16 was asked for" "$work/err" && grep -q "float32" "$work/err"; then
    echo "ok: half precision falls back to float32 with CUDA"
  else
    echo "FAIL: half precision fallback: exit $got"; sed 's/^/  stderr: /' "$work/err" | head -5
    fails=$((fails + 1))
  fi
elif [ "$got" != 0 ]; then
  echo "FAIL: trace in bfloat16 on CUDA: exit $got"; fails=$((fails + 1))
fi

# Training: a tiny byte-level model on a slice of the shipped corpus (CPU).
zcat "$src/resources/corpus/brown/validation.txt.gz" | head -c 60000 >"$work/tr.txt"
zcat "$src/resources/corpus/brown/test.txt.gz" | head -c 8000 >"$work/va.txt"
cat >"$work/run.json" <<JSON
{"model": {"vocab_size": 256, "d_model": 32, "n_layer": 2, "n_head": 4, "train_len": 32},
 "attention": {"variant": "dot"}, "position": {"kind": "kerple"},
 "tokenizer": {"kind": "byte"}, "data": {"train": "tr.txt", "validation": "va.txt"},
 "train": {"steps": STEPS, "batch_size": 4, "warmup_steps": 2, "eval_interval": 10,
           "eval_windows": 4, "checkpoint_interval": 10, "log_interval": 5}}
JSON
sed 's/STEPS/20/' "$work/run.json" >"$work/run20.json"
sed 's/STEPS/100000/' "$work/run.json" >"$work/runlong.json"
expect 0 "train" -- "$cli" train --config "$work/run20.json" --out "$work/run" --device cpu
grep -q "validation perplexity" "$work/out" || { echo "FAIL: train reports perplexity"; fails=$((fails + 1)); }
expect 0 "train output opens" -- "$cli" info "$work/run"
grep -q '"trained":true' "$work/out" || { echo "FAIL: trained provenance"; fails=$((fails + 1)); }
expect 1 "train over an existing run" -- "$cli" train --config "$work/run20.json" --out "$work/run" --device cpu
stderr_has "--resume" "says --resume"
expect 0 "resume a finished run" -- "$cli" train --config "$work/run20.json" --out "$work/run" --device cpu --resume
expect 2 "train bad time limit" -- "$cli" train --config "$work/run20.json" --out "$work/r2" --time-limit soon
expect 3 "train stops at the time limit" -- "$cli" train --config "$work/runlong.json" --out "$work/tl" --device cpu --time-limit 0.02
stderr_has "--resume" "tells how to continue"
[ -f "$work/tl/train_state.safetensors" ] || { echo "FAIL: time limit saved no state"; fails=$((fails + 1)); }
# Ctrl-C: saves, says how to go on, exits 130.
"$cli" train --config "$work/runlong.json" --out "$work/int" --device cpu 2>"$work/err" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/int/train_log.jsonl" ] && break; sleep 0.1; done
kill -INT "$pid"; wait "$pid"; got=$?
if [ "$got" = 130 ] && [ -f "$work/int/train_state.safetensors" ] && grep -q "interrupted" "$work/err"; then
  echo "ok: Ctrl-C saves and exits 130"
else
  echo "FAIL: Ctrl-C: exit $got"; sed 's/^/  stderr: /' "$work/err" | tail -3; fails=$((fails + 1))
fi
sed 's/"lr"/"lr"/; s/"steps": STEPS/"steps": 20, "stpes": 1/' "$work/run.json" >"$work/typo.json"
expect 1 "train config typo" -- "$cli" train --config "$work/typo.json" --out "$work/r3"
stderr_has "train.stpes" "names the field"
mkdir -p "$work/set"
sed 's/STEPS/6/' "$work/run.json" >"$work/set/a.json"
sed 's/STEPS/6/; s/"kerple"/"alibi"/' "$work/run.json" >"$work/set/b.json"
cp "$work/tr.txt" "$work/va.txt" "$work/set/"
expect 0 "train-set, two processes" -- "$cli" train-set --configs "$work/set" --out "$work/setrun" --device cpu --jobs 2
grep -q "unigram ppl" "$work/out" && grep -q "^b " "$work/out" \
  || { echo "FAIL: train-set table"; fails=$((fails + 1)); }
[ -f "$work/setrun/a/train_summary.json" ] && [ -f "$work/setrun/b/model.safetensors" ] \
  || { echo "FAIL: train-set run folders"; fails=$((fails + 1)); }

# Length evaluation on the run trained above.
expect 0 "eval" -- "$cli" eval --checkpoint "$work/run" --checkpoint "$work/setrun/b" --text "$work/va.txt" \
  --lengths 16,32,64 --windows 3 --device cpu --precision float32 --out "$work/ev.json" --csv "$work/ev.csv"
"$py" - "$work/ev.json" "$work/ev.csv" <<'PY' || { echo "FAIL: eval results"; fails=$((fails + 1)); }
import json, sys, math
r = json.load(open(sys.argv[1]))
assert r["format"] == "attnscope-eval" and r["format_version"] == 1, r.get("format")
assert r["precision"] == "float32", r.get("precision")
assert [c["name"] for c in r["checkpoints"]] == ["run", "b"]
for c in r["checkpoints"]:
    assert [x["length"] for x in c["results"]] == [16, 32, 64]
    for x in c["results"]:
        assert x["windows"] == 3 and len(x["tail_ppl"]["per_window"]) == 3
        assert 1 < x["ppl_tail"] < 300 and math.isfinite(x["ppl_window"])
        assert len(x["layers"]) == 2 and len(x["layers"][0]["entropy"]) == 4
        for layer in x["layers"]:
            assert all(0 <= s <= 1 + 1e-6 for s in layer["sink"]), layer["sink"]
lines = open(sys.argv[2]).read().strip().split("\n")
assert lines[0].startswith("checkpoint,variant,position") and len(lines) == 7, lines
print("eval results ok")
PY
expect 0 "eval on the test split" -- "$cli" eval --checkpoint "$work/run" --split test --lengths 64 --windows 2 --device cpu --out "$work/ev2.json"
grep -q '"brown/test"' "$work/ev2.json" || { echo "FAIL: eval --split text label"; fails=$((fails + 1)); }
expect 1 "eval length beyond the text" -- "$cli" eval --checkpoint "$work/run" --text "$work/va.txt" --lengths 100000 --out "$work/x.json"
stderr_has "length 100000" "names the length"
expect 2 "eval split and text" -- "$cli" eval --checkpoint "$work/run" --split test --text "$work/va.txt" --out "$work/x.json"
expect 2 "eval bad split" -- "$cli" eval --checkpoint "$work/run" --split dev --out "$work/x.json"
expect 1 "eval unknown precision" -- "$cli" eval --checkpoint "$work/run" --text "$work/va.txt" \
  --lengths 16 --device cpu --precision fp8 --out "$work/x.json"
stderr_has 'precision "fp8" is unknown: use float32, bfloat16 or float16' "eval names the precision"
[ -e "$work/x.json" ] && { echo "FAIL: a refused eval wrote results"; fails=$((fails + 1)); }

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all CLI checks passed"

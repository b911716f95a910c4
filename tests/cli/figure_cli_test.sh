#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# attnscope-cli figure end to end, without a display: every format from the bundled DAPE V2
# checkpoint, checked by what reads them (pdftoppm, Python's XML parser, the npy header, PNG's
# pHYs chunk), and bad input answered with the right exit code and a message naming it.
# Usage: figure_cli_test.sh CLI SOURCE_DIR PYTHON
set -u
cli=$1 src=$2 py=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
unset DISPLAY WAYLAND_DISPLAY QT_QPA_PLATFORM   # the command must find its own platform
ck="$src/resources/checkpoints/kerple-dape-v2"
text="The quick brown fox jumps over the lazy dog. It was not amused, and it said so twice."

source "$(dirname "$0")/test_lib.sh"

expect 0 "figure --help" -- "$cli" figure --help
grep -q -- "--precision float32|bfloat16|float16" "$work/out" || { echo "FAIL: --help lacks --precision"; fails=$((fails + 1)); }
expect 0 "maps as PDF" -- "$cli" figure --checkpoint "$ck" --text-string "$text" --layer 1 \
  --head 2 --out "$work/maps.pdf"
check "PDF renders" pdftoppm -r 50 -png -singlefile "$work/maps.pdf" "$work/maps"
check "PDF page is not blank" "$py" -c "
import struct, sys, zlib
data = open('$work/maps.png', 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
w, h = struct.unpack('>II', data[16:24])
assert w > 200 and h > 50, (w, h)
"
expect 0 "default precision" -- "$cli" figure --checkpoint "$ck" --text-string "$text" \
  --stage probs --out "$work/pdefault.npy"
expect 0 "maps as SVG" -- "$cli" figure --checkpoint "$ck" --text-string "$text" --layer 1 \
  --stage raw --stage probs --out "$work/maps.svg"
check "SVG parses and has vector paths and one image per map" "$py" -c "
import xml.etree.ElementTree as ET
root = ET.parse('$work/maps.svg').getroot()
ns = '{http://www.w3.org/2000/svg}'
assert root.tag == ns + 'svg', root.tag
vector = [e for e in root.iter() if e.tag in (ns + 'path', ns + 'polyline', ns + 'line', ns + 'text')]
images = root.findall('.//' + ns + 'image')
assert len(root.findall('.//' + ns + 'path')) > 0 and len(vector) > 20, len(vector)
assert len(images) == 2, len(images)
"
expect 0 "head grid as PNG at 150 dpi" -- "$cli" figure --checkpoint "$ck" --text-string "$text" \
  --kind heads --dpi 150 --width-cm 12 --height-cm 8 --out "$work/heads.png"
check "PNG records 150 dpi and is 12 x 8 cm" "$py" -c "
import struct
data = open('$work/heads.png', 'rb').read()
w, h = struct.unpack('>II', data[16:24])
assert abs(w - round(12 / 2.54 * 150)) <= 1 and abs(h - round(8 / 2.54 * 150)) <= 1, (w, h)
i = data.index(b'pHYs')
ppm_x, ppm_y, unit = struct.unpack('>IIB', data[i + 4:i + 13])
assert unit == 1 and abs(ppm_x * 0.0254 - 150) < 1.5, (ppm_x, unit)
"
expect 0 "profile as CSV" -- "$cli" figure --checkpoint "$ck" --text-string "$text" --kind profile \
  --query 10 --out "$work/profile.csv"
check "profile CSV has one row per head and key" "$py" -c "
rows = open('$work/profile.csv').read().strip().splitlines()[1:]
# raw, bias and conv, 8 heads, keys 0..10
assert len(rows) == 3 * 8 * 11, len(rows)
"
expect 0 "zoomed window as npy" -- "$cli" figure --checkpoint "$ck" --text-string "$text" \
  --stage probs --window 5,15,0,12 --out "$work/window.npy"
check "npy holds (1, 10, 12) float32 and rows of probs sum to at most 1" "$py" -c "
import ast, struct, math
data = open('$work/window.npy', 'rb').read()
assert data[:6] == b'\x93NUMPY'
hl = struct.unpack('<H', data[8:10])[0]
header = ast.literal_eval(data[10:10 + hl].decode())
assert header['descr'] == '<f4' and header['shape'] == (1, 10, 12), header
vals = struct.unpack('<120f', data[10 + hl:])
for r in range(10):
    row = [v for v in vals[r * 12:(r + 1) * 12] if not math.isnan(v)]
    assert len(row) == min(12, r + 6), (r, len(row))
    assert 0 < sum(row) <= 1 + 1e-5, (r, sum(row))
"

# Workspaces saved by the window rebuild their figures.
ws() {  # ws FILE TAB CHECKPOINTS_JSON EXTRA_JSON
  cat >"$1" <<JSON
{"format": "attnscope-workspace", "format_version": 1, "checkpoints": $3,
 "text": "$text $text", "layer": 1, "head": 2, "tab": "$2", $4
 "colours": {"map": "magma", "diverging": true, "scale": "linear", "range": "auto", "lo": 0,
             "hi": 1, "skip_sink": false}}
JSON
}
ck2="$src/resources/checkpoints/kerple"
ws "$work/explore.json" explore "[{\"path\": \"$ck\", \"fingerprint\": \"\"}]" \
  '"panel_stages": ["raw", "probs"], "view": {"q0": 2, "q1": 12, "k0": 0, "k1": 10},'
expect 0 "workspace: explore panels, zoomed" -- "$cli" figure --workspace "$work/explore.json" \
  --out "$work/explore.npy"
check "the zoomed region of both panels: (2, 10, 10)" "$py" -c "
import ast, struct
data = open('$work/explore.npy', 'rb').read()
hl = struct.unpack('<H', data[8:10])[0]
header = ast.literal_eval(data[10:10 + hl].decode())
assert header['shape'] == (2, 10, 10), header
"
ws "$work/compare.json" compare \
  "[{\"path\": \"$ck\", \"fingerprint\": \"\"}, {\"path\": \"$ck2\", \"fingerprint\": \"\"}, {\"path\": \"$work/moved\", \"fingerprint\": \"\"}]" \
  '"compare_stage": "probs",'
expect 0 "workspace: compare two checkpoints (a third moved away)" -- "$cli" figure \
  --workspace "$work/compare.json" --out "$work/compare.svg"
stderr_has "$work/moved is missing" "the moved checkpoint is reported"
stderr_has "mean |difference|" "the difference is summarised"
check "two maps and their difference" "$py" -c "
import xml.etree.ElementTree as ET
root = ET.parse('$work/compare.svg').getroot()
assert len(root.findall('.//{http://www.w3.org/2000/svg}image')) == 3
"
ws "$work/lengths.json" lengths "[{\"path\": \"$ck\", \"fingerprint\": \"\"}]" \
  '"lengths": [8, 16, 24, 999],'
expect 0 "workspace: maps across lengths" -- "$cli" figure --workspace "$work/lengths.json" \
  --out "$work/lengths.csv"
stderr_has "length 999 skipped" "a length the text is too short for is named"
check "three lengths in the CSV" "$py" -c "
rows = open('$work/lengths.csv').read().strip().splitlines()[1:]
assert sorted({int(r.split(',')[0]) for r in rows}) == [0, 1, 2], rows[:3]
"
echo '{"format": "attnscope-workspace", "format_version": 1, "checkpoints": [], "text": ""}' >"$work/empty.json"
expect 1 "workspace without checkpoints" -- "$cli" figure --workspace "$work/empty.json" --out "$work/x.pdf"
stderr_has "checkpoints" "the empty list is named"

expect 2 "unknown suffix" -- "$cli" figure --checkpoint "$ck" --text-string "$text" --out "$work/x.jpg"
stderr_has ".pdf, .svg, .png, .npy or .csv" "unknown suffix names the formats"
expect 2 "head out of range" -- "$cli" figure --checkpoint "$ck" --text-string "$text" --head 9 \
  --out "$work/x.pdf"
stderr_has "0..7" "head error names the range"
expect 1 "unknown stage" -- "$cli" figure --checkpoint "$ck" --text-string "$text" --stage nope \
  --out "$work/x.pdf"
stderr_has "offers" "unknown stage lists what is offered"
expect 1 "unwritable folder" -- "$cli" figure --checkpoint "$ck" --text-string "$text" \
  --out "$work/missing/dir/x.pdf"
stderr_has "$work/missing/dir" "unwritable folder is named"
expect 2 "bad range" -- "$cli" figure --checkpoint "$ck" --text-string "$text" --range 3,1 \
  --out "$work/x.pdf"
expect 1 "unknown precision" -- "$cli" figure --checkpoint "$ck" --text-string "$text" \
  --precision double --out "$work/x.pdf"
stderr_has 'precision "double" is unknown: use float32, bfloat16 or float16' "names the precision"
expect 0 "--precision float32" -- "$cli" figure --checkpoint "$ck" --text-string "$text" \
  --precision float32 --stage probs --out "$work/p32.npy"
check "float32 is the default: the same numbers" cmp "$work/p32.npy" "$work/pdefault.npy"
ws "$work/half.json" explore "[{\"path\": \"$ck\", \"fingerprint\": \"\"}]" \
  '"device": "cuda", "precision": "bfloat16",'
expect 0 "workspace in bfloat16 with --device cpu runs in float32" -- "$cli" figure \
  --workspace "$work/half.json" --device cpu --stage probs --out "$work/half.npy"
expect 0 "workspace in bfloat16 on CUDA" -- "$cli" figure --workspace "$work/half.json" \
  --stage probs --out "$work/half.npy"
if grep -q "no usable GPU" "$work/err"; then
  stderr_has "bfloat16 was asked for" "where CUDA falls back, so does the precision (noted)"
fi
expect 1 "empty text" -- "$cli" figure --checkpoint "$ck" --text-string "" --out "$work/x.pdf"
stderr_has "empty" "empty text is reported"
[ -e "$work/x.pdf" ] && { echo "FAIL: a failed figure left a file"; fails=$((fails + 1)); }

echo "figure_cli_test: $fails failure(s)"
[ "$fails" -eq 0 ]

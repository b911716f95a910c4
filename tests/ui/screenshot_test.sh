#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The window as a user starts it, under a real X server (Xvfb) and under the offscreen platform:
# `attnscope --screenshot` renders the bundled model and exits 0, and the PNG is the window's
# size and not blank (the maps have many distinct colours). Also opens a saved workspace.
# Usage: screenshot_test.sh ATTNSCOPE SOURCE_DIR PYTHON
set -u
app=$1 src=$2 py=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
export XDG_CONFIG_HOME="$work/config"   # no settings of whoever ran the window before

check_png() {  # check_png FILE DESCRIPTION
  if "$py" - "$1" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h, depth, colour = struct.unpack('>IIBB', data[16:26])
assert w >= 1000 and h >= 700, (w, h)
idat, i = b'', 8
while i < len(data):
    n = struct.unpack('>I', data[i:i + 4])[0]
    if data[i + 4:i + 8] == b'IDAT':
        idat += data[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}[colour]
stride = w * bpp
prev = bytearray(stride)
rows = []
for y in range(h):  # undo the PNG row filters
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
# Colours of the middle third of the image (the maps): a blank window has a handful.
colours = set()
for y in range(h // 3, 2 * h // 3, 7):
    for x in range(0, stride, bpp * 3):
        colours.add(bytes(rows[y][x:x + 3]))
assert len(colours) > 40, f'only {len(colours)} colours: blank?'
PY
  then echo "ok: $2"; else echo "FAIL: $2"; fails=$((fails + 1)); fi
}

if command -v xvfb-run >/dev/null; then
  if xvfb-run -a -s "-screen 0 1600x1200x24" "$app" --screenshot "$work/xvfb.png" >"$work/log" 2>&1; then
    check_png "$work/xvfb.png" "screenshot under Xvfb"
  else
    echo "FAIL: attnscope --screenshot under Xvfb"; tail -5 "$work/log"; fails=$((fails + 1))
  fi
else
  echo "skip: xvfb-run not installed"
fi
if QT_QPA_PLATFORM=offscreen "$app" --screenshot "$work/offscreen.png" >"$work/log" 2>&1; then
  check_png "$work/offscreen.png" "screenshot on the offscreen platform"
else
  echo "FAIL: attnscope --screenshot offscreen"; tail -5 "$work/log"; fails=$((fails + 1))
fi
# A workspace (DAPE V2 layer 2 head 1, zoomed) opens and renders.
cat >"$work/ws.json" <<JSON
{"format": "attnscope-workspace", "format_version": 1,
 "checkpoints": [{"path": "$src/resources/checkpoints/kerple-dape-v2", "fingerprint": ""}],
 "text": "The quick brown fox jumps over the lazy dog, then it sleeps.", "layer": 2, "head": 1,
 "view": {"q0": 0, "q1": 8, "k0": 0, "k1": 8}}
JSON
if QT_QPA_PLATFORM=offscreen "$app" --workspace "$work/ws.json" --screenshot "$work/ws.png" \
    >"$work/log" 2>&1; then
  echo "ok: --workspace with --screenshot"
else
  echo "FAIL: --workspace"; tail -5 "$work/log"; fails=$((fails + 1))
fi
echo '{"format": "attnscope-workspace", "format_version": 9, "checkpoints": []}' >"$work/new.json"
if QT_QPA_PLATFORM=offscreen "$app" --workspace "$work/new.json" --screenshot "$work/x.png" \
    >"$work/log" 2>&1; then
  echo "FAIL: a workspace from the future opened"; fails=$((fails + 1))
elif grep -q "format_version 9" "$work/log"; then
  echo "ok: a workspace from the future is refused with its version named"
else
  echo "FAIL: future workspace message"; cat "$work/log"; fails=$((fails + 1))
fi
# --precision without --device follows the last run's device (saved settings): refused with
# that device named when it was the CPU; accepted when it was CUDA (the window then says why it
# runs on the CPU on a machine without one). --export-curves makes the program quit.
conf="$work/config/AttnScope/AttnScope.conf"
mkdir -p "$(dirname "$conf")"
printf '[General]\ndevice=cpu\nprecision=float32\n' >"$conf"
QT_QPA_PLATFORM=offscreen "$app" --precision bfloat16 --export-curves "$work/c1.csv" \
  >"$work/log" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "last run was on cpu" "$work/log"; then
  echo "ok: --precision bfloat16 refused after a run on the CPU"
else
  echo "FAIL: --precision after a CPU run (exit $rc)"; cat "$work/log"; fails=$((fails + 1))
fi
printf '[General]\ndevice=cuda\nprecision=bfloat16\n' >"$conf"
if QT_QPA_PLATFORM=offscreen "$app" --precision bfloat16 --export-curves "$work/c2.csv" \
    >"$work/log" 2>&1 && [ -s "$work/c2.csv" ]; then
  echo "ok: --precision bfloat16 accepted after a run on CUDA"
else
  echo "FAIL: --precision after a CUDA run"; cat "$work/log"; fails=$((fails + 1))
fi
if QT_QPA_PLATFORM=offscreen "$app" --device cpu --precision bfloat16 \
    --export-curves "$work/c3.csv" >"$work/log" 2>&1; then
  echo "FAIL: --device cpu --precision bfloat16 accepted"; fails=$((fails + 1))
elif grep -q "add --device cuda" "$work/log"; then
  echo "ok: --device cpu --precision bfloat16 refused"
else
  echo "FAIL: --device cpu --precision bfloat16 message"; cat "$work/log"; fails=$((fails + 1))
fi
echo "screenshot_test: $fails failure(s)"
[ "$fails" -eq 0 ]

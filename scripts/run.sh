#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and opens the AttnScope window on the bundled model and the
# sample text. Arguments go to the application (e.g. --checkpoint DIR --text-file FILE).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" >/dev/null
build=${ATTN_BUILD_DIR:-$root/build}
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found; starting the window under Xvfb (use --screenshot FILE.png to see it)"
  exec xvfb-run -a -s "-screen 0 1400x900x24" "$build/app/gui/attnscope" "$@"
fi
exec "$build/app/gui/attnscope" "$@"

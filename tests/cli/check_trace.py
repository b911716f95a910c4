#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Reads an attnscope trace file with the standard library alone (struct + json) and checks it:
# the layout, token ids against the metadata, map shapes, probs rows summing to one with zeros
# above the diagonal. Usage: check_trace.py FILE N_TOKENS N_HEAD LAYERS(comma) STAGES(comma)
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
    body = data[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        fmt = {"F32": "f", "I64": "q"}[info["dtype"]]
        count = (e - b) // struct.calcsize(fmt)
        tensors[name] = (info["shape"], struct.unpack("<%d%s" % (count, fmt), body[b:e]))
    return meta, tensors


def main():
    path, n_tokens, n_head = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    layers = [int(x) for x in sys.argv[4].split(",")]
    stages = sys.argv[5].split(",")
    meta, t = read(path)
    assert meta["format"] == "attnscope-trace", meta
    assert json.loads(meta["layers"]) == layers, meta["layers"]
    assert json.loads(meta["stages"]) == stages, meta["stages"]
    tokens = json.loads(meta["tokens"])
    assert len(tokens) == n_tokens, (len(tokens), n_tokens)
    shape, ids = t["token_ids"]
    assert shape == [n_tokens] and len(ids) == n_tokens
    for layer in layers:
        for stage in stages:
            shape, v = t["layers.%d.%s" % (layer, stage)]
            assert shape == [n_head, n_tokens, n_tokens], (stage, shape)
        shape, q = t["layers.%d.q" % layer]
        assert shape[:2] == [n_head, n_tokens], shape
        if "probs" in stages:
            _, p = t["layers.%d.probs" % layer]
            for h in range(n_head):
                for i in range(n_tokens):
                    row = p[(h * n_tokens + i) * n_tokens:(h * n_tokens + i + 1) * n_tokens]
                    assert abs(sum(row[:i + 1]) - 1.0) < 1e-4, (h, i, sum(row))
                    assert all(x == 0.0 for x in row[i + 1:]), (h, i)
    print("trace ok: %d tokens, layers %s, stages %s" % (n_tokens, layers, stages))


if __name__ == "__main__":
    main()

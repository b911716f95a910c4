#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Interoperability check of AttnScope's C++ safetensors reader and writer (through the
# safetensors_tool helper) with the format as laid out by hand here, using only the standard
# library; where the real `safetensors` package imports (with torch or numpy), it also
# round-trips through safetensors.safe_open and save_file. Usage: check_safetensors.py TOOL
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

# Element formats for struct; F16 uses 'e', BF16 is widened to F32 by hand.
FORMATS = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I16": "h",
           "I8": "b", "U8": "B", "BOOL": "?"}
SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U8": 1, "BOOL": 1}
MAX_VALUES = 16
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def decode(dtype, raw):
    """All elements of little-endian `raw` as Python numbers (NaN/inf as strings)."""
    if dtype == "BF16":
        values = [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    else:
        values = list(struct.unpack("<%d%s" % (len(raw) // SIZES[dtype], FORMATS[dtype]), raw))
    out = []
    for v in values:
        if isinstance(v, float) and math.isnan(v):
            v = "nan"
        elif isinstance(v, float) and math.isinf(v):
            v = "inf" if v > 0 else "-inf"
        out.append(v)
    return out


def encode(dtype, values):
    if dtype == "BF16":
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    return struct.pack("<%d%s" % (len(values), FORMATS[dtype]), *values)


def run_tool(tool, *args):
    result = subprocess.run([tool, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("safetensors_tool %s failed: %s" % (" ".join(args), result.stderr))
    return json.loads(result.stdout)


def compare_with_tool(label, tool_out, expected, metadata):
    """expected: name -> (dtype, shape, raw bytes, begin or None)."""
    check(tool_out["metadata"] == metadata, "%s: metadata %r" % (label, tool_out["metadata"]))
    got = {t["name"]: t for t in tool_out["tensors"]}
    check(sorted(got) == sorted(expected), "%s: names %s" % (label, sorted(got)))
    for name, (dtype, shape, raw, begin) in expected.items():
        t = got.get(name)
        if t is None:
            continue
        check(t["dtype"] == dtype, "%s: %s dtype %s" % (label, name, t["dtype"]))
        check(t["shape"] == shape, "%s: %s shape %s" % (label, name, t["shape"]))
        begin_got, end_got = t["data_offsets"]
        check(end_got - begin_got == len(raw), "%s: %s size" % (label, name))
        if begin is not None:
            check(begin_got == begin, "%s: %s begin %s" % (label, name, t["data_offsets"]))
        check(t["hex"] == raw[:64].hex(), "%s: %s bytes %s" % (label, name, t["hex"]))
        check(t["values"] == decode(dtype, raw)[:MAX_VALUES],
              "%s: %s values %s" % (label, name, t["values"]))


# Tensors of the hand-laid file: every dtype, a scalar, an empty tensor, odd values.
HAND_TENSORS = [
    ("z.bool", "BOOL", [2, 2], [True, False, False, True]),
    ("a.f64", "F64", [3], [1.0 / 3.0, -1e300, 5e-324]),
    ("m.f16", "F16", [2, 3], [0.5, -65504.0, 6e-8, 1.0, 0.0, -0.0]),
    ("b.bf16", "BF16", [], [-3.0]),
    ("c.i32", "I32", [0, 5], []),
    ("d.u8", "U8", [5], [0, 1, 127, 128, 255]),
    ("e.i8", "I8", [2], [-128, 127]),
    ("f.i16", "I16", [1, 1, 2], [-32768, 12345]),
    ("g.i64", "I64", [2], [-(2 ** 63), 2 ** 63 - 1]),
    ("h.f32", "F32", [20], [float(i) / 4 for i in range(20)]),
]
HAND_METADATA = {"format": "pt", "source": "check_safetensors.py \u2713"}


def hand_laid_file(path):
    """A file built byte by byte: entries out of name order, "__metadata__" last."""
    header, data, expected = {}, b"", {}
    for name, dtype, shape, values in HAND_TENSORS:
        raw = encode(dtype, values)
        header[name] = {"shape": shape, "data_offsets": [len(data), len(data) + len(raw)],
                        "dtype": dtype}
        expected[name] = (dtype, shape, raw, len(data))
        data += raw
    header["__metadata__"] = HAND_METADATA
    text = json.dumps(header, ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    return expected


# What `safetensors_tool write` writes, in this order.
TOOL_TENSORS = [
    ("f32", "F32", [2, 3], [0.0, 1.0, -2.5, 3.25, 1024.0, -0.125]),
    ("f16", "F16", [4], [1.0, -2.0, 0.5, 65504.0]),
    ("bf16", "BF16", [2, 2], [1.0, -3.0, 0.15625, 256.0]),
    ("i64", "I64", [4], [0, -1, 2 ** 40, -(2 ** 63)]),
    ("scalar", "F32", [], [42.5]),
    ("empty", "I64", [0, 3], []),
]
TOOL_METADATA = {"format": "pt", "note": "AttnScope \"interop\" \u2713"}


def parse_cpp_file(path):
    """Our own struct-based reader of the C++-written file; checks the layout rules too."""
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    text = blob[8:8 + length]
    check((8 + length) % 8 == 0, "C++ file: 8 + header length %d not a multiple of 8" % length)
    check(text.startswith(b"{") and text.rstrip(b" ").endswith(b"}"), "C++ file: header framing")
    header = json.loads(text.decode("utf-8"))
    check(header.pop("__metadata__", None) == TOOL_METADATA, "C++ file: metadata")
    data = blob[8 + length:]
    offset = 0
    for name, dtype, shape, values in TOOL_TENSORS:
        entry = header.get(name)
        check(entry is not None, "C++ file: tensor %s missing" % name)
        if entry is None:
            continue
        check(sorted(entry) == ["data_offsets", "dtype", "shape"], "C++ file: %s fields" % name)
        check(entry["dtype"] == dtype and entry["shape"] == shape,
              "C++ file: %s %s" % (name, entry))
        nbytes = len(values) * SIZES[dtype]
        check(entry["data_offsets"] == [offset, offset + nbytes],
              "C++ file: %s offsets %s, expected [%d, %d]" % (name, entry["data_offsets"], offset,
                                                              offset + nbytes))
        check(decode(dtype, data[offset:offset + nbytes]) == values, "C++ file: %s values" % name)
        offset += nbytes
    check(len(header) == len(TOOL_TENSORS), "C++ file: extra tensors %s" % sorted(header))
    check(len(data) == offset, "C++ file: data section %d bytes, expected %d" % (len(data), offset))


def real_package_checks(tool, folder, cpp_file, hand_file):
    """Round trips through the real safetensors package, if it and torch or numpy import."""
    try:
        from safetensors import safe_open
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        print("real safetensors package: skipped (cannot import safetensors: %s)" % e)
        return
    try:
        import torch
        from safetensors.torch import save_file
        framework = "pt"
        types = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
                 "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
                 "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}

        def make(dtype, shape, values):
            return torch.tensor(values, dtype=types[dtype]).reshape(shape)

        def values_of(tensor):
            flat = tensor.flatten()
            return (flat.double() if flat.is_floating_point() else flat).tolist()
    except Exception as e:  # noqa: BLE001
        try:
            import numpy as np
            from safetensors.numpy import save_file
        except Exception as e2:  # noqa: BLE001
            print("real safetensors package: skipped (no torch: %s; no numpy: %s)" % (e, e2))
            return
        framework = "np"
        types = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
                 "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
                 "BOOL": np.bool_}

        def make(dtype, shape, values):
            return np.array(values, dtype=types[dtype]).reshape(shape)

        def values_of(array):
            return array.flatten().tolist()

    # 1. The real package reads the C++-written file and the hand-laid one.
    for path, tensors, metadata in ((cpp_file, TOOL_TENSORS, TOOL_METADATA),
                                    (hand_file, HAND_TENSORS, HAND_METADATA)):
        label = "safe_open(%s)" % os.path.basename(path)
        with safe_open(path, framework=framework) as f:
            check(f.metadata() == metadata, "%s: metadata %r" % (label, f.metadata()))
            check(sorted(f.keys()) == sorted(t[0] for t in tensors), "%s: keys" % label)
            for name, dtype, shape, values in tensors:
                if dtype not in types:
                    continue
                t = f.get_tensor(name)
                check(list(t.shape) == shape, "%s: %s shape %s" % (label, name, list(t.shape)))
                exact = decode(dtype, encode(dtype, values))
                check(values_of(t) == exact, "%s: %s values %s" % (label, name, values_of(t)))
    # 2. The C++ reader reads what the real package's save_file wrote.
    chosen = [t for t in HAND_TENSORS if t[1] in types]
    saved = {name: make(dtype, shape, decode(dtype, encode(dtype, values)))
             for name, dtype, shape, values in chosen}
    out = os.path.join(folder, "from_python.safetensors")
    save_file(saved, out, metadata=HAND_METADATA)
    expected = {name: (dtype, shape, encode(dtype, values), None)
                for name, dtype, shape, values in chosen}
    compare_with_tool("C++ reading save_file output", run_tool(tool, "read", out), expected,
                      HAND_METADATA)
    print("real safetensors package (%s, framework=%s): %d tensors checked both ways"
          % (sys.modules["safetensors"].__version__, framework, len(chosen)))


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: check_safetensors.py PATH_TO_safetensors_tool")
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as folder:
        hand_file = os.path.join(folder, "hand.safetensors")
        expected = hand_laid_file(hand_file)
        compare_with_tool("C++ reading hand-laid file", run_tool(tool, "read", hand_file),
                          expected, HAND_METADATA)
        cpp_file = os.path.join(folder, "from_cpp.safetensors")
        subprocess.run([tool, "write", cpp_file], check=True)
        parse_cpp_file(cpp_file)
        real_package_checks(tool, folder, cpp_file, hand_file)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("safetensors interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

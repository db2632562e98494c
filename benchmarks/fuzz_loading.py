"""Fuzzing model-file loading: mutate valid files in every way a file can be wrong, load each one,
and count the outcomes.

Every case must end in a load that succeeds (a mutation can leave a valid file) or in one
``ModelFileError`` whose message names the file; anything else (another exception type, a
message without the file's name, a case slower than ``SLOW_SECONDS``) is unexpected and printed.
The mutators take a ``random.Random``; ``tests/models/test_fuzz_loading.py`` drives the same
ones from hypothesis.

Strategies: truncation, flipped and spliced bytes, wrong, missing, extra, renamed (``../x``,
absolute) and duplicated zip members, other compression methods, zip bombs (huge declared sizes,
members that expand past the cap), JSON with wrong types at every level and unknown class names,
deep nesting, huge layer sizes, safetensors headers with huge shapes and offsets out of range,
and other libraries' files (pickle, PyTorch, Keras, HDF5, NumPy).

Usage: python benchmarks/fuzz_loading.py [--cases 100000] [--seed 0]
"""
from __future__ import annotations

import argparse
import collections
import copy
import io
import json
import os
import random
import struct
import sys
import tempfile
import time
import warnings
import zipfile

import numpy as np

from regulab.layers import Dense
from regulab.models import Sequential, load_model
from regulab.models._safe_zip import ModelFileError

SLOW_SECONDS = 5.0
CONFIG, WEIGHTS, OPTIMIZER = "regulab.json", "model.safetensors", "optimizer.safetensors"
#: member names a crafted archive might use
NAMES = [CONFIG, WEIGHTS, OPTIMIZER, "../regulab.json", "/model.safetensors", "a/../../regulab.json",
         "C:\\model.safetensors", "sub/regulab.json", "REGULAB.JSON", "model.safetensors/", "extra.bin",
         "archive/data.pkl", "config.json", "model.weights.h5", ""]
#: values of every JSON type, and the sizes and names that break constructors
JSON_VALUES = [None, True, False, 0, -1, 1.5, float("nan"), float("inf"), 10 ** 12, 2 ** 63, -(2 ** 63), 10 ** 300,
               1e308, "", "x", "os.system", "Dense", "Sequential", "relu", "a" * 500, [], [None], [1, 2, 3],
               [[1]], [-5, 3], {}, {"class_name": "os.system", "config": {}}, {"class_name": "Dense"},
               {"shared": "dense"}, {"list": [1]}, {"dict": {"a": 1}}]
DTYPES = ["F32", "F64", "F16", "BF16", "I64", "I8", "U8", "BOOL", "F8_E4M3", "C64", "", "f32", None, 5]


def seed_files() -> dict[str, bytes]:
    """A valid model file and weights file of ``Sequential([Dense(2, input_dim=3)])`` compiled with
    Adam and trained one step (so the optimizer has state), and their members."""
    model = Sequential([Dense(2, input_dim=3)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        model.save(os.path.join(folder, "m.regulab"))
        model.save_weights(os.path.join(folder, "w.safetensors"))
        with open(os.path.join(folder, "m.regulab"), "rb") as f:
            model_file = f.read()
        with open(os.path.join(folder, "w.safetensors"), "rb") as f:
            weights_file = f.read()
    with zipfile.ZipFile(io.BytesIO(model_file)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return {"model": model_file, "weights": weights_file, "members": members}


def target_model():
    """A built model with the seed's architecture, for ``load_weights``."""
    return Sequential([Dense(2, input_dim=3)])


# -- building blocks
def zip_of(entries) -> bytes:
    """A zip archive of ``(name, data[, compress_type])`` entries, duplicates and odd names kept."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names, which are the point
        with zipfile.ZipFile(buf, "w") as archive:
            for name, data, *method in entries:
                method = method[0] if method else zipfile.ZIP_DEFLATED
                archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def patch_entry(data: bytes, index: int = 0, compress_size: int | None = None, file_size: int | None = None,
                flag_bits: int | None = None) -> bytes:
    """``data`` (a zip) with fields of its ``index``-th member rewritten in both of its headers."""
    out = bytearray(data)
    end = data.rfind(b"PK\x05\x06")
    entry = struct.unpack_from("<I", data, end + 16)[0]
    for _ in range(index):
        names, extra, comment = struct.unpack_from("<HHH", data, entry + 28)
        entry += 46 + names + extra + comment
    local = struct.unpack_from("<I", data, entry + 42)[0]
    for fmt, at, value in (("<I", entry + 20, compress_size), ("<I", local + 18, compress_size),
                           ("<I", entry + 24, file_size), ("<I", local + 22, file_size),
                           ("<H", entry + 8, flag_bits), ("<H", local + 6, flag_bits)):
        if value is not None:
            struct.pack_into(fmt, out, at, value & (0xFFFFFFFF if fmt == "<I" else 0xFFFF))
    return bytes(out)


def flip(rng: random.Random, data: bytes, count: int) -> bytes:
    out = bytearray(data)
    for _ in range(count):
        if out:
            out[rng.randrange(len(out))] ^= rng.randrange(1, 256)
    return bytes(out)


def safetensors_of(header, data: bytes, length: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def split_safetensors(blob: bytes) -> tuple[dict, bytes]:
    size = struct.unpack_from("<Q", blob)[0]
    return json.loads(blob[8:8 + size]), blob[8 + size:]


def json_paths(value, prefix=()):
    """Every path into a JSON value, the root included."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from json_paths(child, prefix + (key,))


def random_json(rng: random.Random, depth: int = 0):
    if depth > 3 or rng.random() < 0.6:
        return copy.deepcopy(rng.choice(JSON_VALUES))
    if rng.random() < 0.5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["class_name", "config", "name", "units", "x", ""]): random_json(rng, depth + 1)
            for _ in range(rng.randrange(4))}


def nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth


def model_zip(members: dict, config=None, **replace) -> bytes:
    """The seed's members with ``config`` as regulab.json and other members replaced by name."""
    out = dict(members)
    if config is not None:
        out[CONFIG] = config if isinstance(config, (bytes, str)) else json.dumps(config)
    out.update({name.replace("_", "."): data for name, data in replace.items()})
    return zip_of([(name, data) for name, data in out.items()])


# -- mutators: (rng, seeds) -> (loader, bytes), loader being "load_model" or "load_weights"
def truncated(rng, seeds):
    key = rng.choice(["model", "weights"])
    data = seeds[key]
    return _loader(rng, key), data[:rng.randrange(len(data))]


def flipped(rng, seeds):
    key = rng.choice(["model", "weights"])
    return _loader(rng, key), flip(rng, seeds[key], rng.choice([1, 2, 4, 16, 64]))


def spliced(rng, seeds):
    key = rng.choice(["model", "weights"])
    data = seeds[key]
    a, b = sorted(rng.randrange(len(data) + 1) for _ in range(2))
    how = rng.randrange(3)
    out = data[:a] + data[b:] if how == 0 else data[:a] + data[a:b] * 2 + data[b:] if how == 1 else \
        data[:a] + bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64))) + data[a:]
    return _loader(rng, key), out


def zip_members(rng, seeds):
    entries = [[name, data, zipfile.ZIP_DEFLATED] for name, data in seeds["members"].items()]
    for _ in range(rng.randrange(1, 4)):
        action = rng.randrange(6)
        if action == 0 and entries:
            entries.pop(rng.randrange(len(entries)))
        elif action == 1 and entries:
            rng.choice(entries)[0] = rng.choice(NAMES)
        elif action == 2:
            entries.append([rng.choice(NAMES), bytes(rng.getrandbits(8) for _ in range(rng.randrange(64))),
                            zipfile.ZIP_STORED])
        elif action == 3 and entries:
            entries.append(list(rng.choice(entries)))
        elif action == 4 and entries:
            rng.choice(entries)[2] = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
        elif entries:
            a, b = rng.choice(entries), rng.choice(entries)
            a[1], b[1] = b[1], a[1]
    data = zip_of(entries)
    if entries and rng.random() < 0.1:  # zipfile writes no encrypted members; set the flag afterwards
        data = patch_entry(data, rng.randrange(len(entries)), flag_bits=0x1)
    return rng.choice(["load_model", "load_weights"]), data


def member_bytes(rng, seeds):
    members = dict(seeds["members"])
    name = rng.choice(sorted(members))
    data = members[name]
    members[name] = flip(rng, data, rng.choice([1, 3, 8])) if rng.random() < 0.6 else data[:rng.randrange(len(data))]
    return rng.choice(["load_model", "load_weights"]), zip_of(list(members.items()))


def zip_bomb(rng, seeds):
    data = seeds["model"]
    how = rng.randrange(3)
    if how == 0:  # huge declared sizes
        sizes = dict(compress_size=rng.choice([None, 2 ** 32 - 1, len(data) * 2]),
                     file_size=rng.choice([2 ** 32 - 1, 10 ** 9, 300 * len(data) + (1 << 21)]))
        return rng.choice(["load_model", "load_weights"]), patch_entry(data, index=rng.randrange(3), **sizes)
    if how == 1:  # declared smaller than what the member holds
        return rng.choice(["load_model", "load_weights"]), patch_entry(data, index=rng.randrange(3),
                                                                       file_size=rng.randrange(64))
    return rng.choice(["load_model", "load_weights"]), seeds["bomb"]


def json_types(rng, seeds):
    config = json.loads(seeds["members"][CONFIG])
    for _ in range(rng.randrange(1, 3)):
        paths = list(json_paths(config))
        path = rng.choice(paths)
        value = random_json(rng)
        if not path:
            config = value
            continue
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    # load_weights reads the configuration too (for its format version)
    return "load_weights" if rng.random() < 0.2 else "load_model", model_zip(seeds["members"], config)


def class_names(rng, seeds):
    config = json.loads(seeds["members"][CONFIG])
    holders = [p for p in json_paths(config) if p and p[-1] == "class_name"]
    path = rng.choice(holders)
    parent = config
    for key in path[:-1]:
        parent = parent[key]
    parent["class_name"] = rng.choice(["os.system", "builtins>eval", "Dense", "Sequential", "Functional", "Adam",
                                       "Model", "Layer", "InputLayer", "", "tests>Scale", "Lambda", "x" * 300,
                                       "".join(rng.choice("aDense>._ ") for _ in range(rng.randrange(1, 12)))])
    return "load_model", model_zip(seeds["members"], config)


def huge_sizes(rng, seeds):
    config = json.loads(seeds["members"][CONFIG])
    ints = [p for p in json_paths(config) if p and type(_at(config, p)) is int and not isinstance(_at(config, p), bool)]
    for path in rng.sample(ints, rng.randrange(1, 4)):
        _at(config, path[:-1])[path[-1]] = rng.choice([10 ** 4, 10 ** 6, 10 ** 9, 2 ** 31, 2 ** 62, 10 ** 30, 0, -1,
                                                       -(10 ** 9)])
    return "load_model", model_zip(seeds["members"], config)


def deep_json(rng, seeds):
    depth = rng.choice([90, 101, 1000, 20_000, 100_000])
    text = nested(depth, rng.choice(["list", "dict"]))
    if rng.random() < 0.5:  # inside the configuration, not as all of it
        config = json.loads(seeds["members"][CONFIG])
        config["config"]["layers"][0]["config"]["units"] = "@@"
        text = json.dumps(config).replace('"@@"', text)
    return "load_model", model_zip(seeds["members"], text)


def safetensors_header(rng, seeds):
    member = rng.choice([WEIGHTS, OPTIMIZER])
    header, data = split_safetensors(seeds["members"][member])
    names = [n for n in header if n != "__metadata__"]
    length = None
    for _ in range(rng.randrange(1, 3)):
        entry = header[rng.choice(names)]
        action = rng.randrange(6)
        if action == 0:
            entry["shape"] = rng.choice([[2 ** 40], [10 ** 12, 10 ** 12], [-1], [], [0, 2 ** 62], [[2]], [1.5], "3",
                                         [1] * 100, [2 ** 31, 2 ** 31, 4]])
        elif action == 1:
            entry["data_offsets"] = rng.choice([[0, 2 ** 62], [-4, 0], [0], [8, 4], [0, len(data) + 1], [0, 0],
                                                [0, len(data)], None, ["0", "4"]])
        elif action == 2:
            entry["dtype"] = rng.choice(DTYPES)
        elif action == 3:
            header["__metadata__"] = rng.choice([None, 5, {"a": 1}, [], {"format": "x"}])
        elif action == 4:
            length = rng.choice([0, 1, 2 ** 64 - 1, 2 ** 32, len(json.dumps(header)) + 1, 7])
        else:
            header[rng.choice(["x", "", "a" * 200])] = copy.deepcopy(entry)
    blob = safetensors_of(header, data, length)
    if member == WEIGHTS and rng.random() < 0.3:
        return "load_weights", blob
    return rng.choice(["load_model", "load_weights"]), model_zip(seeds["members"], **{member.replace(".", "_"): blob})


def foreign(rng, seeds):
    tail = bytes(rng.getrandbits(8) for _ in range(rng.randrange(64)))
    kind = rng.randrange(7)
    if kind == 0:
        data = b"\x80" + bytes([rng.randrange(2, 6)]) + tail
    elif kind == 1:
        data = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19" + tail
    elif kind == 2:
        data = zip_of([("archive/data.pkl", tail), ("archive/version", b"3"), ("archive/data/0", tail)])
    elif kind == 3:
        data = zip_of([("config.json", b"{}"), ("model.weights.h5", tail), ("metadata.json", b"{}")])
    elif kind == 4:
        data = b"\x89HDF\r\n\x1a\n" + tail
    elif kind == 5:
        data = b"\x93NUMPY" + tail
    else:
        data = zip_of([("a.npy", b"\x93NUMPY" + tail)])
    return rng.choice(["load_model", "load_weights"]), data


def _at(value, path):
    for key in path:
        value = value[key]
    return value


def _loader(rng, key: str) -> str:
    return "load_weights" if key == "weights" else rng.choice(["load_model", "load_model", "load_weights"])


MUTATORS = {f.__name__: f for f in (truncated, flipped, spliced, zip_members, member_bytes, zip_bomb, json_types,
                                    class_names, huge_sizes, deep_json, safetensors_header, foreign)}

#: outcome labels by what the message says, first match wins
KINDS = [("foreign file", "It is a"), ("not a zip", "not a zip archive"), ("damaged zip", "zip archive is damaged"),
         ("damaged zip", "compressed bytes in a file of"),
         ("unsafe member name", "unsafe name"), ("duplicate member", "two members named"),
         ("zip bomb", "zip bomb"), ("compression or encryption", "compression method"),
         ("compression or encryption", "encrypted"), ("missing member", "it lacks"),
         ("invalid JSON", "is not valid JSON"), ("invalid safetensors", "not valid safetensors"),
         ("not a regulab model", "not a regulab model"), ("format version", "format version"),
         ("allocation cap", "tensor elements"), ("unknown class", "Unknown"), ("malformed header", "malformed"),
         ("input shape", "input shape"), ("compile settings", "compile settings"),
         ("weights mismatch", "do not match"), ("weights mismatch", "Cannot load weights from"),
         ("optimizer state", "optimizer"), ("invalid configuration", "")]


def with_seeds() -> dict:
    """``seed_files()`` plus a prebuilt zip bomb (a 32 MB member of zeros, 32 KB compressed)."""
    seeds = seed_files()
    seeds["bomb"] = zip_of([(CONFIG, seeds["members"][CONFIG]), (WEIGHTS, bytes(32 << 20))])
    return seeds


def run_case(loader: str, data: bytes, path: str) -> str:
    """Load ``data`` from ``path`` with ``loader``; the outcome's label. Raises what is unexpected:
    another exception type, a message not naming the file, an overlong message, a slow case."""
    with open(path, "wb") as f:
        f.write(data)
    start = time.perf_counter()
    try:
        if loader == "load_model":
            load_model(path)
        else:
            target_model().load_weights(path)
        outcome = "loaded"
    except ModelFileError as e:
        message = str(e)
        if not message.startswith((f"Cannot load '{path}': ", f"Cannot load weights from '{path}'")):
            raise AssertionError(f"the message does not name the file: {message!r}") from e
        if len(message) > 1500:
            raise AssertionError(f"the message is {len(message)} characters long: {message[:300]!r}...") from e
        outcome = next(label for label, phrase in KINDS if phrase in message)
    if time.perf_counter() - start > SLOW_SECONDS:
        raise AssertionError(f"the case took {time.perf_counter() - start:.1f} s")
    return outcome


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    seeds = with_seeds()
    rng = random.Random(args.seed)
    names = list(MUTATORS)
    outcomes = collections.Counter()
    unexpected = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "case.regulab")
        for case in range(args.cases):
            name = names[case % len(names)]
            try:
                loader, data = MUTATORS[name](rng, seeds)
                outcomes[(name, run_case(loader, data, path))] += 1
            except Exception as e:  # counted and shown: the point of the run
                unexpected.append((case, name, f"{type(e).__name__}: {str(e)[:300]}"))
    seconds = time.perf_counter() - start
    print(f"{'mutator':<20}{'outcome':<28}{'cases':>8}")
    for (name, outcome), count in sorted(outcomes.items()):
        print(f"{name:<20}{outcome:<28}{count:>8}")
    totals = collections.Counter()
    for (_, outcome), count in outcomes.items():
        totals[outcome] += count
    print("by outcome: " + ", ".join(f"{k} {v}" for k, v in totals.most_common()))
    for case, name, error in unexpected[:50]:
        print(f"UNEXPECTED case {case} ({name}): {error}")
    print(f"{args.cases / seconds:.0f} cases/s; {args.cases} cases in {seconds:.1f} s "
          f"(100,000 would take {100_000 / args.cases * seconds / 60:.1f} min)")
    print(f"{args.cases} cases, {len(unexpected)} unexpected")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading model files as untrusted bytes: bounded zip members, JSON, safetensors, foreign formats.

A model file may come from anyone, so every reader here treats its input as hostile: each
failure is a ``ModelFileError`` naming the file and what is wrong, never another exception type;
memory is bounded by the file's size (a member may expand to at most ``MAX_EXPANSION`` times its
compressed size plus ``SLACK`` bytes, read with a bounded ``read`` rather than trusting the sizes
the archive declares, and ``AllocationLimit`` bounds the tensors that building a model from its
configuration may create); and nothing is unpickled or executed. ``foreign_kind`` recognizes the
files people mistake for regulab's (PyTorch, Keras, HDF5, pickle, NumPy), and ``FOREIGN`` says how
to convert each.
"""
from __future__ import annotations

import io
import json
import math
import operator
import os
import zipfile

import torch

#: a member may expand to this many times its compressed size (plus ``SLACK``); deflate reaches
#: about 1,000 on runs of zeros, model files about 1.1 (weights) and 10 (configuration)
MAX_EXPANSION = 200
SLACK = 1 << 20
#: the deepest JSON nesting read; a configuration of models nested 20 deep stays under 100
MAX_JSON_DEPTH = 100
#: the longest quoted text from a file in a message, and the longest message of another error
_QUOTE_CHARS = 80
MESSAGE_CHARS = 600

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_READABLE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
           "BOOL": torch.bool}
#: safetensors' own limit on the header
_MAX_SAFETENSORS_HEADER = 100_000_000


class ModelFileError(ValueError):
    """A model or weights file that cannot be loaded: damaged, foreign, or crafted. The message
    names the file, what is wrong, and where it helps, what to do."""


class _Malformed(Exception):
    """What is wrong inside one piece of data, before the file and member are named."""


def file_error(where, why: str, fix: str = "") -> ModelFileError:
    """``Cannot load '<where>': <why>. <fix>``"""
    return ModelFileError(f"Cannot load '{where}': {why}." + (f" {fix}" if fix else ""))


def quote(value) -> str:
    """``repr(value)``, cut to a length a message can carry (file contents may be huge)."""
    return brief(repr(value))


def expansion_cap(compressed: int) -> int:
    """The most bytes a member of ``compressed`` bytes may expand to."""
    return MAX_EXPANSION * compressed + SLACK


def brief(text: str, limit: int = _QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters (what a file holds can be huge)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def read_file(path) -> bytes:
    """The bytes of the regular file at ``path``, at most its size when opened (a FIFO or a
    device could stream forever, so neither is opened)."""
    if os.path.exists(path) and not os.path.isfile(path):
        raise file_error(path, "it is not a regular file")
    with open(path, "rb") as f:
        return f.read(os.fstat(f.fileno()).st_size)


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts as a zip archive does (regulab writes archives without a prefix)."""
    return data[:4] in _ZIP_SIGNATURES


def _safe_name(name: str) -> bool:
    """Neither absolute (``/x``, ``C:x``) nor leading out (``a/../../x``) nor Windows-separated."""
    return not (name.startswith("/") or "\\" in name or ".." in name.split("/") or name[1:2] == ":")


def read_members(source, allowed, where) -> dict[str, bytes]:
    """The members named in ``allowed`` of the zip archive ``source`` (bytes or a path); others
    are never read. Refuses unsafe member names (absolute, ``..``, backslashes), duplicate
    allowed names, encryption, compression other than stored and deflated, and members that
    expand past ``expansion_cap``."""
    data = read_file(source) if isinstance(source, (str, os.PathLike)) else bytes(source)
    if not is_zip(data):
        raise file_error(where, "it is not a zip archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            for info in infos:
                if not _safe_name(info.filename):
                    raise file_error(where, f"its member {quote(info.filename)} has an unsafe name (absolute, with "
                                            f"'..' or with backslashes); regulab never writes one")
            members = {}
            for info in infos:
                if info.filename not in allowed:
                    continue
                if info.filename in members:
                    raise file_error(where, f"it holds two members named {quote(info.filename)}")
                members[info.filename] = _read_member(archive, info, len(data), where)
            return members
    except ModelFileError:
        raise
    except Exception as e:  # zipfile raises many types on crafted bytes (struct, zlib, EOF, Unicode...)
        raise file_error(where, f"the zip archive is damaged ({type(e).__name__}: {brief(str(e))})") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int, where) -> bytes:
    name = quote(info.filename)
    if info.flag_bits & 0x1:
        raise file_error(where, f"its member {name} is encrypted")
    if info.compress_type not in _READABLE_COMPRESSION:
        raise file_error(where, f"its member {name} uses compression method {info.compress_type}; regulab reads "
                                f"stored and deflated members only")
    if info.compress_size > file_size:
        raise file_error(where, f"its member {name} declares {info.compress_size} compressed bytes in a file of "
                                f"{file_size} bytes")
    cap = expansion_cap(info.compress_size)
    bomb = (f"more than the {cap} bytes allowed for its {info.compress_size} compressed bytes "
            f"({MAX_EXPANSION} times as many plus {SLACK >> 20} MiB): it may be a zip bomb")
    if info.file_size > cap:
        raise file_error(where, f"its member {name} declares {info.file_size} bytes uncompressed, {bomb}")
    with archive.open(info) as f:
        blob = f.read(cap + 1)
    if len(blob) > cap:
        raise file_error(where, f"its member {name} expands to {bomb}")
    return blob


def _json_value(blob: bytes, max_bytes: int):
    if len(blob) > max_bytes:
        raise _Malformed(f"it is {len(blob)} bytes, more than the {max_bytes} allowed")
    try:
        value = json.loads(blob.decode("utf-8"))
    except RecursionError:
        raise _Malformed(f"it is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, integers past Python's digit limit
        raise _Malformed(brief(str(e))) from None
    stack = [(value, 1)]
    while stack:  # iterative: the walk itself must not recurse on hostile depth
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _Malformed(f"it is nested deeper than {MAX_JSON_DEPTH} levels")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return value


def parse_json(blob: bytes, where, member: str, max_bytes: int = 32 << 20):
    """The JSON value in ``blob`` (UTF-8, at most ``max_bytes`` and ``MAX_JSON_DEPTH`` deep)."""
    try:
        return _json_value(blob, max_bytes)
    except _Malformed as e:
        raise file_error(where, f"{member} is not valid JSON ({e})") from None


def read_safetensors(blob: bytes, where, what: str = "the weights") -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file, each checked against the header's promises: a known
    dtype, a shape whose size matches its byte range, ranges that tile the data exactly (no
    overlap, so the tensors never take more memory than the file). ``what`` names the data in
    messages (plural: "... are not valid safetensors data")."""
    try:
        return _tensors(blob)
    except _Malformed as e:
        raise file_error(where, f"{what} are not valid safetensors data ({e})") from None


def _tensors(blob: bytes) -> dict[str, torch.Tensor]:
    if len(blob) < 8:
        raise _Malformed(f"{len(blob)} bytes, too short for the 8-byte header length")
    size = int.from_bytes(blob[:8], "little")
    if size > len(blob) - 8 or size > _MAX_SAFETENSORS_HEADER:
        raise _Malformed(f"the header length {size} exceeds the {len(blob) - 8} bytes that follow it")
    try:
        header = _json_value(blob[8:8 + size], _MAX_SAFETENSORS_HEADER)
    except _Malformed as e:
        raise _Malformed(f"the header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise _Malformed(f"the header is {type(header).__name__}, not an object")
    metadata = header.pop("__metadata__", {})
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise _Malformed("__metadata__ is not an object of strings")
    data = memoryview(blob)[8 + size:]
    spans = sorted((_span(name, entry, len(data)), name) for name, entry in header.items())
    end = 0
    for (begin, stop), name in spans:
        if begin != end:
            raise _Malformed(f"tensor {quote(name)} starts at byte {begin} of the data, not at {end} where the "
                             f"previous one ends (tensors must tile the data)")
        end = stop
    if end != len(data):
        raise _Malformed(f"the tensors end at byte {end} of the data, which has {len(data)}")
    tensors = {}
    for name, entry in header.items():
        dtype, shape = _DTYPES[entry["dtype"]], entry["shape"]
        begin, stop = entry["data_offsets"]
        # a copy per tensor: aligned for its dtype, writable, and not a view pinning the whole file
        tensors[name] = (torch.frombuffer(bytearray(data[begin:stop]), dtype=dtype).reshape(shape)
                         if stop > begin else torch.zeros(shape, dtype=dtype))
    return tensors


def _span(name: str, entry, data_size: int) -> tuple[int, int]:
    """The byte range of one header entry, after checking its dtype, shape and offsets."""
    if not (isinstance(entry, dict) and {"dtype", "shape", "data_offsets"} <= set(entry)):
        raise _Malformed(f"tensor {quote(name)} is described by {quote(entry)}, not an object with dtype, "
                         f"shape and data_offsets")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise _Malformed(f"tensor {quote(name)} has the dtype {quote(dtype)}; regulab reads {', '.join(_DTYPES)}")
    if not (isinstance(shape, list) and len(shape) <= 64 and all(type(d) is int and d >= 0 for d in shape)):
        raise _Malformed(f"tensor {quote(name)} has the shape {quote(shape)}, not a list of at most 64 sizes")
    if math.prod(max(d, 1) for d in shape) >= 2 ** 48:  # torch indexes it even where another axis is zero
        raise _Malformed(f"tensor {quote(name)} has the shape {quote(shape)}, too large for any tensor (at most "
                         f"2**48 elements)")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_size):
        raise _Malformed(f"tensor {quote(name)} has the data_offsets {quote(offsets)}; expected [begin, end] "
                         f"within the {data_size} bytes of data")
    nbytes = math.prod(shape) * _DTYPES[dtype].itemsize
    if nbytes != offsets[1] - offsets[0]:
        raise _Malformed(f"tensor {quote(name)} of shape {shape} and dtype {dtype} needs {nbytes} bytes, but its "
                         f"data_offsets span {offsets[1] - offsets[0]}")
    return offsets[0], offsets[1]


_HDF5 = b"\x89HDF\r\n\x1a\n"
#: what ``torch.save(..., _use_new_zipfile_serialization=False)`` starts with: a protocol-2
#: pickle of PyTorch's magic number
_TORCH_LEGACY = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"
_UNPICKLE = "regulab never unpickles a file, since unpickling can run any code"
_KERAS_WAY = ("Rebuild the model with regulab's layers (the same arguments), load the file in Keras and copy the "
              "weights: model.set_weights(keras_model.get_weights())")
FOREIGN = {
    "pytorch": f"It is a PyTorch file (torch.save, torch.jit.save); {_UNPICKLE}. If you trust it, load it in "
               f"PyTorch and copy the weights with model.set_weights([...]), or save its tensors with "
               f"safetensors.torch.save_file(tensors, 'w.safetensors') keyed by the model's weight paths "
               f"(model.variable_paths()) and call model.load_weights('w.safetensors')",
    "pickle": f"It is a Python pickle (pickle.dump, joblib.dump); {_UNPICKLE}. If you trust it, unpickle it "
              f"yourself and copy the weights with model.set_weights([...])",
    "keras": f"It is a Keras model file (.keras, written by Keras's model.save); regulab reads its own format "
             f"only. {_KERAS_WAY}",
    "hdf5": f"It is an HDF5 file (Keras 2's model.save('m.h5') or save_weights('w.h5'), or h5py); regulab reads "
            f"its own format only. {_KERAS_WAY}",
    "numpy": "It is a NumPy file (np.save, np.savez); load its arrays with np.load(path) and copy them with "
             "model.set_weights([...])",
}


def _zip_names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except Exception:  # a damaged archive is simply not recognized; its reader says what is wrong
        return []


def foreign_kind(data: bytes) -> str | None:
    """Which format of another library ``data`` is in (a key of ``FOREIGN``), from its first
    bytes and, for a zip archive, its member names; None when it is none of them."""
    if data.startswith(_TORCH_LEGACY):
        return "pytorch"
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    if any(data[at:at + 8] == _HDF5 for at in (0, 512, 1024, 2048)):  # HDF5 may follow a user block
        return "hdf5"
    if data.startswith(b"\x93NUMPY"):
        return "numpy"
    if not is_zip(data):
        return None
    names = _zip_names(data)
    if any(n.rsplit("/", 1)[-1] in ("data.pkl", "constants.pkl") for n in names):
        return "pytorch"
    if "config.json" in names and ("model.weights.h5" in names or "metadata.json" in names):
        return "keras"
    if names and all(n.endswith(".npy") for n in names):
        return "numpy"
    return None


def looks_like_safetensors(data: bytes) -> bool:
    """Whether ``data`` starts as a safetensors file does: a header length, then a JSON object."""
    return len(data) > 8 and int.from_bytes(data[:8], "little") <= len(data) - 8 and data[8:9] == b"{"


class AllocationRefused(Exception):
    """Building a model from a file would create more tensor elements than the file can justify.
    Not a ValueError or TypeError, so that layers' own error handling lets it through."""


#: factories whose size comes as ints or one sequence (``torch.zeros(2, 3)``, ``t.new_zeros((2, 3))``)
_SIZED = {torch.empty, torch.zeros, torch.ones, torch.rand, torch.randn, torch.Tensor.new_empty,
          torch.Tensor.new_zeros, torch.Tensor.new_ones}
#: factories whose size is a sequence among other arguments (``torch.full((2, 3), 1.0)``)
_SIZE_ARGUMENT = {torch.full, torch.empty_strided, torch.randint, torch.normal, torch.Tensor.new_full}
_METHODS = {torch.Tensor.new_empty, torch.Tensor.new_zeros, torch.Tensor.new_ones, torch.Tensor.new_full}
_SEQUENCES = (tuple, list, torch.Size)


def _numel(size) -> int | None:
    try:
        return max(0, math.prod(operator.index(d) for d in size))
    except TypeError:  # not sizes: torch raises its own error when called
        return None


def _requested(func, args, kwargs) -> int | None:
    """The elements a factory call will create, known before it runs; None for other calls."""
    if func in _SIZED or func in _SIZE_ARGUMENT:
        rest = args[1:] if func in _METHODS else args
        size = kwargs.get("size", next((a for a in rest if isinstance(a, _SEQUENCES)), None))
        if size is None and func in _SIZED:
            size = rest
        return None if size is None else _numel(size)
    if func is torch.Tensor.repeat and args and isinstance(args[0], torch.Tensor):
        count = _numel(args[1] if len(args) == 2 and isinstance(args[1], _SEQUENCES) else args[1:])
        return None if count is None else count * args[0].numel()
    if func is torch.eye and args:
        return _numel(args[:2] if len(args) > 1 and isinstance(args[1], int) else (args[0], args[0]))
    if func in (torch.linspace, torch.logspace):
        steps = kwargs.get("steps", args[2] if len(args) > 2 else None)
        return None if steps is None else _numel([steps])
    if func is torch.arange:
        bounds = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        start, end, step = ((0, bounds[0], 1) if len(bounds) == 1 else (*bounds[:2], 1) if len(bounds) == 2
                            else tuple(bounds[:3]) if bounds else (0, 0, 1))
        try:
            return max(0, math.ceil((end - start) / step))
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
    return None


def _created(out, args) -> int:
    """Elements of the new tensors in ``out`` (not the in-place results, not views)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return sum(t.numel() for t in outs if isinstance(t, torch.Tensor) and t._base is None
               and not any(t is a for a in args))


class AllocationLimit(torch.overrides.TorchFunctionMode):
    """While active, refuses the torch calls that would take the tensors created so far past
    ``limit`` elements: factories are checked before they allocate, other calls after.

    A model's configuration sets the sizes its layers allocate when built; a crafted one could
    ask for terabytes. A file's weights must fill every weight it builds, so the weights' size
    bounds what an honest file needs."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit, self.used = limit, 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        requested = _requested(func, args, kwargs)
        if requested is not None:
            self._charge(requested)
        out = func(*args, **kwargs)
        if requested is None:
            self._charge(_created(out, args))
        return out

    def _charge(self, elements: int) -> None:
        self.used += elements
        if self.used > self.limit:
            # charged for good: a layer that swallows the error still cannot allocate more
            raise AllocationRefused(f"building its model would create more than {self.limit} tensor elements, "
                                    f"more than its weights can fill; its configuration declares sizes out of "
                                    f"proportion to the file")

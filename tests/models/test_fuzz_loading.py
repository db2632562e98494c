"""Whatever its bytes, a file given to load_model or load_weights loads or raises one ModelFileError
naming the file: never another exception, a hang, memory out of proportion to the file, or code.

Hypothesis drives the mutators of ``benchmarks/fuzz_loading.py`` (3,000 cases in all,
derandomized so that every run tries the same ones); the other tests pin each bound with its
exact message, the numbers in it computed from the rule (200 times the compressed size plus
1 MiB; 4 tensor elements per byte of weights plus 2**24).
"""
import json
import re
import time
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_loading import (CONFIG, MUTATORS, OPTIMIZER, WEIGHTS, model_zip, nested, patch_entry,
                                     run_case, safetensors_of, split_safetensors, with_seeds, zip_of)
from regulab.layers import Dense
from regulab.models import Sequential, load_model
from regulab.models._safe_zip import ModelFileError

CASES_PER_MUTATOR = 250
#: what each mutator must reach at least once, so that the run is known to test its bound
REACHED = {"zip_bomb": {"zip bomb"}, "huge_sizes": {"allocation cap"}, "deep_json": {"invalid JSON"},
           "zip_members": {"unsafe member name", "duplicate member", "compression or encryption"},
           "safetensors_header": {"invalid safetensors"}, "foreign": {"foreign file"},
           "class_names": {"unknown class"}, "truncated": {"damaged zip", "invalid safetensors"}}


@pytest.fixture(scope="module")
def seeds():
    return with_seeds()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("mutator", sorted(MUTATORS))
def test_every_mutation_loads_or_raises_one_clear_error(mutator, seeds, folder):
    path = str(folder / f"{mutator}.regulab")
    outcomes, cases = set(), []

    @settings(max_examples=CASES_PER_MUTATOR, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(rng=st.randoms(use_true_random=False))
    def one_case(rng):
        loader, data = MUTATORS[mutator](rng, seeds)
        outcomes.add(run_case(loader, data, path))  # raises on anything unexpected
        cases.append(mutator)

    one_case()
    print(f"{mutator}: {len(cases)} cases")
    assert REACHED.get(mutator, set()) <= outcomes, outcomes


def _write(folder, data: bytes, name="m.regulab"):
    path = folder / name
    path.write_bytes(data)
    return path


def _raises(path, why: str, loader=load_model):
    with pytest.raises(ModelFileError, match=re.escape(f"Cannot load '{path}': {why}")):
        loader(path)


def test_a_member_declaring_more_than_its_cap_is_refused_before_it_is_read(seeds, folder):
    path = _write(folder, seeds["bomb"])
    compressed = zipfile.ZipFile(path).getinfo(WEIGHTS).compress_size
    start = time.perf_counter()
    _raises(path, f"its member 'model.safetensors' declares {32 << 20} bytes uncompressed, more than the "
                  f"{200 * compressed + (1 << 20)} bytes allowed for its {compressed} compressed bytes (200 times "
                  f"as many plus 1 MiB): it may be a zip bomb.")
    assert time.perf_counter() - start < 0.5  # refused from the directory, nothing inflated


def test_a_member_holding_more_than_it_declares_is_read_no_further(seeds, folder):
    # index 1: model.safetensors; it claims 10 bytes, zipfile stops there and the CRC fails
    path = _write(folder, patch_entry(seeds["model"], file_size=10, index=1))
    _raises(path, "the zip archive is damaged (BadZipFile: Bad CRC-32 for file 'model.safetensors').")


def test_a_configuration_asking_for_more_memory_than_its_weights_fill_is_refused_before_allocating(seeds, folder):
    config = json.loads(seeds["members"][CONFIG])
    layer = config["config"]["layers"][0]["config"]
    layer["units"], layer["input_shape"] = 10 ** 6, [10 ** 5]  # 10**11 floats: 400 GB
    config["config"]["input_shape"] = [10 ** 5]
    path = _write(folder, model_zip(seeds["members"], config))
    limit = 4 * (len(seeds["members"][WEIGHTS]) + len(seeds["members"][OPTIMIZER])) + (1 << 24)
    start = time.perf_counter()
    _raises(path, f"building its model would create more than {limit} tensor elements, more than its weights can "
                  f"fill; its configuration declares sizes out of proportion to the file.")
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_json_nested_100000_deep_is_refused(seeds, folder, kind):
    _raises(_write(folder, model_zip(seeds["members"], nested(100_000, kind))),
            "regulab.json is not valid JSON (it is nested deeper than 100 levels).")
    config = json.loads(seeds["members"][CONFIG])
    config["config"]["name"] = "@@"  # deep inside the configuration, within Python's recursion limit
    text = json.dumps(config).replace('"@@"', nested(150, kind))
    _raises(_write(folder, model_zip(seeds["members"], text)),
            "regulab.json is not valid JSON (it is nested deeper than 100 levels).")


@pytest.mark.parametrize("name", ["../regulab.json", "/etc/passwd", "a/../../x", "C:x", "dir\\x"])
def test_member_names_leading_out_of_the_archive_are_refused(seeds, folder, name):
    path = _write(folder, zip_of([*seeds["members"].items(), (name, b"x")]))
    _raises(path, f"its member {name!r} has an unsafe name (absolute, with '..' or with backslashes); regulab never "
                  f"writes one.")


def test_duplicate_encrypted_and_bzip2_members_are_refused(seeds, folder):
    members = seeds["members"]
    _raises(_write(folder, zip_of([*members.items(), (CONFIG, b"{}")])), "it holds two members named 'regulab.json'.")
    _raises(_write(folder, zip_of([(CONFIG, members[CONFIG], zipfile.ZIP_BZIP2), (WEIGHTS, members[WEIGHTS])])),
            "its member 'regulab.json' uses compression method 12; regulab reads stored and deflated members only.")
    locked = patch_entry(zip_of([(CONFIG, members[CONFIG]), (WEIGHTS, members[WEIGHTS])]), 1, flag_bits=0x1)
    _raises(_write(folder, locked), "its member 'model.safetensors' is encrypted.")


def test_safetensors_headers_that_lie_are_refused(seeds, folder):
    header, data = split_safetensors(seeds["weights"])
    kernel = next(n for n in header if n.endswith("kernel"))
    model = Sequential([Dense(2, input_dim=3)])
    cases = [
        ({**header, kernel: {**header[kernel], "shape": [10 ** 12, 10 ** 12]}}, None,
         f"tensor {kernel!r} has the shape [1000000000000, 1000000000000], too large for any tensor (at most "
         f"2**48 elements)"),
        ({**header, kernel: {**header[kernel], "shape": [4, 2]}}, None,
         f"tensor {kernel!r} of shape [4, 2] and dtype F32 needs 32 bytes, but its data_offsets span 24"),
        ({**header, kernel: {**header[kernel], "shape": [3, -2]}}, None,
         f"tensor {kernel!r} has the shape [3, -2], not a list of at most 64 sizes"),
        ({**header, kernel: {**header[kernel], "data_offsets": [0, 2 ** 62]}}, None,
         f"tensor {kernel!r} has the data_offsets [0, {2 ** 62}]; expected [begin, end] within the 32 bytes of data"),
        ({**header, kernel: {**header[kernel], "dtype": "F8_E4M3"}}, None,
         f"tensor {kernel!r} has the dtype 'F8_E4M3'; regulab reads F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL"),
        ({**header, "copy": header[kernel]}, None,  # two tensors on the same bytes
         f"tensor {kernel!r} starts at byte 8 of the data, not at 32 where the previous one ends (tensors must tile "
         f"the data)"),
        (header, 2 ** 64 - 1, f"the header length {2 ** 64 - 1} exceeds the"),
    ]
    for changed, length, why in cases:
        path = _write(folder, safetensors_of(changed, data, length), "w.safetensors")
        _raises(path, f"the weights are not valid safetensors data ({why}", model.load_weights)


def test_wrong_types_in_the_header_of_regulab_json(seeds, folder):
    members = seeds["members"]
    for change, why in [({"version": True}, "format version True is not supported (this regulab reads (1, 2))."),
                        ({"version": 2.0}, "format version 2.0 is not supported (this regulab reads (1, 2))."),
                        ({"format": None}, "it is not a regulab model."),
                        ({"config": []}, "its model configuration is malformed."),
                        ({"weights": [1, 2]}, "its list of weights is malformed."),
                        ({"weights": ["dense/bias", "dense/bias"]}, "its list of weights names a weight twice."),
                        ({"build_input_shape": "3"}, "its input shape '3' is not a list of sizes (or of such lists)."),
                        ({"compile": []}, "its compile settings are malformed.")]:
        config = {**json.loads(members[CONFIG]), **change}
        if isinstance(config["config"], dict):
            config["config"].pop("input_shape", None)
        _raises(_write(folder, model_zip(members, config)), why)


def test_load_weights_reads_the_format_version_of_a_model_file_safely(seeds, folder):
    path = _write(folder, model_zip(seeds["members"], "[1]"))
    _raises(path, "format version None is not supported (this regulab reads (1, 2)).",
            Sequential([Dense(2, input_dim=3)]).load_weights)


def test_saved_weights_are_stored_so_that_all_zero_models_round_trip(folder):
    # all-zero weights deflate about 1000:1, past the 200:1 cap; stored, they are 1:1
    model = Sequential([Dense(512, input_dim=1024, kernel_initializer="zeros")])
    model.compile("adam", "mse")
    path = folder / "zeros.regulab"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert {i.filename: i.compress_type for i in archive.infolist()} == {
            CONFIG: zipfile.ZIP_DEFLATED, WEIGHTS: zipfile.ZIP_STORED}
    assert load_model(path).get_weights()[0].shape == (1024, 512)

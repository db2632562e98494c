"""Model files come from other people: any change to their JSON gives a clear ValueError."""
import copy
import json
import zipfile

import numpy as np
import pytest

from regulab.layers import Dense, Dropout, Input, concatenate
from regulab.models import Model, load_model

_REPLACEMENTS = [None, True, 1.5, -3, "x", [], {}, [1, 2, 3], {"class_name": "os.system"}, "a" * 300, [[None]]]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    a, b = Input((3,), name="a"), Input((2,), name="b")
    out = Dense(1, activation="sigmoid", name="out")(Dropout(0.2)(concatenate([Dense(4)(a), b])))
    model = Model([a, b], out)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit([np.random.rand(16, 3), np.random.rand(16, 2)], np.random.randint(0, 2, 16), epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("fuzz") / "m.regulab"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}, path.parent


def test_every_structural_change_of_the_config_is_a_clear_error(saved):
    files, folder = saved
    config = json.loads(files["regulab.json"])
    paths = [p for p in _paths(config) if p]
    rng = np.random.default_rng(0)
    target = folder / "mutant.regulab"
    tried = 0
    for i in rng.permutation(len(paths))[:150]:
        for value in rng.choice(len(_REPLACEMENTS), 2, replace=False):
            mutant = copy.deepcopy(config)
            _set(mutant, paths[i], copy.deepcopy(_REPLACEMENTS[value]))
            with zipfile.ZipFile(target, "w") as z:
                for name, data in files.items():
                    z.writestr(name, json.dumps(mutant) if name == "regulab.json" else data)
            try:
                load_model(target)
            except ValueError as e:
                assert str(e).startswith(f"Cannot load '{target}'"), (paths[i], str(e))
            tried += 1
    assert tried == 2 * min(150, len(paths))


def test_random_bytes_in_the_weights_are_a_clear_error(saved):
    files, folder = saved
    rng = np.random.default_rng(1)
    target = folder / "bytes.regulab"
    for _ in range(40):
        blob = bytearray(files["model.safetensors"])
        for pos in rng.integers(0, len(blob), 8):
            blob[pos] = int(rng.integers(0, 256))
        with zipfile.ZipFile(target, "w") as z:
            for name, data in files.items():
                z.writestr(name, bytes(blob) if name == "model.safetensors" else data)
        try:
            load_model(target)
        except ValueError as e:
            assert str(e).startswith(f"Cannot load '{target}'")

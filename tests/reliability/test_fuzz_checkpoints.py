"""Backups come from disks that fail and people who edit files: reading one survives any bytes.

A valid checkpoint is mutated (truncated, bytes flipped, members dropped or added, JSON values of
the wrong type anywhere, safetensors headers rewritten, deep nesting) and read as a resume does
(``read_checkpoint``, then ``Resume.check`` against the model). Every case either resumes or ends
in ``ModelFileError`` (a damaged file) or the mismatch ``ValueError``; no other exception escapes.
The mutators are the model loader's (``benchmarks/fuzz_loading.py``)."""
import copy
import json
import random
import zipfile
import io

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import regulab
from benchmarks.fuzz_loading import flip, json_paths, random_json, safetensors_of, split_safetensors, zip_of
from regulab.callbacks import BackupAndRestore, EarlyStopping, History
from regulab.layers import Dense, Dropout
from regulab.models import Sequential
from regulab.models._safe_zip import ModelFileError
from regulab.training._checkpoint import read_checkpoint
from tests.helpers import linear_data

META, TENSORS = "checkpoint.json", "state.safetensors"


def _model():
    regulab.set_random_seed(0)
    model = Sequential([Dense(4, input_dim=6, activation="relu"), Dropout(0.2), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    return model


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoint")
    model = _model()
    x, y = linear_data(40, 6)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[EarlyStopping(monitor="loss", patience=3), BackupAndRestore(folder, save_freq=3, delete_checkpoint=False)])
    data = (folder / "checkpoint.regulab").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    spec = model._step_spec()
    return {"data": data, "members": members, "meta": json.loads(members[META]), "model": model, "spec": spec,
            "cbs": [EarlyStopping(monitor="loss", patience=3), BackupAndRestore(folder), History()], "folder": folder}


def _mutate(rng: random.Random, valid) -> bytes:
    members, meta = valid["members"], valid["meta"]
    kind = rng.randrange(7)
    if kind == 0:
        return valid["data"][:rng.randrange(len(valid["data"]))]
    if kind == 1:
        return flip(rng, valid["data"], rng.randrange(1, 8))
    if kind == 2:  # a JSON value of another type (or a random tree) anywhere
        changed = copy.deepcopy(meta)
        path = rng.choice(list(json_paths(changed))[1:])
        target = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = random_json(rng)
        return zip_of([(META, json.dumps(changed)), (TENSORS, members[TENSORS])])
    if kind == 3:  # a member missing, doubled, renamed, or unsafe
        entries = [(META, members[META]), (TENSORS, members[TENSORS])]
        choice = rng.randrange(4)
        if choice == 0:
            entries.pop(rng.randrange(2))
        elif choice == 1:
            entries.append(rng.choice(entries))
        elif choice == 2:
            entries.append(("../escape", b"x"))
        else:
            entries[rng.randrange(2)] = ("other.json", b"{}")
        return zip_of(entries)
    if kind == 4:  # the safetensors header rewritten: shapes, dtypes, offsets
        header, data = split_safetensors(members[TENSORS])
        header = copy.deepcopy(header)
        name = rng.choice([k for k in header if k != "__metadata__"])
        field = rng.choice(["shape", "dtype", "data_offsets"])
        header[name][field] = rng.choice([[10**12], [-1], "F64", "X", [0, 10**15], [5, 1], None, [2**40, 2**40]])
        return zip_of([(META, members[META]), (TENSORS, safetensors_of(header, data))])
    if kind == 5:  # deep nesting in the JSON
        depth = rng.choice([50, 500, 50_000])
        return zip_of([(META, "[" * depth + "]" * depth), (TENSORS, members[TENSORS])])
    return flip(rng, members[META], rng.randrange(1, 4)) if rng.random() < 0.5 else b"\x80\x04K\x01."  # a pickle


@settings(max_examples=600, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False))
def test_a_damaged_checkpoint_ends_in_a_regulab_error(valid, rng):
    path = valid["folder"] / "case.regulab"
    path.write_bytes(_mutate(rng, valid))
    try:
        resume = read_checkpoint(str(path))
        resume.check(valid["model"], valid["spec"], valid["cbs"], 5)
        resume.apply(_model(), valid["spec"], valid["cbs"])  # what survives the checks applies
    except ModelFileError as err:
        assert str(err).startswith(f"Cannot load '{path}': ")
    except ValueError as err:  # a readable checkpoint of another fit: the mismatch, named
        assert type(err) is ValueError and "does not match this fit" in str(err)


def test_the_valid_checkpoint_itself_resumes(valid):
    resume = read_checkpoint(str(valid["folder"] / "checkpoint.regulab"))
    resume.check(valid["model"], valid["spec"], valid["cbs"], 5)
    assert (resume.position.epoch, resume.position.batch) == (1, 4)  # after batch 9 of 10 (5 per epoch)

"""Other libraries' files given to load_model or load_weights: the message says what the file is and
how to bring its weights over, and nothing in it is unpickled.

The PyTorch, pickle, joblib and NumPy files are written by those libraries. The Keras file is
laid out as Keras 3's ``saving_lib`` writes a ``.keras`` archive (``metadata.json``,
``config.json``, ``model.weights.h5``) and the HDF5 file starts with HDF5's superblock
signature, since neither Keras nor h5py is a dependency.
"""
import io
import os
import pickle
import re
import warnings
import zipfile

import joblib
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from regulab.layers import Dense
from regulab.models import Sequential, load_model
from regulab.models._safe_zip import ModelFileError

UNPICKLE = "regulab never unpickles a file, since unpickling can run any code"
PYTORCH = (f"It is a PyTorch file (torch.save, torch.jit.save); {UNPICKLE}. If you trust it, load it in PyTorch "
           f"and copy the weights with model.set_weights([...]), or save its tensors with "
           f"safetensors.torch.save_file(tensors, 'w.safetensors') keyed by the model's weight paths "
           f"(model.variable_paths()) and call model.load_weights('w.safetensors').")
PICKLE = (f"It is a Python pickle (pickle.dump, joblib.dump); {UNPICKLE}. If you trust it, unpickle it yourself and "
          f"copy the weights with model.set_weights([...]).")
KERAS_WAY = ("Rebuild the model with regulab's layers (the same arguments), load the file in Keras and copy the "
             "weights: model.set_weights(keras_model.get_weights()).")
KERAS = (f"It is a Keras model file (.keras, written by Keras's model.save); regulab reads its own format only. "
         f"{KERAS_WAY}")
HDF5 = (f"It is an HDF5 file (Keras 2's model.save('m.h5') or save_weights('w.h5'), or h5py); regulab reads its own "
        f"format only. {KERAS_WAY}")
NUMPY = ("It is a NumPy file (np.save, np.savez); load its arrays with np.load(path) and copy them with "
         "model.set_weights([...]).")
NOT_ZIP = "it is not a zip archive"
NOT_WEIGHTS = "it is neither a safetensors file nor a regulab model file"
LACKS = "it lacks regulab.json or model.safetensors"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _state():
    return {"kernel": torch.ones(3, 2), "bias": torch.zeros(2)}


def _torch_zip(path):
    torch.save(_state(), path)


def _torch_legacy(path):
    torch.save(_state(), path, _use_new_zipfile_serialization=False)


def _torchscript(path):
    with warnings.catch_warnings():  # TorchScript is deprecated, and still written
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), path)


def _pickle(protocol):
    def write(path):
        with open(path, "wb") as f:
            pickle.dump(_state(), f, protocol=protocol)
    return write


def _joblib(path):
    joblib.dump({"kernel": np.ones((3, 2))}, path)


def _keras(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.3.3"}')
        archive.writestr("config.json", '{"class_name": "Sequential", "config": {}}')
        archive.writestr("model.weights.h5", HDF5_SIGNATURE + bytes(64))


def _hdf5(offset):
    def write(path):
        with open(path, "wb") as f:
            f.write(bytes(offset) + HDF5_SIGNATURE + bytes(120))  # a user block may come first
    return write


def _npy(path):
    with open(path, "wb") as f:
        np.save(f, np.ones((3, 2)))


def _npz(path):
    with open(path, "wb") as f:
        np.savez(f, kernel=np.ones((3, 2)), bias=np.zeros(2))


# (writer, file name, load_model's message, load_weights's message)
FILES = [
    (_torch_zip, "m.pt", f"{LACKS}. {PYTORCH}", f"{LACKS}. {PYTORCH}"),
    (_torch_legacy, "m.pth", f"{NOT_ZIP}. {PYTORCH}", f"{NOT_WEIGHTS}. {PYTORCH}"),
    (_torchscript, "scripted.pt", f"{LACKS}. {PYTORCH}", f"{LACKS}. {PYTORCH}"),
    *[(_pickle(p), f"m{p}.pkl", f"{NOT_ZIP}. {PICKLE}", f"{NOT_WEIGHTS}. {PICKLE}") for p in (2, 3, 4, 5)],
    (_joblib, "m.joblib", f"{NOT_ZIP}. {PICKLE}", f"{NOT_WEIGHTS}. {PICKLE}"),
    (_keras, "m.keras", f"{LACKS}. {KERAS}", f"{LACKS}. {KERAS}"),
    (_hdf5(0), "m.h5", f"{NOT_ZIP}. {HDF5}", f"{NOT_WEIGHTS}. {HDF5}"),
    (_hdf5(512), "w.weights.h5", f"{NOT_ZIP}. {HDF5}", f"{NOT_WEIGHTS}. {HDF5}"),
    (_npy, "w.npy", f"{NOT_ZIP}. {NUMPY}", f"{NOT_WEIGHTS}. {NUMPY}"),
    (_npz, "w.npz", f"{LACKS}. {NUMPY}", f"{LACKS}. {NUMPY}"),
]


@pytest.mark.parametrize("write, name, model_message, weights_message", FILES, ids=[f[1] for f in FILES])
def test_a_foreign_file_is_named_with_the_way_to_convert_it(tmp_path, write, name, model_message, weights_message):
    path = tmp_path / name
    write(path)
    with pytest.raises(ModelFileError, match=re.escape(f"Cannot load '{path}': {model_message}")):
        load_model(path)
    with pytest.raises(ModelFileError, match=re.escape(f"Cannot load '{path}': {weights_message}")):
        Sequential([Dense(2, input_dim=3)]).load_weights(path)


def test_a_weights_file_given_to_load_model_points_to_load_weights(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file(_state(), path)
    with pytest.raises(ModelFileError, match=re.escape(
            f"Cannot load '{path}': it is not a zip archive. It is a safetensors weights file (model.save_weights), "
            f"which holds no architecture: build the model in code and call model.load_weights(path).")):
        load_model(path)


def test_an_unknown_zip_given_to_load_weights_says_what_it_expected(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match=re.escape(
            f"Cannot load '{path}': it lacks regulab.json or model.safetensors. Expected a safetensors file written "
            f"by `model.save_weights` or a model file written by `model.save`.")):
        Sequential([Dense(2, input_dim=3)]).load_weights(path)


class _Trap:
    """Unpickling it creates a folder: the proof that a loader ran a file's code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.makedirs, (self.marker,)


def test_nothing_in_a_pickle_or_a_pytorch_file_runs(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Trap(marker)))  # the trap works when unpickled
    assert marker.is_dir()
    marker.rmdir()
    with open(tmp_path / "trap.pkl", "wb") as f:
        pickle.dump(_Trap(marker), f)
    torch.save({"w": torch.ones(1), "trap": _Trap(marker)}, tmp_path / "trap.pt")
    buffer = io.BytesIO()
    torch.save({"trap": _Trap(marker)}, buffer, _use_new_zipfile_serialization=False)
    (tmp_path / "trap_legacy.pt").write_bytes(buffer.getvalue())
    for name in ("trap.pkl", "trap.pt", "trap_legacy.pt"):
        with pytest.raises(ModelFileError):
            load_model(tmp_path / name)
        with pytest.raises(ModelFileError):
            Sequential([Dense(2, input_dim=3)]).load_weights(tmp_path / name)
    assert not marker.exists()


def test_a_deep_sequential_configuration_builds_each_layer_once(tmp_path, monkeypatch):
    # 2,000 layers in a few KB of JSON: each add builds only the new layer (rebuilding every
    # earlier layer per add made loading such a file take minutes)
    from regulab.layers import Activation, Dense, Layer
    from regulab.models import Sequential, load_model

    model = Sequential([Dense(2, input_dim=2)] + [Activation("relu") for _ in range(2000)])
    model.save(tmp_path / "deep.keras")
    builds = []
    real = Layer.build_for
    monkeypatch.setattr(Layer, "build_for", lambda self, shape: builds.append(self) or real(self, shape))
    loaded = load_model(tmp_path / "deep.keras")
    assert len(loaded.layers) == 2001 and loaded.output_shape == (2,)
    assert len(builds) <= 2 * 2001  # linear: was 2 million

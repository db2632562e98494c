"""Every file regulab writes goes through one atomic writer: a failure mid-write (a full disk, an
exception) leaves the previous file intact, no temporary behind, and an error naming the path."""
import errno
import io
import os
import re

import numpy as np
import pytest

import regulab
from regulab import _atomic
from regulab.callbacks import BackupAndRestore, CSVLogger
from regulab.layers import Dense
from regulab.models import Sequential, load_model
from tests.helpers import linear_data


class FailingFile(io.RawIOBase):
    """A file that takes ``limit`` bytes, then fails as a full disk does."""

    def __init__(self, real, limit: int):
        self.real, self.left = real, limit

    def writable(self):
        return True

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self.left:
            self.real.write(data[: self.left])
            self.left = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.left -= len(data)
        return self.real.write(data)

    def close(self):
        self.real.close()
        super().close()


@pytest.fixture
def disk_fills_after(monkeypatch):
    """``disk_fills_after(n)``: every file the atomic writer opens from now on fails after n bytes."""
    real_fdopen = os.fdopen

    def arm(limit):
        monkeypatch.setattr(_atomic.os, "fdopen", lambda fd, mode="r", *a, **k: io.BufferedWriter(
            FailingFile(real_fdopen(fd, mode, *a, **k), limit)))
    return arm


def _no_temporaries(folder):
    assert [n for n in os.listdir(folder) if ".tmp" in n] == []


def _model(units=4):
    regulab.set_random_seed(0)
    model = Sequential([Dense(units, input_dim=3, activation="relu"), Dense(1)])
    model.compile("adam", "mse")
    return model


@pytest.mark.parametrize("limit", [0, 10, 300])
def test_a_write_that_fails_after_n_bytes_leaves_the_previous_file(tmp_path, disk_fills_after, limit):
    target = tmp_path / "data.bin"
    _atomic.atomic_write(target, b"previous content")
    disk_fills_after(limit)
    with pytest.raises(OSError, match=re.escape(f"Cannot write {str(target)!r}: No space left on device "
                                                "(the previous file is unchanged)")) as err:
        _atomic.atomic_write(target, b"x" * 1000)
    assert err.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"previous content"
    _no_temporaries(tmp_path)


def test_an_exception_mid_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "new.bin"

    def half(f):
        f.write(b"half")
        raise RuntimeError("the saver failed")

    with pytest.raises(RuntimeError, match="the saver failed"):
        _atomic.atomic_write(target, half)
    assert not target.exists()
    _no_temporaries(tmp_path)


def test_model_files_weights_logs_and_backups_survive_a_full_disk(tmp_path, disk_fills_after):
    x, y = linear_data(32, 3)
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(tmp_path / "log.csv")])
    model.save(tmp_path / "m.keras")
    saved = model.get_weights()
    model.save_weights(tmp_path / "w.weights.safetensors")
    backup = BackupAndRestore(tmp_path / "backup", delete_checkpoint=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[backup])
    before = {p: p.read_bytes() for p in [tmp_path / "m.keras", tmp_path / "w.weights.safetensors",
                                          tmp_path / "log.csv", tmp_path / "backup" / "checkpoint.regulab"]}
    changed = _model(units=4)
    changed.set_weights([w + 1 for w in model.get_weights()])
    disk_fills_after(10)  # every one of these files is longer
    for write, path in [(lambda: changed.save(tmp_path / "m.keras"), "m.keras"),
                        (lambda: changed.save_weights(tmp_path / "w.weights.safetensors"), "w.weights.safetensors"),
                        (lambda: changed.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(tmp_path / "log.csv",
                                                                                              append=True)]),
                         "log.csv"),
                        (lambda: changed.fit(x, y, epochs=1, verbose=0, callbacks=[
                            BackupAndRestore(tmp_path / "backup2", delete_checkpoint=False)]), None)]:
        with pytest.raises(OSError, match="Cannot write '.*: No space left on device"):
            write()
    for p, data in before.items():
        assert p.read_bytes() == data, p
        _no_temporaries(p.parent)
    np.testing.assert_array_equal(load_model(tmp_path / "m.keras").get_weights()[0], saved[0])


def test_a_real_full_tmpfs(tmp_path):
    """On a 64 KiB tmpfs (as root): a model file too big for it fails naming the path, and the small
    file saved there before is intact."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.system(f"mount -t tmpfs -o size=64k tmpfs {disk} 2>/dev/null") != 0:
        pytest.skip("no permission to mount a tmpfs")
    try:
        small = _model(units=2)
        small.save(disk / "m.keras")
        before = (disk / "m.keras").read_bytes()
        big = _model(units=20000)  # 100k weights: 400 KB, far past the disk
        with pytest.raises(OSError, match=re.escape(f"Cannot write {str(disk / 'm.keras')!r}: No space left on device "
                                                    "(the previous file is unchanged)")):
            big.save(disk / "m.keras")
        assert (disk / "m.keras").read_bytes() == before
        _no_temporaries(disk)
    finally:
        os.system(f"umount {disk}")

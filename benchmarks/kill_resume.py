"""Kill a training process with SIGKILL at random moments, rerun it until it finishes, and compare
its final weights and history with a run never interrupted, bit for bit.

The trained script (``SCRIPT``) is an ordinary seeded fit with ``BackupAndRestore(save_freq=5)``,
EarlyStopping and a CSVLogger; each rerun resumes from the backup the previous one left. A kill
lands at a random moment after the run's first batch (a marker file says training has begun),
so it may hit a step, a backup being written, validation or a callback.

Usage: python benchmarks/kill_resume.py [--kills 20] [--seed 0]
Prints the kills that interrupted training, the reruns, and ``identical`` or ``DIFFERENT``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = '''
import hashlib, json, os, sys
import regulab
from regulab.callbacks import BackupAndRestore, Callback, CSVLogger, EarlyStopping
from regulab.layers import BatchNormalization, Dense, Dropout
from regulab.models import Sequential
from tests.helpers import linear_data

work = sys.argv[1]

class Started(Callback):
    """Marks that this run has trained a batch (the driver kills only after that)."""
    def on_train_batch_end(self, batch, logs=None):
        if not os.path.exists(os.path.join(work, "started")):
            open(os.path.join(work, "started"), "w").close()
    def get_state(self):
        return {}

regulab.set_random_seed(0)
x, y = linear_data(400, 20)
model = Sequential([Dense(32, input_dim=20, activation="relu"), BatchNormalization(), Dropout(0.3),
                    Dense(1, activation="sigmoid")])
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=25, batch_size=16, validation_split=0.2, verbose=0,
                    callbacks=[EarlyStopping(patience=30, restore_best_weights=True),
                               CSVLogger(os.path.join(work, "log.csv")),
                               BackupAndRestore(os.path.join(work, "backup"), save_freq=5), Started()])
digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
with open(os.path.join(work, "result.json"), "w") as f:
    json.dump({"weights": digest, "history": history.history, "csv": open(os.path.join(work, "log.csv")).read()}, f)
'''


def _start(script: Path, work: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), str(work)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"the training script failed ({proc.returncode}):\n{err.decode()[-3000:]}")


def run(kills: int, seed: int, folder: Path) -> dict:
    """Run the reference, then the killed runs; returns the figures."""
    rng = random.Random(seed)
    script = folder / "train.py"
    script.write_text(SCRIPT)
    reference, work = folder / "reference", folder / "killed"
    reference.mkdir(), work.mkdir()
    start = time.perf_counter()
    _finish(_start(script, reference))
    one_run = time.perf_counter() - start
    interrupted, runs = 0, 0
    while interrupted < kills:
        (work / "started").unlink(missing_ok=True)
        proc = _start(script, work)
        runs += 1
        while not (work / "started").exists() and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.8))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            interrupted += 1
        elif proc.returncode != 0:
            _finish(proc)
        if (work / "result.json").exists():  # it finished before the kill: start over
            (work / "result.json").unlink()
    (work / "started").unlink(missing_ok=True)
    _finish(_start(script, work))
    runs += 1
    expected = json.loads((reference / "result.json").read_text())
    got = json.loads((work / "result.json").read_text())
    return {"kills": interrupted, "runs": runs, "identical": expected == got, "seconds_per_run": one_run,
            "epochs": len(expected["history"]["loss"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = run(args.kills, args.seed, Path(folder))
    print(f"{figures['kills']} SIGKILLs during training, {figures['runs']} runs in all "
          f"({figures['seconds_per_run']:.1f} s for one uninterrupted run of {figures['epochs']} epochs)")
    print("final weights, history and CSV log against the uninterrupted run:",
          "identical" if figures["identical"] else "DIFFERENT")


if __name__ == "__main__":
    main()

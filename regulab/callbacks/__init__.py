"""Callbacks: code that ``fit`` runs at the start and end of training, epochs and batches.

Keras's callbacks with Keras's arguments, and its known traps fixed: ``EarlyStopping`` restores the
best weights whether or not it stopped early and refuses a metric the fit does not log; directions
come from the metric, not its name; state resets every fit; checkpoints are written atomically;
``BackupAndRestore`` resumes a killed fit bit for bit, callbacks' state included.
"""
from regulab.callbacks._backup import BackupAndRestore
from regulab.callbacks._base import Callback, CallbackList
from regulab.callbacks._checkpoint import ModelCheckpoint
from regulab.callbacks._csv import CSVLogger
from regulab.callbacks._early_stopping import EarlyStopping
from regulab.callbacks._history import History
from regulab.callbacks._lr import LearningRateScheduler, ReduceLROnPlateau
from regulab.callbacks._nan import TerminateOnNaN
from regulab.callbacks._progress import ProgbarLogger
from regulab.callbacks._tensorboard import TensorBoard

__all__ = [
    "Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau",
    "LearningRateScheduler", "TerminateOnNaN", "CSVLogger", "ProgbarLogger", "BackupAndRestore",
    "TensorBoard",
]

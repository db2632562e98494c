"""Write each epoch's logs as one row of a CSV file.

>>> import os, tempfile
>>> from regulab.callbacks import CSVLogger
>>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
>>> log = CSVLogger(path)
>>> log.on_train_begin()
>>> log.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
>>> log.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.5})
>>> log.on_train_end()
>>> print(open(path).read(), end="")
epoch,loss,val_loss
0,0.5,0.75
1,0.25,0.5
"""
from __future__ import annotations

import csv
import io
import os

from regulab._atomic import atomic_write
from regulab._validation import invalid
from regulab.callbacks._base import Callback, check_flag, check_path


class CSVLogger(Callback):
    """Append one row per epoch to a CSV file: ``epoch`` (from 0, as History) then the logs.

    The columns are the first epoch's log names, in the order the loop logs them. With
    ``append=True`` and a file that already has a header, that header is kept and a fit whose log
    names differ is an error (Keras would write misaligned columns). A name missing from a later
    epoch is written as ``NA``. The file is rewritten atomically after every epoch, so it is
    always whole (a crash never leaves half a row) and a resumed fit (``BackupAndRestore``) has
    exactly the rows of the epochs it restored.

    Args:
        filename: the CSV file (str or path).
        separator: the one-character field separator (default ``','``).
        append: add to an existing file instead of overwriting it (default False).
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        where = type(self).__name__
        path = check_path("filename", filename, "a file path", where)
        if not isinstance(separator, str) or len(separator) != 1:
            raise invalid("separator", "a single character such as ',' or ';'", separator, where)
        self.filename = path
        self.separator = separator
        self.append = check_flag("append", append, where)
        self._text: str | None = None  # the file's content so far
        self._columns: list[str] | None = None
        self._check_header = False

    def on_train_begin(self, logs=None):
        text, header = "", None
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="", encoding="utf-8") as f:
                text = f.read()
            header = next(csv.reader(io.StringIO(text), delimiter=self.separator), None)
            if text and not text.endswith("\n"):
                text += "\n"
        self._text = text
        self._columns = header[1:] if header else None
        # a header from the file is checked against the first epoch's names
        self._check_header = self._columns is not None
        atomic_write(self.filename, text.encode("utf-8"))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._text is None:
            self.on_train_begin()
        rows = []
        if self._columns is None:
            self._columns = list(logs)
            rows.append(["epoch", *self._columns])
        elif self._check_header:
            if set(logs) != set(self._columns):
                raise ValueError(
                    f"CSVLogger cannot append logs with the names {list(logs)} to "
                    f"{self.filename!r}, whose columns are {['epoch', *self._columns]}. Log to a "
                    "new file, or pass append=False to overwrite it.")
        self._check_header = False
        rows.append([epoch, *(logs.get(k, "NA") for k in self._columns)])
        out = io.StringIO()
        csv.writer(out, delimiter=self.separator, lineterminator="\n").writerows(rows)
        self._text += out.getvalue()
        atomic_write(self.filename, self._text.encode("utf-8"))

    def on_train_end(self, logs=None):
        self._text = None

    def set_state(self, state: dict) -> None:
        """Restore the rows written so far, in the file too (a crash may have left later rows)."""
        super().set_state(state)
        if self._text is not None:
            atomic_write(self.filename, self._text.encode("utf-8"))

    def get_config(self) -> dict:
        return {"filename": self.filename, "separator": self.separator, "append": self.append}

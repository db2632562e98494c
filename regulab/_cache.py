"""Where regulab keeps what it can rebuild (generated data sets, the record of compiled steps):
``$REGULAB_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/regulab``, else ``~/.cache/regulab``."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache folder (not created here: writers create it when they first write)."""
    own = os.environ.get("REGULAB_CACHE_DIR")
    if own:
        return Path(own)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg else os.path.join(os.path.expanduser("~"), ".cache")) / "regulab"

"""The cache folder: REGULAB_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache."""
from pathlib import Path

from regulab._cache import cache_dir


def test_cache_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("REGULAB_CACHE_DIR", str(tmp_path / "own"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "own"
    monkeypatch.delenv("REGULAB_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "regulab"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == Path(tmp_path) / ".cache" / "regulab"

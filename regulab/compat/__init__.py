"""Run code written for TensorFlow's Keras or Keras 3 on regulab.

After :func:`install`, ``import tensorflow as tf``, ``from tensorflow.keras.layers import Dense``,
``tf.keras.regularizers.l2(0.01)`` and ``import keras`` resolve to regulab's own modules. A name
regulab does not have fails at once with :class:`NotInRegulabError`, naming it as the script spelled
it. Nothing is aliased on a plain ``import regulab``: only ``regulab run script.py``, or this
function in a notebook, installs the aliases, and :func:`uninstall` removes them.

>>> from regulab import compat
>>> with compat.aliased():
...     import tensorflow as tf
...     from tensorflow.keras.layers import Dense
...     layer = Dense(4, kernel_regularizer=tf.keras.regularizers.l2(0.01))
>>> type(layer).__module__.startswith("regulab.")
True
>>> with compat.aliased():
...     import tensorflow as tf
...     tf.keras.layers.Foo
Traceback (most recent call last):
...
regulab.compat._facade.NotInRegulabError: tf.keras.layers.Foo is not in regulab (what tf.keras.layers has: ...)
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import sys

from regulab.compat._facade import Facade, NotInRegulabError, NotInRegulabImportError

__all__ = ["install", "uninstall", "aliased", "installed", "NotInRegulabError", "NotInRegulabImportError"]

_ROOTS = ("tensorflow", "keras")


def _keras_tree(prefix: str, spelling: str) -> dict[str, Facade]:
    """The facades of one Keras namespace (``keras`` or ``tensorflow.keras``), by import name."""
    import regulab
    from regulab import models, preprocessing
    from regulab.layers import Input

    facades: dict[str, Facade] = {}

    def child(name: str, target=None, names=None) -> Facade:
        facade = Facade(f"{prefix}.{name}", f"{spelling}.{name}", target, names)
        facades[facade.__name__] = facade
        return facade

    for name in ("models", "layers", "regularizers", "optimizers", "losses", "metrics", "callbacks",
                 "activations", "initializers", "mixed_precision", "saving", "random"):
        child(name, getattr(regulab, name))
    image = child("preprocessing.image", preprocessing.image)
    child("preprocessing", preprocessing, {"image": image})
    child("utils", None, {"set_random_seed": regulab.set_random_seed})
    top = {short: facades[f"{prefix}.{short}"] for short in
           ("models", "layers", "regularizers", "optimizers", "losses", "metrics", "callbacks", "activations",
            "initializers", "mixed_precision", "saving", "random", "preprocessing", "utils")}
    top.update(Sequential=models.Sequential, Model=models.Model, Input=Input, __version__=regulab.__version__)
    facades[prefix] = Facade(prefix, spelling, None, top)
    return facades


def _all_facades() -> dict[str, Facade]:
    import regulab

    facades = _keras_tree("keras", "keras")
    tf_keras = _keras_tree("tensorflow.keras", "tf.keras")
    facades.update(tf_keras)
    random = Facade("tensorflow.random", "tf.random", None, {"set_seed": regulab.set_random_seed})
    facades["tensorflow.random"] = random
    facades["tensorflow"] = Facade("tensorflow", "tf", None, {
        "keras": tf_keras["tensorflow.keras"], "random": random, "__version__": regulab.__version__})
    return facades


class _Loader(importlib.abc.Loader):
    def __init__(self, facade: Facade):
        self.facade = facade

    def create_module(self, spec):
        return self.facade

    def exec_module(self, module) -> None:
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers imports of ``tensorflow``, ``keras`` and their submodules with facades."""

    def __init__(self):
        self.facades = _all_facades()

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] not in _ROOTS:
            return None
        facade = self.facades.get(fullname)
        if facade is None:
            parent, _, name = fullname.rpartition(".")
            if parent in self.facades:
                raise NotInRegulabImportError(self.facades[parent].missing(name), name=fullname)
            spelled = "tf" + fullname[len("tensorflow"):] if fullname.startswith("tensorflow") else fullname
            raise NotInRegulabImportError(f"{spelled} is not in regulab", name=fullname)
        return importlib.util.spec_from_loader(fullname, _Loader(facade), is_package=True)


_state: dict = {"finder": None, "saved": {}}


def installed() -> bool:
    """Whether the aliases are installed."""
    return _state["finder"] is not None


def _is_aliased(name: str) -> bool:
    return name.split(".")[0] in _ROOTS


def _resolve_tensorboard_tf() -> None:
    """tensorboard imports ``tensorflow`` lazily, on first use, to pick real TensorFlow or its own
    stub; resolved under the aliases it would get regulab's stand-in and fail. Resolve it first."""
    try:
        import tensorboard.compat as tensorboard_compat
    except ImportError:
        return
    try:
        dir(tensorboard_compat.tf)
    except Exception:  # noqa: BLE001 - a broken tensorboard install: its own import will say so later
        pass


def install() -> None:
    """Make ``tensorflow``, ``tensorflow.keras``, ``tf.keras`` and ``keras`` resolve to regulab.

    Modules of those names already imported (a real TensorFlow, say) are set aside until
    :func:`uninstall`. Calling it twice does nothing more.
    """
    if installed():
        return
    _resolve_tensorboard_tf()
    finder = _AliasFinder()
    _state["saved"] = {name: module for name, module in sys.modules.items() if _is_aliased(name)}
    for name in _state["saved"]:
        del sys.modules[name]
    sys.meta_path.insert(0, finder)
    _state["finder"] = finder


def uninstall() -> None:
    """Remove the aliases and give back any module they set aside."""
    finder = _state["finder"]
    if finder is None:
        return
    sys.meta_path.remove(finder)
    for name in [name for name in sys.modules if _is_aliased(name)]:
        del sys.modules[name]
    sys.modules.update(_state["saved"])
    _state.update(finder=None, saved={})


@contextlib.contextmanager
def aliased():
    """The aliases for the length of a ``with`` block (removed after it unless already installed)."""
    already = installed()
    install()
    try:
        yield
    finally:
        if not already:
            uninstall()

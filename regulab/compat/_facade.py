"""Modules that stand in for ``tensorflow``, ``tensorflow.keras`` and ``keras``.

A facade answers a name from the regulab module it mirrors (or from a small table of names that
live elsewhere in regulab) and refuses every other one with :class:`NotInRegulabError`, which names
the missing attribute as the script spelled it. A name regulab lacks therefore fails where it is
used, never as a half-working object.
"""
from __future__ import annotations

import dis
import sys
import types


class NotInRegulabError(AttributeError):
    """A TensorFlow or Keras name that regulab does not have.

    Raised on attribute access (``tf.keras.layers.Foo``); an import statement
    (``from tensorflow.keras.layers import Foo``) gets :class:`NotInRegulabImportError` with the
    same message, because Python replaces an AttributeError there by its own generic text.
    """


class NotInRegulabImportError(ImportError):
    """:class:`NotInRegulabError` raised inside an import statement."""


# names that exist in TensorFlow but on purpose not here, with what to use instead
_INSTEAD = {
    "datasets": "regulab downloads nothing at run time; regulab.datasets has offline data "
                "(load_digits, load_mnist1d, seed_task, load_python_docs)",
    "data": "pass NumPy arrays, or a generator such as datagen.flow(x, y), to fit",
    "function": "use model.compile(jit_compile=True) to compile training",
    "to_categorical": "use loss='sparse_categorical_crossentropy' with integer labels, or np.eye(n)[y]",
    "config": "regulab.set_device('cuda') and regulab.get_device() choose the device",
    "applications": "regulab downloads no pretrained models; layers.TorchModuleWrapper wraps a torch.nn.Module",
}


def _in_import_statement() -> bool:
    # the frame two levels up is the code that asked for the name (one level up is __getattr__);
    # inside ``from m import name`` it is executing IMPORT_FROM
    frame = sys._getframe(2)
    code = frame.f_code.co_code
    return 0 <= frame.f_lasti < len(code) and dis.opname[code[frame.f_lasti]] == "IMPORT_FROM"


class Facade(types.ModuleType):
    """A module named like TensorFlow's or Keras's whose names come from regulab.

    Args:
        name: the module's import name (``tensorflow.keras.layers``).
        spelling: how errors write it (``tf.keras.layers``).
        target: the regulab module whose public names it offers, or None.
        names: further names (attributes or child facades), looked up first.
    """

    def __init__(self, name: str, spelling: str, target: types.ModuleType | None = None,
                 names: dict | None = None):
        super().__init__(name, f"regulab's stand-in for {spelling}")
        self.__path__ = []  # a package, so that ``import tensorflow.keras.layers`` finds children
        object.__setattr__(self, "_spelling", spelling)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_names", dict(names or {}))

    def __getattr__(self, name: str):
        if name == "__all__":  # what ``from tensorflow.keras.layers import *`` imports
            return self._public()
        names = object.__getattribute__(self, "_names")
        if name in names:
            return names[name]
        target = object.__getattribute__(self, "_target")
        if not name.startswith("_") and target is not None and hasattr(target, name):
            public = getattr(target, "__all__", None)
            if public is None or name in public or isinstance(getattr(target, name), types.ModuleType):
                return getattr(target, name)
        if name.startswith("__"):
            raise AttributeError(name)
        message = self.missing(name)
        if _in_import_statement():
            raise NotInRegulabImportError(message, name=self.__name__)
        raise NotInRegulabError(message)

    def missing(self, name: str) -> str:
        """The message for a name this module lacks."""
        message = f"{self._spelling}.{name} is not in regulab"
        if name in _INSTEAD:
            return message + f" ({_INSTEAD[name]})"
        if object.__getattribute__(self, "_target") is not None:
            return message + f" (what {self._spelling} has: {', '.join(self._public())})"
        return message

    def _public(self) -> list[str]:
        names = set(object.__getattribute__(self, "_names"))
        target = object.__getattribute__(self, "_target")
        if target is not None:
            names |= set(getattr(target, "__all__", [n for n in vars(target) if not n.startswith("_")]))
        return sorted(n for n in names if not n.startswith("_"))

    def __dir__(self):
        return self._public()

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (regulab's stand-in for {self._spelling})>"

"""Models: ``Sequential`` and ``load_model``."""
from regulab.models._model import Model
from regulab.models._saving import load_model
from regulab.models._sequential import Sequential

__all__ = ["Model", "Sequential", "load_model"]

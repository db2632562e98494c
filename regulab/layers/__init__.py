"""Layers with Keras's names, arguments and defaults."""
from regulab.layers._augmentation import (RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                                          RandomRotation, RandomShift, RandomTranslation, RandomZoom)
from regulab.layers._base import CallContext, Layer, Variable
from regulab.layers._core import Activation, Dense, Flatten, Input, Reshape
from regulab.layers._dropout import Dropout, SpatialDropout1D, SpatialDropout2D
from regulab.layers._noise import AlphaDropout, GaussianDropout, GaussianNoise
from regulab.layers._normalization import BatchNormalization, LayerNormalization

__all__ = [
    "Layer", "Variable", "CallContext", "Input", "Dense", "Activation", "Flatten", "Reshape",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "BatchNormalization", "LayerNormalization", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "RandomCrop", "RandomShift",
]

#: layer classes by name, the only ones ``load_model`` will construct
REGISTRY = {name: globals()[name] for name in __all__ if name not in ("Layer", "Variable", "CallContext")}

"""Layers with Keras's names, arguments and defaults."""
from regulab.layers._augmentation import (RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                                          RandomRotation, RandomShift, RandomTranslation, RandomZoom)
from regulab.layers._base import Layer
from regulab.layers._context import CallContext
from regulab.layers._core import Activation, Dense, Flatten, Input, InputLayer, Reshape
from regulab.layers._dropout import Dropout, SpatialDropout1D, SpatialDropout2D
from regulab.layers._lambda import Lambda
from regulab.layers._merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                   average, concatenate, dot, maximum, minimum, multiply, subtract)
from regulab.layers._noise import AlphaDropout, GaussianDropout, GaussianNoise
from regulab.layers._normalization import BatchNormalization, LayerNormalization
from regulab.layers._symbolic import SymbolicTensor
from regulab.layers._torch_wrapper import TorchModuleWrapper
from regulab.layers._variable import Variable

__all__ = [
    "Layer", "Variable", "CallContext", "SymbolicTensor", "Input", "InputLayer", "Dense", "Activation",
    "Flatten", "Reshape", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "BatchNormalization", "LayerNormalization", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "RandomCrop", "RandomShift",
    "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
    "concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot",
    "Lambda", "TorchModuleWrapper",
]

#: layer classes by name, the only ones ``load_model`` builds besides registered ones
REGISTRY = {name: globals()[name] for name in __all__
            if name[0].isupper() and name not in ("Layer", "Variable", "CallContext", "SymbolicTensor", "Input")}

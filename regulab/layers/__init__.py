"""Layers with Keras's names, arguments and defaults."""
from regulab.layers._augmentation import (RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                                          RandomRotation, RandomShift, RandomTranslation, RandomZoom)
from regulab.layers._activation_layers import ELU, LeakyReLU, ReLU, Softmax
from regulab.layers._base import Layer
from regulab.layers._context import CallContext
from regulab.layers._conv import Conv1D, Conv2D
from regulab.layers._conv_depthwise import DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D
from regulab.layers._conv_transpose import Conv1DTranspose, Conv2DTranspose
from regulab.layers._core import Activation, Dense, Flatten, Input, InputLayer, Reshape
from regulab.layers._dropout import Dropout, SpatialDropout1D, SpatialDropout2D
from regulab.layers._embedding import Embedding, Masking
from regulab.layers._lambda import Lambda
from regulab.layers._merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                                   average, concatenate, dot, maximum, minimum, multiply, subtract)
from regulab.layers._noise import AlphaDropout, GaussianDropout, GaussianNoise
from regulab.layers._normalization import BatchNormalization, LayerNormalization
from regulab.layers._pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                                     GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D,
                                     MaxPooling2D)
from regulab.layers._preprocessing import Normalization, Rescaling
from regulab.layers._recurrent import GRU, LSTM, SimpleRNN
from regulab.layers._reshaping import (Cropping1D, Cropping2D, RepeatVector, UpSampling1D, UpSampling2D,
                                       ZeroPadding1D, ZeroPadding2D)
from regulab.layers._symbolic import SymbolicTensor
from regulab.layers._text_vectorization import TextVectorization
from regulab.layers._torch_wrapper import TorchModuleWrapper
from regulab.layers._variable import Variable
from regulab.layers._wrappers import Bidirectional, TimeDistributed

__all__ = [
    "Layer", "Variable", "CallContext", "SymbolicTensor", "Input", "InputLayer", "Dense", "Activation",
    "Flatten", "Reshape", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "BatchNormalization", "LayerNormalization", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "RandomCrop", "RandomShift",
    "Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot",
    "concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot",
    "Lambda", "TorchModuleWrapper",
    "LeakyReLU", "ReLU", "ELU", "Softmax",
    "Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D",
    "Embedding", "Masking", "Rescaling", "Normalization", "TextVectorization",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalMaxPooling1D",
    "GlobalAveragePooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
    "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "RepeatVector",
    "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
]

#: layer classes by name, the only ones ``load_model`` builds besides registered ones
REGISTRY = {name: globals()[name] for name in __all__
            if name[0].isupper() and name not in ("Layer", "Variable", "CallContext", "SymbolicTensor", "Input")}

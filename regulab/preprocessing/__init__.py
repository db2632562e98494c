"""Data preprocessing with Keras's names: ``regulab.preprocessing.image.ImageDataGenerator``."""
from regulab.preprocessing import image
from regulab.preprocessing.image import ImageDataGenerator, NumpyArrayIterator

__all__ = ["image", "ImageDataGenerator", "NumpyArrayIterator"]

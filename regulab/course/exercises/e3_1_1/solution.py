import numpy as np


def conv2d(image, kernel):
    """The 'valid' convolution of a 2-D image with a 2-D kernel, as a Conv2D layer computes it."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


# try it on a digit with a vertical-edge kernel
from regulab.datasets import load_digits

digits, labels = load_digits()
sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
print(conv2d(digits[0, :, :, 0], sobel).round(2))

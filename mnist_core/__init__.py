"""Digit Lab's engine: MNIST data, models, training runs, drawing preprocessing, prediction.

Importing this package is cheap: TensorFlow loads only in the modules that need it.
"""

__version__ = "0.1.0"

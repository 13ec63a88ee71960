"""`mnist_core.preprocess` is `mnist_core.drawing.preprocess`, under the public name callers and checks import it by."""

import sys

from mnist_core.drawing import preprocess

sys.modules[__name__] = preprocess

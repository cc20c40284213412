"""sklearn-backprop: a scikit-learn compatible multilayer perceptron trained by
backpropagation written in plain NumPy."""

__version__ = "0.1.0.dev0"

from ._mlp import BackpropMLPClassifier  # noqa: E402

__all__ = ["BackpropMLPClassifier", "__version__"]

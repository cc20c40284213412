"""sklearn-backprop: scikit-learn compatible multilayer perceptrons trained by
backpropagation written in plain NumPy."""

__version__ = "0.1.0.dev1"

from ._classifier import BackpropMLPClassifier  # noqa: E402
from ._display import TrainingCurvesDisplay  # noqa: E402
from ._move import move_estimator_to  # noqa: E402
from ._regressor import BackpropMLPRegressor  # noqa: E402

__all__ = [
    "BackpropMLPClassifier",
    "BackpropMLPRegressor",
    "TrainingCurvesDisplay",
    "move_estimator_to",
    "__version__",
]

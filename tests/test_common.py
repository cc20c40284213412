"""scikit-learn's estimator checks, with no expected failures."""

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from sklearn_backprop import BackpropMLPClassifier

ESTIMATORS = [
    BackpropMLPClassifier(),
    BackpropMLPClassifier(output_activation="softmax"),
    BackpropMLPClassifier(solver="adam", learning_rate_init=0.01),
    BackpropMLPClassifier(
        hidden_layer_sizes=(32, 16), activation="tanh", learning_rate_init=0.01
    ),
    BackpropMLPClassifier(activation="relu", alpha=1e-3, batch_size=32),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_check_estimator_with_legacy_checks():
    """The whole suite, legacy checks included, raises on the first failure."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = check_estimator(BackpropMLPClassifier(), legacy=True)
    assert results and all(r["status"] != "failed" for r in results)

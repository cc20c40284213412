"""The estimators on other array libraries, through scikit-learn's array API
dispatch: PyTorch (CPU here; CUDA in the GPU script) and array-api-strict.

scikit-learn's own array API checks run in ``test_common.py`` (the estimators
set the ``array_api_support`` tag); these tests add what they do not check:
that a fit in another namespace is the NumPy fit (the same seed gives the same
initial weights and the same minibatch order), and that the results stay in
the namespace of X.
"""

import pytest
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.datasets import load_digits, make_regression

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor
from sklearn_backprop._array_api import to_numpy
from sklearn_backprop._base import _ARRAY_API_AVAILABLE

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(
        not _ARRAY_API_AVAILABLE,
        reason="array API dispatch needs scikit-learn >= 1.9 and SciPy >= 1.14",
    ),
]


def _namespaces():
    """(name, xp, device) of the namespaces installed here."""
    found = []
    try:
        import torch

        found.append(("torch", torch, "cpu"))
    except ImportError:
        pass
    try:
        import array_api_strict

        found.append(("array_api_strict", array_api_strict, None))
    except ImportError:
        pass
    return found


# Imported only where dispatch can run (array-api-strict's newest releases may
# not import on the oldest NumPy that the package supports).
NAMESPACES = _namespaces() if _ARRAY_API_AVAILABLE else []
ESTIMATORS = [
    BackpropMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0),
    BackpropMLPClassifier(
        hidden_layer_sizes=(16,),
        solver="adam",
        activation="relu",
        output_activation="softmax",
        max_iter=5,
        random_state=0,
    ),
    BackpropMLPClassifier(
        hidden_layer_sizes=(16,), early_stopping=True, max_iter=5, random_state=0
    ),
    BackpropMLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0
    ),
    BackpropMLPRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=0),
    BackpropMLPRegressor(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0
    ),
]


def _data(estimator, dtype):
    if isinstance(estimator, BackpropMLPClassifier):
        X, y = load_digits(return_X_y=True)
        return (X[:400] / 16).astype(dtype), y[:400]
    X, y = make_regression(n_samples=300, n_features=10, noise=5.0, random_state=0)
    return X.astype(dtype), (y / 100).astype(dtype)


@pytest.mark.parametrize("name, xp, device", NAMESPACES, ids=[n[0] for n in NAMESPACES])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_in_another_namespace_is_the_numpy_fit(estimator, name, xp, device, dtype):
    X, y = _data(estimator, dtype)
    reference = estimator.__class__(**estimator.get_params()).fit(X, y)
    X_xp = xp.asarray(X, device=device)
    y_xp = xp.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        model = estimator.__class__(**estimator.get_params()).fit(X_xp, y_xp)
        predicted = model.predict(X_xp)
        hidden = model.transform(X_xp)
    tolerance = 1e-4 if dtype == "float32" else 1e-9
    if dtype == "float32" and estimator.solver == "lbfgs":
        # The libraries' float32 matrix products round differently, and the
        # line searches of 20 L-BFGS iterations amplify it (measured: 1.1e-4
        # relative on the loss curve, PyTorch 2.13 CPU against NumPy 2.4).
        tolerance = 1e-3
    for got, expected in zip(
        model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert type(got).__module__.split(".")[0] == name
        assert_allclose(
            to_numpy(got),
            expected,
            rtol=tolerance,
            atol=tolerance,
        )
    assert model.n_iter_ == reference.n_iter_
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tolerance)
    for result in (predicted, hidden):
        assert type(result).__module__.split(".")[0] == name
        assert str(result.dtype).rsplit(".", 1)[-1] in (dtype, "int64")
    expected_pred = reference.predict(X)
    got_pred = to_numpy(predicted)
    if isinstance(estimator, BackpropMLPClassifier):
        assert (got_pred == expected_pred).mean() > 0.99
    else:
        assert_allclose(got_pred, expected_pred, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name, xp, device", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_probabilities_and_score_in_the_namespace(name, xp, device):
    X, y = _data(ESTIMATORS[0], "float64")
    reference = BackpropMLPClassifier(
        hidden_layer_sizes=(16,), max_iter=5, random_state=0
    )
    reference.fit(X, y)
    X_xp, y_xp = xp.asarray(X, device=device), xp.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        model = BackpropMLPClassifier(
            hidden_layer_sizes=(16,), max_iter=5, random_state=0
        )
        model.fit(X_xp, y_xp)
        proba = model.predict_proba(X_xp)
        log_proba = model.predict_log_proba(X_xp)
        score = model.score(X_xp, y_xp)
    assert_allclose(to_numpy(proba), reference.predict_proba(X), atol=1e-9)
    assert_allclose(to_numpy(log_proba), reference.predict_log_proba(X), atol=1e-9)
    assert score == pytest.approx(reference.score(X, y))


def test_predicting_with_another_namespace_is_a_clear_error():
    torch = pytest.importorskip("torch")
    X, y = _data(ESTIMATORS[0], "float32")
    with config_context(array_api_dispatch=True):
        model = BackpropMLPClassifier(
            hidden_layer_sizes=(8,), max_iter=2, random_state=0
        )
        model.fit(torch.asarray(X), torch.asarray(y))
        with pytest.raises(
            ValueError,
            match=r"BackpropMLPClassifier.predict\(\) must use the same namespace",
        ):
            model.predict(X)

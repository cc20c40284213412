"""move_estimator_to: a fitted model moved between array namespaces and devices
(PyTorch CPU and array-api-strict here; PyTorch CUDA and CuPy in the GPU
tests, marker ``gpu``)."""

import pickle

import numpy as np
import pytest
from _helpers import digits
from _namespaces import as_array, library_of, namespace_params
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_backprop import (
    BackpropMLPClassifier,
    BackpropMLPRegressor,
    move_estimator_to,
)
from sklearn_backprop._array_api import to_numpy
from sklearn_backprop._base import _ARRAY_API_AVAILABLE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
needs_dispatch = pytest.mark.skipif(
    not _ARRAY_API_AVAILABLE,
    reason="array API dispatch needs scikit-learn >= 1.9 and SciPy >= 1.14",
)


NAMESPACES = namespace_params()


def _model(**params):
    defaults = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    return BackpropMLPClassifier(**{**defaults, **params})


def test_moving_to_numpy_is_an_independent_copy():
    X, y = digits(400, dtype=np.float32)
    model = _model(solver="adam").fit(X, y)
    coef_before = model.coefs_[0].copy()
    curve_before = list(model.loss_curve_)
    moved = move_estimator_to(model, np)
    assert moved is not model
    assert_array_equal(moved.predict_proba(X), model.predict_proba(X))
    moved.partial_fit(X, y)  # trains the copy only
    moved.coefs_[1][...] = 0.0
    assert_array_equal(model.coefs_[0], coef_before)
    assert model.loss_curve_ == curve_before
    assert len(moved.loss_curve_) == len(curve_before) + 1


def test_bad_arguments_are_clear_errors():
    X, y = digits(400, dtype=np.float32)
    with pytest.raises(NotFittedError):
        move_estimator_to(_model(), "numpy")
    model = _model().fit(X, y)
    with pytest.raises(ValueError, match="NumPy arrays live on the CPU"):
        move_estimator_to(model, "numpy", device="cuda")
    with pytest.raises(TypeError, match="moves sklearn-backprop's estimators"):
        move_estimator_to(object(), "numpy")
    with pytest.raises(ModuleNotFoundError, match="no_such_array_library"):
        move_estimator_to(model, "no_such_array_library")


@needs_dispatch
@pytest.mark.parametrize("name, device", NAMESPACES)
@pytest.mark.parametrize("Estimator", [BackpropMLPClassifier, BackpropMLPRegressor])
def test_a_model_fitted_elsewhere_moves_to_numpy_and_back(Estimator, name, device):
    X, y = digits(400, dtype=np.float32)
    if Estimator is BackpropMLPRegressor:
        y = (y / 10).astype(np.float32)
    X_xp = as_array(name, device, X)
    with config_context(array_api_dispatch=True):
        model = Estimator(
            hidden_layer_sizes=(16,), solver="adam", max_iter=3, random_state=0
        ).fit(X_xp, y)
        expected = to_numpy(model.predict(X_xp))
    on_host = move_estimator_to(model, "numpy")
    for array in on_host._device_arrays():
        assert isinstance(array, np.ndarray) and array.dtype == np.float32
    assert_allclose(on_host.predict(X), expected, rtol=1e-6, atol=1e-6)
    # What pickles is NumPy only: it loads where the library is not installed.
    assert name.encode() not in pickle.dumps(on_host)
    assert library_of(model.coefs_[0]) == name  # the original stays there

    back = move_estimator_to(on_host, name, device=device)
    assert all(library_of(a) == name for a in back._device_arrays())
    with config_context(array_api_dispatch=True):
        predicted = back.predict(X_xp)
    assert library_of(predicted) == name
    assert_allclose(to_numpy(predicted), expected, rtol=1e-6, atol=1e-6)


@needs_dispatch
@pytest.mark.parametrize("name, device", NAMESPACES)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_training_continues_where_it_stopped_after_a_move(name, device, solver):
    """The optimiser's state moves with the weights: a model fitted on NumPy,
    moved, then trained with partial_fit is the model trained on NumPy."""
    X, y = digits(400, dtype=np.float32)
    reference = _model(solver=solver).fit(X, y)
    moved = move_estimator_to(reference, name, device=device)
    reference.partial_fit(X, y)
    X_xp = as_array(name, device, X)
    with config_context(array_api_dispatch=True):
        moved.partial_fit(X_xp, y)
    # Everything follows X even without a move: the state goes where X is.
    followed = _model(solver=solver).fit(X, y)
    with config_context(array_api_dispatch=True):
        followed.partial_fit(X_xp, y)
    for model in (moved, followed):
        assert all(library_of(a) == name for a in model._device_arrays())
        for got, expected in zip(model._device_arrays(), reference._device_arrays()):
            assert_allclose(to_numpy(got), expected, rtol=1e-4, atol=1e-5)
        assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-5)


@needs_dispatch
@pytest.mark.parametrize("name, device", NAMESPACES)
# scikit-learn's StandardScaler divides 0 by 0 in its running variance on
# array-api-strict (scikit-learn 1.9.1), and handles the NaN itself.
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_a_pipeline_moves_through_scikit_learns_converter(name, device):
    X, y = digits(400, dtype=np.float32)
    X_xp = as_array(name, device, X)
    with config_context(array_api_dispatch=True):
        pipeline = make_pipeline(StandardScaler(), _model()).fit(X_xp, y)
        expected = to_numpy(pipeline.predict_proba(X_xp))
    on_host = move_estimator_to(pipeline, "numpy")
    assert isinstance(on_host[0].mean_, np.ndarray)
    assert isinstance(on_host[-1].coefs_[0], np.ndarray)
    assert isinstance(on_host[-1].classes_, np.ndarray)
    assert_allclose(on_host.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    # The copy shares nothing: training it leaves the original's state alone
    # (scikit-learn's converter may return the same memory; ours copies).
    original_state = [to_numpy(a).copy() for a in pipeline[-1]._device_arrays()]
    on_host[-1].partial_fit(on_host[0].transform(X), y)
    for before, array in zip(original_state, pipeline[-1]._device_arrays()):
        assert_array_equal(to_numpy(array), before)

"""The estimators on other array libraries, through scikit-learn's array API
dispatch: PyTorch (CPU here; CUDA in the GPU script) and array-api-strict.

scikit-learn's own array API checks run in ``test_common.py`` (the estimators
set the ``array_api_support`` tag); these tests add what they do not check:
that a fit in another namespace is the NumPy fit (the same seed gives the same
initial weights and the same minibatch order), and that the results stay in
the namespace of X.
"""

import numpy as np
import pytest
from _helpers import optional_backend
from _namespaces import as_array, library_of, namespace_params
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import clone, config_context
from sklearn.datasets import load_digits, make_regression

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor
from sklearn_backprop._array_api import device as device_of
from sklearn_backprop._array_api import to_numpy
from sklearn_backprop._base import _ARRAY_API_AVAILABLE

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(
        not _ARRAY_API_AVAILABLE,
        reason="array API dispatch needs scikit-learn >= 1.9 and SciPy >= 1.14",
    ),
]


NAMESPACES = namespace_params()
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


@pytest.mark.parametrize("name, device", NAMESPACES)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_in_another_namespace_is_the_numpy_fit(estimator, name, device, dtype):
    X, y = _data(estimator, dtype)
    reference = estimator.__class__(**estimator.get_params()).fit(X, y)
    X_xp = as_array(name, device, X)
    y_xp = as_array(name, device, y)
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
        assert library_of(got) == name
        assert device_of(got) == device_of(X_xp)
        assert_allclose(
            to_numpy(got),
            expected,
            rtol=tolerance,
            atol=tolerance,
        )
    assert model.n_iter_ == reference.n_iter_
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tolerance)
    for result in (predicted, hidden):
        assert library_of(result) == name
        assert device_of(result) == device_of(X_xp)
        assert str(result.dtype).rsplit(".", 1)[-1] in (dtype, "int64")
    expected_pred = reference.predict(X)
    got_pred = to_numpy(predicted)
    if isinstance(estimator, BackpropMLPClassifier):
        assert (got_pred == expected_pred).mean() > 0.99
    else:
        assert_allclose(got_pred, expected_pred, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name, device", NAMESPACES)
def test_probabilities_and_score_in_the_namespace(name, device):
    X, y = _data(ESTIMATORS[0], "float64")
    reference = BackpropMLPClassifier(
        hidden_layer_sizes=(16,), max_iter=5, random_state=0
    )
    reference.fit(X, y)
    X_xp, y_xp = as_array(name, device, X), as_array(name, device, y)
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


@pytest.mark.parametrize("name, device", NAMESPACES)
def test_predicting_with_another_namespace_is_a_clear_error(name, device):
    X, y = _data(ESTIMATORS[0], "float32")
    with config_context(array_api_dispatch=True):
        model = BackpropMLPClassifier(
            hidden_layer_sizes=(8,), max_iter=2, random_state=0
        )
        model.fit(as_array(name, device, X), y)
        with pytest.raises(
            ValueError,
            match=(
                r"BackpropMLPClassifier.predict\(\) must use the same namespace "
                rf"and the same device as those passed to fit\(\): fitted on "
                rf"{name} arrays .* got numpy arrays .*move_estimator_to"
            ),
        ):
            model.predict(X)


@pytest.mark.parametrize("name, device", NAMESPACES)
def test_predicting_without_dispatch_says_that_dispatch_is_off(name, device):
    X, y = _data(ESTIMATORS[0], "float32")
    X_there = as_array(name, device, X)
    with config_context(array_api_dispatch=True):
        model = clone(ESTIMATORS[0]).fit(X_there, y)
    with pytest.raises(ValueError, match=r"array_api_dispatch \(off\).*set_config"):
        model.predict(X_there)
    # Training on its arrays without dispatch is refused too, and loses
    # nothing: validation would have turned them into NumPy arrays, and the
    # model into a NumPy model (a GPU's arrays would not even convert).
    before = [to_numpy(array).copy() for array in model._device_arrays()]
    for train in (
        lambda: model.partial_fit(X_there, y),
        lambda: model.set_params(warm_start=True).fit(X_there, y),
    ):
        with pytest.raises(ValueError, match=r"array_api_dispatch \(off\)"):
            train()
        arrays = model._device_arrays()
        assert {library_of(array) for array in arrays} == {name}
        for array, copy in zip(arrays, before, strict=True):
            assert_array_equal(to_numpy(array), copy)


@pytest.mark.parametrize("name, device", NAMESPACES)
@pytest.mark.parametrize("dispatch", [True, False])
def test_training_on_other_arrays_moves_every_array_of_the_model(
    name, device, dispatch
):
    """Everything follows X: a model fitted elsewhere, trained on NumPy
    arrays by partial_fit or a warm-started fit, moves its weights, its
    optimiser's state and its early-stopping checkpoint to NumPy, never half
    of them; it then predicts from NumPy arrays, and says so to the others."""
    X, y = _data(ESTIMATORS[0], "float32")
    X, X_val, y, y_val = X[:300], X[300:], y[:300], y[300:]
    X_there, X_val_there = as_array(name, device, X), as_array(name, device, X_val)
    for model in (
        clone(ESTIMATORS[0]).set_params(solver="adam"),
        clone(ESTIMATORS[2]).set_params(warm_start=True),  # early stopping
    ):
        with config_context(array_api_dispatch=True):
            if model.early_stopping:
                model.fit(X_there, y, X_val=X_val_there, y_val=y_val)
            else:
                model.fit(X_there, y)
            arrays = model._device_arrays()
            assert {library_of(array) for array in arrays} == {name}
            best = to_numpy(model._best.weights).copy() if model._best else None
        with config_context(array_api_dispatch=dispatch):
            if model.early_stopping:
                # On the same validation set, a step too small to improve its
                # score: the checkpoint kept is the one moved from the other
                # library, not a new one.
                model.set_params(learning_rate_init=1e-30)
                model.fit(X, y, X_val=X_val, y_val=y_val)
                assert isinstance(model._best.weights, np.ndarray)
                assert_array_equal(model._best.weights, best)
            else:
                model.partial_fit(X, y)
            arrays = model._device_arrays()
            assert len(arrays) >= 4 and all(
                isinstance(array, np.ndarray) for array in arrays
            )
            assert model.predict(X).shape == y.shape
        with config_context(array_api_dispatch=True):
            with pytest.raises(ValueError, match=f"got {name} arrays"):
                model.predict(X_there)


# The ways a PyTorch tensor's values reach Python, and the ways host values
# become a tensor: on a GPU each one waits for the device (a synchronisation).
_TORCH_READS = ("__bool__", "__float__", "__int__", "__index__", "item", "tolist")
_TORCH_READS += ("numpy", "cpu", "__array__")
_TORCH_FROM_HOST = ("asarray", "tensor", "as_tensor", "from_numpy")


def _count_host_traffic(monkeypatch, torch):
    """Patch PyTorch to count reads of tensor values and tensors made from
    host values (numbers, lists, NumPy arrays)."""
    count = {"reads": 0, "from_host": 0}
    for method in _TORCH_READS:
        original = getattr(torch.Tensor, method)

        def read(self, *args, _original=original, **kwargs):
            count["reads"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, read)
    for function in _TORCH_FROM_HOST:
        original = getattr(torch, function)

        def from_host(data, *args, _original=original, **kwargs):
            if not isinstance(data, torch.Tensor):
                count["from_host"] += 1
            return _original(data, *args, **kwargs)

        monkeypatch.setattr(torch, function, from_host)
    return count


@pytest.mark.parametrize(
    "estimator",
    [
        BackpropMLPClassifier(solver="sgd"),
        BackpropMLPClassifier(solver="adam"),
        BackpropMLPClassifier(early_stopping=True, n_iter_no_change=100),
        BackpropMLPClassifier(activation="relu", alpha=1e-3),
        BackpropMLPClassifier(activation="tanh", output_activation="softmax"),
        BackpropMLPRegressor(),  # relu, adam
    ],
    ids=repr,
)
def test_no_device_traffic_per_minibatch(monkeypatch, estimator):
    """The loss, the accuracy counts and the divergence check accumulate on
    the device, and nothing is copied to it per minibatch: reads and copies
    are once per epoch whatever the number of minibatches (counted on
    PyTorch's CPU tensors, where each would synchronise a GPU)."""
    torch = optional_backend("torch")
    X, y = _data(estimator, "float32")
    X_torch = torch.asarray(X)
    count = _count_host_traffic(monkeypatch, torch)

    def traffic_of_a_fit(batch_size):
        model = clone(estimator).set_params(
            hidden_layer_sizes=(16,), batch_size=batch_size, max_iter=3
        )
        count.update(reads=0, from_host=0)
        with config_context(array_api_dispatch=True):
            model.fit(X_torch, y)
        assert model.n_iter_ == 3
        return dict(count)

    one_batch_per_epoch = traffic_of_a_fit(X.shape[0])
    many_batches_per_epoch = traffic_of_a_fit(10)
    assert one_batch_per_epoch["reads"] > 0  # the counting sees the epoch's reads
    assert one_batch_per_epoch["from_host"] > 0  # and the epoch's batch order
    assert many_batches_per_epoch == one_batch_per_epoch


@pytest.mark.parametrize("name, device", NAMESPACES)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_string_labels_come_back_as_numpy_labels(name, device, early_stopping):
    """Labels that no array library but NumPy holds stay on the host."""
    X, y = _data(ESTIMATORS[0], "float32")
    labels = np.array(["zero", "one", "two", "three", "four"] * 2)[y]
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    params["early_stopping"] = early_stopping
    reference = BackpropMLPClassifier(**params).fit(X, labels)
    X_xp = as_array(name, device, X)
    with config_context(array_api_dispatch=True):
        model = BackpropMLPClassifier(**params).fit(X_xp, labels)
        predicted = model.predict(X_xp)
        score = model.score(X_xp, labels)
    assert isinstance(predicted, np.ndarray)
    assert (predicted == reference.predict(X)).mean() > 0.99
    assert score == pytest.approx(reference.score(X, labels), abs=0.01)


def test_lists_and_dataframes_are_numpy_inputs_under_dispatch():
    """Array-likes that are no array API arrays are converted by NumPy, as in
    scikit-learn's own dispatch."""
    pandas = pytest.importorskip("pandas")
    X, y = _data(ESTIMATORS[0], "float64")
    params = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    reference = BackpropMLPClassifier(**params).fit(X, y)
    for X_like in (X.tolist(), pandas.DataFrame(X)):
        with config_context(array_api_dispatch=True):
            model = BackpropMLPClassifier(**params)
            model.fit(X_like, y)
            predicted = model.predict(X_like)
        assert isinstance(model.coefs_[0], np.ndarray)
        assert_allclose(model.coefs_[0], reference.coefs_[0])
        assert np.array_equal(predicted, reference.predict(X))

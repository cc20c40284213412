"""Persistence and cloning: ``clone`` gives an unfitted estimator with equal
parameters; pickle and joblib round trips predict identically and continue
training identically; saved files record the package version, and loading
one saved by another version warns with ``InconsistentVersionWarning``;
``skops.io`` loads models trusting only this package's own types.
"""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import skops.io as sio
from _helpers import (
    X_TEST,
    X_TRAIN,
    Y_TRAIN,
    assert_same_weights,
    fitted_toy,
    ignore_convergence,
    small,
    toy,
)
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import sklearn_backprop
import sklearn_backprop._base as base_module
from sklearn_backprop import BackpropMLPClassifier
from sklearn_backprop.exceptions import InconsistentVersionWarning

pytestmark = ignore_convergence


def test_clone_gives_unfitted_estimator_with_equal_params():
    clf = small(alpha=1e-3, solver="adam", class_weight={0: 2.0}).fit(X_TRAIN, Y_TRAIN)
    cloned = clone(clf)
    assert cloned is not clf
    assert cloned.get_params() == clf.get_params()
    assert not hasattr(cloned, "coefs_")
    assert not hasattr(cloned, "classes_")
    with pytest.raises(NotFittedError):
        cloned.predict(X_TEST)


def test_saved_files_record_the_package_version(tmp_path):
    clf, _, _ = fitted_toy()
    state = clf.__getstate__()
    assert state["_sklearn_backprop_version"] == sklearn_backprop.__version__
    version = sklearn_backprop.__version__.encode()
    assert version in pickle.dumps(clf)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    assert version in path.read_bytes()


def test_getstate_does_not_modify_the_estimator():
    """__getstate__ must return a new dict, not add the version key to the
    live estimator's __dict__ (object.__getstate__ returns __dict__ itself)."""
    clf, _, _ = fitted_toy()
    before = dict(vars(clf))
    state = clf.__getstate__()
    pickle.dumps(clf)
    assert "_sklearn_backprop_version" in state
    assert set(vars(clf)) == set(before)
    state["n_iter_"] = -1
    assert clf.n_iter_ == before["n_iter_"]


@pytest.mark.parametrize("persistence", ["pickle", "joblib"])
def test_round_trip_predicts_identically_and_continues_training(persistence, tmp_path):
    original = small(max_iter=5, solver="adam", learning_rate_init=0.01)
    original.fit(X_TRAIN, Y_TRAIN)
    if persistence == "pickle":
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # same version: no warning on load
            loaded = pickle.loads(pickle.dumps(original))
    else:
        path = tmp_path / "model.joblib"
        joblib.dump(original, path)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # same version: no warning on load
            loaded = joblib.load(path)
    assert "_sklearn_backprop_version" not in vars(loaded)
    assert_array_equal(loaded.predict_proba(X_TEST), original.predict_proba(X_TEST))
    assert_array_equal(loaded.predict(X_TEST), original.predict(X_TEST))
    assert loaded.get_params() == original.get_params()

    # partial_fit continues identically (RNG and optimiser state travel along)
    original.partial_fit(X_TRAIN, Y_TRAIN)
    loaded.partial_fit(X_TRAIN, Y_TRAIN)
    assert loaded.n_iter_ == original.n_iter_ == 1  # one epoch per call
    assert len(loaded.loss_curve_) == len(original.loss_curve_) == 6
    for model in (original, loaded):
        assert all(np.all(np.isfinite(c)) for c in model.coefs_)
    assert [c.shape for c in loaded.coefs_] == [c.shape for c in original.coefs_]
    assert_same_weights(loaded, original)

    # and so does a warm-started fit
    for model in (original, loaded):
        model.set_params(warm_start=True, max_iter=3)
        model.fit(X_TRAIN, Y_TRAIN)
    assert loaded.n_iter_ == original.n_iter_ == 3  # the epochs of this call
    assert len(loaded.loss_curve_) == len(original.loss_curve_) == 9
    assert_same_weights(loaded, original)
    assert_array_equal(loaded.predict_proba(X_TEST), original.predict_proba(X_TEST))


@pytest.mark.parametrize("roundtrip", ["pickle", "joblib"])
def test_other_version_warns_on_load(monkeypatch, roundtrip):
    clf, X, _ = fitted_toy()
    monkeypatch.setattr(base_module, "__version__", "0.0.1")
    if roundtrip == "pickle":
        data = pickle.dumps(clf)
    else:
        buffer = io.BytesIO()
        joblib.dump(clf, buffer)
        data = buffer.getvalue()
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        if roundtrip == "pickle":
            loaded = pickle.loads(data)
        else:
            loaded = joblib.load(io.BytesIO(data))
    warning = record[0].message
    assert warning.original_version == "0.0.1"
    assert warning.current_version == sklearn_backprop.__version__
    assert warning.estimator_name == "BackpropMLPClassifier"
    assert "0.0.1" in str(warning) and sklearn_backprop.__version__ in str(warning)
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("saved", ["0.0.1", None], ids=["other-version", "no-version"])
def test_setstate_with_edited_version(saved):
    clf, X, _ = fitted_toy()
    state = dict(clf.__getstate__())
    if saved is None:
        del state["_sklearn_backprop_version"]  # a file from before versioning
    else:
        state["_sklearn_backprop_version"] = saved
    new = BackpropMLPClassifier.__new__(BackpropMLPClassifier)
    with pytest.warns(InconsistentVersionWarning, match=saved or "unknown"):
        new.__setstate__(state)
    assert_array_equal(new.predict(X), clf.predict(X))


SKOPS_CASES = {
    "sgd": dict(),
    "adam-softmax": dict(solver="adam", output_activation="softmax"),
    "float32-str-labels": dict(),
    "early_stopping-class_weight": dict(early_stopping=True, class_weight="balanced"),
    "class_weight-dict-rng-instance": dict(
        class_weight={"b": 2.0}, random_state=np.random.RandomState(3)
    ),
    "multilabel": dict(hidden_layer_sizes=(4, 3)),
    "after-partial_fit": dict(),
}


@pytest.mark.parametrize("case", list(SKOPS_CASES))
def test_skops_roundtrip_trusts_only_own_types(case):
    X, y = toy()
    params = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    params.update(SKOPS_CASES[case])
    clf = BackpropMLPClassifier(**params)
    if case == "float32-str-labels":
        X = X.astype(np.float32)
    if case != "multilabel":
        y = np.array(["a", "b", "c"])[y]
    else:
        y = np.c_[y == 0, y == 1, y != 1].astype(int)
    if case == "after-partial_fit":
        clf.partial_fit(X, y)
    else:
        clf.fit(X, y)

    data = sio.dumps(clf)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted, "the estimator's own class must need trust"
    assert all(name.startswith("sklearn_backprop.") for name in untrusted), untrusted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = sio.loads(data, trusted=untrusted)
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(loaded.predict(X), clf.predict(X))
    assert "_sklearn_backprop_version" not in vars(loaded)

    # Both continue identically ('balanced' is not available in partial_fit).
    if params.get("class_weight") != "balanced":
        loaded.partial_fit(X, y)
        clf.partial_fit(X, y)
        assert_same_weights(loaded, clf)
        assert loaded.n_iter_ == clf.n_iter_


def test_skops_refuses_untrusted_load():
    clf, _, _ = fitted_toy()
    data = sio.dumps(clf)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)


def test_skops_from_other_version_warns(monkeypatch):
    clf, X, _ = fitted_toy()
    monkeypatch.setattr(base_module, "__version__", "0.0.1")
    data = sio.dumps(clf)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="0.0.1"):
        loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))

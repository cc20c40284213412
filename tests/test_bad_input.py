"""Bad input: every bad call to ``fit``, ``partial_fit`` or a prediction
method raises a ``ValueError`` or ``TypeError`` whose message names the problem
(never an ``IndexError``, a broadcasting error or a silent wrong answer), and a
fitted model hit by a bad call keeps its state: same weights, same classes,
same predictions. An unfitted model refuses to predict.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import assert_same_weights, fitted_toy, ignore_convergence, toy, weights
from numpy.testing import assert_array_equal

from sklearn_backprop import BackpropMLPClassifier

pytestmark = ignore_convergence


def _nan(X, value=np.nan):
    X = np.array(X, dtype=float, copy=True)
    X[1, 2] = value
    return X


def _ones(n):
    return np.ones(n)


# Each case: (id, call(clf, X, y), exception type(s), message regex).
# The estimator was fitted on X (60 x 4, float64) with y in {0, 1, 2}.
BAD_CALLS = [
    ("nan-in-X", lambda c, X, y: c.fit(_nan(X), y), ValueError, "X contains NaN"),
    (
        "inf-in-X",
        lambda c, X, y: c.fit(_nan(X, np.inf), y),
        ValueError,
        "X contains infinity",
    ),
    (
        "neg-inf-in-X",
        lambda c, X, y: c.fit(_nan(X, -np.inf), y),
        ValueError,
        "X contains infinity",
    ),
    (
        "nan-in-sparse-X",
        lambda c, X, y: c.fit(sp.csr_matrix(_nan(X)), y),
        ValueError,
        "X contains NaN",
    ),
    (
        "nan-in-y",
        lambda c, X, y: c.fit(X, np.where(np.arange(len(y)) == 3, np.nan, y)),
        ValueError,
        "y contains NaN",
    ),
    (
        "empty-X",
        lambda c, X, y: c.fit(X[:0], y[:0]),
        ValueError,
        "0 sample",
    ),
    ("1d-X", lambda c, X, y: c.fit(X[:, 0], y), ValueError, "Expected 2D array"),
    ("3d-X", lambda c, X, y: c.fit(X[:, :, None], y), ValueError, "dim 3"),
    (
        "single-class",
        lambda c, X, y: c.fit(X, np.zeros_like(y)),
        ValueError,
        "only one class",
    ),
    (
        "single-class-new-label",
        lambda c, X, y: c.fit(X, np.full(len(y), "z")),
        ValueError,
        "only one class",
    ),
    (
        "continuous-y",
        lambda c, X, y: c.fit(X, np.linspace(0, 1, len(y))),
        ValueError,
        "continuous",
    ),
    (
        "mixed-type-y",
        lambda c, X, y: c.fit(X, np.array([1, "a"] * (len(y) // 2), dtype=object)),
        ValueError,
        "label type",
    ),
    (
        "str-X",
        lambda c, X, y: c.fit(np.full(X.shape, "a"), y),
        ValueError,
        "string",
    ),
    (
        "object-X",
        lambda c, X, y: c.fit(np.full(X.shape, object(), dtype=object), y),
        TypeError,
        "object",
    ),
    (
        "complex-X",
        lambda c, X, y: c.fit(X + 1j, y),
        ValueError,
        "Complex",
    ),
    (
        "X-y-lengths",
        lambda c, X, y: c.fit(X, y[:-1]),
        ValueError,
        "inconsistent numbers of samples",
    ),
    (
        "sample_weight-length",
        lambda c, X, y: c.fit(X, y, sample_weight=_ones(len(y) - 1)),
        ValueError,
        "sample_weight has shape",
    ),
    (
        "sample_weight-2d",
        lambda c, X, y: c.fit(X, y, sample_weight=_ones((len(y), 1))),
        ValueError,
        "sample_weight has shape",
    ),
    (
        "sample_weight-negative",
        lambda c, X, y: c.fit(X, y, sample_weight=np.r_[-1.0, _ones(len(y) - 1)]),
        ValueError,
        "sample_weight contains negative",
    ),
    (
        "sample_weight-all-zero",
        lambda c, X, y: c.fit(X, y, sample_weight=np.zeros(len(y))),
        ValueError,
        "zero for every sample",
    ),
    (
        "sample_weight-nan",
        lambda c, X, y: c.fit(X, y, sample_weight=np.r_[np.nan, _ones(len(y) - 1)]),
        ValueError,
        "sample_weight contains NaN",
    ),
    (
        "sample_weight-inf",
        lambda c, X, y: c.fit(X, y, sample_weight=np.r_[np.inf, _ones(len(y) - 1)]),
        ValueError,
        "sample_weight contains infinity",
    ),
    (
        "X_val-nan",
        lambda c, X, y: c.fit(X, y, X_val=_nan(X), y_val=y),
        ValueError,
        "X contains NaN",
    ),
    (
        "X_val-inf",
        lambda c, X, y: c.fit(X, y, X_val=_nan(X, np.inf), y_val=y),
        ValueError,
        "X contains infinity",
    ),
    (
        "X_val-n_features",
        lambda c, X, y: c.fit(X, y, X_val=X[:, :3], y_val=y),
        ValueError,
        "expecting 4 features",
    ),
    (
        "X_val-y_val-lengths",
        lambda c, X, y: c.fit(X, y, X_val=X, y_val=y[:-1]),
        ValueError,
        "same length",
    ),
    (
        "y_val-unknown-labels",
        lambda c, X, y: c.fit(X, y, X_val=X, y_val=y + 10),
        ValueError,
        "not in classes_",
    ),
    (
        "sample_weight_val-nan",
        lambda c, X, y: c.fit(
            X, y, X_val=X, y_val=y, sample_weight_val=np.full(len(y), np.nan)
        ),
        ValueError,
        "sample_weight_val contains NaN",
    ),
    (
        "sample_weight_val-negative",
        lambda c, X, y: c.fit(X, y, X_val=X, y_val=y, sample_weight_val=-_ones(len(y))),
        ValueError,
        "sample_weight_val contains negative",
    ),
    (
        "class_weight-unknown-class",
        lambda c, X, y: c.set_params(class_weight={7: 2.0}).fit(X, y),
        ValueError,
        r"class_weight names classes \[7\]",
    ),
    (
        "class_weight-unknown-class-warm_start",
        lambda c, X, y: c.set_params(class_weight={7: 2.0}, warm_start=True).fit(X, y),
        ValueError,
        r"class_weight.*\b7\b",
    ),
    (
        "class_weight-unknown-class-partial_fit",
        lambda c, X, y: c.set_params(class_weight={7: 2.0}).partial_fit(X, y),
        ValueError,
        r"class_weight.*\b7\b",
    ),
    (
        "class_weight-negative",
        lambda c, X, y: c.set_params(class_weight={0: -1.0}).fit(X, y),
        ValueError,
        "class_weight",
    ),
    (
        "class_weight-nan",
        lambda c, X, y: c.set_params(class_weight={0: np.nan}).fit(X, y),
        ValueError,
        "class_weight",
    ),
    (
        "class_weight-inf",
        lambda c, X, y: c.set_params(class_weight={0: np.inf}).fit(X, y),
        ValueError,
        "class_weight",
    ),
    (
        # One positive weight: the early-stopping split leaves one side with
        # zero total weight (a ZeroDivisionError before the fix).
        "early_stopping-split-without-positive-weight",
        lambda c, X, y: c.set_params(early_stopping=True).fit(
            X, y, sample_weight=np.r_[1.0, np.zeros(len(y) - 1)]
        ),
        ValueError,
        "weight",
    ),
    (
        "partial_fit-labels-outside-classes",
        lambda c, X, y: c.partial_fit(X, y + 5),
        ValueError,
        r"labels \[5, 6, 7\] that are not in classes_",
    ),
    (
        "partial_fit-n_features",
        lambda c, X, y: c.partial_fit(X[:, :3], y),
        ValueError,
        "expecting 4 features",
    ),
    (
        "partial_fit-nan",
        lambda c, X, y: c.partial_fit(_nan(X), y),
        ValueError,
        "X contains NaN",
    ),
    (
        "warm_start-n_features",
        lambda c, X, y: c.set_params(warm_start=True).fit(X[:, :3], y),
        ValueError,
        "expecting 4 features",
    ),
    (
        "warm_start-target-type-changed",
        lambda c, X, y: c.set_params(warm_start=True).fit(
            X, np.c_[y == 0, y == 1].astype(int)
        ),
        ValueError,
        "type of target changed",
    ),
    (
        "multiclass-multioutput-y",
        lambda c, X, y: c.fit(X, np.c_[y, (y + 1) % 3]),
        ValueError,
        "multiclass-multioutput",
    ),
    # A bad call that also brings new (otherwise valid) data must not leave a
    # half-updated estimator behind: classes_, n_features_in_ and the output
    # layout must stay those of the weights.
    (
        "new-labels-and-negative-sample_weight",
        lambda c, X, y: c.fit(X, np.array(list("ab"))[y % 2], sample_weight=-_ones(60)),
        ValueError,
        "sample_weight contains negative",
    ),
    (
        "new-labels-and-unknown-class_weight",
        lambda c, X, y: c.set_params(class_weight={"q": 1.0}).fit(
            X, np.array(list("ab"))[y % 2]
        ),
        ValueError,
        r"class_weight names classes \['q'\]",
    ),
    (
        "new-n_features-and-continuous-y",
        lambda c, X, y: c.fit(X[:, :2], np.linspace(0, 1, len(y))),
        ValueError,
        "continuous",
    ),
    (
        "new-n_features-and-nan-X_val",
        lambda c, X, y: c.fit(X[:, :2], y, X_val=np.full((len(y), 2), np.nan), y_val=y),
        ValueError,
        "X contains NaN",
    ),
    (
        "multilabel-y-with-class_weight",
        lambda c, X, y: c.set_params(class_weight={0: 2.0}).fit(
            X, np.c_[y == 0, y == 1].astype(int)
        ),
        ValueError,
        "class_weight is not supported for multilabel",
    ),
    (
        "early_stopping-too-few-samples-new-labels",
        lambda c, X, y: c.set_params(
            early_stopping=True, validation_fraction=0.999
        ).fit(X, np.array(list("ab"))[y % 2]),
        ValueError,
        "early_stopping needs at least one training",
    ),
]


@pytest.mark.parametrize(
    "bad_call, exc_type, match",
    [pytest.param(*case[1:], id=case[0]) for case in BAD_CALLS],
)
def test_bad_call_raises_named_error_and_keeps_fitted_model(bad_call, exc_type, match):
    clf, X, y = fitted_toy()
    before = weights(clf)
    classes = clf.classes_.copy()
    n_features = clf.n_features_in_
    proba = clf.predict_proba(X)
    pred = clf.predict(X)

    with pytest.raises(exc_type, match=f"(?i){match}"):
        bad_call(clf, X, y)

    assert_same_weights(clf, before)
    assert_array_equal(clf.classes_, classes)
    assert clf.n_features_in_ == n_features
    assert_array_equal(clf.predict(X), pred)
    assert_array_equal(clf.predict_proba(X), proba)


def test_fit_with_new_n_features_is_a_refit_not_an_error():
    """A plain fit on different data is legitimate: it starts afresh."""
    clf, X, y = fitted_toy()
    clf.fit(X[:, :2], y)
    assert clf.n_features_in_ == 2
    assert clf.coefs_[0].shape[0] == 2
    with pytest.raises(ValueError, match="expecting 2 features"):
        clf.predict(X)


BAD_PREDICT_X = [
    ("n_features", lambda X: X[:, :3], ValueError, "expecting 4 features"),
    ("too-many-features", lambda X: np.c_[X, X], ValueError, "expecting 4 features"),
    ("nan", lambda X: _nan(X), ValueError, "X contains NaN"),
    ("inf", lambda X: _nan(X, np.inf), ValueError, "X contains infinity"),
    ("empty", lambda X: X[:0], ValueError, "0 sample"),
    ("1d", lambda X: X[0], ValueError, "Expected 2D array"),
    ("3d", lambda X: X[:, :, None], ValueError, "dim 3"),
    ("str", lambda X: np.full(X.shape, "a"), ValueError, "string"),
    ("object", lambda X: np.full(X.shape, object(), dtype=object), TypeError, "object"),
]


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
@pytest.mark.parametrize(
    "make_X, exc_type, match",
    [pytest.param(*case[1:], id=case[0]) for case in BAD_PREDICT_X],
)
def test_bad_input_at_predict(method, make_X, exc_type, match):
    clf, X, _ = fitted_toy()
    before = weights(clf)
    proba = clf.predict_proba(X)
    with pytest.raises(exc_type, match=f"(?i){match}"):
        getattr(clf, method)(make_X(X))
    assert_same_weights(clf, before)
    assert_array_equal(clf.predict_proba(X), proba)


def test_unfitted_model_raises_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    X, _ = toy()
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(BackpropMLPClassifier(), method)(X)


@ignore_convergence
@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(early_stopping=True, solver="adam"),
        dict(solver="lbfgs"),
        dict(class_weight="balanced", warm_start=True),
    ],
)
def test_a_failed_call_gives_back_every_attribute_training_sets(params):
    """What a fit sets is within what a failed call gives back (_FIT_STATE):
    an attribute added to training but not there would escape the revert."""
    from sklearn_backprop._base import _FIT_STATE

    X, y = toy()
    clf = BackpropMLPClassifier(hidden_layer_sizes=(3,), max_iter=3, **params)
    before = set(vars(clf))
    clf.fit(X, y).fit(X, y)
    if not params:  # partial_fit takes neither lbfgs, early_stopping, nor 'balanced'
        clf.partial_fit(X, y)
    set_by_training = set(vars(clf)) - before - {"_callback_fit_ctx"}
    assert set_by_training <= set(_FIT_STATE), set_by_training - set(_FIT_STATE)
    # and a failed call leaves every one of them as it was
    state = {name: vars(clf)[name] for name in set_by_training}
    lengths = {k: len(v) for k, v in state.items() if isinstance(v, list)}
    with pytest.raises(ValueError):
        clf.set_params(warm_start=True).fit(X, y, sample_weight=-np.ones(len(y)))
    for name, value in state.items():
        assert vars(clf)[name] is value, name
    assert {k: len(vars(clf)[k]) for k in lengths} == lengths

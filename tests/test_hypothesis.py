"""Property-based tests: for random data and hyperparameters, ``fit`` either
succeeds with a sane model or raises one of the documented errors.

The examples are derandomized so that CI always runs the same ones.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_backprop import BackpropMLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _settings(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # No shrinking: a failure is reported at once (shrinking these inputs
        # takes minutes), and derandomize makes it reproducible anyway.
        phases=[Phase.explicit, Phase.generate],
    )


DTYPES = {
    "float32": (np.float32, st.floats(-1e3, 1e3, width=32)),
    "float64": (np.float64, st.floats(-1e3, 1e3)),
    "int": (np.int64, st.integers(-1000, 1000)),
}


INT_LABELS = [-7, 0, 1, 2, 3, 10, 42, 255]
STR_LABELS = ["a", "b", "cat", "dog", "x", "y", "zz", "0"]


@st.composite
def datasets(draw, min_classes=2):
    """X of random shape and dtype, y with 2..5 (possibly imbalanced) classes
    given as ints or strings; every class of ``classes`` occurs in y."""
    n_samples = draw(st.integers(2, 60))
    n_features = draw(st.integers(1, 8))
    dtype, elements = DTYPES[draw(st.sampled_from(sorted(DTYPES)))]
    X = draw(hnp.arrays(dtype, (n_samples, n_features), elements=elements))
    n_classes = draw(st.integers(min_classes, min(5, n_samples)))
    pool = draw(st.sampled_from([INT_LABELS, STR_LABELS]))
    classes = draw(st.permutations(pool))[:n_classes]
    # Each class at least once, the rest drawn with a random (imbalanced) bias.
    rest = draw(
        st.lists(
            st.integers(0, n_classes - 1),
            min_size=n_samples - n_classes,
            max_size=n_samples - n_classes,
        )
    )
    order = draw(st.permutations(list(range(n_samples))))
    codes = np.array(list(range(n_classes)) + rest)[order]
    y = np.array(classes, dtype=object)[codes]
    y = y.astype(int) if isinstance(classes[0], int) else y.astype(str)
    return X, y


hyperparameters = st.fixed_dictionaries(
    {
        "activation": st.sampled_from(["identity", "logistic", "tanh", "relu"]),
        "output_activation": st.sampled_from(["logistic", "softmax"]),
        "solver": st.sampled_from(["sgd", "adam"]),
        "hidden_layer_sizes": st.lists(st.integers(1, 8), min_size=0, max_size=2).map(
            tuple
        ),
        "batch_size": st.integers(1, 64),
        "alpha": st.sampled_from([0.0, 1e-4, 1e-2, 1.0]),
        "learning_rate_init": st.floats(1e-4, 1.0),
        "max_iter": st.integers(1, 5),
        "shuffle": st.booleans(),
        "random_state": st.integers(0, 2**16),
    }
)


def _check_fitted(clf, X, y, n_epochs=None):
    """The invariants of a successfully fitted single-label model.

    ``n_epochs``: the epochs of every call (``n_iter_`` counts the last one's).
    """
    expected_dtype = np.float32 if X.dtype == np.float32 else np.float64
    assert_array_equal(clf.classes_, np.unique(y))
    assert clf.n_features_in_ == X.shape[1]
    assert 1 <= clf.n_iter_ <= clf.max_iter
    assert len(clf.loss_curve_) == (clf.n_iter_ if n_epochs is None else n_epochs)
    assert np.all(np.isfinite(clf.loss_curve_))
    for array in clf.coefs_ + clf.intercepts_:
        assert array.dtype == expected_dtype
        assert np.all(np.isfinite(array))

    proba = clf.predict_proba(X)
    log_proba = clf.predict_log_proba(X)
    pred = clf.predict(X)
    rtol = 1e-5 if expected_dtype == np.float32 else 1e-10
    assert proba.shape == (len(X), len(clf.classes_))
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba.sum(axis=1), 1, rtol=rtol)
    assert np.all(np.isfinite(log_proba))
    assert np.all(log_proba <= 1e-6)
    assert_allclose(np.exp(log_proba), proba, rtol=1e-3, atol=1e-6)
    assert pred.shape == (len(X),)
    assert np.all(np.isin(pred, clf.classes_))
    idx = np.searchsorted(clf.classes_, pred)
    assert_array_equal(proba[np.arange(len(X)), idx], proba.max(axis=1))


@_settings(max_examples=250)
@given(data=datasets(), params=hyperparameters)
def test_fit_succeeds_or_raises_a_documented_error(data, params):
    X, y = data
    clf = BackpropMLPClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            clf.fit(X, y)
        except FloatingPointError as exc:
            # Divergence: a clear message and finite weights left behind.
            assert "learning_rate_init" in str(exc)
            for array in clf.coefs_ + clf.intercepts_:
                assert np.all(np.isfinite(array))
            return
        # The data are valid (at least two classes, finite X), so nothing but
        # divergence may make fit fail.
        _check_fitted(clf, X, y)


extra_options = st.fixed_dictionaries(
    {
        "learning_rate": st.sampled_from(
            ["constant", "invscaling", "adaptive", "one_cycle"]
        ),
        "warmup_fraction": st.sampled_from([0.0, 0.1, 0.5]),
        "momentum": st.sampled_from([0.0, 0.5, 0.9, 1.0]),
        "nesterovs_momentum": st.booleans(),
        "early_stopping": st.booleans(),
        "validation_fraction": st.sampled_from([0.1, 0.3, 0.5]),
        "n_iter_no_change": st.integers(1, 3),
        "class_weight": st.sampled_from([None, "balanced"]),
    }
)


@_settings(max_examples=150)
@given(
    data=datasets(),
    params=hyperparameters,
    extra=extra_options,
    zero_fraction=st.sampled_from([None, 0.0, 0.5, 0.9]),
    weight_seed=st.integers(0, 2**16),
)
def test_fit_with_weights_schedules_and_early_stopping(
    data, params, extra, zero_fraction, weight_seed
):
    X, y = data
    sample_weight = None
    if zero_fraction is not None:
        # Non-negative weights, some of them zero (masking samples out).
        rng = np.random.RandomState(weight_seed)
        sample_weight = rng.choice([0.5, 1.0, 3.0], size=len(y))
        sample_weight[rng.rand(len(y)) < zero_fraction] = 0.0
    clf = BackpropMLPClassifier(**params, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            clf.fit(X, y, sample_weight=sample_weight)
        except FloatingPointError as exc:
            assert "learning_rate_init" in str(exc)
            for array in clf.coefs_ + clf.intercepts_:
                assert np.all(np.isfinite(array))
            return
        except ValueError as exc:
            if "validation set is too small" in str(exc):
                # scikit-learn's contract: early stopping holds out at least 2.
                held_out = np.ceil(extra["validation_fraction"] * len(y))
                assert extra["early_stopping"] and held_out < 2, exc
                return
            # The documented errors for these inputs: no positive weight at
            # all, or (early stopping) a split side without positive weight.
            assert sample_weight is not None, exc
            assert "weight" in str(exc), exc
            return
        _check_fitted(clf, X, y)


@_settings(max_examples=80)
@given(
    data=datasets(),
    params=hyperparameters,
    n_chunks=st.integers(1, 4),
)
def test_partial_fit_on_chunks_with_declared_classes(data, params, n_chunks):
    X, y = data
    classes = np.unique(y)
    clf = BackpropMLPClassifier(**params)
    chunks = np.array_split(np.arange(len(X)), n_chunks)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            for rows in chunks:
                if len(rows):
                    clf.partial_fit(X[rows], y[rows], classes=classes)
        except FloatingPointError as exc:
            assert "learning_rate_init" in str(exc)
            return
        assert_array_equal(clf.classes_, classes)
        assert clf.n_iter_ == 1  # one epoch per call, as in scikit-learn
        _check_fitted(clf, X, y, n_epochs=sum(1 for rows in chunks if len(rows)))


def _corrupt(kind, X, y, position):
    """A bad version of (X, y) and the message fragment its error must have."""
    n_samples, n_features = X.shape
    i, j = position % n_samples, position % n_features
    if kind in ("nan", "inf", "-inf"):
        X = X.astype(np.float64)
        X[i, j] = float(kind)
        fragment = "NaN" if kind == "nan" else "infinity"
        return X, y, {}, "X contains " + fragment
    if kind == "n_features":
        return np.c_[X, X[:, :1]], y, {}, "features"
    if kind == "length":
        return X, y[:-1], {}, "inconsistent numbers of samples"
    if kind == "y-nan":
        y = np.arange(n_samples, dtype=float) % 2
        y[i] = np.nan
        return X, y, {}, "y contains NaN"
    if kind == "sample_weight-negative":
        w = np.ones(n_samples)
        w[i] = -1.0
        return X, y, {"sample_weight": w}, "negative"
    if kind == "sample_weight-nan":
        w = np.ones(n_samples)
        w[i] = np.nan
        return X, y, {"sample_weight": w}, "sample_weight contains NaN"
    if kind == "sample_weight-zero":
        return X, y, {"sample_weight": np.zeros(n_samples)}, "zero for every sample"
    if kind == "sample_weight-length":
        return X, y, {"sample_weight": np.ones(n_samples + 1)}, "sample_weight"
    if kind == "continuous":
        return X, np.linspace(0.0, 1.0, n_samples) + 0.01, {}, "continuous"
    if kind == "one-class":
        return X, np.full(n_samples, y[0]), {}, "only one class"
    raise AssertionError(kind)


BAD_KINDS = [
    "nan",
    "inf",
    "-inf",
    "n_features",
    "length",
    "y-nan",
    "sample_weight-negative",
    "sample_weight-nan",
    "sample_weight-zero",
    "sample_weight-length",
    "continuous",
    "one-class",
]


@_settings(max_examples=120)
@given(
    data=datasets(),
    kind=st.sampled_from(BAD_KINDS),
    position=st.integers(0, 10**6),
    warm_start=st.booleans(),
)
def test_bad_input_raises_named_error_and_keeps_fitted_model(
    data, kind, position, warm_start
):
    X, y = data
    clf = BackpropMLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    weights = [a.copy() for a in clf.coefs_ + clf.intercepts_]
    classes = clf.classes_.copy()
    proba = clf.predict_proba(X)

    X_bad, y_bad, kwargs, fragment = _corrupt(kind, X, y, position)
    if kind == "n_features" and not warm_start:
        fragment = None  # a plain fit on new data is a legitimate refit
    if kind == "one-class" and warm_start:
        fragment = None  # continuing on a chunk of known classes is allowed
    clf.set_params(warm_start=warm_start)
    if fragment is None:
        return
    with pytest.raises((ValueError, TypeError), match=f"(?i){fragment}"):
        clf.fit(X_bad, y_bad, **kwargs)

    for before, after in zip(weights, clf.coefs_ + clf.intercepts_):
        assert_array_equal(before, after)
    assert_array_equal(clf.classes_, classes)
    assert_array_equal(clf.predict_proba(X), proba)

"""The 'auto' defaults (issue 21): resolved at fit from the solver, the
schedule and the data, recorded in fitted attributes; small data trained
without a warning by every solver; the regressor's standardised targets, and
the switch back to scikit-learn's model."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor
from sklearn_backprop._defaults import resolve


def _iris():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# solver: (batch_size_, learning_rate_init_, max_iter_) on iris's 112
# training rows, and the test accuracy each reaches.
IRIS = {
    "sgd": ((32, 0.6, 88), 0.97),  # 4 batches an epoch, 350 updates
    "adam": ((32, 0.05, 88), 0.97),
    "lbfgs": ((None, 0.001, 200), 0.97),
}


@pytest.mark.parametrize("solver", IRIS)
def test_small_data_trains_without_a_warning(solver):
    X_train, X_test, y_train, y_test = _iris()
    resolved, accuracy = IRIS[solver]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, nor any other
        clf = BackpropMLPClassifier(solver=solver, random_state=0)
        clf.fit(X_train, y_train)
    assert (clf.batch_size_, clf.learning_rate_init_, clf.max_iter_) == resolved
    assert clf.score(X_test, y_test) >= accuracy
    # The parameters are left as given.
    params = clf.get_params()
    assert (params["batch_size"], params["max_iter"]) == ("auto", "auto")


def test_the_former_defaults_on_small_data_were_16_updates():
    # Issue 21's scenario: 8 epochs of one batch of 112 rows.
    X_train, X_test, y_train, y_test = _iris()
    old = BackpropMLPClassifier(
        batch_size=100, learning_rate_init=0.6, max_iter=8, random_state=0
    ).fit(X_train, y_train)
    assert old.n_iter_ * int(np.ceil(len(X_train) / 100)) == 16
    new = BackpropMLPClassifier(random_state=0).fit(X_train, y_train)
    assert new.score(X_test, y_test) > old.score(X_test, y_test)


def test_what_auto_resolves_to():
    clf = BackpropMLPClassifier()
    # One batch of all up to 32 samples; n / 8 from 256 on; 100 from 800 on.
    assert [resolve(clf, n).batch_size for n in (10, 32, 200, 400, 800, 10**6)] == [
        10,
        32,
        32,
        50,
        100,
        100,
    ]
    # At least 350 updates, at least 8 epochs.
    assert resolve(clf, 10).max_iter == 350
    assert resolve(clf, 400).max_iter == 44  # 8 batches of 50
    assert resolve(clf, 60_000).max_iter == 8
    # Explicit values are kept; the batch is still clipped to the data.
    fixed = BackpropMLPClassifier(batch_size=64, max_iter=3, learning_rate_init=0.2)
    assert resolve(fixed, 50) == (50, 0.2, 3)
    # scikit-learn's schedules: scikit-learn's numbers.
    constant = BackpropMLPClassifier(learning_rate="constant")
    assert resolve(constant, 1000) == (200, 0.001, 200)
    # The 'sgd' peak follows the hidden units.
    assert resolve(BackpropMLPClassifier(activation="relu"), 1000)[1] == 0.05


def test_partial_fit_records_the_cycle_it_follows():
    X_train, _, y_train, _ = _iris()
    clf = BackpropMLPClassifier(random_state=0)
    clf.partial_fit(X_train, y_train, classes=[0, 1, 2])
    assert (clf.max_iter_, clf._schedule.n_epochs) == (88, 88)
    clf.partial_fit(X_train[:40], y_train[:40])  # a smaller call: same cycle
    assert (clf.max_iter_, clf._schedule.epochs_done) == (88, 2)
    assert clf.batch_size_ == 32


# ----------------------------------------------------------------------
# The regressor's standardised targets
# ----------------------------------------------------------------------
def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return train_test_split(X, y, random_state=0)


def test_regressor_defaults_beat_a_constant_on_raw_targets():
    X_train, X_test, y_train, y_test = _diabetes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = BackpropMLPRegressor(random_state=0).fit(X_train, y_train)
    assert reg.target_mean_ == pytest.approx(y_train.mean())
    assert reg.target_scale_ == pytest.approx(y_train.std())
    assert reg.score(X_test, y_test) > 0.3
    # scikit-learn's MLPRegressor() ends far below a constant prediction.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = MLPRegressor(random_state=0).fit(X_train, y_train)
    assert sk.score(X_test, y_test) < 0
    # The predictions are in y's units: around its mean, not around 0.
    assert abs(reg.predict(X_test).mean() - y_train.mean()) < 0.2 * y_train.std()


def test_standardize_target_false_is_scikit_learns_model():
    X_train, X_test, y_train, _ = _diabetes()
    X_train = StandardScaler().fit_transform(X_train)
    params = dict(max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = MLPRegressor(**params).fit(X_train, y_train)
        ours = BackpropMLPRegressor(
            learning_rate="constant",
            learning_rate_init=0.001,
            standardize_target=False,
            **params,
        ).fit(X_train, y_train)
    assert ours.target_mean_ is None and ours.target_scale_ is None
    for a, b in zip(ours.coefs_, sk.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert_allclose(ours.predict(X_train), sk.predict(X_train), rtol=1e-9)


def test_standardisation_is_weighted_per_column_and_keeps_constant_columns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = np.c_[1000 + 50 * X[:, 0], np.full(60, 7.0), 0.01 * X[:, 1]]
    weights = rng.integers(0, 3, size=60)
    reg = BackpropMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    reg.fit(X, Y, sample_weight=weights)
    mean = np.average(Y, axis=0, weights=weights)
    scale = np.sqrt(np.average((Y - mean) ** 2, axis=0, weights=weights))
    assert_allclose(reg.target_mean_, mean, rtol=1e-12)
    assert_allclose(reg.target_scale_[[0, 2]], scale[[0, 2]], rtol=1e-12)
    assert reg.target_scale_[1] == 1.0  # a constant column is not divided by 0
    assert np.all(np.isfinite(reg.predict(X)))


def test_poisson_targets_are_not_standardised():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = rng.poisson(np.exp(X[:, 0]))
    reg = BackpropMLPRegressor(loss="poisson", max_iter=5, random_state=0).fit(X, y)
    assert reg.target_mean_ is None and reg.target_scale_ is None

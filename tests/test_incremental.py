"""Incremental training: ``partial_fit`` (classes absent from the first
chunk, labels outside ``classes`` rejected, its epochs equal to those of
``fit``, continuing after ``fit``) and ``warm_start`` (continuing a fit, or
starting from weights assigned to ``coefs_`` and ``intercepts_``, before or
after a fit; wrong shapes are named).
"""

import warnings

import numpy as np
import pytest
from _helpers import (
    X_BIN,
    X_MC,
    X_TRAIN,
    Y_BIN,
    Y_MC,
    Y_TRAIN,
    assert_same_weights,
    ignore_convergence,
    small,
    weights_differ,
)
from numpy.testing import assert_allclose, assert_array_equal


# ----------------------------------------------------------------------
# partial_fit
# ----------------------------------------------------------------------
def test_partial_fit_with_classes_absent_from_first_chunk():
    labels = np.array(["a", "b", "c"])
    y = labels[Y_MC]
    first = y != "c"
    clf = small(batch_size=16)
    clf.partial_fit(X_MC[first], y[first], classes=["c", "a", "b"])
    assert_array_equal(clf.classes_, labels)
    assert clf.n_outputs_ == 3
    assert clf.n_iter_ == 1
    assert clf.t_ == first.sum()
    assert clf.predict_proba(X_MC).shape == (len(y), 3)

    t = clf.t_
    for epoch in range(2, 12):
        clf.partial_fit(X_MC, y)
        assert clf.n_iter_ == 1  # one epoch per call, as in scikit-learn
        assert clf.t_ == t + len(y)
        assert len(clf.loss_curve_) == epoch
        t = clf.t_
    assert_array_equal(clf.classes_, labels)
    assert "c" in set(clf.predict(X_MC[~first]))
    assert clf.score(X_MC, y) > 0.75

    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X_MC[:5], np.array(["a", "b", "z", "a", "b"]))
    assert len(clf.loss_curve_) == 11  # the rejected call trained nothing


def test_partial_fit_rejects_labels_outside_classes():
    clf = small()
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X_MC, Y_MC, classes=[0, 1])
    clf = small().partial_fit(X_MC, Y_MC, classes=[0, 1, 2, 3])
    assert_array_equal(clf.classes_, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X_MC[:4], np.array([0, 1, 5, 2]))
    assert clf.n_iter_ == 1  # the rejected call trained nothing


@ignore_convergence
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", learning_rate="constant"),
        dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5),
        dict(solver="sgd", learning_rate="one_cycle"),
        dict(solver="adam", learning_rate_init=0.01),
    ],
    ids=["sgd-momentum", "sgd-invscaling", "sgd-one-cycle", "adam"],
)
def test_partial_fit_epochs_equal_fit_epochs(params):
    """The optimiser's state (velocity, Adam moments, step size) carries over
    between partial_fit calls as between the epochs of fit (without shuffling,
    whose permutations legitimately differ between the two)."""
    params = dict(batch_size=16, shuffle=False, max_iter=3, **params)
    fitted = small(**params).fit(X_MC, Y_MC)
    incremental = small(**params)  # 'one_cycle': the same 3-epoch cycle
    for _ in range(3):
        incremental.partial_fit(X_MC, Y_MC)
    assert_same_weights(incremental, fitted)
    assert incremental.loss_curve_ == fitted.loss_curve_


def test_partial_fit_continues_after_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = small(max_iter=3).fit(X_MC, Y_MC)
    before = [c.copy() for c in clf.coefs_]
    clf.partial_fit(X_MC, Y_MC)
    assert clf.n_iter_ == 1
    assert len(clf.loss_curve_) == 4
    assert clf.t_ == 4 * len(Y_MC)
    assert any(not np.array_equal(b, c) for b, c in zip(before, clf.coefs_))


# ----------------------------------------------------------------------
# warm_start
# ----------------------------------------------------------------------
@ignore_convergence
def test_warm_start_fit_continues():
    clf = small(max_iter=5, warm_start=True)
    clf.fit(X_TRAIN, Y_TRAIN)
    first_curve = list(clf.loss_curve_)
    first_weights = [c.copy() for c in clf.coefs_]
    clf.fit(X_TRAIN, Y_TRAIN)
    assert clf.n_iter_ == 5  # the epochs of this call, as in scikit-learn
    assert clf.t_ == 10 * len(Y_TRAIN)
    assert len(clf.loss_curve_) == 10
    assert clf.loss_curve_[:5] == first_curve
    assert clf.loss_curve_[5] < first_curve[0]
    assert clf.loss_curve_[5] < first_curve[-1] * 1.5
    assert any(not np.array_equal(a, b) for a, b in zip(first_weights, clf.coefs_))

    # without warm_start, fit starts afresh and equals a new model's fit
    clf.set_params(warm_start=False)
    clf.fit(X_TRAIN, Y_TRAIN)
    assert clf.n_iter_ == 5
    assert_same_weights(clf, small(max_iter=5).fit(X_TRAIN, Y_TRAIN))


@ignore_convergence
def test_warm_start_from_assigned_weights():
    X, y = X_MC, Y_MC
    donor = small(max_iter=5, random_state=11).fit(X, y)
    # One full batch: the loss recorded is that of the weights it starts from.
    continue_params = dict(
        warm_start=True, max_iter=1, shuffle=False, batch_size=10_000
    )

    def continue_from(coefs, intercepts, seed):
        model = small(max_iter=2, random_state=seed).fit(X, y)
        model.coefs_ = [np.array(c, copy=True) for c in coefs]
        model.intercepts_ = [np.array(b, copy=True) for b in intercepts]
        model.set_params(**continue_params)
        return model.fit(X, y)

    a = continue_from(donor.coefs_, donor.intercepts_, seed=0)
    b = continue_from(donor.coefs_, donor.intercepts_, seed=1)
    assert_same_weights(a, b)
    assert a.loss_curve_[-1] == b.loss_curve_[-1]
    # and it is the donor's own continuation
    donor.set_params(**continue_params)
    donor.fit(X, y)
    assert_same_weights(a, donor)

    zeros = continue_from(
        [np.zeros_like(c) for c in a.coefs_],
        [np.zeros_like(i) for i in a.intercepts_],
        seed=0,
    )
    assert weights_differ(a, zeros)
    assert zeros.loss_curve_[-1] != a.loss_curve_[-1]
    # the zero network's first loss: 3 sigmoid outputs of 1/2 -> 3 log 2
    assert_allclose(zeros.loss_curve_[-1], 3 * np.log(2), rtol=1e-12)


@ignore_convergence
def test_warm_start_takes_exactly_one_gradient_step_from_assigned_weights():
    """No hidden layer, full batch, no momentum nor penalty: one epoch is
    W <- W - lr X^T (sigmoid(X W + b) - y) / n, from the weights we set."""
    X, y = X_BIN, Y_BIN
    lr = 0.3
    clf = small(
        hidden_layer_sizes=(),
        max_iter=1,
        momentum=0.0,
        alpha=0.0,
        batch_size=len(y),
        learning_rate="constant",
        learning_rate_init=lr,
    ).fit(X, y)
    W0 = np.linspace(-1, 1, X.shape[1]).reshape(-1, 1)
    b0 = np.array([0.25])
    clf.coefs_, clf.intercepts_ = [W0.copy()], [b0.copy()]
    clf.set_params(warm_start=True, shuffle=False)
    clf.fit(X, y)
    z = X @ W0 + b0
    residual = 1 / (1 + np.exp(-z)) - y[:, None]
    assert_allclose(clf.coefs_[0], W0 - lr * X.T @ residual / len(y), rtol=1e-12)
    assert_allclose(clf.intercepts_[0], b0 - lr * residual.mean(axis=0), rtol=1e-12)
    expected_loss = np.mean(np.logaddexp(0, z[:, 0]) - y * z[:, 0])
    assert_allclose(clf.loss_curve_[-1], expected_loss, rtol=1e-12)


@ignore_convergence
def test_warm_start_rejects_weights_of_the_wrong_shape():
    clf = small(max_iter=2).fit(X_MC, Y_MC)
    clf.coefs_ = [np.zeros((3, 8)), clf.coefs_[1]]
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match="coefs_"):
        clf.fit(X_MC, Y_MC)


@ignore_convergence
def test_weights_assigned_before_any_fit_are_the_starting_point():
    """As in scikit-learn's MLP: coefs_ set on an unfitted model + warm_start."""
    reference = small(max_iter=3).fit(X_MC, Y_MC)
    start_coefs = [c * 0.5 for c in reference.coefs_]
    start_intercepts = [b + 0.1 for b in reference.intercepts_]

    def started(coefs, intercepts):
        clf = small(max_iter=1, warm_start=True, shuffle=False)
        clf.coefs_ = [c.copy() for c in coefs]
        clf.intercepts_ = [b.copy() for b in intercepts]
        return clf.fit(X_MC, Y_MC)

    first = started(start_coefs, start_intercepts)
    second = started(start_coefs, start_intercepts)
    assert_same_weights(first, second)
    assert first.n_iter_ == 1
    # A model drawn at random by the same seed ends elsewhere.
    fresh = small(max_iter=1, shuffle=False).fit(X_MC, Y_MC)
    assert weights_differ(first, fresh)
    # Wrong shapes are named, not a broadcasting error.
    clf = small(warm_start=True)
    clf.coefs_ = [np.zeros((3, 8)), np.zeros((8, 3))]
    clf.intercepts_ = [np.zeros(8), np.zeros(3)]
    with pytest.raises(ValueError, match="coefs_ and intercepts_ do not match"):
        clf.fit(X_MC, Y_MC)


@ignore_convergence
@pytest.mark.parametrize("learning_rate", ["constant", "one_cycle"])
def test_partial_fit_after_a_fresh_lbfgs_fit_starts_a_new_optimizer(learning_rate):
    # The velocity and the schedule's position of an earlier 'sgd' fit belong
    # to weights that the 'lbfgs' fit replaced: partial_fit starts afresh.
    params = dict(solver="sgd", learning_rate=learning_rate, max_iter=5)
    clf = small(**params).fit(X_MC, Y_MC)
    clf.set_params(solver="lbfgs").fit(X_MC, Y_MC)
    clf.set_params(solver="sgd").partial_fit(X_MC, Y_MC)
    reference = small(**params).set_params(solver="lbfgs").fit(X_MC, Y_MC)
    reference.set_params(solver="sgd").partial_fit(X_MC, Y_MC)
    assert_same_weights(clf, reference)

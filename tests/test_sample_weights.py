"""Sample and class weights: an integer ``sample_weight`` equals repeating
rows and a zero weight equals removing them; ``class_weight`` (a dict or
'balanced') equals the matching ``sample_weight``, multiplies a given one,
works with a validation set, and shifts predictions towards the up-weighted
class.
"""

import numpy as np
import pytest
from _helpers import (
    X_BIN,
    X_MC,
    Y_BIN,
    Y_MC,
    assert_same_weights,
    ignore_convergence,
    small,
    weights_differ,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.utils.class_weight import compute_sample_weight


def assert_close_weights(a, b, rtol=1e-6, atol=1e-12):
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(ca, cb, rtol=rtol, atol=atol)


@ignore_convergence
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(
    "X, y", [(X_BIN, Y_BIN), (X_MC, Y_MC)], ids=["binary", "multiclass"]
)
def test_integer_sample_weight_equals_repeated_rows(X, y, shuffle):
    weights = np.random.RandomState(0).randint(1, 4, size=len(y))
    X_rep, y_rep = np.repeat(X, weights, axis=0), np.repeat(y, weights)
    params = dict(batch_size=len(y_rep), shuffle=shuffle, max_iter=10)
    weighted = small(**params).fit(X, y, sample_weight=weights)
    repeated = small(**params).fit(X_rep, y_rep)
    assert_close_weights(weighted, repeated)
    assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-6)
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6)
    # and the weights matter
    unweighted = small(**params).fit(X, y)
    assert not np.allclose(unweighted.coefs_[0], weighted.coefs_[0])


@ignore_convergence
@pytest.mark.parametrize("shuffle", [False, True])
def test_zero_sample_weight_equals_removing_rows(shuffle):
    weights = np.ones(len(Y_MC))
    weights[::3] = 0
    keep = weights > 0
    params = dict(batch_size=len(Y_MC), shuffle=shuffle, max_iter=10)
    weighted = small(**params).fit(X_MC, Y_MC, sample_weight=weights)
    removed = small(**params).fit(X_MC[keep], Y_MC[keep])
    assert_close_weights(weighted, removed)
    assert_allclose(weighted.loss_curve_, removed.loss_curve_, rtol=1e-6)
    assert_allclose(
        weighted.predict_proba(X_MC), removed.predict_proba(X_MC), rtol=1e-6
    )


@ignore_convergence
def test_class_weight_dict_equals_sample_weight():
    params = dict(batch_size=16, max_iter=8)
    by_class = small(class_weight={0: 10, 1: 1}, **params).fit(X_BIN, Y_BIN)
    by_sample = small(**params).fit(
        X_BIN, Y_BIN, sample_weight=np.where(Y_BIN == 0, 10.0, 1.0)
    )
    assert_same_weights(by_class, by_sample)
    # class_weight multiplies sample_weight
    sw = np.random.RandomState(0).uniform(0.5, 2, size=len(Y_BIN))
    both = small(class_weight={0: 10, 1: 1}, **params).fit(
        X_BIN, Y_BIN, sample_weight=sw
    )
    product = small(**params).fit(
        X_BIN, Y_BIN, sample_weight=sw * np.where(Y_BIN == 0, 10.0, 1.0)
    )
    assert_same_weights(both, product)


@ignore_convergence
def test_class_weight_balanced_equals_balanced_sample_weight():
    y = Y_MC.copy()
    y[np.flatnonzero(y == 2)[:20]] = 0  # imbalance the classes
    params = dict(batch_size=16, max_iter=8)
    balanced = small(class_weight="balanced", **params).fit(X_MC, y)
    by_sample = small(**params).fit(
        X_MC, y, sample_weight=compute_sample_weight("balanced", y)
    )
    assert_same_weights(balanced, by_sample)
    assert weights_differ(balanced, small(**params).fit(X_MC, y))


@ignore_convergence
def test_class_weight_balanced_with_validation_set():
    """'balanced' weights come from the training targets: on perfectly
    balanced training data they are all 1, so the model, validation scores
    included, equals the unweighted one."""
    assert_array_equal(np.bincount(Y_MC), [30, 30, 30])
    X_val, y_val = X_MC[:30], Y_MC[:30]  # classes 13 / 8 / 9 times
    balanced = small(class_weight="balanced", max_iter=4)
    balanced.fit(X_MC, Y_MC, X_val=X_val, y_val=y_val)
    plain = small(max_iter=4).fit(X_MC, Y_MC, X_val=X_val, y_val=y_val)
    assert_same_weights(balanced, plain)
    assert_allclose(balanced.validation_scores_, plain.validation_scores_)
    assert balanced.validation_scores_[-1] == pytest.approx(
        balanced.score(X_val, y_val)
    )


@ignore_convergence
def test_class_weight_balanced_with_validation_set_missing_a_class():
    X_val, y_val = X_MC[:30], Y_MC[:30]
    no_class_2 = y_val != 2
    clf = small(class_weight="balanced", max_iter=4)
    clf.fit(X_MC, Y_MC, X_val=X_val[no_class_2], y_val=y_val[no_class_2])
    assert len(clf.validation_scores_) == clf.n_iter_ == 4
    assert np.all(np.isfinite(clf.validation_loss_curve_))


@ignore_convergence
def test_class_weight_shifts_predictions_to_upweighted_class():
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=3,
        weights=[0.85, 0.15],
        class_sep=0.5,
        flip_y=0.05,
        random_state=0,
    )
    params = dict(max_iter=30, batch_size=32)
    plain = small(**params).fit(X, y)
    upweighted = small(class_weight={0: 1, 1: 8}, **params).fit(X, y)
    n_plain = np.sum(plain.predict(X) == 1)
    n_up = np.sum(upweighted.predict(X) == 1)
    assert n_up > n_plain
    assert n_up > np.sum(y == 1)  # over-predicts the up-weighted class

"""Targets: multiclass labels of any kind (strings, integers with gaps,
floats) and binary ones (booleans too) are mapped back consistently, with
probabilities that sum to one; multilabel indicator targets, dense or sparse,
get independent sigmoids; continuous targets are rejected as scikit-learn's
classifiers reject them.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from _helpers import (
    X_BIN,
    X_MC,
    X_ML,
    Y_BIN,
    Y_MC,
    Y_ML,
    assert_same_weights,
    ignore_convergence,
    small,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression


@ignore_convergence
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["emu", "cat", "dog"]),
        np.array([11, 3, 7]),
        np.array([3.0, -1.0, 2.0]),
    ],
    ids=["str", "int-gaps", "float"],
)
def test_multiclass_labels_of_any_kind(labels):
    y = labels[Y_MC]
    clf = small(max_iter=20).fit(X_MC, y)
    assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X_MC)
    assert pred.dtype.kind == labels.dtype.kind
    assert set(pred) <= set(labels)
    assert clf.score(X_MC, y) > 0.6  # labels are mapped back consistently
    proba = clf.predict_proba(X_MC)
    assert proba.shape == (len(y), 3)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(clf.classes_[np.argmax(proba, axis=1)], pred)


@ignore_convergence
@pytest.mark.parametrize(
    "labels",
    [np.array([True, False]), np.array(["yes", "no"]), np.array([7, 3])],
    ids=["bool", "str", "int-gaps"],
)
def test_binary_labels_and_proba(labels):
    y = labels[Y_BIN]
    clf = small(max_iter=20).fit(X_BIN, y)
    assert_array_equal(clf.classes_, np.sort(labels))
    assert clf.n_outputs_ == 1
    pred = clf.predict(X_BIN)
    assert pred.dtype == clf.classes_.dtype
    assert pred.dtype.kind == labels.dtype.kind
    assert clf.score(X_BIN, y) > 0.7
    proba = clf.predict_proba(X_BIN)
    assert proba.shape == (len(y), 2)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(clf.classes_[np.argmax(proba, axis=1)], pred)
    assert_allclose(np.exp(clf.predict_log_proba(X_BIN)), proba, rtol=1e-10)


def test_continuous_targets_are_rejected_like_sklearn_classifiers():
    y = np.linspace(0, 1, len(Y_BIN))
    with pytest.raises(ValueError, match="continuous"):
        LogisticRegression().fit(X_BIN, y)
    with pytest.raises(ValueError, match="continuous"):
        small().fit(X_BIN, y)


@ignore_convergence
def test_multiclass_logistic_outputs_are_normalised():
    clf = small(output_activation="logistic", max_iter=5).fit(X_MC, Y_MC)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 3
    proba = clf.predict_proba(X_MC)
    assert np.all((proba > 0) & (proba < 1))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(np.exp(clf.predict_log_proba(X_MC)), proba, rtol=1e-10)


@ignore_convergence
@pytest.mark.parametrize("output_activation", ["logistic", "softmax"])
def test_multilabel_indicator_targets(output_activation):
    clf = small(output_activation=output_activation, max_iter=20).fit(X_ML, Y_ML)
    assert clf.out_activation_ == "logistic"
    assert_array_equal(clf.classes_, np.arange(Y_ML.shape[1]))
    assert clf.n_outputs_ == Y_ML.shape[1]
    pred = clf.predict(X_ML)
    assert pred.shape == Y_ML.shape
    assert set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X_ML)
    assert proba.shape == Y_ML.shape
    assert np.all((proba > 0) & (proba < 1))
    # independent sigmoids: rows are not normalised
    assert not np.allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(pred, (proba > 0.5).astype(int))
    assert_allclose(np.exp(clf.predict_log_proba(X_ML)), proba, rtol=1e-10)
    # better than predicting the most frequent value of each label
    baseline = np.mean(Y_ML == (Y_ML.mean(axis=0) > 0.5))
    assert np.mean(pred == Y_ML) > baseline


@ignore_convergence
def test_sparse_multilabel_indicator_targets_equal_dense():
    X, Y = make_multilabel_classification(
        n_samples=60, n_features=6, n_classes=4, random_state=0
    )
    dense = small(max_iter=5).fit(X, Y)
    sparse_fit = small(max_iter=5).fit(X, sp.csr_matrix(Y))
    assert_same_weights(dense, sparse_fit)
    assert_array_equal(dense.predict(X), sparse_fit.predict(X))

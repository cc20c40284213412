"""Fitted attributes: the layout of ``coefs_`` and ``intercepts_``,
``n_layers_``, ``n_outputs_``, ``n_features_in_``, the training curves and
counters, and ``out_activation_``, for binary, multiclass and multilabel
targets and networks of zero, one and two hidden layers.
"""

import numpy as np
import pytest
from _helpers import (
    X_BIN,
    X_MC,
    X_ML,
    Y_BIN,
    Y_MC,
    Y_ML,
    ignore_convergence,
    small,
)


@ignore_convergence
@pytest.mark.parametrize("hidden", [(), (7,), (7, 5)], ids=str)
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_fitted_attribute_layouts(hidden, target):
    X, y, n_outputs = {
        "binary": (X_BIN, Y_BIN, 1),
        "multiclass": (X_MC, Y_MC, 3),
        "multilabel": (X_ML, Y_ML, Y_ML.shape[1]),
    }[target]
    clf = small(hidden_layer_sizes=hidden, max_iter=6, batch_size=32).fit(X, y)
    units = [X.shape[1], *hidden, n_outputs]
    assert clf.n_layers_ == len(hidden) + 2
    assert clf.n_outputs_ == n_outputs
    assert clf.n_features_in_ == X.shape[1]
    assert len(clf.coefs_) == len(clf.intercepts_) == len(units) - 1
    for i, (coef, intercept) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        assert coef.shape == (units[i], units[i + 1])
        assert intercept.shape == (units[i + 1],)
    assert clf.n_iter_ == len(clf.loss_curve_) == 6
    assert len(clf.train_scores_) == clf.n_iter_
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.t_ == clf.n_iter_ * X.shape[0]
    assert np.all(np.isfinite(clf.loss_curve_))
    expected_out = "softmax" if target == "multiclass" else "logistic"
    clf_softmax = small(
        hidden_layer_sizes=hidden, max_iter=1, output_activation="softmax"
    ).fit(X, y)
    assert clf_softmax.out_activation_ == expected_out
    assert clf.out_activation_ == "logistic"

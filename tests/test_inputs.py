"""Inputs: pandas DataFrames (feature names recorded and checked as
scikit-learn checks them), sparse CSR and CSC matrices (the same model as
dense input), input dtypes (float32 kept, integers and float64 trained in
float64), and seeds (the same seed gives the same weights, another seed
other weights).
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _helpers import (
    X_BIN,
    X_DIGITS,
    X_MC,
    X_ML,
    X_TRAIN,
    Y_BIN,
    Y_DIGITS,
    Y_MC,
    Y_ML,
    Y_TRAIN,
    assert_same_weights,
    ignore_convergence,
    small,
    weights_differ,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression


@ignore_convergence
def test_dataframe_feature_names():
    columns = [f"feat_{i}" for i in range(X_BIN.shape[1])]
    df = pd.DataFrame(X_BIN, columns=columns)
    clf = small().fit(df, Y_BIN)
    assert_array_equal(clf.feature_names_in_, columns)
    assert clf.n_features_in_ == len(columns)
    no_names = small().fit(X_BIN, Y_BIN)
    assert not hasattr(no_names, "feature_names_in_")
    assert_array_equal(clf.predict_proba(df), no_names.predict_proba(X_BIN))

    # scikit-learn's behaviour (>= 1.2), the same as LogisticRegression's:
    # different names raise, a nameless array warns.
    renamed = df.rename(columns={"feat_0": "other"})
    reference = LogisticRegression().fit(df, Y_BIN)
    with pytest.raises(ValueError, match="feature names should match"):
        reference.predict(renamed)
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(renamed)
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(df[columns[::-1]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X_BIN)

    with pytest.warns(UserWarning, match="fitted without feature names"):
        no_names.predict(df)


@ignore_convergence
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense(fmt):
    X = X_DIGITS[:200]
    y = Y_DIGITS[:200]
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    assert X_sparse.nnz < 0.7 * X.size
    params = dict(batch_size=32, max_iter=5)
    dense = small(**params).fit(X, y)
    sparse = small(**params).fit(X_sparse, y)
    dense_params = dense.coefs_ + dense.intercepts_
    for cd, cs in zip(dense_params, sparse.coefs_ + sparse.intercepts_):
        assert cs.dtype == np.float64
        assert_allclose(cs, cd, rtol=1e-10, atol=1e-13)
    assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-10)
    proba_dense = dense.predict_proba(X)
    assert_allclose(sparse.predict_proba(X_sparse), proba_dense, rtol=1e-10)
    assert_allclose(dense.predict_proba(X_sparse), proba_dense, rtol=1e-10)
    assert_array_equal(sparse.predict(X_sparse), dense.predict(X))


@ignore_convergence
@pytest.mark.parametrize(
    "input_dtype, expected",
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int64, np.float64),
        (np.int32, np.float64),
    ],
)
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_dtype_preservation(input_dtype, expected, target):
    X, y = {
        "binary": (X_BIN, Y_BIN),
        "multiclass": (X_MC, Y_MC),
        "multilabel": (X_ML, Y_ML),
    }[target]
    X = (X * 4).astype(input_dtype)
    clf = small(max_iter=3).fit(X, y)
    assert all(c.dtype == expected for c in clf.coefs_)
    assert all(b.dtype == expected for b in clf.intercepts_)
    assert clf.predict_proba(X).dtype == expected
    assert clf.predict_log_proba(X).dtype == expected
    assert np.all(np.isfinite(clf.predict_proba(X)))
    # partial_fit keeps the dtype too
    clf.partial_fit(X, y)
    assert all(c.dtype == expected for c in clf.coefs_)
    assert all(b.dtype == expected for b in clf.intercepts_)


@ignore_convergence
def test_same_seed_same_weights_different_seed_different_weights():
    first = small(random_state=3).fit(X_TRAIN, Y_TRAIN)
    second = small(random_state=3).fit(X_TRAIN, Y_TRAIN)
    assert_same_weights(first, second)
    assert first.loss_curve_ == second.loss_curve_
    other = small(random_state=4).fit(X_TRAIN, Y_TRAIN)
    assert weights_differ(first, other)
    assert first.loss_curve_ != other.loss_curve_
    # a RandomState instance with the same seed reproduces the int seed
    rs = small(random_state=np.random.RandomState(3)).fit(X_TRAIN, Y_TRAIN)
    assert_same_weights(first, rs)

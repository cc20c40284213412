"""BackpropMLPClassifier inside scikit-learn: meta-estimators, persistence,
targets, inputs, dtypes, weights, incremental and warm-started training,
validation sets, parameter validation and the fitted attributes."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sklearn_backprop import BackpropMLPClassifier

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _digits(n=600):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


X_DIGITS, Y_DIGITS = _digits()
X_TRAIN, Y_TRAIN = X_DIGITS[:450], Y_DIGITS[:450]
X_TEST, Y_TEST = X_DIGITS[450:], Y_DIGITS[450:]

X_BIN, Y_BIN = make_classification(
    n_samples=80, n_features=6, n_informative=4, n_redundant=0, random_state=0
)
X_MC, Y_MC = make_classification(
    n_samples=90,
    n_features=6,
    n_informative=4,
    n_redundant=0,
    n_classes=3,
    n_clusters_per_class=1,
    random_state=1,
)
X_ML, Y_ML = make_multilabel_classification(
    n_samples=80, n_features=8, n_classes=4, random_state=2
)


def small(**params):
    """A small, fast, reproducible classifier."""
    defaults = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    defaults.update(params)
    return BackpropMLPClassifier(**defaults)


def assert_same_weights(a, b):
    assert len(a.coefs_) == len(b.coefs_)
    for ca, cb in zip(a.coefs_, b.coefs_):
        assert_array_equal(ca, cb)
    for ia, ib in zip(a.intercepts_, b.intercepts_):
        assert_array_equal(ia, ib)


def assert_close_weights(a, b, rtol=1e-6, atol=1e-12):
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(ca, cb, rtol=rtol, atol=atol)


def weights_differ(a, b):
    return any(
        not np.array_equal(ca, cb)
        for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    )


# ----------------------------------------------------------------------
# 1. Meta-estimators
# ----------------------------------------------------------------------
@ignore_convergence
def test_pipeline_fit_predict_score():
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("clf", small(hidden_layer_sizes=(16,), max_iter=20, batch_size=32)),
        ]
    )
    pipe.fit(X_TRAIN, Y_TRAIN)
    pred = pipe.predict(X_TEST)
    assert pred.shape == Y_TEST.shape
    assert set(pred) <= set(Y_TRAIN)
    score = pipe.score(X_TEST, Y_TEST)
    assert score == accuracy_score(Y_TEST, pred)
    assert score > 0.8
    proba = pipe.predict_proba(X_TEST)
    assert proba.shape == (len(X_TEST), 10)
    assert_array_equal(pipe.classes_[np.argmax(proba, axis=1)], pred)


@ignore_convergence
def test_cross_val_score():
    scores = cross_val_score(
        small(hidden_layer_sizes=(16,), max_iter=15, batch_size=32),
        X_DIGITS,
        Y_DIGITS,
        cv=3,
    )
    assert scores.shape == (3,)
    assert np.all(scores > 0.7)


@ignore_convergence
def test_grid_search_parallel_matches_serial():
    grid = {"hidden_layer_sizes": [(4,), (16,)], "learning_rate_init": [0.02, 0.2]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    searches = [
        GridSearchCV(small(max_iter=8), grid, cv=cv, n_jobs=n_jobs).fit(
            X_DIGITS, Y_DIGITS
        )
        for n_jobs in (2, 1)
    ]
    parallel, serial = searches
    assert parallel.best_params_ in list(ParameterGrid(grid))
    assert parallel.best_params_ == serial.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        assert_array_equal(parallel.cv_results_[key], serial.cv_results_[key])
    for fold in range(3):
        key = f"split{fold}_test_score"
        assert_array_equal(parallel.cv_results_[key], serial.cv_results_[key])
    # the grid matters: different settings give different scores
    assert len(set(serial.cv_results_["mean_test_score"])) > 1
    assert_array_equal(parallel.predict_proba(X_TEST), serial.predict_proba(X_TEST))


@ignore_convergence
def test_calibrated_classifier_cv():
    calibrated = CalibratedClassifierCV(
        small(hidden_layer_sizes=(16,), max_iter=20, batch_size=32), cv=3
    )
    calibrated.fit(X_TRAIN, Y_TRAIN)
    proba = calibrated.predict_proba(X_TEST)
    assert proba.shape == (len(X_TEST), 10)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all((proba >= 0) & (proba <= 1))
    assert len(calibrated.calibrated_classifiers_) == 3
    assert calibrated.score(X_TEST, Y_TEST) > 0.75


@ignore_convergence
def test_soft_voting_classifier_averages_probabilities():
    voting = VotingClassifier(
        [("mlp", small(max_iter=10)), ("lr", LogisticRegression(max_iter=200))],
        voting="soft",
    )
    voting.fit(X_TRAIN, Y_TRAIN)
    mlp, lr = voting.estimators_
    expected = (mlp.predict_proba(X_TEST) + lr.predict_proba(X_TEST)) / 2
    assert_allclose(voting.predict_proba(X_TEST), expected)
    assert_array_equal(voting.predict(X_TEST), np.argmax(expected, axis=1))
    assert voting.score(X_TEST, Y_TEST) > 0.8


# ----------------------------------------------------------------------
# 2. clone and persistence
# ----------------------------------------------------------------------
@ignore_convergence
def test_clone_gives_unfitted_estimator_with_equal_params():
    clf = small(alpha=1e-3, solver="adam", class_weight={0: 2.0}).fit(X_TRAIN, Y_TRAIN)
    cloned = clone(clf)
    assert cloned is not clf
    assert cloned.get_params() == clf.get_params()
    assert not hasattr(cloned, "coefs_")
    assert not hasattr(cloned, "classes_")
    with pytest.raises(NotFittedError):
        cloned.predict(X_TEST)


@ignore_convergence
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


# ----------------------------------------------------------------------
# 3. Targets
# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
# 4. Input containers
# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
# 5. dtypes
# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
# 6. Determinism
# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
# 7. sample_weight and class_weight
# ----------------------------------------------------------------------
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


# ----------------------------------------------------------------------
# 8. partial_fit
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
# 9. warm_start
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
    continue_params = dict(warm_start=True, max_iter=1, shuffle=False)

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


# ----------------------------------------------------------------------
# 10. Validation sets, early stopping, verbose
# ----------------------------------------------------------------------
@ignore_convergence
def test_validation_set_curves():
    clf = small(max_iter=8, output_activation="softmax")
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert clf.n_iter_ == 8
    assert len(clf.validation_scores_) == clf.n_iter_
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert np.all(np.isfinite(clf.validation_scores_))
    assert np.all(np.isfinite(clf.validation_loss_curve_))
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # the last entries describe the final weights
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X_TEST, Y_TEST))
    proba = clf.predict_proba(X_TEST)
    log_loss = -np.mean(np.log(proba[np.arange(len(Y_TEST)), Y_TEST]))
    assert_allclose(clf.validation_loss_curve_[-1], log_loss, rtol=1e-8)
    assert clf.best_loss_ == min(clf.loss_curve_)  # no early stopping


@ignore_convergence
def test_early_stopping_keeps_best_epoch_of_given_validation_set():
    clf = small(
        max_iter=20,
        early_stopping=True,
        n_iter_no_change=100,
        learning_rate_init=1.0,
        batch_size=16,
        hidden_layer_sizes=(16,),
    )
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert clf.n_iter_ == 20
    scores = clf.validation_scores_
    assert len(scores) == 20
    assert clf.best_validation_score_ == max(scores)
    assert clf.best_loss_ is None
    # the run's last epoch is not its best, so restoring matters
    assert scores[-1] < max(scores)
    assert clf.score(X_TEST, Y_TEST) == pytest.approx(clf.best_validation_score_)


def _expected_stop(curve, tol, n_iter_no_change, higher_is_better):
    """Epoch after which scikit-learn's stopping rule ends training, or None."""
    best, count = (-np.inf if higher_is_better else np.inf), 0
    for epoch, value in enumerate(curve, 1):
        improved = value >= best + tol if higher_is_better else value <= best - tol
        count = 0 if improved else count + 1
        best = max(best, value) if higher_is_better else min(best, value)
        if count > n_iter_no_change:
            return epoch
    return None


@ignore_convergence
@pytest.mark.parametrize("early_stopping", [True, False])
def test_stopping_rule_counts_epochs_without_improvement(early_stopping):
    """Training stops once the monitored figure (validation accuracy with
    early_stopping, else training loss) failed to improve by ``tol`` for more
    than ``n_iter_no_change`` consecutive epochs -- not earlier."""
    n_iter_no_change, tol, max_iter = 2, 1e-4, 25
    clf = small(
        hidden_layer_sizes=(16,),
        max_iter=max_iter,
        early_stopping=early_stopping,
        n_iter_no_change=n_iter_no_change,
        tol=tol,
        learning_rate_init=0.5,
        batch_size=32,
    )
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    if early_stopping:
        curve, higher = clf.validation_scores_, True
    else:
        curve, higher = clf.loss_curve_, False
    expected = _expected_stop(curve, tol, n_iter_no_change, higher) or max_iter
    # the monitored figure improved during the first epochs
    assert clf.n_iter_ > n_iter_no_change + 1, (clf.n_iter_, curve)
    assert clf.n_iter_ == expected, (clf.n_iter_, curve)


@ignore_convergence
def test_early_stopping_with_held_out_fraction():
    n = len(Y_TRAIN)
    clf = small(max_iter=6, early_stopping=True, validation_fraction=0.2)
    clf.fit(X_TRAIN, Y_TRAIN)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.t_ == clf.n_iter_ * (n - int(np.ceil(0.2 * n)))


@ignore_convergence
def test_no_validation_set_means_no_validation_attributes():
    clf = small(max_iter=3).fit(X_TRAIN, Y_TRAIN)
    assert clf.validation_scores_ is None
    assert clf.validation_loss_curve_ is None
    assert clf.best_validation_score_ is None
    # refitting without X_val after a fit with it resets them
    clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    assert len(clf.validation_scores_) == 3
    clf.fit(X_TRAIN, Y_TRAIN)
    assert clf.validation_scores_ is None
    assert clf.validation_loss_curve_ is None


@ignore_convergence
@pytest.mark.parametrize("with_val", [False, True])
def test_verbose_prints_one_line_per_epoch(capsys, with_val):
    clf = small(max_iter=4, verbose=True)
    if with_val:
        clf.fit(X_TRAIN, Y_TRAIN, X_val=X_TEST, y_val=Y_TEST)
    else:
        clf.fit(X_TRAIN, Y_TRAIN)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 4
    for epoch, line in enumerate(lines, 1):
        assert f"{epoch}/4" in line
        assert "loss" in line
        assert "accuracy" in line
        assert ("val_loss" in line) == with_val
        assert ("val_accuracy" in line) == with_val
        assert f"{clf.loss_curve_[epoch - 1]:.4f}" in line

    small(max_iter=2, verbose=False).fit(X_TRAIN, Y_TRAIN)
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------
# 11. Parameter validation
# ----------------------------------------------------------------------
INVALID_PARAMS = [
    ("activation", "foo"),
    ("activation", "softmax"),
    ("output_activation", "relu"),
    ("solver", "newton-cg"),
    ("learning_rate", "x"),
    ("hidden_layer_sizes", (0,)),
    ("hidden_layer_sizes", (8, -1)),
    ("hidden_layer_sizes", "a"),
    ("hidden_layer_sizes", (8.5,)),
    ("alpha", -1),
    ("batch_size", 0),
    ("batch_size", 1.5),
    ("learning_rate_init", 0.0),
    ("power_t", -1.0),
    ("max_iter", 0),
    ("max_iter", 2.5),
    ("tol", -1e-3),
    ("momentum", 2),
    ("momentum", -0.1),
    ("validation_fraction", 1.0),
    ("validation_fraction", -0.1),
    ("n_iter_no_change", 2.5),
    ("max_fun", 0),
    ("transform_layer", 1.5),
    ("output_activation", "identity"),
    ("beta_1", 1.0),
    ("beta_2", 1.0),
    ("epsilon", 0.0),
    ("n_iter_no_change", 0),
    ("class_weight", "auto"),
    ("class_weight", [1, 2]),
    ("shuffle", "yes"),
    ("warm_start", 1),
    ("early_stopping", None),
    ("nesterovs_momentum", "true"),
    ("verbose", "loud"),
]


@pytest.mark.parametrize(
    "param, value", INVALID_PARAMS, ids=[f"{p}={v!r}" for p, v in INVALID_PARAMS]
)
def test_invalid_parameters_raise_at_fit_naming_the_parameter(param, value):
    clf = BackpropMLPClassifier(**{param: value})  # __init__ does not validate
    assert clf.get_params()[param] is value
    with pytest.raises((ValueError, TypeError), match=param):
        clf.fit(X_BIN, Y_BIN)
    assert not hasattr(clf, "coefs_")
    with pytest.raises((ValueError, TypeError), match=param):
        BackpropMLPClassifier(**{param: value}).partial_fit(X_BIN, Y_BIN)


def test_init_does_no_validation():
    clf = BackpropMLPClassifier(**{p: v for p, v in INVALID_PARAMS})
    assert clf.get_params()["solver"] == "newton-cg"
    cloned = clone(clf)  # clone checks nothing either
    assert cloned.get_params()["alpha"] == -1


# ----------------------------------------------------------------------
# 12. Fitted attributes
# ----------------------------------------------------------------------
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
def test_sparse_multilabel_indicator_targets_equal_dense():
    X, Y = make_multilabel_classification(
        n_samples=60, n_features=6, n_classes=4, random_state=0
    )
    dense = small(max_iter=5).fit(X, Y)
    sparse_fit = small(max_iter=5).fit(X, sp.csr_matrix(Y))
    assert_same_weights(dense, sparse_fit)
    assert_array_equal(dense.predict(X), sparse_fit.predict(X))


def test_convergence_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small(max_iter=1, learning_rate="constant").fit(X_MC, Y_MC)
    (warning,) = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert warning.filename == __file__

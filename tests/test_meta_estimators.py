"""Meta-estimators: the classifier inside a scikit-learn ``Pipeline``,
``cross_val_score``, ``GridSearchCV`` (parallel searches equal serial ones),
``CalibratedClassifierCV`` and a soft-voting ``VotingClassifier``.
"""

import numpy as np
from _helpers import (
    X_DIGITS,
    X_TEST,
    X_TRAIN,
    Y_DIGITS,
    Y_TEST,
    Y_TRAIN,
    ignore_convergence,
    small,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
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

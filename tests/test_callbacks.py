"""scikit-learn's callback API (sklearn.callback, scikit-learn >= 1.9).

The classifier's fit is one root task ("fit") whose subtasks are the epochs, so
that ``ProgressBar`` advances once per epoch, ``ScoringMonitor`` logs one score
per epoch, and any callback can stop training by returning True from
``on_fit_task_end`` at the end of an epoch.
"""

import pickle
import re
import warnings

import numpy as np
import pytest

# The callback API arrived in scikit-learn 1.9; on older versions (the
# minimum-dependencies CI job) the estimators have no set_callbacks and this
# whole module skips, with this reason only.
pytest.importorskip(
    "sklearn.callback", reason="scikit-learn's callback API needs scikit-learn >= 1.9"
)

from sklearn.base import clone
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_backprop import BackpropMLPClassifier


def _data():
    X, y = make_classification(
        n_samples=120,
        n_features=6,
        n_informative=4,
        n_classes=3,
        random_state=0,
    )
    return X, y


def _clf(**params):
    # tol=0 and a large n_iter_no_change: every one of max_iter epochs runs;
    # a constant step: the model after epoch k is fit(max_iter=k)'s.
    defaults = dict(
        hidden_layer_sizes=(8,),
        learning_rate="constant",
        learning_rate_init=0.1,
        max_iter=5,
        batch_size=32,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=0,
    )
    return BackpropMLPClassifier(**{**defaults, **params})


def _fit_quietly(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def _depth(context):
    depth = 0
    while context.parent is not None:
        context, depth = context.parent, depth + 1
    return depth


class RecordingCallback:
    """Records every hook call; optionally asks to stop after an epoch."""

    def __init__(self, stop_after_epoch=None):
        self.stop_after_epoch = stop_after_epoch
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context, {}))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context, {}))

    def on_fit_task_begin(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        self.calls.append(("begin", context, {"X": X, "y": y, "metadata": metadata}))

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        self.calls.append(
            (
                "end",
                context,
                {
                    "X": X,
                    "y": y,
                    "metadata": metadata,
                    "fitted_estimator": fitted_estimator,
                },
            )
        )
        return (
            self.stop_after_epoch is not None
            and _depth(context) == 1
            and context.task_id + 1 >= self.stop_after_epoch
        )

    def hooks(self, name, depth=None):
        return [
            (context, kwargs)
            for hook, context, kwargs in self.calls
            if hook == name and (depth is None or _depth(context) == depth)
        ]


def test_set_callbacks_returns_estimator_and_is_not_a_parameter():
    clf = _clf()
    callback = RecordingCallback()
    assert clf.set_callbacks(callback) is clf
    assert clf._skl_callbacks == [callback]
    assert "callbacks" not in clf.get_params()
    clf.set_callbacks()
    assert not hasattr(clf, "_skl_callbacks")


def test_callback_hooks_once_per_epoch():
    X, y = _data()
    callback = RecordingCallback()
    clf = _fit_quietly(_clf(max_iter=5).set_callbacks(callback), X, y)
    assert clf.n_iter_ == 5

    assert len(callback.hooks("setup")) == 1
    assert len(callback.hooks("teardown")) == 1
    # the root task: the whole fit
    (root, root_begin), *_ = callback.hooks("begin", depth=0)
    assert len(callback.hooks("begin", depth=0)) == 1
    assert len(callback.hooks("end", depth=0)) == 1
    assert root.task_name == "fit"
    assert root.estimator_name == "BackpropMLPClassifier"
    assert root.max_subtasks == 5
    # one subtask of the root per epoch, begun and ended in order
    epoch_begins = callback.hooks("begin", depth=1)
    epoch_ends = callback.hooks("end", depth=1)
    assert [ctx.task_id for ctx, _ in epoch_begins] == list(range(5))
    assert [ctx.task_id for ctx, _ in epoch_ends] == list(range(5))
    assert all(ctx.parent is root for ctx, _ in epoch_ends)
    names = [name for name, _, _ in callback.calls if name in ("setup", "teardown")]
    assert names == ["setup", "teardown"]
    assert callback.calls[0][0] == "setup" and callback.calls[-1][0] == "teardown"

    # the training data reach the hooks, with the labels as given
    for _, kwargs in epoch_ends:
        assert kwargs["X"].shape == X.shape
        assert set(np.unique(kwargs["y"])) == set(np.unique(y))

    # nothing of the callback machinery is left on the fitted estimator
    assert not hasattr(clf, "_callback_fit_ctx")
    assert not hasattr(clf, "_skl_callbacks_to_teardown")


def test_fitted_estimator_of_each_epoch_is_a_snapshot():
    X, y = _data()
    callback = RecordingCallback()
    clf = _fit_quietly(_clf(max_iter=4).set_callbacks(callback), X, y)

    snapshots = [kw["fitted_estimator"] for _, kw in callback.hooks("end", depth=1)]
    assert len(snapshots) == 4
    for epoch, snapshot in enumerate(snapshots, start=1):
        assert isinstance(snapshot, BackpropMLPClassifier)
        assert snapshot is not clf
        assert snapshot.n_iter_ == epoch
        assert snapshot.predict(X).shape == y.shape
    # The weights of an epoch are its own, not views of the live training buffer.
    assert not np.allclose(snapshots[0].coefs_[0], clf.coefs_[0])
    np.testing.assert_allclose(snapshots[-1].coefs_[0], clf.coefs_[0])
    np.testing.assert_allclose(snapshots[-1].predict_proba(X), clf.predict_proba(X))

    # The snapshot of epoch k is the model that fit with max_iter=k gives.
    shorter = _fit_quietly(_clf(max_iter=2), X, y)
    np.testing.assert_allclose(snapshots[1].coefs_[0], shorter.coefs_[0])

    # the root task ends with the fitted model itself
    (_, root_end), *_ = callback.hooks("end", depth=0)
    np.testing.assert_allclose(
        root_end["fitted_estimator"].predict_proba(X), clf.predict_proba(X)
    )


def test_callback_can_stop_training():
    X, y = _data()
    callback = RecordingCallback(stop_after_epoch=3)
    clf = _clf(max_iter=50).set_callbacks(callback)
    with warnings.catch_warnings():
        # stopped by the callback, so no "maximum iterations reached" warning
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert len(callback.hooks("end", depth=1)) == 3
    assert len(callback.hooks("end", depth=0)) == 1
    assert len(callback.hooks("teardown")) == 1
    # still a usable model
    assert clf.predict(X).shape == y.shape


def test_sample_weight_reaches_callbacks_as_metadata():
    X, y = _data()
    sample_weight = np.arange(1, X.shape[0] + 1, dtype=float)
    callback = RecordingCallback()
    _fit_quietly(
        _clf(max_iter=2).set_callbacks(callback), X, y, sample_weight=sample_weight
    )
    for _, kwargs in callback.hooks("end", depth=1):
        np.testing.assert_allclose(kwargs["metadata"]["sample_weight"], sample_weight)


def test_partial_fit_is_one_run_of_one_epoch():
    X, y = _data()
    callback = RecordingCallback()
    clf = _clf().set_callbacks(callback)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.n_iter_ == 1  # the epochs of the last call, as in scikit-learn
    assert len(clf.loss_curve_) == 3
    assert len(callback.hooks("setup")) == 3
    assert len(callback.hooks("teardown")) == 3
    assert len(callback.hooks("begin", depth=0)) == 3
    assert len(callback.hooks("end", depth=1)) == 3
    ends = callback.hooks("end", 1)
    assert [len(kw["fitted_estimator"].loss_curve_) for _, kw in ends] == [1, 2, 3]


class FailingCallback(RecordingCallback):
    """Raises at the end of the second epoch."""

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        super().on_fit_task_end(estimator, context)
        if _depth(context) == 1 and context.task_id == 1:
            raise RuntimeError("callback failed")


def test_teardown_runs_when_fit_fails():
    X, y = _data()
    callback = FailingCallback()
    clf = _clf(max_iter=5).set_callbacks(callback)
    with pytest.raises(RuntimeError, match="callback failed"):
        clf.fit(X, y)
    assert len(callback.hooks("setup")) == 1
    assert len(callback.hooks("teardown")) == 1
    assert not hasattr(clf, "_callback_fit_ctx")
    assert not hasattr(clf, "_skl_callbacks_to_teardown")
    # the estimator can be fitted again, with callbacks
    clf.set_callbacks(RecordingCallback())
    _fit_quietly(clf, X, y)
    assert clf.n_iter_ == 5


def test_scoring_monitor_logs_one_score_per_epoch():
    X, y = _data()
    monitor = ScoringMonitor(scoring="accuracy")
    clf = _fit_quietly(_clf(max_iter=6).set_callbacks(monitor), X, y)

    log = monitor.get_logs()
    assert log.estimator_name == "BackpropMLPClassifier"
    rows = log.data
    root_rows = [row for row in rows if row["parent_task_id_path"] == ()]
    epoch_rows = [row for row in rows if len(row["task_id_path"]) == 2]
    assert [row["task_id"] for row in epoch_rows] == list(range(clf.n_iter_))
    assert len(root_rows) == 1
    assert root_rows[0]["task_name"] == "fit"

    # each epoch's score is that of the model stopped after that epoch
    for epoch, row in enumerate(epoch_rows, start=1):
        stopped = _fit_quietly(_clf(max_iter=epoch), X, y)
        assert row["accuracy"] == pytest.approx(accuracy_score(y, stopped.predict(X)))
    assert epoch_rows[-1]["accuracy"] == pytest.approx(clf.score(X, y))
    assert root_rows[0]["accuracy"] == pytest.approx(clf.score(X, y))

    # the same log as a DataFrame
    frame = log.data_as_pandas
    assert len(frame) == len(rows)
    assert "accuracy" in frame.columns


def test_scoring_monitor_several_scores_and_runs():
    X, y = _data()
    monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
    clf = _clf(max_iter=3).set_callbacks(monitor)
    _fit_quietly(clf, X, y)
    _fit_quietly(clf, X, y)
    logs = monitor.get_logs(select="all")
    assert len(logs) == 2
    for log in logs:
        epoch_rows = [row for row in log.data if len(row["task_id_path"]) == 2]
        assert len(epoch_rows) == 3
        for row in epoch_rows:
            assert 0.0 <= row["accuracy"] <= 1.0
            assert row["neg_log_loss"] < 0.0


def test_progress_bar_renders_during_fit(capsys):
    X, y = _data()
    clf = _fit_quietly(_clf(max_iter=4).set_callbacks(ProgressBar()), X, y)
    assert clf.n_iter_ == 4
    out = capsys.readouterr().out
    assert re.search(r"BackpropMLPClassifier - fit", out)
    assert re.search(r"100%", out)


def test_progress_bar_in_a_pipeline(capsys):
    X, y = _data()
    pipe = make_pipeline(StandardScaler(), _clf(max_iter=3))
    pipe.set_callbacks(ProgressBar())
    _fit_quietly(pipe, X, y)
    out = capsys.readouterr().out
    # the pipeline propagates the bar to the classifier, whose fit is nested
    assert re.search(
        r"Pipeline - fit-final-estimator \| BackpropMLPClassifier - fit", out
    )
    assert re.search(r"100%", out)
    # propagated callbacks are removed from the step afterwards
    assert not hasattr(pipe[-1], "_skl_callbacks")


def test_clone_and_pickle_with_callbacks():
    X, y = _data()
    monitor = ScoringMonitor(scoring="accuracy")
    progress = ProgressBar()
    clf = _clf(max_iter=2).set_callbacks(monitor, progress)

    # clone keeps the very same callback instances
    cloned = clone(clf)
    assert cloned._skl_callbacks[0] is monitor
    assert cloned._skl_callbacks[1] is progress

    _fit_quietly(clf, X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert len(restored._skl_callbacks) == 2
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    # the unpickled callbacks keep the earlier log and go on logging
    _fit_quietly(restored, X, y)
    assert len(restored._skl_callbacks[0].get_logs(select="all")) == 2


def test_no_callbacks_changes_nothing():
    X, y = _data()
    plain = _fit_quietly(_clf(max_iter=3), X, y)
    with_callback = _fit_quietly(
        _clf(max_iter=3).set_callbacks(RecordingCallback()), X, y
    )
    np.testing.assert_allclose(plain.coefs_[0], with_callback.coefs_[0])
    assert plain.loss_curve_ == with_callback.loss_curve_
    assert not hasattr(plain, "_callback_fit_ctx")


# ----------------------------------------------------------------------
# L-BFGS iterations and the regressor go through the same callback API
# ----------------------------------------------------------------------
def test_lbfgs_iterations_are_the_subtasks():
    X, y = _data()
    callback = RecordingCallback()
    clf = _fit_quietly(_clf(solver="lbfgs", max_iter=5).set_callbacks(callback), X, y)
    assert clf.n_iter_ == 5
    assert len(callback.hooks("begin", depth=1)) == 5
    ends = callback.hooks("end", depth=1)
    assert [kw["fitted_estimator"].n_iter_ for _, kw in ends] == [1, 2, 3, 4, 5]
    # each subtask's snapshot holds the loss of that iteration
    assert [kw["fitted_estimator"].loss_ for _, kw in ends] == clf.loss_curve_


def test_callback_stops_lbfgs_without_convergence_warning():
    X, y = _data()
    clf = _clf(solver="lbfgs", max_iter=50).set_callbacks(
        RecordingCallback(stop_after_epoch=3)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_scoring_monitor_logs_the_regressor_r2(solver):
    from sklearn.datasets import make_regression
    from sklearn.metrics import r2_score

    from sklearn_backprop import BackpropMLPRegressor

    X, y = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
    params = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        # A constant step: epoch k's model is that of a fit of k epochs.
        learning_rate="constant",
        learning_rate_init=0.05,
        max_iter=4,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=0,
    )
    monitor = ScoringMonitor(scoring="r2")
    reg = BackpropMLPRegressor(**params).set_callbacks(monitor)
    _fit_quietly(reg, X, y / y.std())
    rows = monitor.get_logs().data
    epoch_rows = [row for row in rows if len(row["task_id_path"]) == 2]
    assert len(epoch_rows) == reg.n_iter_ == 4
    for epoch, row in enumerate(epoch_rows, start=1):
        stopped = _fit_quietly(
            BackpropMLPRegressor(**{**params, "max_iter": epoch}), X, y / y.std()
        )
        assert row["r2"] == pytest.approx(r2_score(y / y.std(), stopped.predict(X)))


def test_lbfgs_converging_early_pairs_every_hook():
    """L-BFGS stops on its gradient tolerance before max_iter: no subtask is
    left open, one per iteration."""
    X, y = _data()
    callback = RecordingCallback()
    clf = _clf(solver="lbfgs", max_iter=500, tol=1e-2).set_callbacks(callback)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it converges
        clf.fit(X, y)
    assert 1 < clf.n_iter_ < 500
    assert len(callback.hooks("begin", depth=1)) == clf.n_iter_
    assert len(callback.hooks("end", depth=1)) == clf.n_iter_

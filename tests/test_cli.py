"""The main job: python -m sklearn_backprop."""

import hashlib
import io
import json
import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits

import sklearn_backprop
from sklearn_backprop import BackpropMLPClassifier, _cli, datasets
from sklearn_backprop._progress import EpochProgressBar

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _offline(monkeypatch, tmp_path):
    """No MNIST anywhere: no env var, empty caches, a download that fails fast."""
    monkeypatch.delenv(datasets.MNIST_ENV_VAR, raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    # Port 9 (discard) on loopback: the connection is refused at once.
    monkeypatch.setattr(datasets, "MNIST_URL", "http://127.0.0.1:9/mnist.npz")


def test_digits_run_writes_model_plot_and_history(tmp_path, capsys):
    out = tmp_path / "runs"
    # 5 epochs: a one-cycle schedule of 3 epochs over the 1347 digits is too
    # short to pass 85 % (78 %).
    argv = ["--dataset", "digits", "--epochs", "5", "--output", str(out)]
    code = _cli.main(argv)
    assert code == 0
    printed = capsys.readouterr().out
    epoch_lines = [line for line in printed.splitlines() if line.startswith("Epoch ")]
    assert len(epoch_lines) == 5
    for line in epoch_lines:
        for field in ("loss:", "accuracy:", "val_loss:", "val_accuracy:"):
            assert field in line
        assert line.endswith("s")
    run = out / "run-001"
    last_line = printed.splitlines()[-1]
    assert last_line.startswith("Trained on digits (sklearn.datasets.load_digits")
    assert last_line.endswith(f"to {run}/")

    summary = json.loads((run / "history.json").read_text())
    assert summary["data"]["name"] == "digits"
    assert summary["command"] == "sklearn-backprop " + " ".join(argv)
    assert summary["sklearn_backprop_version"] == sklearn_backprop.__version__
    assert [r["epoch"] for r in summary["epochs"]] == [1, 2, 3, 4, 5]
    # The test set is called so, and the figures carry no float32 noise.
    assert set(summary["epochs"][0]) == {
        "epoch",
        "loss",
        "accuracy",
        "test_loss",
        "test_accuracy",
    }
    for record in summary["epochs"]:
        for key in ("loss", "test_loss"):
            assert record[key] == float(f"{record[key]:.6g}")
    assert (run / "curves.png").read_bytes()[:8] == PNG_SIGNATURE
    model = joblib.load(run / "model.joblib")
    assert model.n_iter_ == 5
    # The JSON's final test accuracy is the saved model's.
    data = _cli.load_data("digits", None, 0)
    assert summary["test_accuracy"] == pytest.approx(
        model.score(data.X_test, data.y_test), abs=1e-6
    )
    assert summary["epochs"][-1]["test_accuracy"] == summary["test_accuracy"]
    assert summary["test_accuracy"] > 0.85


def test_a_run_never_overwrites_another(tmp_path, capsys):
    out = tmp_path / "runs"
    for seed in (0, 1):
        argv = ["--dataset", "digits", "--epochs", "1", "--quiet", "--seed", str(seed)]
        assert _cli.main([*argv, "--output", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["run-001", "run-002"]
    first = json.loads((out / "run-001" / "history.json").read_text())
    second = json.loads((out / "run-002" / "history.json").read_text())
    assert first["params"]["random_state"] == 0
    assert second["params"]["random_state"] == 1


def test_the_data_is_recorded_with_its_checksums(tmp_path):
    digits = _cli.load_data("digits", None, 0)
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    assert digits.sha256 == {
        "X": hashlib.sha256(X.tobytes()).hexdigest(),
        "y": hashlib.sha256(y.tobytes()).hexdigest(),
    }
    assert digits.source.startswith("sklearn.datasets.load_digits (scikit-learn ")


def test_curves_have_whole_epochs_and_call_the_test_set_test():
    X, y = load_digits(return_X_y=True)
    clf = BackpropMLPClassifier(max_iter=5, random_state=0)
    clf.fit(X[:300] / 16, y[:300], X_val=X[300:400] / 16, y_val=y[300:400])
    figure = _cli.curves_figure(clf, "digits: 5 epochs")
    assert figure._suptitle.get_text() == "digits: 5 epochs"
    for ax in figure.axes:
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 5]
        assert ticks and all(float(t).is_integer() for t in ticks)
        assert [line.get_label() for line in ax.get_lines()] == ["training", "test"]


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        _cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in (
        "(default: 'auto', the estimator's: 8 on MNIST,",
        "(default: 256)",
        "(default: 'auto', the estimator's: 0.6,",
        "0.05 with --solver adam",
        "(default: 'auto', the estimator's: 100 on MNIST,",
        "(default: sgd)",
        "(default: 0)",
        "(default: sklearn-backprop-output)",
        "8x8 digits and says so at the start and at the end",
    ):
        assert default in text, default


@pytest.mark.mnist
def test_mnist_run_through_the_loader(tmp_path, capsys):
    """CI points SKLEARN_BACKPROP_MNIST at the shared copy: real MNIST trains."""
    out = tmp_path / "mnist"
    code = _cli.main(["--epochs", "1", "--hidden", "32", "--output", str(out)])
    assert code == 0
    summary = json.loads((out / "run-001" / "history.json").read_text())
    assert summary["data"]["name"] == "mnist"
    assert summary["data"]["sha256"] == datasets.MNIST_SHA256
    assert summary["data"]["fallback_reason"] is None
    printed = capsys.readouterr().out
    assert "Training on mnist: 60000 training and 10000 test samples" in printed
    assert "NOTE" not in printed
    assert summary["test_accuracy"] > 0.9
    assert summary["params"]["hidden_layer_sizes"] == [32]


def test_falls_back_to_digits_when_mnist_is_unavailable(tmp_path, monkeypatch, capsys):
    _offline(monkeypatch, tmp_path)
    code = _cli.main(["--epochs", "1", "--quiet", "--output", str(tmp_path / "o")])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    # Said at the start, and again at the end, where the run's summary is.
    assert lines[0].startswith("NOTE: MNIST could not be loaded, so this run trains")
    assert lines[1].startswith("(Why: Could not find MNIST")
    assert lines[-2] == lines[0]
    assert lines[-1].startswith("Trained on digits")
    summary = json.loads((tmp_path / "o" / "run-001" / "history.json").read_text())
    assert summary["data"]["name"] == "digits"
    assert summary["data"]["fallback_reason"].startswith("Could not find MNIST")
    # The failed download left no empty cache folder behind.
    assert not (tmp_path / "sklearn_data").exists()


def test_explicit_mnist_without_data_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    _offline(monkeypatch, tmp_path)
    with pytest.raises(SystemExit) as exc:
        _cli.main(["--dataset", "mnist", "--output", str(tmp_path / "o")])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("sklearn-backprop: error: ")
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()  # nothing trained, nothing written


def test_missing_data_path_is_an_error_naming_the_option(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(["--data", str(tmp_path / "nope.npz"), "--output", str(tmp_path)])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert f"--data {tmp_path / 'nope.npz'} does not exist" in err
    assert "Leave --data out" in err
    assert "path=" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "positive integer"),
        (["--epochs", "many"], "positive integer"),
        (["--lr", "-1"], "positive number"),
        (["--lr", "nan"], "positive number"),
        (["--hidden", "a,b"], "layer sizes"),
        (["--hidden", "256,0"], "layer sizes"),
        (["--batch-size", "0"], "positive integer"),
        (["--solver", "lbfgs"], "invalid choice"),
        (["--dataset", "cifar"], "invalid choice"),
        (["--unknown"], "unrecognized arguments"),
    ],
)
def test_bad_options_get_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_notebook_flag_selects_the_notebook_hyperparameters():
    args = _cli.build_parser().parse_args(["--notebook"])
    params = _cli.build_estimator(args).get_params()
    for key, value in _cli.NOTEBOOK_PARAMS.items():
        assert params[key] == value
    assert params["learning_rate_init"] == 0.001
    assert params["max_iter"] == 50
    assert params["momentum"] == 0.0
    # Explicit options still win over the preset.
    args = _cli.build_parser().parse_args(["--notebook", "--epochs", "2"])
    assert _cli.build_estimator(args).max_iter == 2


def test_options_reach_the_estimator():
    args = _cli.build_parser().parse_args(
        ["--hidden", "64,32", "--lr", "0.05", "--batch-size", "50", "--solver", "adam"]
    )
    clf = _cli.build_estimator(args)
    assert clf.hidden_layer_sizes == (64, 32)
    assert clf.learning_rate_init == 0.05
    assert clf.batch_size == 50
    assert clf.solver == "adam"
    assert clf.random_state == 0


def test_adam_without_lr_gets_adams_step_and_trains(tmp_path, capsys):
    # The estimator's 'auto' step is the solver's own: the peak of Adam's
    # one-cycle schedule, 0.05 (SGD's 0.6 would leave Adam at chance).
    args = _cli.build_parser().parse_args(["--solver", "adam"])
    assert _cli.build_estimator(args).learning_rate_init == "auto"
    args = _cli.build_parser().parse_args(["--solver", "adam", "--lr", "0.01"])
    assert _cli.build_estimator(args).learning_rate_init == 0.01
    out = tmp_path / "runs"
    argv = ["--dataset", "digits", "--solver", "adam", "--quiet", "--output", str(out)]
    assert _cli.main(argv) == 0
    summary = json.loads((out / "run-001" / "history.json").read_text())
    assert summary["resolved"]["learning_rate_init"] == 0.05
    assert summary["test_accuracy"] > 0.9


def test_module_entry_point_runs(tmp_path):
    """`python -m sklearn_backprop` is wired to the same main()."""
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_backprop", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--notebook" in result.stdout


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_terminals_only():
    terminal = _Terminal()
    bar = EpochProgressBar(600, stream=terminal)
    for done in range(601):
        bar.update(done)
    bar.close()
    drawn = terminal.getvalue()
    assert "\r[" + "=" * 30 + "] 600/600" in drawn
    assert "] 300/600" in drawn
    assert drawn.count("\r[") <= 60  # redrawn ~50 times, not once per batch
    assert drawn.endswith("\r")

    pipe = io.StringIO()
    bar = EpochProgressBar(600, stream=pipe)
    bar.update(600)
    bar.close()
    assert pipe.getvalue() == ""


def test_verbose_two_draws_the_bar_within_epochs(monkeypatch, capsys):
    from sklearn.datasets import load_digits

    from sklearn_backprop import BackpropMLPClassifier

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    X, y = load_digits(return_X_y=True)
    BackpropMLPClassifier(max_iter=2, verbose=2, batch_size=50).fit(X / 16, y)
    drawn = terminal.getvalue()
    n_batches = int(np.ceil(len(X) / 50))
    assert f"/{n_batches}" in drawn
    assert "Epoch 2/2 - loss:" in drawn


def test_console_script_is_declared():
    """`sklearn-backprop` (pyproject's [project.scripts]) runs the same main()."""
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="sklearn-backprop")
    assert script.value == "sklearn_backprop._cli:main"
    assert script.load() is _cli.main

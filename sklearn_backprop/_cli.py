"""The main job: train BackpropMLPClassifier on MNIST and save model, plot, JSON.

Run ``python -m sklearn_backprop --help`` (or ``sklearn-backprop --help``).
"""

import argparse
import hashlib
import json
import os
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import joblib
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import __version__
from ._classifier import BackpropMLPClassifier
from ._display import TrainingCurvesDisplay
from .datasets import (
    MNIST_ENV_VAR,
    MNIST_SHA256,
    MNISTNotFoundError,
    _load_mnist_arrays,
    _to_output,
)

# The reference notebook: 784-256-10 sigmoid network, sigmoid outputs with
# binary cross-entropy, plain SGD with learning rate 0.001, batch 100, 50 epochs.
NOTEBOOK_PARAMS = dict(
    hidden_layer_sizes=(256,),
    activation="logistic",
    output_activation="logistic",
    solver="sgd",
    learning_rate="constant",
    learning_rate_init=0.001,
    momentum=0.0,
    alpha=0.0,
    batch_size=100,
    max_iter=50,
    tol=0.0,
    n_iter_no_change=50,
    early_stopping=False,
)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _layer_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer sizes such as 256 or "
            f"512,256; got {text!r}"
        )
    return sizes


def build_parser():
    """The command line's argument parser; ``--help`` shows every default."""
    parser = argparse.ArgumentParser(
        prog="sklearn-backprop",
        description=(
            "Train a BackpropMLPClassifier on MNIST (or the 8x8 digits), printing "
            "the training and test loss and accuracy every epoch, and save the "
            "model (joblib), a PNG of the curves and a JSON of the run into a new "
            "folder under --output."
        ),
        epilog=(
            "MNIST is read from its cache (~/scikit_learn_data/mnist/mnist.npz), "
            f"else from --data or ${MNIST_ENV_VAR}, else from the Keras cache, "
            "else downloaded once (11 MB) into the cache; every copy is checked "
            "against the SHA-256 sums of the real MNIST. Without --data, if none "
            "of these works, the job trains on scikit-learn's bundled 8x8 digits "
            "and says so at the start and at the end."
        ),
    )
    estimator = BackpropMLPClassifier()
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        help=f"number of epochs (default: {estimator.max_iter!r}, the estimator's: "
        "8 on MNIST, at least 350 minibatch updates on smaller data; 50 with "
        "--notebook)",
    )
    parser.add_argument(
        "--hidden",
        type=_layer_sizes,
        help="hidden layer sizes, e.g. 256 or 512,256 (default: "
        + ",".join(map(str, estimator.hidden_layer_sizes))
        + ")",
    )
    parser.add_argument(
        "--lr",
        type=_positive_float,
        help=f"learning rate (default: {estimator.learning_rate_init!r}, the "
        f"estimator's: 0.6, the peak of the '{estimator.learning_rate}' schedule "
        "over --epochs; 0.05 with --solver adam; a constant "
        f"{NOTEBOOK_PARAMS['learning_rate_init']} with --notebook)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        help=f"minibatch size (default: {estimator.batch_size!r}, the "
        "estimator's: 100 on MNIST, an eighth of smaller data, at least 32)",
    )
    parser.add_argument(
        "--solver",
        choices=["sgd", "adam"],
        help=f"optimiser (default: {estimator.solver})",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (default: %(default)s)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="a local MNIST: an mnist.npz (Keras layout), a folder of the four "
        "IDX files or of mnist_train.csv and mnist_test.csv (default: see below)",
    )
    parser.add_argument(
        "--dataset",
        choices=["mnist", "digits"],
        help="data set (default: MNIST, falling back to the 8x8 digits)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("sklearn-backprop-output"),
        help="folder in which each run gets a new folder run-001, run-002, ... "
        "holding model.joblib, curves.png and history.json (default: %(default)s)",
    )
    parser.add_argument(
        "--notebook",
        action="store_true",
        help="the reference notebook's hyperparameters (plain SGD, learning "
        "rate 0.001, 50 epochs)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no per-epoch lines, only the summary"
    )
    return parser


class Data(NamedTuple):
    """The data of a run, with where it came from."""

    name: str  # "mnist" or "digits"
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    source: str  # where the arrays were read from
    sha256: dict  # SHA-256 of each array as read, before scaling
    fallback_reason: str | None  # why MNIST was not used, on a fallback


def load_data(dataset, data_path, seed):
    """The data the options ask for.

    Without ``dataset``, MNIST is tried and the 8x8 digits are the fallback,
    unless a ``data_path`` was named: then a problem with it is an error.
    """
    if dataset is None and data_path is not None:
        dataset = "mnist"
    if data_path is not None and not data_path.expanduser().exists():
        raise MNISTNotFoundError(
            f"--data {data_path} does not exist. Leave --data out to read MNIST "
            f"from ${MNIST_ENV_VAR}, the cache or a download."
        )
    fallback_reason = None
    if dataset in (None, "mnist"):
        try:
            arrays, source = _load_mnist_arrays(
                data_home=None,
                path=data_path,
                download_if_missing=True,
                keras_cache=True,
            )
        except (OSError, ValueError) as exc:
            if dataset == "mnist":
                raise
            fallback_reason = str(exc).splitlines()[0]
        else:
            X_train, X_test, y_train, y_test = _to_output(arrays, scale=True)
            return Data(
                "mnist", X_train, X_test, y_train, y_test, source, MNIST_SHA256, None
            )
    from sklearn import __version__ as sklearn_version
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    sha256 = {name: _sha256(array) for name, array in (("X", X), ("y", y))}
    X = (X / 16.0).astype(np.float32)  # pixels 0..16 scaled to [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    source = (
        f"sklearn.datasets.load_digits (scikit-learn {sklearn_version}), "
        f"75/25 stratified split, seed {seed}"
    )
    return Data(
        "digits", X_train, X_test, y_train, y_test, source, sha256, fallback_reason
    )


def _sha256(array):
    """SHA-256 of an array's raw C-order bytes, as MNIST_SHA256's are computed."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def build_estimator(args):
    """The classifier the options ask for."""
    params = dict(NOTEBOOK_PARAMS) if args.notebook else {}
    overrides = {
        "max_iter": args.epochs,
        "hidden_layer_sizes": args.hidden,
        "learning_rate_init": args.lr,
        "batch_size": args.batch_size,
        "solver": args.solver,
    }
    params.update({key: value for key, value in overrides.items() if value is not None})
    verbose = 0 if args.quiet else (2 if sys.stdout.isatty() else 1)
    return BackpropMLPClassifier(random_state=args.seed, verbose=verbose, **params)


def _figure(value):
    """A loss or accuracy for the JSON: 6 significant digits, not float32 noise."""
    return float(f"{float(value):.6g}")


def history(clf):
    """Per-epoch figures of a classifier fitted with the test set as X_val."""
    records = []
    for epoch, (loss, accuracy) in enumerate(
        zip(clf.loss_curve_, clf.train_scores_), start=1
    ):
        record = {"epoch": epoch, "loss": _figure(loss), "accuracy": _figure(accuracy)}
        if clf.validation_scores_ is not None:
            record["test_loss"] = _figure(clf.validation_loss_curve_[epoch - 1])
            record["test_accuracy"] = _figure(clf.validation_scores_[epoch - 1])
        records.append(record)
    return records


def curves_figure(clf, title):
    """The loss and accuracy of every epoch, training and test, drawn by
    :class:`~sklearn_backprop.TrainingCurvesDisplay` on matplotlib's Agg
    backend (the job writes a PNG; it opens no window)."""
    import matplotlib

    matplotlib.use("Agg")
    display = TrainingCurvesDisplay.from_estimator(
        clf, validation_label="test", title=title
    )
    display.figure_.tight_layout()
    return display.figure_


def new_run_folder(output):
    """A new, empty folder ``output/run-NNN``: a run never overwrites another."""
    output.mkdir(parents=True, exist_ok=True)
    number = 1 + max(
        (int(p.name[4:]) for p in output.glob("run-*") if p.name[4:].isdigit()),
        default=0,
    )
    while True:
        folder = output / f"run-{number:03d}"
        try:
            folder.mkdir()  # fails if another run took this number meanwhile
            return folder
        except FileExistsError:
            number += 1


def main(argv=None):
    """Run the main job; return the process exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        data = load_data(args.dataset, args.data, args.seed)
    except (OSError, ValueError) as exc:
        parser.exit(1, f"{parser.prog}: error: {exc}\n")
    fallback = (
        "NOTE: MNIST could not be loaded, so this run trains on scikit-learn's "
        "bundled 8x8 digits instead. For MNIST, pass --data path/to/mnist.npz, set "
        f"{MNIST_ENV_VAR}, or run again with network access to download it."
        if data.fallback_reason
        else None
    )
    if fallback:
        print(f"{fallback}\n(Why: {data.fallback_reason})")
    clf = build_estimator(args)
    print(
        f"Training on {data.name}: {data.X_train.shape[0]} training and "
        f"{data.X_test.shape[0]} test samples, {data.X_train.shape[1]} features "
        f"(from {data.source}); {clf!r}",
        flush=True,
    )
    if not args.quiet:
        print(
            "Each epoch: loss and accuracy over the training minibatches, and "
            "val_loss and val_accuracy on the test samples (never trained on).",
            flush=True,
        )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(data.X_train, data.y_train, X_val=data.X_test, y_val=data.y_test)
    fit_seconds = time.perf_counter() - start
    test_accuracy = clf.score(data.X_test, data.y_test)

    folder = new_run_folder(args.output)
    records = history(clf)
    joblib.dump(clf, folder / "model.joblib")
    params = {k: v for k, v in clf.get_params().items() if k != "verbose"}
    params["hidden_layer_sizes"] = list(clf.hidden_layer_sizes)
    summary = {
        "sklearn_backprop_version": __version__,
        "command": shlex.join([parser.prog, *argv]),
        "data": {
            "name": data.name,
            "source": data.source,
            "sha256": data.sha256,
            "n_train": int(data.X_train.shape[0]),
            "n_test": int(data.X_test.shape[0]),
            "fallback_reason": data.fallback_reason,
        },
        "params": params,
        # What the 'auto' parameters meant on this data.
        "resolved": {
            "batch_size": clf.batch_size_,
            "learning_rate_init": clf.learning_rate_init_,
            "max_iter": clf.max_iter_,
        },
        "epochs": records,
        "test_accuracy": _figure(test_accuracy),
        "fit_seconds": round(fit_seconds, 3),
    }
    (folder / "history.json").write_text(json.dumps(summary, indent=2) + "\n")
    written = ["model.joblib", "history.json"]
    epochs = f"{clf.n_iter_} epoch{'s' if clf.n_iter_ != 1 else ''}"
    try:
        figure = curves_figure(clf, f"{data.name}: {epochs}")
        figure.savefig(folder / "curves.png", dpi=100)
        written.append("curves.png")
    except ImportError:
        print("matplotlib is not installed: no curves.png (pip install matplotlib).")
    if fallback:
        print(fallback)
    print(
        f"Trained on {data.name} ({data.source}): test accuracy {test_accuracy:.4f} "
        f"after {epochs} in {fit_seconds:.1f} s. Wrote {', '.join(written)} to "
        f"{folder}{os.sep}"
    )
    return 0

"""The main job: train BackpropMLPClassifier on MNIST and save model, plot, JSON.

Run ``python -m sklearn_backprop --help`` (or ``sklearn-backprop --help``).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._classifier import BackpropMLPClassifier

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
    """The command line's argument parser."""
    parser = argparse.ArgumentParser(
        prog="sklearn-backprop",
        description=(
            "Train a BackpropMLPClassifier on MNIST, printing train and "
            "validation loss and accuracy every epoch, and save the model "
            "(joblib), a PNG of the curves and a JSON of the per-epoch figures."
        ),
    )
    parser.add_argument("--epochs", type=_positive_int, help="number of epochs")
    parser.add_argument(
        "--hidden", type=_layer_sizes, help="hidden layer sizes, e.g. 256 or 512,256"
    )
    parser.add_argument("--lr", type=_positive_float, help="initial learning rate")
    parser.add_argument("--batch-size", type=_positive_int, help="minibatch size")
    parser.add_argument("--solver", choices=["sgd", "adam"], help="optimiser")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--data", type=Path, help="local MNIST file or folder (npz, IDX or CSV)"
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
        help="folder for model.joblib, curves.png, history.json",
    )
    parser.add_argument(
        "--notebook",
        action="store_true",
        help="the reference notebook's hyperparameters (SGD lr 0.001, 50 epochs)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no per-epoch lines, only the summary"
    )
    return parser


def load_data(dataset, data_path, seed):
    """Return (name, X_train, X_test, y_train, y_test, note on any fallback).

    Without ``dataset``, MNIST is tried and the 8x8 digits are the fallback,
    unless a ``data_path`` was named: then a problem with it is an error.
    """
    if dataset is None and data_path is not None:
        dataset = "mnist"
    if dataset in (None, "mnist"):
        from .datasets import load_mnist

        try:
            X_train, X_test, y_train, y_test = load_mnist(path=data_path, scale=True)
            return "mnist", X_train, X_test, y_train, y_test, None
        except (OSError, ValueError) as exc:
            if dataset == "mnist":
                raise
            note = (
                f"MNIST could not be loaded ({str(exc).splitlines()[0]}); "
                "training on scikit-learn's bundled 8x8 digits instead."
            )
    else:
        note = None
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)  # pixels 0..16 scaled to [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    return "digits", X_train, X_test, y_train, y_test, note


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


def history(clf):
    """Per-epoch figures of a fitted classifier, as JSON-ready records."""
    records = []
    for epoch, (loss, accuracy) in enumerate(
        zip(clf.loss_curve_, clf.train_scores_), start=1
    ):
        record = {"epoch": epoch, "loss": loss, "accuracy": accuracy}
        if clf.validation_scores_ is not None:
            record["val_loss"] = clf.validation_loss_curve_[epoch - 1]
            record["val_accuracy"] = clf.validation_scores_[epoch - 1]
        records.append(record)
    return records


def plot_curves(records, path, title):
    """Save loss and accuracy per epoch (train and validation) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in records]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        ax.plot(epochs, [r[key] for r in records], marker="o", label="train")
        if "val_" + key in records[0]:
            ax.plot(
                epochs,
                [r["val_" + key] for r in records],
                marker="o",
                label="validation",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    """Run the main job; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        name, X_train, X_test, y_train, y_test, note = load_data(
            args.dataset, args.data, args.seed
        )
    except (OSError, ValueError) as exc:
        parser.exit(1, f"{parser.prog}: error: {exc}\n")
    if note:
        print(note)
    clf = build_estimator(args)
    print(
        f"Training on {name}: {X_train.shape[0]} training and {X_test.shape[0]} "
        f"test samples, {X_train.shape[1]} features; {clf!r}",
        flush=True,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, X_val=X_test, y_val=y_test)
    fit_seconds = time.perf_counter() - start
    test_accuracy = clf.score(X_test, y_test)

    args.output.mkdir(parents=True, exist_ok=True)
    records = history(clf)
    joblib.dump(clf, args.output / "model.joblib")
    summary = {
        "dataset": name,
        "params": {k: v for k, v in clf.get_params().items() if k != "verbose"},
        "epochs": records,
        "test_accuracy": test_accuracy,
        "fit_seconds": fit_seconds,
    }
    summary["params"]["hidden_layer_sizes"] = list(clf.hidden_layer_sizes)
    (args.output / "history.json").write_text(json.dumps(summary, indent=2) + "\n")
    written = ["model.joblib", "history.json"]
    try:
        plot_curves(
            records, args.output / "curves.png", f"{name}: {clf.n_iter_} epochs"
        )
        written.append("curves.png")
    except ImportError:
        print("matplotlib is not installed: no curves.png (pip install matplotlib).")
    print(
        f"Test accuracy: {test_accuracy:.4f} after {clf.n_iter_} epochs; fit time "
        f"{fit_seconds:.1f} s. Wrote {', '.join(written)} to {args.output}/"
    )
    return 0

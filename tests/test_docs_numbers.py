"""The numbers that the user guide states, computed; and the code it quotes, found.

Every figure of ``docs/user_guide/*.rst`` that comes from running the package
(an initial loss, a rounding point, a share of a minibatch, a printed line) is
recomputed here and compared with the text, so that the guide cannot drift from
the code. Figures that are timings are not asserted (tests never assert on
time): the pages attribute them to a measurement, with its date and machine.

Each test names the page and the passage it keeps honest. The pages' ``>>>``
sessions run as doctests, and every line of code that a page quotes must be a
line of the module it names.
"""

import datetime
import doctest
import importlib.util
import inspect
import json
import math
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from _helpers import digits
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits, make_friedman1, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sklearn_backprop import BackpropMLPClassifier, BackpropMLPRegressor
from sklearn_backprop._activations import inplace_logistic
from sklearn_backprop._network import (
    FlatParameters,
    allocate_activations,
    init_bound,
    loss_and_gradients,
)
from sklearn_backprop._optimizers import AdamOptimizer, SGDOptimizer
from sklearn_backprop._schedules import AdaptiveSchedule, InvScalingSchedule

ROOT = Path(__file__).resolve().parent.parent
# The package whose sources the pages quote: the installed one when the tests
# run against a wheel (CI's dist and min jobs), outside any checkout.
PACKAGE_DIR = Path(inspect.getfile(BackpropMLPClassifier)).resolve().parent
GUIDE = ROOT / "docs" / "user_guide"


def page(name):
    """The text of a user guide page, with its line breaks folded to spaces."""
    return " ".join((GUIDE / name).read_text(encoding="utf-8").split())


def stated(name, text):
    """Assert that the page ``name`` states ``text`` (whitespace-insensitive)."""
    assert " ".join(text.split()) in page(name), f"{name} no longer says {text!r}"


# ---------------------------------------------------------------------------
# The pages' sessions and quoted code


@pytest.mark.parametrize(
    "path",
    sorted(p for p in GUIDE.glob("*.rst") if ">>> " in p.read_text(encoding="utf-8")),
    ids=lambda p: p.name,
)
def test_page_sessions_run_as_printed(path):
    # notebook_to_code.rst: the 2-2-1 worked example, by hand, in the notebook's
    # column form and by the package, against finite differences.
    result = doctest.testfile(
        str(path),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) of {path.name} failed"


def test_the_worked_example_page_has_a_session():
    assert ">>> " in (GUIDE / "notebook_to_code.rst").read_text(encoding="utf-8")


def _code(text):
    """Source text without comments and whitespace, for a loose match."""
    text = re.sub(r"#[^\n]*", "", text)
    return re.sub(r"\s+", "", text)


def _in_source(snippet, source):
    # "..." in a quote (not in its comment) stands for omitted arguments.
    snippet = re.sub(r"#[^\n]*", "", snippet)
    parts = [re.escape(_code(part)) for part in snippet.split("...")]
    return re.search(".*?".join(parts), _code(source), flags=re.DOTALL) is not None


_CAPTIONED_BLOCK = re.compile(
    r"^\.\. code-block:: python\n   :caption: (sklearn_backprop/\w+\.py)[^\n]*\n\n"
    r"((?:   [^\n]*\n|\n)+)",
    re.MULTILINE,
)


def test_code_blocks_quote_lines_of_the_module_they_name():
    # A code block captioned "sklearn_backprop/<module>.py: ..." quotes that
    # module: each of its lines, comments aside, is a line of the module.
    # Every stale line is listed, with its page and line number.
    n_lines, stale = 0, []
    for path in sorted(GUIDE.glob("*.rst")):
        text = path.read_text(encoding="utf-8")
        for match in _CAPTIONED_BLOCK.finditer(text):
            source = (PACKAGE_DIR.parent / match[1]).read_text(encoding="utf-8")
            first_line = text.count("\n", 0, match.start(2)) + 1
            for offset, line in enumerate(match[2].splitlines()):
                if _code(line):
                    n_lines += 1
                    if not _in_source(line, source):
                        where = f"{path.name}:{first_line + offset}"
                        stale.append(f"{where} ({match[1]}): {line.strip()}")
    assert not stale, "lines quoted from the code no longer in it:\n" + "\n".join(stale)
    assert n_lines >= 25  # notebook_to_code.rst quotes the training step


# The lines of _network.py from the output error to the backward pass, which
# backprop.rst and implementation.rst both quote.
BACKWARD_PASS_LINES = [
    "cost.delta(Y, Y_hat, out=deltas[-1][:n_rows, ...])",
    "output_delta *= (sample_weight / batch_weight)[:, None]",
    "matmul_into(a_prev.T, delta, out=coef_grads[layer])",
    "multiply_into(coefs[layer], l2_scale, out=penalty_scratch[layer])",
    "coef_grads[layer] += penalty",
    "sum_rows_into(delta, out=intercept_grads[layer])",
    "matmul_into(delta, coefs[layer].T, out=hidden_delta)",
]

# The code that pages quote inline, with the module it comes from. When a line
# of the code changes, the test names the passages to update.
QUOTES = {
    "backprop.rst": {
        "_network.py": BACKWARD_PASS_LINES,
        "_losses.py": ["subtract_into(A, Y, out=out)"],
    },
    "regression.rst": {
        "_losses.py": [
            "0.5 * row_squared_norms(residual)",
            "residual = Z - Y",
            "xp.exp(Z) - Y * Z + xlogx(Y) - Y",
            "subtract_into(A, Y, out=out)",
        ],
        "_array_api.py": ['np.einsum("ij,ij->i", R, R)'],
        "_network.py": ["cost.delta(Y, Y_hat, out=deltas[-1][:n_rows, ...])"],
    },
    "loss.rst": {"_array_api.py": ["np.logaddexp(0, Z)"]},
    "notebook_to_code.rst": {
        "_losses.py": ["subtract_into(A, Y, out=out)"],
    },
    "implementation.rst": {
        "_network.py": [
            "_affine(a_prev, coef, intercept, out=z)",
            "matmul_into(a_prev, coef, out=out)",
            "out += intercept",
            "data_loss = sample_weight @ cost.fn(Y, Z_out)",
            "(data_loss + penalty) / batch_weight",
            *BACKWARD_PASS_LINES,
            "derivative(a_prev, hidden_delta)",
            "rng.uniform(-bound, bound, size=shape)",
        ],
        "_losses.py": [
            "xp.sum(softplus(Z) - Y * Z, axis=1)",
            "logsumexp_rows(Z) - xp.sum(Y * Z, axis=1)",
            "0.5 * row_squared_norms(residual)",
            "xp.exp(Z) - Y * Z + xlogx(Y) - Y",
            "subtract_into(A, Y, out=out)",
        ],
        "_array_api.py": ["np.take(X, batch, axis=0, out=self.X_buffer[:n_rows])"],
        "_minibatch.py": [
            "loss_and_gradients(...)",
            "optimizer.update_params(params.flat, workspace.grads.flat, step, "
            "workspace.scratch.flat)",
        ],
        "_lbfgs.py": [
            "to_numpy(workspace.grads.flat).astype(np.float64)",
            'scipy.optimize.minimize(objective, ..., method="L-BFGS-B", jac=True, ...)',
        ],
        "_base.py": ["ACTIVATIONS[self.activation](hidden)"],
        "_coding.py": [
            "self.residual_ss = self.residual_ss + "
            "astype(weights, self.dtype) @ residual"
        ],
    },
}


@pytest.mark.parametrize("page_name", sorted(QUOTES))
def test_quoted_code_is_in_the_page_and_in_the_code(page_name):
    stale = []
    for module, snippets in QUOTES[page_name].items():
        source = (PACKAGE_DIR / module).read_text(encoding="utf-8")
        for snippet in snippets:
            stated(page_name, f"``{snippet}``")
            if not _in_source(snippet, source):
                stale.append(f"{module}: {snippet}")
    assert not stale, f"{page_name} quotes code no longer in it:\n" + "\n".join(stale)


# ---------------------------------------------------------------------------
# loss.rst: the loss of an untrained network


def initial_fit(X, y, **params):
    """The classifier after an epoch whose steps change no weight.

    A step of 1e-300 leaves every weight as drawn (it adds at most 1e-300 times
    a gradient to a zero bias), so ``loss_curve_[0]``, the mean loss of the
    epoch's minibatches, is the loss of the untrained network on every sample.
    """
    clf = BackpropMLPClassifier(
        learning_rate_init=1e-300, momentum=0.0, alpha=0.0, max_iter=1, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def output_preactivations(clf, X):
    A1 = 1 / (1 + np.exp(-(X @ clf.coefs_[0] + clf.intercepts_[0])))
    return A1 @ clf.coefs_[1] + clf.intercepts_[1]


def mean_bce(Z, y):
    Y = np.eye(Z.shape[1])[y]
    return float((np.logaddexp(0, Z) - Y * Z).sum(axis=1).mean())


def test_initial_loss_of_sigmoid_outputs_on_digits():
    X, y = digits()
    losses = {}
    for seed in (0, 1, 2, 4):
        clf = initial_fit(X, y, random_state=seed)
        # the estimator's figure is the binary cross-entropy of the drawn weights
        assert_allclose(
            clf.loss_curve_[0], mean_bce(output_preactivations(clf, X), y), rtol=1e-9
        )
        losses[seed] = round(clf.loss_curve_[0], 1)
    assert losses == {0: 15.5, 1: 17.2, 2: 18.6, 4: 6.5}
    assert round(10 * math.log(2), 2) == 6.93
    stated("loss.rst", ":math:`10 \\log 2 \\approx 6.93`")
    stated("loss.rst", "is 15.5, 17.2 and 18.6 for ``random_state`` 0, 1 and 2")
    stated("loss.rst", "(and 6.5 for 4: it varies widely with the draw)")


def test_initial_loss_of_softmax_outputs_on_digits():
    X, y = digits()
    clf = initial_fit(X, y, output_activation="softmax", random_state=0)
    assert round(clf.loss_curve_[0], 1) == 2.5
    assert round(math.log(10), 2) == 2.30
    stated(
        "loss.rst", "start at 2.5 on the digits, near :math:`\\log 10 \\approx 2.30`"
    )


@pytest.mark.mnist
@pytest.mark.slow
def test_initial_loss_on_mnist():
    from sklearn_backprop.datasets import load_mnist

    X_train, _, y_train, _ = load_mnist(scale=True)
    clf = initial_fit(X_train, y_train, random_state=0)
    assert round(clf.loss_curve_[0], 1) == 18.4
    stated(
        "loss.rst", "and 18.4 on MNIST's 60000 training images for ``random_state=0``"
    )


def test_output_preactivations_of_the_untrained_network():
    # initialization.rst: the offset of each output unit, and the spread of z.
    X, y = digits()
    offsets, within = [], []
    for seed in (0, 1, 2):
        Z = output_preactivations(initial_fit(X, y, random_state=seed), X)
        offsets.append(Z.mean(axis=0).std())
        within.append(np.sqrt(Z.var(axis=0).mean()))
        # loss.rst: "a standard deviation of about 3"
        assert 2.5 < Z.std() < 3.5
    assert 2.55 <= min(offsets) and max(offsets) < 2.95  # "2.6 to 2.9"
    assert all(0.75 <= w < 0.85 for w in within)  # "about 0.8"
    stated("initialization.rst", "the offsets have a standard deviation of 2.6 to 2.9")
    stated("initialization.rst", "each unit varies by about 0.8 over the samples")
    # the offset's standard deviation, 1/2 r sqrt(n / 3), with and without the 4
    r_out = init_bound(256, 10, "logistic")
    assert round(0.5 * r_out * math.sqrt(256 / 3), 2) == 2.77
    assert round(0.5 * init_bound(256, 10, "glorot") * math.sqrt(256 / 3), 2) == 0.69
    stated("initialization.rst", "2.77 for 256 hidden units")
    stated("initialization.rst", "against 0.69 with Glorot's range")


def test_init_bounds_of_the_notebook_network():
    assert round(init_bound(784, 256, "logistic"), 3) == 0.304
    assert round(init_bound(256, 10, "logistic"), 3) == 0.601
    stated("initialization.rst", "\\approx 0.304")
    stated("initialization.rst", "\\approx 0.601")


# ---------------------------------------------------------------------------
# loss.rst: where the sigmoids round to 0 and 1


def training_sigmoid(z, dtype):
    a = np.array(z, dtype=dtype, ndmin=1)
    inplace_logistic(a)
    return a


def textbook_sigmoid(z, dtype):
    z = np.array(z, dtype=dtype, ndmin=1)
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-z))).astype(dtype)


def threshold(sigmoid, dtype, value, lo, hi):
    """The boundary, between lo and hi, of the region where sigmoid == value."""
    lo, hi = dtype(lo), dtype(hi)
    inside_at_lo = sigmoid(lo, dtype)[0] == value
    for _ in range(200):
        mid = dtype((lo + hi) / 2)
        if mid in (lo, hi):
            break
        if (sigmoid(mid, dtype)[0] == value) == inside_at_lo:
            lo = mid
        else:
            hi = mid
    return float(lo) if inside_at_lo else float(hi)


@pytest.mark.parametrize(
    "sigmoid, dtype, zero_below, one_above",
    [
        (training_sigmoid, np.float64, -37.98, 36.97),
        (training_sigmoid, np.float32, -20.0, 17.32),
        (textbook_sigmoid, np.float64, -709.78, 36.74),
        (textbook_sigmoid, np.float32, -88.72, 16.64),
    ],
)
def test_where_the_sigmoids_round(sigmoid, dtype, zero_below, one_above):
    zero = threshold(sigmoid, dtype, 0.0, -800, -10)
    one = threshold(sigmoid, dtype, 1.0, 40, 10)
    assert round(zero, 2) == zero_below
    assert round(one, 2) == one_above
    # the regions are what the page says: every z beyond rounds, none before
    z = np.linspace(-1000, 1000, 200_001)
    a = sigmoid(z, dtype)
    z = z.astype(dtype)
    assert np.all(a[z <= zero] == 0) and np.all(a[z > zero] > 0)
    assert np.all(a[z >= one] == 1) and np.all(a[z < one] < 1)
    text = page("loss.rst")
    assert f"{abs(zero_below):g}" in text and f"{one_above:g}" in text


def test_smallest_positive_training_sigmoid():
    for dtype, power, approx in [(np.float64, -54, "5.6"), (np.float32, -25, "3.0")]:
        z = np.linspace(-60, 0, 600_001)
        a = training_sigmoid(z, dtype)
        assert a[a > 0].min() == 2.0**power
        assert f"{2.0**power:.1e}".startswith(approx)
        stated("loss.rst", f":math:`2^{{{power}}} \\approx {approx} \\times 10^")


# ---------------------------------------------------------------------------
# optimizers.rst and regularization.rst


def test_invscaling_after_one_epoch_of_mnist():
    schedule = InvScalingSchedule(1.0, power_t=0.5)
    schedule.epoch_ends(60000)  # t_ after one epoch of MNIST
    assert round(1 / schedule.learning_rate) == 245
    stated("optimizers.rst", "it is :math:`\\eta_0 / 245`")
    assert 60000 // 100 == 600
    stated("optimizers.rst", "60000 MNIST images makes 600 updates")
    stated("lbfgs.rst", "(600 for MNIST in batches of 100)")


def steps_under_a_constant_gradient(optimizer, gradient, step, n_steps=500):
    params = np.zeros_like(gradient)
    for _ in range(n_steps):
        before = params.copy()
        optimizer.update_params(params, gradient.copy(), step)
    return params - before


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_step_approaches_ten_times_the_plain_step(nesterov):
    # optimizers.rst, and regularization.rst for the decay term under momentum
    gradient = np.array([0.3, -2.0])
    optimizer = SGDOptimizer(2, np.float64, momentum=0.9, nesterov=nesterov)
    step = steps_under_a_constant_gradient(optimizer, gradient, 0.01)
    assert_allclose(step, -10 * 0.01 * gradient, rtol=1e-9)
    stated(
        "optimizers.rst", "ten times the plain step for the default :math:`\\mu = 0.9`"
    )
    stated("regularization.rst", "ten times the plain step's for :math:`\\mu = 0.9`")


def test_adam_step_is_about_eta_whatever_the_gradients_scale():
    # regularization.rst: a gradient that is mostly the penalty moves a weight
    # by about eta per step, whatever alpha.
    for scale in (1e-5, 1.0, 1e3):
        optimizer = AdamOptimizer(1, np.float64)
        step = steps_under_a_constant_gradient(optimizer, np.array([scale]), 0.001)
        assert_allclose(step, [-0.001], rtol=1e-2)
    stated("regularization.rst", "towards zero by about :math:`\\eta` per step")


# ---------------------------------------------------------------------------
# weights.rst: a weighted sample and its copies in minibatches


def epoch_gradient_of_intercept(y, weights, order, batch_size):
    """Sum over an epoch's minibatches of dJ/db of a linear model at zero."""
    X = np.zeros((len(y), 1))
    Y = y[:, None].astype(float)
    params = FlatParameters([1, 1], np.float64)  # zero weights: predictions 0
    total = 0.0
    for start in range(0, len(y), batch_size):
        rows = order[start : start + batch_size]
        grads = FlatParameters([1, 1], np.float64)
        buffers = allocate_activations([1, 1], len(rows), np.float64)
        deltas = allocate_activations([1, 1], len(rows), np.float64)
        loss_and_gradients(
            params, grads, X[rows], Y[rows], weights[rows], "identity",
            "identity", 0.0, buffers, deltas,
        )  # fmt: skip
        total += grads.intercepts[0][0]
    return total


@pytest.mark.parametrize("w", [10, 100])
def test_weighted_sample_and_its_copies_in_minibatches(w):
    n = 100
    # the sample of interest has target 1, every other row 0: dJ/db of a batch
    # is minus the share of that sample in the batch.
    y = np.zeros(4 * n)
    y[0] = 1
    weights = np.ones(4 * n)
    weights[0] = w
    rng = np.random.RandomState(0)
    for _ in range(5):  # whatever the shuffle
        share = -epoch_gradient_of_intercept(y, weights, rng.permutation(4 * n), n)
        assert_allclose(share, w / (w + n - 1))
    copies = np.concatenate([np.ones(w), np.zeros(5 * n - w)])  # full batches
    for _ in range(5):
        order = rng.permutation(len(copies))
        share = -epoch_gradient_of_intercept(copies, np.ones(len(copies)), order, n)
        assert_allclose(share, w / n)
    shares = {
        10: ("10/109 \\approx 0.092", 0.092),
        100: ("100/199 \\approx 0.50", 0.50),
    }
    text, value = shares[w]
    assert round(w / (w + n - 1), 3 if w == 10 else 2) == value
    stated("weights.rst", text)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_full_batch_weights_equal_copies_unless_invscaling():
    X, y = digits()
    X, y = X[:150], y[:150]
    weights = np.arange(len(y)) % 3 + 1
    rows = np.repeat(np.arange(len(y)), weights)
    for schedule, equal in [
        ("constant", True),
        ("adaptive", True),
        ("invscaling", False),
    ]:
        params = dict(
            hidden_layer_sizes=(8,), batch_size=len(rows), shuffle=False,
            max_iter=5, learning_rate=schedule, learning_rate_init=0.5,
            random_state=0,
        )  # fmt: skip
        weighted = BackpropMLPClassifier(**params).fit(X, y, sample_weight=weights)
        repeated = BackpropMLPClassifier(**params).fit(X[rows], y[rows])
        same = np.allclose(
            weighted.coefs_[0], repeated.coefs_[0], rtol=1e-9, atol=1e-12
        )
        assert same == equal, schedule
    stated("weights.rst", "not ``learning_rate='invscaling'``")


# ---------------------------------------------------------------------------
# Printed lines and small facts of the other pages


def _figures(line):
    return [float(x) for x in re.findall(r"-?\d+\.\d{4}", line)]


def test_regression_first_verbose_line(capsys):
    # regression.rst: the first line of a regressor on make_friedman1.
    X, y = make_friedman1(n_samples=300, random_state=0)
    reg = BackpropMLPRegressor(max_iter=2, verbose=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    first = capsys.readouterr().out.splitlines()[0]
    quoted = re.search(r"Epoch 1/2 - loss: [^\n]*", page("regression.rst"))[0]
    assert first.startswith("Epoch 1/2 - loss:")
    assert_allclose(_figures(first), _figures(quoted), atol=2e-4)
    assert round(float(y[:200].mean())) == 14
    stated("regression.rst", "The targets lie around 14")
    # ... and the same line on the raw targets.
    raw = BackpropMLPRegressor(
        max_iter=2, verbose=True, random_state=0, standardize_target=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        raw.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    loss, r2 = _figures(capsys.readouterr().out.splitlines()[0])[:2]
    stated("regression.rst", f"starts at a loss of {loss:.2f} and an R² of {r2:.2f}")


def test_classifier_verbose_line_of_the_readme_example(capsys):
    # differences.rst (and getting_started.rst): the third line of the README's
    # example with random_state=0.
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(256,), max_iter=30, verbose=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, X_val=X_test, y_val=y_test)
    third = capsys.readouterr().out.splitlines()[2]
    for name in ("differences.rst", "../getting_started.rst"):
        quoted = re.search(r"Epoch 3/30 - loss: [^\n]*", page(name))[0]
        assert_allclose(_figures(third), _figures(quoted), atol=2e-4)


def test_multilabel_example_of_the_data_page():
    X, Y = make_multilabel_classification(n_samples=500, n_classes=4, random_state=0)
    clf = BackpropMLPClassifier(hidden_layer_sizes=(32,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X / X.max(), Y)
    predicted = clf.predict(X[:3] / X.max())
    assert predicted.tolist() == [[1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 0]]
    stated("data.rst", "# array([[1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 0]])")
    # "float32's seven significant digits"
    assert round(24 * math.log10(2)) == 7


def test_defaults_in_the_differences_table():
    ours, theirs = BackpropMLPClassifier().get_params(), MLPClassifier().get_params()
    rows = {  # parameter: (ours, scikit-learn's, as the table shows them)
        "hidden_layer_sizes": ((256,), (100,), "``(256,)``", "``(100,)``"),
        "activation": ("logistic", "relu", "``'logistic'``", "``'relu'``"),
        "solver": ("sgd", "adam", "``'sgd'``", "``'adam'``"),
        "learning_rate": ("one_cycle", "constant", "``'one_cycle'``", "``'constant'``"),
        "learning_rate_init": ("auto", 0.001, "``'auto'``", "0.001"),
        "batch_size": ("auto", "auto", "``'auto'``", "``'auto'``"),
        "max_iter": ("auto", 200, "``'auto'``", "200"),
        "beta_2": (0.95, 0.999, "0.95", "0.999"),
    }
    text = (GUIDE / "differences.rst").read_text(encoding="utf-8")
    for name, (our_value, their_value, our_text, their_text) in rows.items():
        assert tuple(np.atleast_1d(ours[name])) == tuple(np.atleast_1d(our_value))
        assert tuple(np.atleast_1d(theirs[name])) == tuple(np.atleast_1d(their_value))
        cells = re.search(rf"^``{name}``\s+(.*)$", text, flags=re.MULTILINE)[1]
        assert cells.split()[0] == our_text and cells.split()[-1] == their_text
    assert ours["momentum"] == 0.9 and ours["nesterovs_momentum"]


def test_what_auto_means_as_the_pages_say():
    # differences.rst, tips.rst and the docstrings: on iris's 150 samples, 70
    # epochs of 32; on MNIST's 60 000, 8 of 100 at a peak of 0.6.
    from sklearn.datasets import load_iris

    from sklearn_backprop._defaults import resolve

    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = BackpropMLPClassifier(random_state=0).fit(X, y)
    assert (clf.batch_size_, clf.max_iter_, clf.n_iter_) == (32, 70, 70)
    assert resolve(BackpropMLPClassifier(), 60_000) == (100, 0.6, 8)
    assert resolve(BackpropMLPClassifier(), 1347) == (100, 0.6, 25)
    stated("../getting_started.rst", "on these 1347 images, 25 epochs of 100")
    assert resolve(BackpropMLPClassifier(solver="adam"), 60_000)[1] == 0.05
    assert resolve(BackpropMLPRegressor(), 60_000)[1] == 0.01
    assert resolve(BackpropMLPRegressor(solver="sgd"), 60_000)[1] == 0.05
    for name in ("differences.rst", "tips.rst"):
        stated(name, "on iris's 150 samples, 70 epochs of 32")
    doc = " ".join(BackpropMLPClassifier.__doc__.split())
    assert "70 on iris's 150 samples, 5 batches of 32" in doc


def test_lbfgs_figures():
    defaults = inspect.signature(scipy.optimize._lbfgsb_py._minimize_lbfgsb).parameters
    assert defaults["maxcor"].default == 10
    stated("lbfgs.rst", "SciPy keeps 10 by default")
    assert f"{defaults['ftol'].default:.1e}" == "2.2e-09"
    stated("lbfgs.rst", "a relative :math:`2.2 \\times 10^{-9}`")
    assert BackpropMLPClassifier().max_fun == 15000
    stated("lbfgs.rst", "(SciPy's ``maxfun``, default 15000)")


def test_small_facts():
    # network.rst and regression.rst: prediction runs in chunks of 4096 rows
    assert BackpropMLPClassifier._predict_chunk_size == 4096
    stated("network.rst", "chunks of 4096 rows")
    # regularization.rst: early stopping holds out 10 % by default
    assert BackpropMLPClassifier().validation_fraction == 0.1
    stated("regularization.rst", "# holds out 10 % of X_train")
    # hidden_features.rst: the feature names
    clf = BackpropMLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(*digits())
    assert list(clf.get_feature_names_out()[:3]) == [
        "backpropmlpclassifier0",
        "backpropmlpclassifier1",
        "backpropmlpclassifier2",
    ]


# ---------------------------------------------------------------------------
# optimizers.rst, regularization.rst, differences.rst and the docstrings: when
# training stops


def test_training_stops_after_more_than_n_iter_no_change_epochs():
    X, y = digits()
    # tol=1e9: no epoch after the first counts as progress (with a constant
    # step: a one-cycle schedule runs its course through plateaus)
    clf = BackpropMLPClassifier(
        hidden_layer_sizes=(8,),
        n_iter_no_change=2,
        tol=1e9,
        max_iter=50,
        learning_rate="constant",
        learning_rate_init=0.1,
    ).fit(X[:200], y[:200])
    assert clf.n_iter_ == 1 + 2 + 1  # the first epoch, 2 tolerated, 1 more
    wording = "more than ``n_iter_no_change`` consecutive epochs"
    for name in ("optimizers.rst", "regularization.rst", "differences.rst"):
        stated(name, wording)
    doc = " ".join(BackpropMLPClassifier.__doc__.split())
    for parameter in ("learning_rate", "early_stopping", "n_iter_no_change"):
        entry = doc[doc.index(f"{parameter} : ") :][:700]
        assert wording in entry, parameter


def test_constants_the_pages_name():
    # optimizers.rst and regularization.rst: 'adaptive' divides the step by 5,
    # and stops below 1e-6
    schedule = AdaptiveSchedule(1e-5)
    assert not schedule.plateau("", verbose=False)
    assert schedule.learning_rate == pytest.approx(2e-6)
    assert not schedule.plateau("", verbose=False)  # 2e-6 > 1e-6
    assert schedule.plateau("", verbose=False)  # 4e-7 <= 1e-6
    stated(
        "optimizers.rst",
        "training stops when :math:`\\eta` falls below :math:`10^{-6}`",
    )
    # regularization.rst: alpha's default
    assert BackpropMLPClassifier().alpha == BackpropMLPRegressor().alpha == 1e-4
    stated("regularization.rst", "(:math:`\\alpha`, default :math:`10^{-4}`)")
    # notebook_to_code.rst: the notebook test's tolerance
    notebook_test = (ROOT / "tests" / "test_notebook.py").read_text(encoding="utf-8")
    assert "atol=1e-12" in notebook_test
    stated("notebook_to_code.rst", "gives the notebook's weights to :math:`10^{-12}`")


# ---------------------------------------------------------------------------
# Pages that quote the benchmark (issues 22 and 24): every figure is that of
# the one committed run, benchmarks/results/latest.*, so that a new run with
# other figures names the pages to update.
RESULTS = ROOT / "benchmarks" / "results"
PERFORMANCE = "../performance.rst"
README = "../../README.md"


def _report_tables():
    """The tables of the committed run's report, by the heading above each: a
    list of rows, each a list of cells."""
    tables, heading = {}, None
    for line in (RESULTS / "latest.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            heading = line[4:]
        elif line.startswith("|") and not line.startswith(("|---", "| ---")):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            tables.setdefault(heading, []).append(cells)
    return tables


def _table(tables, heading):
    """The table under the heading that begins with ``heading``."""
    (table,) = [rows for name, rows in tables.items() if name.startswith(heading)]
    return table


def _row(table, label):
    """The first row of ``table`` whose first cell begins with ``label`` (a
    heading's later tables can repeat a label: the out-of-core section's)."""
    matches = [row for row in table if row[0].startswith(label)]
    assert matches, f"no row {label!r} in the report"
    return matches[0]


def _run():
    return json.loads((RESULTS / "latest.json").read_text(encoding="utf-8"))


def test_the_committed_run_is_one_complete_run():
    run = _run()
    assert run["mode"] == "full" and run["only"] is None and not run["errors"]
    sections = {"time_to_98", "epochs", "defaults", "memory", "scaling"}
    assert sections | {"regression", "out_of_core", "search"} <= set(run)
    # No other report of a section is left beside it (those of a run of one
    # section alone, or of the GPU benchmark on the CPU, from other runs),
    # but that of the section added since, run alone (issue 21).
    assert sorted(p.name for p in RESULTS.iterdir()) == [
        "across-data.json",
        "across-data.md",
        "latest.json",
        "latest.md",
        "scaling.png",
    ]


def test_performance_page_and_readme_name_the_run():
    run = _run()
    date = datetime.date.fromisoformat(run["date"][:10])
    day = f"{date.day} {date:%B %Y}"
    minutes = f"{run['elapsed_seconds'] / 60:.1f}"
    versions = run["machine"]["versions"]
    cpu = run["machine"]["cpu"]
    stated(PERFORMANCE, f"(``python -m benchmarks``, all sections, {minutes} minutes)")
    stated(PERFORMANCE, f"on {day}, on a virtual machine with 2 cores of an {cpu}")
    stated(README, f"every section, {minutes} minutes) on {day}, on a 2-core {cpu}")
    for library, name in [
        ("numpy", "NumPy"),
        ("scikit-learn", "scikit-learn"),
        ("keras", "Keras"),
        ("jax", "JAX"),
    ]:
        stated(PERFORMANCE, f"{name} {versions[library]}")
        stated(README, f"{name} {versions[library]}")
    torch = versions["torch"].split("+")[0]
    stated(PERFORMANCE, f"PyTorch {torch} (CPU build)")
    stated(README, f"PyTorch {torch} on the CPU")
    # No figure from another run: no other date, and no other machine.
    for name in (PERFORMANCE, README):
        assert "November 2026" not in page(name) and "Intel" not in page(name)


def test_pages_quote_the_epoch_and_prediction_tables():
    tables = _report_tables()
    contenders = _table(tables, "Contenders")
    ratios = _table(tables, "Ours against each contender, batch 100 and 1000")
    # The report's label of each contender, then the Performance page's.
    labels = [
        ("sklearn_backprop", "sklearn-backprop :class:`BackpropMLPClassifier`"),
        (
            "scikit-learn",
            "scikit-learn :class:`~sklearn.neural_network.MLPClassifier`",
        ),
        ("PyTorch eager", "PyTorch, eager, CPU"),
        ("Keras 3 (jax", "Keras 3, JAX backend"),
    ]
    for label, on_page in labels:
        row, measured = _row(ratios, label), _row(contenders, label)
        accuracy = measured[4].replace("%", " %")
        stated(PERFORMANCE, f"* - {on_page}")
        stated(PERFORMANCE, f"- {row[1]} - {row[3]} - {accuracy}")
        stated(PERFORMANCE, f"* - {on_page} - {measured[2]}")
    (floor,) = [row for row in ratios if row[0] == "floor: all 5 matmuls"]
    (floor_predict,) = [
        row[2] for row in contenders if row[0] == "floor: all 5 matmuls"
    ]
    for label, on_page in [
        ("floor: 784x256 layer's 2 matmuls", "the two of the 784x256 layer"),
        (
            "floor: all 5 matmuls + row gather",
            "all five, gathering the shuffled rows first",
        ),
    ]:
        stated(
            PERFORMANCE,
            f"bare matrix products: {on_page} - {_row(ratios, label)[1]}",
        )
    stated(PERFORMANCE, f"bare matrix products: all five - {floor[1]} - {floor[3]}")
    stated(
        PERFORMANCE,
        f"the two matrix products of the forward pass alone - {floor_predict}",
    )
    # The README's table: each contender's median at batch 100 and 1000 and
    # its predict_proba, in the columns' order, then the floor's.
    medians = [_row(ratios, label)[1].split()[0] for label, _ in labels]
    medians_1000 = [_row(ratios, label)[3].split()[0] for label, _ in labels]
    predicts = [_row(contenders, label)[2] + " ms" for label, _ in labels]
    for text, cells in [
        ("seconds per SGD epoch, batch 100", [*medians, floor[1].split()[0]]),
        ("seconds per SGD epoch, batch 1000", [*medians_1000, floor[3].split()[0]]),
        ("`predict_proba`, 10 000 images", [*predicts, floor_predict + " ms"]),
    ]:
        stated(README, f"| {text} | " + " | ".join(cells) + " |")


SK_PREVIOUS = "scikit-learn MLPClassifier, ours' previous"


def test_pages_quote_the_time_to_98_table():
    table = _table(_report_tables(), "Time to 98 %")
    on_page = {
        "ours, defaults": "ours, defaults (one-cycle schedule, peak 0.6, 8 epochs)",
        "ours, the previous defaults": "ours, the previous defaults (a constant "
        "step of 0.1)",
        "PyTorch eager": "PyTorch eager (CPU), ours' defaults (the same step "
        "before each minibatch)",
        "Keras 3": "Keras 3 (JAX), ours' defaults (the same step before each "
        "minibatch)",
        SK_PREVIOUS: "scikit-learn ``MLPClassifier``, ours' previous configuration "
        "(SGD 0.1, Nesterov, batch 100)",
        "scikit-learn MLPClassifier, its defaults": "scikit-learn "
        "``MLPClassifier``, its defaults (Adam 0.001, batch 200)",
    }
    seconds = {}
    for label, text in on_page.items():
        row = _row(table, label)
        assert row[1] == "4 of 4", row
        times = row[5].split("x")[0] if row[5] else "1"
        stated(PERFORMANCE, f"* - {text} - {row[2]} - {row[3]} - {times}")
        seconds[label] = row[3]
    stated(
        README,
        "| time to 98 % test accuracy, epoch by epoch | "
        f"{seconds['ours, defaults']} s | "
        f"{seconds[SK_PREVIOUS]} s (ours' previous "
        f"configuration) | {seconds['PyTorch eager']} s | {seconds['Keras 3']} s | |",
    )


def test_pages_quote_the_defaults_benchmark():
    table = _table(_report_tables(), "Target 2")
    ours = _row(table, "`BackpropMLPClassifier(random_state=seed)`")
    before = _row(table, "`BackpropMLPClassifier(learning_rate='constant'")
    sk = _row(table, "`MLPClassifier(")
    worst, median = (value.strip(" %") for value in ours[5].split("/"))
    runs = _run()["defaults"]["ours"]["runs"]
    best = f"{100 * max(run['test_accuracy'] for run in runs):.2f}"
    assert f"{100 * min(run['test_accuracy'] for run in runs):.2f}" == worst
    stated(PERFORMANCE, f"reaches {worst}-{best} % test accuracy (median {median} %")
    stated(PERFORMANCE, f"seeds 0-3) in {ours[3]} s, 0.")
    stated(PERFORMANCE, f"- 8 - {ours[3]} s - {ours[4]} s")
    stated(PERFORMANCE, f"- 20 - {before[3]} s - {before[4]} s")
    stated(PERFORMANCE, f"- 73 - {sk[3]} s - {sk[4]} s")
    stated(
        README,
        f"reaches {worst}-{best} % (median {median} %, seeds 0-3) in {ours[3]} s",
    )
    stated(README, f"({before[3]} s against the previous defaults")
    stated(README, f"98.18 % in {sk[3]} s)")


def test_performance_page_quotes_the_other_tables():
    tables = _report_tables()
    threads = _table(tables, "BLAS threads")
    for label, on_page in [
        ("ours", "sklearn-backprop"),
        ("scikit-learn", "scikit-learn"),
        ("floor: all 5 matmuls", "bare matrix products (all five)"),
    ]:
        row = _row(threads, label)
        stated(PERFORMANCE, f"* - {on_page} - {row[1]} - {row[2]}")
    scaling = _table(tables, "Target 5")
    for row in scaling[1:]:
        cells = [row[1], row[2], row[3], row[4], row[5]]
        stated(PERFORMANCE, " - ".join(c.replace("–", "--") for c in cells))
    regression = _table(tables, "Regression")
    for data_set in ("friedman1", "diabetes"):
        for solver in ("adam", "lbfgs", "sgd"):
            ours, sk = [r for r in regression if r[:2] == [data_set, solver]]
            seconds = lambda row: row[7].split()[0] + " s"  # noqa: E731
            stated(
                PERFORMANCE,
                f"* - {data_set} - {solver} - {ours[3]} ({ours[4]}) - {sk[3]} ({sk[4]})"
                f" - {seconds(ours)} - {seconds(sk)}",
            )
    memory = _table(tables, "Contenders")
    traced = _row(memory, "sklearn_backprop")[3]  # "8.9 (0.050) traced; RSS 3.0"
    peak, rss = traced.split(" traced; RSS ")
    stated(
        PERFORMANCE,
        f"* - sklearn-backprop - {peak.replace(' (', ' MiB (')} - {rss} MiB",
    )


def test_user_guide_quotes_the_searches_and_out_of_core_of_the_run():
    tables = _report_tables()
    searches = _table(tables, "Searches")
    medians = [
        float(row[2].split()[0])
        for row in searches
        if row[0].startswith(("`n_jobs=1`", "joblib", "Dask", "Ray"))
    ]
    assert len(medians) == 4, medians
    one, loky, dask, ray = (f"{median:.1f} s" for median in medians)
    stated("scaling.rst", f"took {one} with ``n_jobs=1``, {loky} with loky's")
    stated("scaling.rst", f"{dask} on a Dask")
    stated("scaling.rst", f"{ray} on a local Ray")
    out_of_core = _table(tables, "Out-of-core training")
    for label in (
        "in-memory `partial_fit` on MNIST's 60 000 training rows (before)",
        "`fit_out_of_core(...)`, its defaults",
        "`fit_out_of_core(..., prefetch=1)`",
        "`fit_out_of_core(..., prefetch=0)`",
    ):
        row = _row(out_of_core, label)
        rate = row[3].replace(",", " ")
        stated("_scaling_out_of_core.rst", f"- {rate} - {row[4]} - {row[5]} MB")
    date = datetime.date.fromisoformat(_run()["date"][:10])
    for name in ("scaling.rst", "_scaling_out_of_core.rst"):
        stated(
            name, f"on the project's 2-core machine (an AMD EPYC, 24 GiB, on {date})"
        )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_differences_page_states_the_contracts_it_tests():
    # The validation set of early stopping: fewer than 2 samples is refused.
    stated("differences.rst", "a held-out validation set of fewer than 2 samples")
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(ValueError, match="validation set is too small"):
        BackpropMLPRegressor(early_stopping=True).fit(X, np.arange(10.0))
    BackpropMLPRegressor(early_stopping=True, max_iter=2).fit(
        np.arange(40.0).reshape(20, 2) / 40, np.arange(20.0) / 20
    )  # 2 held out: scored
    # DivergenceError is both kinds of error.
    from sklearn_backprop.exceptions import DivergenceError

    assert issubclass(DivergenceError, ValueError)
    assert issubclass(DivergenceError, FloatingPointError)
    stated(
        "differences.rst", "(a :class:`ValueError` and a :class:`FloatingPointError`)"
    )


# ---------------------------------------------------------------------------
# Issue 21: the defaults across data sets, from the committed run of that
# section alone (benchmarks/results/across-data.*).
ACROSS_COLUMNS = {
    "classification": (
        "ours",
        "ours_adam",
        "ours_lbfgs",
        "sklearn",
        "sklearn_lbfgs",
        "linear",
        "hgb",
    ),
    "regression": (
        "ours",
        "ours_sgd",
        "ours_lbfgs",
        "sklearn",
        "sklearn_lbfgs",
        "linear",
        "hgb",
    ),
}


def _across():
    return json.loads((RESULTS / "across-data.json").read_text(encoding="utf-8"))


def across_rows(results, task):
    """The Performance page's rows of ``task``'s table, as ``stated`` reads
    them: ``* - name - n - cell - ...``."""
    if importlib.util.find_spec("benchmarks") is None:  # --import-mode=importlib
        sys.path.insert(0, str(ROOT))
    from benchmarks.across_data import cell

    rows = []
    for name, data in results["across_data"]["tasks"][task].items():
        cells = [
            cell(data["runs"].get(key), results["across_data"]["contenders"])
            for key in ACROSS_COLUMNS[task]
        ]
        rows.append("* - " + " - ".join([name, str(data["n_samples"]), *cells]))
    return rows


def test_the_across_data_run_is_one_complete_run():
    results = _across()
    assert results["mode"] == "full" and results["only"] == ["across-data"]
    assert not results["errors"]
    tasks = results["across_data"]["tasks"]
    assert len(tasks["classification"]) == 9 and len(tasks["regression"]) == 4


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_performance_page_quotes_the_across_data_tables(task):
    for row in across_rows(_across(), task):
        stated(PERFORMANCE, row)


def test_the_pages_quote_the_across_data_verdicts():
    """The Performance page and the README name every target the run failed."""
    targets = {t["id"]: t for t in _across()["across_data_targets"]}
    failed = [key for key, t in targets.items() if t["status"] == "FAIL"]
    for name in (PERFORMANCE, README):
        for target in failed:
            stated(name, f"``{target}``" if name == PERFORMANCE else f"`{target}`")
    total = targets["time/total"]["value"]
    stated(PERFORMANCE, f"{total:.2f} of their time summed over the section")
    stated(PERFORMANCE, f"``warnings``: {targets['warnings']['value']} of ours'")


def test_readme_quotes_the_across_data_scores():
    def score(runs, key):
        run = runs[key]
        if "same_as" in run:
            run = runs[run["same_as"]]
        warned = run["convergence_warnings"]
        return f"{run['score']:.3f}" + (f" ({warned}w)" if warned else "")

    columns = {
        "classification": (
            "ours",
            "sklearn",
            "ours_adam",
            "ours_lbfgs",
            "sklearn_lbfgs",
        ),
        "regression": ("ours", "sklearn", "linear", "hgb"),
    }
    for task, sets in _across()["across_data"]["tasks"].items():
        for name, data in sets.items():
            cells = [score(data["runs"], key) for key in columns[task]]
            stated(README, f"| {name} | {data['n_samples']} | " + " | ".join(cells))

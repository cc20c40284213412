"""The parameter and attribute descriptions that both estimators share.

Each estimator's docstring names a shared entry (or a group of them, see
``GROUPS``) on a line of its own, as ``{{name}}``; :func:`fill_docstring`
replaces it with the entries below, each default read from the estimator's
``__init__`` signature, and ``{score}`` with the estimator's score (accuracy or
R²). The text of a parameter is thus written
once for the whole family, and each docstring still reads in full in
``help()``, numpydoc and the API reference.
"""

import inspect
import re

PARAMETERS = {
    "hidden_layer_sizes": (
        "array-like of int or int",
        """Number of units of each hidden layer, from the input to the output;
an int is a single hidden layer. Any depth, including ``()``: no hidden
layer, a generalised linear model fitted by the same solvers.""",
    ),
    "activation": (
        "{'identity', 'logistic', 'tanh', 'relu'}",
        "Activation of the hidden units.",
    ),
    "solver": (
        "{'lbfgs', 'sgd', 'adam'}",
        """'sgd': minibatch gradient descent with optional (Nesterov) momentum.
'adam': the Adam optimiser of Kingma and Ba. 'lbfgs': full-batch L-BFGS
(:func:`scipy.optimize.minimize` with ``method='L-BFGS-B'``), which often
converges faster and better on small data sets; it has no
:meth:`partial_fit`, and ignores the minibatch parameters.""",
    ),
    "alpha": (
        "float",
        """Strength of the L2 penalty ``alpha / (2 sum(w)) * sum ||W||^2`` added
to each minibatch's loss, with ``sum(w)`` the batch's total sample weight
(the batch size when unweighted), as in scikit-learn's MLP.""",
    ),
    "batch_size": (
        "int or 'auto'",
        """Number of samples per minibatch of the stochastic solvers, clipped to
the number of training samples. 'auto' (resolved at :meth:`fit` and
recorded in ``batch_size_``): with ``learning_rate='one_cycle'``, an eighth
of the training samples, between 32 and 100 (100 from 800 samples on:
MNIST's batches; up to 32 samples, one batch of all); with scikit-learn's
schedules, ``min(200, n_samples)``, as in scikit-learn.""",
    ),
    "learning_rate": (
        "{'constant', 'invscaling', 'adaptive', 'one_cycle'}",
        """Step-size schedule of the stochastic solvers. 'constant': fixed.
'invscaling': ``learning_rate_init / (t + 1)**power_t`` with ``t`` the
number of samples seen (``t_``), updated after each epoch (as scikit-learn
does). 'adaptive': divided by 5 each time the monitored figure has not
improved by ``tol`` for more than ``n_iter_no_change`` consecutive epochs
(training stops when the step falls below 1e-6). 'one_cycle': set before
every minibatch, rising linearly from 0 to ``learning_rate_init`` over the
first ``warmup_fraction`` of ``max_iter`` epochs, then falling linearly to
0 at the end of epoch ``max_iter`` (Smith's one-cycle policy); a
:meth:`fit` that runs the whole cycle has finished, and raises no
``ConvergenceWarning``. A cycle runs its course when the training loss
stalls (the ``tol`` rule does not cut it short); with ``early_stopping``, a
stalled validation {score} still stops it. Each :meth:`fit` runs one cycle
(``warm_start`` too: it continues from the weights, with a new cycle);
:meth:`partial_fit` follows the cycle one epoch per call, and starts
another after ``max_iter`` calls. 'one_cycle' drives both 'sgd' and 'adam';
the other schedules are scikit-learn's, for 'sgd' only ('adam' takes its
step as given with them, as scikit-learn's does).""",
    ),
    "learning_rate_init": (
        "float or 'auto'",
        """Initial step size of 'sgd' and 'adam'; the peak step of the
'one_cycle' schedule. 'auto' (resolved at :meth:`fit` and recorded in
``learning_rate_init_``): with ``learning_rate='one_cycle'``, 0.6 for 'sgd'
with sigmoid hidden units (the notebook's network) and 0.05 with other
units (0.6 diverges with ReLU units), 0.05 for the classifier's 'adam' and
0.01 for the regressor's; with scikit-learn's schedules, scikit-learn's
0.001. Unused by 'lbfgs'.""",
    ),
    "power_t": ("float", "Exponent of the 'invscaling' schedule."),
    "warmup_fraction": (
        "float",
        """Fraction of the 'one_cycle' schedule spent rising to the peak step,
in [0, 1); unused by the other schedules.""",
    ),
    "max_iter": (
        "int or 'auto'",
        """Maximum number of epochs (passes over the training data) of the
stochastic solvers, or of iterations of 'lbfgs'. For :meth:`partial_fit`,
one call is one epoch. With ``learning_rate='one_cycle'`` it is also the
length of the schedule: reaching it is the planned end of training, not a
``ConvergenceWarning``. 'auto' (resolved at :meth:`fit` and recorded in
``max_iter_``): with ``learning_rate='one_cycle'``, enough epochs for at
least 350 minibatch updates, and never fewer than 8 (8 on MNIST, where an
epoch is 600 updates; 70 on iris's 150 samples, 5 batches of 32);
otherwise scikit-learn's 200.""",
    ),
    "shuffle": (
        "bool",
        "Whether to reshuffle the training samples before each epoch.",
    ),
    "random_state": (
        "int, RandomState instance or None",
        """Controls the weight initialisation, the shuffling and the validation
split of ``early_stopping``. Pass an int for reproducible results.""",
    ),
    "tol": (
        "float",
        """Stochastic solvers: minimum improvement of the training loss (or of
the validation {score} with ``early_stopping``) that counts as progress.
'lbfgs': it stops when no gradient component exceeds ``tol`` (SciPy's
``gtol``, as scikit-learn passes it), or when an iteration lowers the loss
by a relative 2.2e-9 or less (SciPy's default ``ftol``).""",
    ),
    "verbose": (
        "bool or int",
        """Whether to print one line per epoch (or 'lbfgs' iteration) to
standard output: training loss and {score}, validation loss and {score}
when a validation set is used, and the seconds it took (these are
Keras-style figures, not scikit-learn's ``Iteration n, loss = ...``
lines). With ``verbose >= 2`` a progress bar also shows the minibatches
within each epoch when standard output is a terminal.""",
    ),
    "warm_start": (
        "bool",
        """When True, :meth:`fit` continues from the current ``coefs_`` and
``intercepts_`` (including weights assigned to them by the user) and
appends to the training history, instead of starting afresh.""",
    ),
    "momentum": ("float", "Momentum of 'sgd', in [0, 1]."),
    "nesterovs_momentum": ("bool", "Whether 'sgd' uses Nesterov's momentum."),
    "early_stopping": (
        "bool",
        """Whether the stochastic solvers hold out ``validation_fraction`` of
the training data (or use ``X_val`` when given to :meth:`fit`), stop when
the validation {score} has not improved by ``tol`` for more than
``n_iter_no_change`` consecutive epochs, and keep the weights of the best
epoch. Ignored by 'lbfgs', and refused by :meth:`partial_fit`, as in
scikit-learn.""",
    ),
    "validation_fraction": (
        "float",
        """Fraction of the training data held out when ``early_stopping`` and
no ``X_val`` is given, in [0, 1).""",
    ),
    "beta_1": ("float", "Decay rate of Adam's first-moment estimate, in [0, 1)."),
    "beta_2": (
        "float",
        """Decay rate of Adam's second-moment estimate, in [0, 1). The
classifier's default, 0.95 (RealMLP's), suits its one-cycle Adam: with
scikit-learn's 0.999 it reaches 0.80-0.87 where 0.95 reaches 0.90-0.92 on
``make_classification`` and ``make_moons`` (5-fold CV); the regressor keeps
scikit-learn's 0.999, better there on small noisy data (diabetes).""",
    ),
    "epsilon": ("float", "Adam's numerical-stability constant."),
    "n_iter_no_change": (
        "int or np.inf",
        """Training stops (or, with ``learning_rate='adaptive'``, the step
shrinks) after more than ``n_iter_no_change`` consecutive epochs without an
improvement of at least ``tol``: that many are tolerated, one more is not.
A 'one_cycle' schedule runs its course through plateaus of the training
loss; with ``early_stopping`` a plateau of the validation {score} stops it.
``np.inf`` switches the check off.""",
    ),
    "max_fun": (
        "int",
        """Maximum number of loss evaluations of 'lbfgs' (each a forward and
backward pass over the training set); unused by the other solvers.""",
    ),
    "transform_layer": (
        "int",
        """The hidden layer whose activations :meth:`transform` returns,
indexed like ``hidden_layer_sizes``: 0 is the first hidden layer, -1 (the
default) the last one.""",
    ),
}

ATTRIBUTES = {
    "n_features_in_": ("int", "Number of features seen during fit."),
    "feature_names_in_": (
        "ndarray of shape (`n_features_in_`,)",
        """Names of the features seen during fit, when ``X`` has string column
names (a pandas DataFrame, for instance).""",
    ),
    "coefs_": (
        "list of ndarray",
        """``coefs_[i]`` of shape (fan_in, fan_out) holds the weights from
layer i to layer i + 1, in the dtype of the training data (float32 or
float64).""",
    ),
    "intercepts_": (
        "list of ndarray",
        "``intercepts_[i]`` of shape (fan_out,) holds the biases of layer i + 1.",
    ),
    "n_layers_": ("int", "Number of layers, input and output included."),
    "n_outputs_": ("int", "Number of output units."),
    "out_activation_": ("str", "Name of the output activation in use."),
    "loss_": (
        "float",
        """Training loss of the last epoch (mean over its minibatches, penalty
included), or of the last 'lbfgs' iterate.""",
    ),
    "loss_curve_": (
        "list of float",
        """Training loss of each epoch (or 'lbfgs' iteration), over every call:
``warm_start`` fits and :meth:`partial_fit` append to it.""",
    ),
    "best_loss_": (
        "float or None",
        """Lowest training loss reached over every call; None with
``early_stopping`` (see ``best_validation_score_`` instead).""",
    ),
    "train_scores_": (
        "list of float",
        """Training {score} of each epoch, accumulated over its minibatches
while the weights were being updated (as Keras reports it); for 'lbfgs',
the {score} of each iterate.""",
    ),
    "validation_scores_": (
        "list of float or None",
        """Validation {score} after each epoch (or 'lbfgs' iteration) when a
validation set is used (``early_stopping`` or ``X_val``), over every call;
otherwise None.""",
    ),
    "validation_loss_curve_": (
        "list of float or None",
        """Loss on the validation set after each epoch (same loss as
``loss_curve_``, without the penalty), when one is used; else None.""",
    ),
    "best_validation_score_": (
        "float or None",
        "Best validation {score}, when a validation set is used; else None.",
    ),
    "n_iter_": (
        "int",
        """Number of epochs (or 'lbfgs' iterations) run by the last call to
:meth:`fit`: a ``warm_start`` fit counts its own epochs only, and
:meth:`partial_fit` sets 1, as in scikit-learn.""",
    ),
    "batch_size_": (
        "int or None",
        """The minibatch size the last training call used (``batch_size``
with 'auto' resolved, clipped to the training samples); None for
'lbfgs'.""",
    ),
    "learning_rate_init_": (
        "float",
        """The step the last training call used (``learning_rate_init`` with
'auto' resolved): the peak of a 'one_cycle' schedule.""",
    ),
    "max_iter_": (
        "int",
        """The epochs (or 'lbfgs' iterations) the last training call allowed
(``max_iter`` with 'auto' resolved); with 'one_cycle', the length of its
cycle.""",
    ),
    "t_": (
        "int",
        """Number of training samples seen by the stochastic solvers over every
call ('lbfgs' leaves it unchanged, as in scikit-learn).""",
    ),
}

# Paragraphs that methods of both heads share, for placeholders of their own.
PARAGRAPHS = {
    "partial_fit_schedule": """With ``learning_rate='one_cycle'``, each call
is one epoch of a cycle of ``max_iter`` calls (with 'auto', as many as a
:meth:`fit` on the first call's samples would run), after which the next
call starts a new cycle: set ``max_iter`` to the number of calls planned, or
pass ``learning_rate='constant'``, for a loop of another length. The
optimiser's settings (schedule, step, ``max_iter`` as the cycle's length) are
read on the first call; ``set_params`` between calls does not change them, as
in scikit-learn.""",
}

# Named runs of entries, in signature order, for the placeholders of a block.
GROUPS = {
    # every parameter from 'solver' to 'max_fun' (in scikit-learn's order)
    "training_parameters": list(PARAMETERS)[
        list(PARAMETERS).index("solver") : list(PARAMETERS).index("max_fun") + 1
    ],
    "fitted_attributes": list(ATTRIBUTES),
}

_PLACEHOLDER = re.compile(r"^(?P<indent> *)\{\{(?P<name>\w+)\}\}$", re.MULTILINE)


def _entry(name, type_, text, indent, default, score):
    head = f"{indent}{name} : {type_}"
    if default is not inspect.Parameter.empty:
        head += f", default={default!r}"
    body = text.format(score=score).split("\n")
    return "\n".join([head] + [f"{indent}    {line}" for line in body])


def fill_docstring(score):
    """Class decorator: expand the ``{{name}}`` lines of the class docstring,
    and the ``{{paragraph}}`` lines of its methods' docstrings.

    Parameters
    ----------
    score : str
        What the estimator's ``score`` measures, e.g. ``"accuracy"``.
    """

    def decorate(cls):
        signature = inspect.signature(cls.__init__).parameters

        def entry(name, indent):
            if name in PARAMETERS:
                default = signature[name].default
                return _entry(name, *PARAMETERS[name], indent, default, score)
            empty = inspect.Parameter.empty
            return _entry(name, *ATTRIBUTES[name], indent, empty, score)

        def expand(match):
            names = GROUPS.get(match["name"], [match["name"]])
            return "\n".join(entry(name, match["indent"]) for name in names)

        def paragraph(match):
            lines = PARAGRAPHS[match["name"]].split("\n")
            return "\n".join(match["indent"] + line for line in lines)

        cls.__doc__ = _PLACEHOLDER.sub(expand, cls.__doc__)
        for member in vars(cls).values():
            # A method, or the descriptor of one (available_if's holds it
            # as ``fn``).
            for documented in (member, getattr(member, "fn", None)):
                doc = getattr(documented, "__doc__", None)
                if isinstance(doc, str) and "{{" in doc:
                    documented.__doc__ = _PLACEHOLDER.sub(paragraph, doc)
        return cls

    return decorate

"""BackpropMLPClassifier: the classification head of the trainer.

What a classifier adds to :class:`~sklearn_backprop._base.BaseBackpropMLP`:
labels learnt and one-hot encoded, class weights, sigmoid or softmax outputs
with their cross-entropy, accuracy as the score, and probabilities.
"""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from ._base import BaseBackpropMLP, check_stochastic_solver, store_init_params
from ._coding import MultilabelCoding, label_coding
from ._docstrings import fill_docstring


@fill_docstring(score="accuracy")
class BackpropMLPClassifier(ClassifierMixin, BaseBackpropMLP):
    """Multilayer perceptron classifier trained by backpropagation.

    A feed-forward network of fully connected layers, trained by the
    backpropagation algorithm written directly in NumPy. By default it is the
    network of the classic teaching notebook: sigmoid hidden units and
    independent sigmoid output units trained with binary cross-entropy on
    one-hot encoded labels, by minibatch gradient descent with Nesterov
    momentum and a one-cycle step schedule (peak 0.6) whose length adapts to
    the data: on MNIST, 8 epochs of batches of 100, which reach 98 %; on
    small data, smaller batches and at least 350 updates (see
    ``batch_size`` and ``max_iter``). ``solver='adam'`` follows the same
    schedule with a peak of 0.05; ``solver='lbfgs'`` gets scikit-learn's 200
    iterations. With ``output_activation='softmax'`` it is a softmax
    classifier trained with categorical cross-entropy. It takes every
    parameter of scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`
    (with defaults of its own), and adds class weights, the choice of output
    units, the 'one_cycle' schedule, a validation set with per-epoch curves,
    and the hidden layers as features (:meth:`transform`).

    Parameters
    ----------
    {{hidden_layer_sizes}}
    {{activation}}
    output_activation : {'logistic', 'softmax'}, default='logistic'
        Output units and the loss paired with them. 'logistic': one
        independent sigmoid per class, binary cross-entropy summed over the
        outputs (the notebook's choice). 'softmax': softmax over the classes,
        categorical cross-entropy (scikit-learn's choice for multiclass
        targets). Binary problems always use a single sigmoid output
        (equivalent to a two-class softmax), and multilabel problems always
        use sigmoids, which ``out_activation_`` reports.
    {{training_parameters}}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into the sample weights: a dict
        ``{class_label: weight}``, or 'balanced' for
        ``n_samples / (n_classes * np.bincount(y))``, computed from the
        training targets of each call. Not available for multilabel targets,
        nor 'balanced' in :meth:`partial_fit`.
    {{transform_layer}}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, ``arange(n_labels)``).
    {{fitted_attributes}}

    See Also
    --------
    BackpropMLPRegressor : The regression head of the same trainer.
    sklearn.neural_network.MLPClassifier : scikit-learn's multilayer perceptron.

    Notes
    -----
    With sigmoid outputs, the outputs of a single-label problem are independent
    probabilities that need not sum to one; :meth:`predict_proba` divides each
    row by its sum so that it does (for multilabel targets it returns the raw
    sigmoids). Float32 input is trained and predicted in float32 throughout;
    float64 stays float64; any other dtype is converted to float64.

    Where it deliberately differs from scikit-learn's MLPClassifier: the
    defaults are the notebook's network trained with the one-cycle schedule
    (see above; with it, ``max_iter`` is the length of the schedule, and a
    fit that completes it raises no ``ConvergenceWarning``), and Adam's
    ``beta_2`` is 0.95 (RealMLP's; scikit-learn's 0.999); the per-epoch
    ``verbose`` lines report training and validation loss and accuracy;
    sigmoid networks start as the notebook's (four times Glorot's range, zero
    biases), others start from scikit-learn's weights for the same
    ``random_state``; the
    early-stopping split is stratified for multiclass targets too, and falls
    back to a plain random split when a class has a single member;
    :meth:`partial_fit` infers ``classes`` from the first ``y`` when it is not
    given; and ``loss_curve_``, ``train_scores_`` and the validation curves
    are also recorded by 'lbfgs'. With scikit-learn's hyperparameters
    (``hidden_layer_sizes=(100,)``, ``activation='relu'``,
    ``learning_rate='constant'``, ``learning_rate_init=0.001``,
    ``max_iter=200``, ``beta_2=0.999``, and ``output_activation='softmax'``
    for multiclass targets), 'sgd' and 'adam' reach scikit-learn's model up
    to rounding.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_backprop import BackpropMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X / 16, y, random_state=0)
    >>> clf = BackpropMLPClassifier(max_iter=30, random_state=0)
    >>> clf.fit(X_train, y_train)
    BackpropMLPClassifier(max_iter=30, random_state=0)
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
    >>> print(f"{clf.score(X_test, y_test):.2f}")
    0.9...
    >>> clf.transform(X_test[:1]).shape  # the 256 hidden units as features
    (1, 256)
    """

    _parameter_constraints: dict = {
        **BaseBackpropMLP._parameter_constraints,
        "output_activation": [StrOptions({"logistic", "softmax"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _score_name = "accuracy"

    def __init__(
        self,
        hidden_layer_sizes=(256,),
        activation="logistic",
        *,
        output_activation="logistic",
        solver="sgd",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="one_cycle",
        learning_rate_init="auto",
        power_t=0.5,
        warmup_fraction=0.1,
        max_iter="auto",
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.95,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        transform_layer=-1,
    ):
        store_init_params(self, locals())

    @available_if(check_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Run one epoch of minibatch updates on (X, y).

        {{partial_fit_schedule}}

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.
        classes : array-like of shape (n_classes,), default=None
            Every class that can appear in any call. Needed on the first call
            unless ``y`` holds them all; a later call may repeat it, but not
            change it.

        Returns
        -------
        self : BackpropMLPClassifier
            The updated estimator.
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which "
                "sees one chunk of data at a time; compute the weights once with "
                "sklearn.utils.class_weight.compute_class_weight and pass them "
                "as a dict."
            )
        return self._partial_fit(X, y, sample_weight, classes=classes)

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    def _targets(self, y, *, coding, call, classes=None):
        """Check the labels; with no ``coding`` yet, learn the classes and
        choose the output coding."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        target_type = type_of_target(y, input_name="y")
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            supported = (
                f"{type(self).__name__} supports binary, multiclass and "
                "multilabel-indicator targets, not continuous or "
                "multiclass-multioutput ones."
            )
            if target_type in ("continuous", "continuous-multioutput", "unknown"):
                # scikit-learn's words (check_classification_targets) first.
                supported = (
                    "Maybe you are trying to fit a classifier, which expects "
                    "discrete classes on a regression target with continuous "
                    f"values. {supported}"
                )
            raise ValueError(f"Unknown label type: {target_type}. {supported}")
        multilabel = target_type == "multilabel-indicator"
        if coding is None:
            coding = label_coding(
                self._learn_classes(y, multilabel, classes),
                multilabel,
                self.output_activation,
            )
        elif multilabel != isinstance(coding, MultilabelCoding) or (
            multilabel and y.shape[1] != len(coding.classes)
        ):
            raise ValueError(
                "The type of target changed since the estimator was fitted: "
                f"got {target_type!r} with shape {y.shape}."
            )
        elif classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), coding.classes
        ):
            # scikit-learn's words (_check_partial_fit_first_call).
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {coding.classes!r}"
            )
        if not multilabel:
            self._check_labels_known(y, coding.classes, call)
        return y, coding

    @property
    def _coding(self):
        return label_coding(self.classes_, self._multilabel, self.out_activation_)

    def _learn_classes(self, y, multilabel, classes):
        if multilabel:
            return np.arange(y.shape[1])
        learnt = np.unique(np.asarray(classes) if classes is not None else y)
        if len(learnt) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes "
                f"in the data, but the data contains only one class: "
                f"{learnt[0]!r}."
            )
        return learnt

    def _check_labels_known(self, y, classes, call):
        # Where scikit-learn's MLPClassifier has an error of its own, its words
        # come first, then ours.
        labels = np.unique(y)
        if call == "warm_start" and not np.array_equal(labels, classes):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as "
                f"in the previous call to fit. Previously got {classes}, `y` has "
                f"{labels}. Fit without warm_start to learn other classes."
            )
        unseen = np.setdiff1d(labels, classes)
        if not unseen.size:
            return
        unknown = (
            f"contains labels {unseen.tolist()} that are not in classes_ "
            f"{classes.tolist()}"
        )
        if call != "partial_fit":
            raise ValueError(f"{'y_val' if call == 'y_val' else 'y'} {unknown}.")
        raise ValueError(
            f"`y` has classes not in `self.classes_`. `self.classes_` has "
            f"{classes}. 'y' has {labels}. y {unknown}; pass every label in "
            "`classes` on the first call to partial_fit."
        )

    def _class_weights(self, y, coding):
        """Weight of each class of ``coding`` from ``class_weight``, or None.

        Computed from the training targets of each call, then applied to the
        training and validation samples alike.
        """
        if self.class_weight is None:
            return None
        if isinstance(coding, MultilabelCoding):
            raise ValueError(
                "class_weight is not supported for multilabel targets; use "
                "sample_weight instead."
            )
        classes = coding.classes
        if isinstance(self.class_weight, dict):
            # Checked here: compute_class_weight names the wrong classes.
            unknown = [c for c in self.class_weight if c not in set(classes)]
            if unknown:
                raise ValueError(
                    f"class_weight names classes {unknown} that are not in the "
                    f"data's classes {classes.tolist()}."
                )
        factors = compute_class_weight(self.class_weight, classes=classes, y=y)
        if not np.all(np.isfinite(factors)) or np.any(factors < 0):
            raise ValueError(
                "class_weight values must be finite and non-negative; got "
                f"{self.class_weight!r}."
            )
        return factors

    # ------------------------------------------------------------------
    # Probabilities
    # ------------------------------------------------------------------
    def predict_proba(self, X):
        """Probability estimates.

        With sigmoid outputs on a single-label problem, each row of sigmoids is
        divided by its sum so that rows sum to one; multilabel targets get the
        raw sigmoids.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, in the order of ``classes_``, in the dtype of
            the weights.
        """
        Z = self._output_preactivations(self._validate_X_predict(X, "predict_proba"))
        return self._coding.probabilities(Z)

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates, computed stably.

        Computed from the output pre-activations (log-sigmoid and log-sum-exp),
        so it stays finite where :meth:`predict_proba` rounds to 0 or 1.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, in the order of ``classes_``.
        """
        Z = self._output_preactivations(
            self._validate_X_predict(X, "predict_log_proba")
        )
        return self._coding.log_probabilities(Z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

"""TrainingCurvesDisplay: a fitted estimator's loss and score, epoch by epoch.

A Display in scikit-learn's style
(:class:`~sklearn.model_selection.LearningCurveDisplay`,
:class:`~sklearn.metrics.ConfusionMatrixDisplay`): ``from_estimator`` reads
the curves that training recorded and draws them, ``plot`` draws curves held
by the display, and the attributes ending in ``_`` hold what was drawn.
matplotlib is imported only when something is drawn.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted


def _matplotlib_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # scikit-learn's wording for its Displays
        raise ImportError(
            "TrainingCurvesDisplay.plot requires matplotlib. You can install "
            'matplotlib with `pip install matplotlib` (or "sklearn-backprop[plot]").'
        ) from exc
    return plt


class TrainingCurvesDisplay:
    """Training curves: the loss and the score of every epoch.

    Two panels, side by side: the loss (``loss_curve_``, and the validation
    loss when a validation set was used) and the score (``train_scores_``,
    and the validation score), against the epoch, or for 'lbfgs' the
    iteration; the epoch whose weights early stopping kept is marked on both.
    It is recommended to use :meth:`from_estimator` to create one; all
    parameters are stored as attributes.

    Parameters
    ----------
    loss_curve : list of float
        Training loss of each epoch, as ``loss_curve_``.
    train_scores : list of float
        Training score of each epoch, as ``train_scores_``.
    validation_loss_curve : list of float, default=None
        Validation loss of each epoch, as ``validation_loss_curve_``.
    validation_scores : list of float, default=None
        Validation score of each epoch, as ``validation_scores_``.
    best_epoch : int, default=None
        The epoch (counted from 1) whose weights the estimator kept, marked on
        both panels; None marks none.
    score_name : str, default="score"
        What the score measures, for the axis label: "accuracy", "r2"...
    unit : {"epoch", "iteration"}, default="epoch"
        What the horizontal axis counts: epochs, or L-BFGS iterations.
    estimator_name : str, default=None
        Name of the estimator, for the title; None: no title.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes of shape (2,)
        The loss panel and the score panel.
    figure_ : matplotlib Figure
        The figure that holds them.
    lines_ : dict of str to matplotlib Line2D
        The curves drawn: "loss", "score", and with a validation set
        "validation loss" and "validation score".
    best_epoch_lines_ : list of matplotlib Line2D
        The vertical lines that mark ``best_epoch`` (empty without one).

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against the number
        of training samples.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_backprop import BackpropMLPClassifier, TrainingCurvesDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = BackpropMLPClassifier(early_stopping=True, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> display = TrainingCurvesDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['loss', 'score', 'validation loss', 'validation score']
    """

    def __init__(
        self,
        *,
        loss_curve,
        train_scores,
        validation_loss_curve=None,
        validation_scores=None,
        best_epoch=None,
        score_name="score",
        unit="epoch",
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.train_scores = train_scores
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.best_epoch = best_epoch
        self.score_name = score_name
        self.unit = unit
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, validation_label="validation", title=None):
        """Draw the curves.

        Parameters
        ----------
        ax : array-like of two matplotlib Axes, default=None
            The axes of the loss panel and of the score panel; None: a new
            figure with both.
        validation_label : str, default="validation"
            How the legend names the validation set ("test" when it is one).
        title : str, default=None
            Title of the figure; None: the estimator's name, if any.

        Returns
        -------
        display : TrainingCurvesDisplay
            This object, with ``axes_``, ``figure_``, ``lines_`` and
            ``best_epoch_lines_``.
        """
        plt = _matplotlib_pyplot()
        from matplotlib.ticker import MaxNLocator

        if ax is None:
            figure, ax = plt.subplots(1, 2, figsize=(10, 4))
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.shape != (2,):
            raise ValueError(
                "ax must hold two matplotlib Axes, for the loss and the score; "
                f"got {axes.shape[0]}."
            )
        epochs = np.arange(1, len(self.loss_curve) + 1)
        panels = (
            ("loss", self.loss_curve, self.validation_loss_curve),
            (self.score_name, self.train_scores, self.validation_scores),
        )
        self.lines_, self.best_epoch_lines_ = {}, []
        for axis, (key, label, training, validation) in zip(
            axes, (("loss", *panels[0]), ("score", *panels[1]))
        ):
            (self.lines_[key],) = axis.plot(
                epochs, training, marker="o", markersize=3, label="training"
            )
            if validation is not None and len(validation):
                (self.lines_[f"validation {key}"],) = axis.plot(
                    epochs, validation, marker="o", markersize=3, label=validation_label
                )
            if self.best_epoch is not None:
                self.best_epoch_lines_.append(
                    axis.axvline(
                        self.best_epoch,
                        color="grey",
                        linestyle="--",
                        label=f"best {self.unit} (kept)",
                    )
                )
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
            axis.set_xlabel(self.unit)
            axis.set_ylabel(label)
            axis.grid(True, alpha=0.3)
            axis.legend()
        self.axes_, self.figure_ = axes, axes[0].figure
        title = self.estimator_name if title is None else title
        if title is not None:
            self.figure_.suptitle(title)
        return self

    @classmethod
    def from_estimator(
        cls, estimator, *, ax=None, validation_label="validation", title=None
    ):
        """Draw the curves that a fitted estimator recorded.

        Parameters
        ----------
        estimator : BackpropMLPClassifier or BackpropMLPRegressor
            A fitted estimator: its ``loss_curve_``, ``train_scores_`` and,
            when it had a validation set, ``validation_loss_curve_`` and
            ``validation_scores_`` are drawn, one point per epoch (or per
            L-BFGS iteration) over every call that trained it. With
            ``early_stopping``, the epoch whose weights it kept (the best
            validation score) is marked.
        ax : array-like of two matplotlib Axes, default=None
            The axes of the loss panel and of the score panel; None: a new
            figure with both.
        validation_label : str, default="validation"
            How the legend names the validation set ("test" when it is one).
        title : str, default=None
            Title of the figure; None: the estimator's class name.

        Returns
        -------
        display : TrainingCurvesDisplay
            The display, drawn.
        """
        check_is_fitted(estimator)
        validation_scores = estimator.validation_scores_
        best_epoch = None
        kept_best = estimator.early_stopping and estimator.solver != "lbfgs"
        if kept_best and validation_scores:
            # The first epoch with the best score: the one early stopping kept.
            best_epoch = int(np.argmax(validation_scores)) + 1
        display = cls(
            loss_curve=list(estimator.loss_curve_),
            train_scores=list(estimator.train_scores_),
            validation_loss_curve=estimator.validation_loss_curve_,
            validation_scores=validation_scores,
            best_epoch=best_epoch,
            score_name=getattr(estimator, "_score_name", "score"),
            unit="iteration" if estimator.solver == "lbfgs" else "epoch",
            estimator_name=type(estimator).__name__,
        )
        return display.plot(ax=ax, validation_label=validation_label, title=title)

"""The book's figure style and the plots that recur across chapters.

Call ``use_book_style()`` once per notebook (``rnnbook.utils`` does not do it for you, so that
library code never changes global state behind a reader's back).
"""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# A colour-blind safe palette (Okabe and Ito), used in this order by every figure.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

BOOK_STYLE = {
    "figure.figsize": (7.0, 3.2),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}


def use_book_style():
    """Apply the book's matplotlib style (rcParams) for the rest of the session.

    In a Jupyter kernel with the inline backend, figures are also stored at twice their
    resolution ("retina" PNG, shown at the same size), so that they stay sharp on high-density
    screens and in the online book.
    """
    mpl.rcParams.update(BOOK_STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:          # plain Python, no Jupyter: nothing to configure
        return
    if get_ipython() is not None and "inline" in mpl.get_backend():
        set_matplotlib_formats("retina")


def label_axes(ax, xlabel, ylabel, title=None):
    """Label both axes of ``ax`` (and optionally title it); figures in the book always do."""
    if not xlabel or not ylabel:
        raise ValueError("label_axes: both xlabel and ylabel must be non-empty strings")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_series(ax, series, xlabel, ylabel, title=None):
    """Plot one or more named 1-D series on ``ax``.

    Args:
        ax: a matplotlib Axes.
        series: dict mapping a label to ``y`` of shape (T,) or to a pair ``(x, y)`` of shape (T,).
        xlabel, ylabel: axis labels, with units where they have any.
        title: optional title.

    Returns:
        ``ax``.
    """
    for label, values in series.items():
        x, y = values if isinstance(values, tuple) else (np.arange(len(values)), values)
        ax.plot(x, y, label=label)
    if len(series) > 1:
        ax.legend()
    return label_axes(ax, xlabel, ylabel, title)


def plot_loss_curves(ax, history, xlabel="epoch", ylabel="loss", title=None, log=False):
    """Plot training curves.

    Args:
        ax: a matplotlib Axes.
        history: dict mapping a curve name (``"train"``, ``"valid"``) to a sequence of values.
        log: use a logarithmic y axis.

    Returns:
        ``ax``.
    """
    plot_series(ax, {name: np.asarray(v, dtype=float) for name, v in history.items()},
                xlabel, ylabel, title)
    if log:
        ax.set_yscale("log")
    return ax


def plot_heatmap(ax, matrix, xlabel, ylabel, title=None, colorbar_label=None, **imshow_kwargs):
    """Show a 2-D array (rows along y, columns along x) with a labelled colour bar.

    Args:
        ax: a matplotlib Axes.
        matrix: array of shape (rows, cols).

    Returns:
        the AxesImage.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"matrix: expected shape (rows, cols), got {matrix.shape}")
    image = ax.imshow(matrix, aspect="auto", origin="lower", **imshow_kwargs)
    ax.grid(False)
    colorbar = plt.colorbar(image, ax=ax)
    if colorbar_label:
        colorbar.set_label(colorbar_label)
    label_axes(ax, xlabel, ylabel, title)
    return image


def plot_history(ax, history, log=False, title=None):
    """Draw a :class:`rnnbook.training.History`: training and held-out loss against the step.

    The held-out curve is drawn when it was measured, with the best evaluation marked.

    Args:
        ax: a matplotlib Axes.
        history: the History that ``rnnbook.training.fit`` returned.
        log: use a logarithmic y axis.

    Returns:
        ``ax``.
    """
    if not len(history):
        raise ValueError("history: expected at least one evaluation, got an empty History")
    steps = np.asarray(history.steps)
    series = {"train": (steps, np.asarray(history.train_loss, dtype=float))}
    valid = np.asarray(history.valid_loss, dtype=float)
    if np.isfinite(valid).any():
        series["held out"] = (steps, valid)
    plot_series(ax, series, "training step", "loss", title)
    if history.best_step is not None:
        ax.plot([history.best_step], [history.best_valid], "o", color=PALETTE[1],
                label="best held out")
        ax.legend()
    if log:
        ax.set_yscale("log")
    return ax

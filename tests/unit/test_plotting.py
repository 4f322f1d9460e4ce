import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest

from rnnbook.plotting import (
    BOOK_STYLE,
    PALETTE,
    label_axes,
    plot_heatmap,
    plot_loss_curves,
    plot_series,
    use_book_style,
)


@pytest.fixture
def ax():
    with mpl.rc_context():
        use_book_style()
        fig, ax = plt.subplots()
        yield ax
        plt.close(fig)


def test_book_style_sets_palette_and_grid():
    with mpl.rc_context():
        use_book_style()
        assert mpl.rcParams["axes.grid"] is True
        assert [c["color"] for c in mpl.rcParams["axes.prop_cycle"]][:3] == list(PALETTE[:3])
        assert tuple(mpl.rcParams["figure.figsize"]) == BOOK_STYLE["figure.figsize"]


def test_plot_series_draws_every_series_with_labels_and_legend(ax):
    plot_series(ax, {"a": np.arange(5.0), "b": (np.arange(3), np.ones(3))}, "step $t$", "value")
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert ax.get_xlabel() == "step $t$" and ax.get_ylabel() == "value"
    assert ax.get_legend() is not None
    assert np.array_equal(ax.get_lines()[1].get_xdata(), np.arange(3))


def test_single_series_has_no_legend(ax):
    plot_series(ax, {"only": np.zeros(4)}, "x", "y")
    assert ax.get_legend() is None


def test_unlabelled_axes_are_refused(ax):
    with pytest.raises(ValueError, match="xlabel and ylabel"):
        label_axes(ax, "", "loss")


def test_loss_curves_log_scale(ax):
    plot_loss_curves(ax, {"train": [3.0, 2.0, 1.0], "valid": [3.5, 2.5, 2.0]}, log=True)
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    assert ax.get_xlabel() == "epoch"


def test_heatmap_shape_and_colorbar(ax):
    image = plot_heatmap(ax, np.arange(6.0).reshape(2, 3), "time step", "unit",
                         colorbar_label="activation")
    assert image.get_array().shape == (2, 3)
    assert image.colorbar.ax.get_ylabel() == "activation"


def test_heatmap_rejects_non_matrix(ax):
    with pytest.raises(ValueError, match=r"matrix: expected shape \(rows, cols\), got \(3,\)"):
        plot_heatmap(ax, np.zeros(3), "x", "y")

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


def test_figures_in_a_notebook_are_stored_at_twice_their_size():
    import base64
    import struct

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "from rnnbook.plotting import use_book_style\n"
        "use_book_style()\n"
        "plt.plot([0, 1])\n"
        "plt.show()")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    (image,) = [out for out in nb.cells[0].outputs if "image/png" in out.get("data", {})]
    png = base64.b64decode(image["data"]["image/png"])
    pixels = struct.unpack(">I", png[16:20])[0]           # the width field of the IHDR chunk
    shown = image["metadata"]["image/png"]["width"]
    # about 7 inches at 100 dpi shown (the inline backend trims the margins), stored twice as wide
    assert 600 <= shown <= 800 and abs(pixels - 2 * shown) <= 2

"""rnnbook.diagrams.draw_bptt_graph: the forward graph with losses plus the backward paths."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook.diagrams import draw_bptt_graph  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


@pytest.mark.parametrize("T", [1, 3, 5])
def test_two_gradient_paths_per_step(ax, T):
    counts = draw_bptt_graph(ax, T=T, title="bptt")
    assert counts["losses"] == counts["states"] == T
    assert counts["direct"] == counts["recurrent"] == T
    dashed = [p for p in ax.patches if p.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == 3 * T          # loss -> output -> state, and state -> previous state
    assert counts["arrows"] == 4 * T     # forward: x->h, h->h, h->y, y->loss
    assert ax.get_title() == "bptt"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["forward", "gradient"]


@pytest.mark.parametrize("T", [0, -1, 2.5, True, "3"])
def test_rejects_a_bad_T(ax, T):
    with pytest.raises(ValueError, match="T: expected a positive integer"):
        draw_bptt_graph(ax, T=T)

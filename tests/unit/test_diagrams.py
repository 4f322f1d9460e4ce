"""rnnbook.diagrams: what each drawing contains, and its argument checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook.diagrams import (  # noqa: E402
    IO_PATTERNS,
    draw_folded_rnn,
    draw_io_pattern,
    draw_io_patterns,
    draw_rnn_graph,
    draw_unrolled_rnn,
)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def texts(ax):
    return [t.get_text() for t in ax.texts]


def dashed(ax):
    return [p for p in ax.patches if p.get_linestyle() not in ("-", "solid")]


@pytest.mark.parametrize("T", [1, 4, 7])
def test_unrolled_labels_the_same_weights_at_every_step(ax, T):
    counts = draw_unrolled_rnn(ax, T=T)
    assert counts == {"inputs": T, "states": T, "outputs": T, "losses": 0, "arrows": 3 * T,
                      "feedback": 0, "weight_labels": 3 * T}
    labels = texts(ax)
    for weight in (r"$W_{xh}$", r"$W_{hh}$", r"$W_{hy}$"):
        assert labels.count(weight) == T
    for t in range(1, T + 1):
        assert f"$x_{{{t}}}$" in labels and f"$h_{{{t}}}$" in labels
        assert rf"$\hat y_{{{t}}}$" in labels
    assert "$h_0$" in labels
    assert not ax.axison


def test_unrolled_with_losses(ax):
    counts = draw_unrolled_rnn(ax, T=3, losses=True)
    assert counts["losses"] == 3 and counts["arrows"] == 3 * 3 + 3
    assert [rf"$\ell_{{{t}}}$" in texts(ax) for t in (1, 2, 3)] == [True] * 3
    assert ax.get_ylim()[1] > 3.75            # the loss row is inside the view


def test_folded_has_one_cell_and_a_loop(ax):
    counts = draw_folded_rnn(ax, title="folded")
    labels = texts(ax)
    assert counts["states"] == 1 and counts["arrows"] == 3
    assert {"$x_t$", "$h_t$", r"$\hat y_t$", r"$W_{xh}$", r"$W_{hy}$"} <= set(labels)
    assert any("W_{hh}" in text for text in labels)
    assert ax.get_title() == "folded"


@pytest.mark.parametrize("pattern", list(IO_PATTERNS))
def test_io_patterns(ax, pattern):
    inputs, outputs = IO_PATTERNS[pattern]
    counts = draw_io_pattern(ax, pattern)
    assert counts["inputs"] == sum(inputs) and counts["outputs"] == sum(outputs)
    assert counts["states"] == len(inputs)
    assert counts["weight_labels"] == 0
    assert ax.get_title() == pattern
    # feedback (dashed) wherever an output is followed by a step without an input of its own
    expected_feedback = sum(outputs[t] and not inputs[t + 1] for t in range(len(inputs) - 1))
    assert counts["feedback"] == expected_feedback == len(dashed(ax))


def test_generating_patterns_feed_back_and_renumber(ax):
    assert draw_io_pattern(ax, "one-to-many")["feedback"] == 3
    ax.clear()
    counts = draw_io_pattern(ax, "many-to-many, unaligned")
    assert counts["feedback"] == 1
    labels = texts(ax)
    assert r"$\hat y_{1}$" in labels and r"$\hat y_{2}$" in labels       # numbered from 1
    assert r"$\hat y_{4}$" not in labels


def test_io_pattern_shapes_are_what_their_names_say():
    assert sum(IO_PATTERNS["one-to-many"][0]) == 1 and sum(IO_PATTERNS["one-to-many"][1]) > 1
    assert sum(IO_PATTERNS["many-to-one"][1]) == 1 and IO_PATTERNS["many-to-one"][1][-1]
    ins, outs = IO_PATTERNS["many-to-many, aligned"]
    assert ins == outs and all(ins)
    ins, outs = IO_PATTERNS["many-to-many, unaligned"]
    last_input = max(i for i, flag in enumerate(ins) if flag)
    first_output = min(i for i, flag in enumerate(outs) if flag)
    assert last_input < first_output


def test_draw_io_patterns_default_grid_and_given_axes():
    fig, counts = draw_io_patterns()
    assert list(counts) == list(IO_PATTERNS) and len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == list(IO_PATTERNS)
    plt.close(fig)
    fig, axes = plt.subplots(1, 4)
    assert draw_io_patterns(axes)[0] is fig
    plt.close(fig)


def test_graph_without_initial_state(ax):
    counts = draw_rnn_graph(ax, [True, False], [False, True], initial_state=False)
    assert counts["arrows"] == 3 and "$h_0$" not in texts(ax)


@pytest.mark.parametrize("call, words", [
    (lambda ax: draw_unrolled_rnn(ax, T=0), "T: expected a positive integer"),
    (lambda ax: draw_unrolled_rnn(ax, T=2.0), "T: expected a positive integer"),
    (lambda ax: draw_unrolled_rnn(ax, T=True), "T: expected a positive integer"),
    (lambda ax: draw_io_pattern(ax, "two-to-two"), "pattern"),
    (lambda ax: draw_io_patterns([ax, ax]), "axes: expected 4"),
    (lambda ax: draw_rnn_graph(ax, [True], [True, False]), "outputs"),
    (lambda ax: draw_rnn_graph(ax, [], []), "inputs"),
    (lambda ax: draw_rnn_graph(ax, [1, 0], [True, True]), "inputs"),
])
def test_bad_arguments_raise(ax, call, words):
    with pytest.raises(ValueError, match=words):
        call(ax)

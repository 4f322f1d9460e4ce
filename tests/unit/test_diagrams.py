"""rnnbook.diagrams: what each drawing contains, and its argument checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook.diagrams import (  # noqa: E402
    IO_PATTERNS,
    draw_folded_rnn,
    draw_io_pattern,
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


@pytest.mark.parametrize("steps", [1, 4, 7])
def test_unrolled_labels_the_same_weights_at_every_step(ax, steps):
    counts = draw_unrolled_rnn(ax, steps=steps)
    assert counts == {"inputs": steps, "states": steps, "outputs": steps, "arrows": 3 * steps,
                      "weight_labels": 3 * steps}
    labels = texts(ax)
    for weight in (r"$W_{xh}$", r"$W_{hh}$", r"$W_{hy}$"):
        assert labels.count(weight) == steps
    for t in range(1, steps + 1):
        assert f"$x_{{{t}}}$" in labels and f"$h_{{{t}}}$" in labels and f"$y_{{{t}}}$" in labels
    assert "$h_0$" in labels
    assert not ax.axison


def test_folded_has_one_cell_and_a_loop(ax):
    counts = draw_folded_rnn(ax, title="folded")
    labels = texts(ax)
    assert counts["states"] == 1 and counts["arrows"] == 3
    assert {"$x_t$", "$h_t$", "$y_t$", r"$W_{xh}$", r"$W_{hy}$"} <= set(labels)
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


def test_io_pattern_shapes_are_what_their_names_say():
    assert sum(IO_PATTERNS["one-to-many"][0]) == 1 and sum(IO_PATTERNS["one-to-many"][1]) > 1
    assert sum(IO_PATTERNS["many-to-one"][1]) == 1 and IO_PATTERNS["many-to-one"][1][-1]
    ins, outs = IO_PATTERNS["many-to-many, aligned"]
    assert ins == outs and all(ins)
    ins, outs = IO_PATTERNS["many-to-many, unaligned"]
    last_input = max(i for i, flag in enumerate(ins) if flag)
    first_output = min(i for i, flag in enumerate(outs) if flag)
    assert last_input < first_output


def test_graph_without_initial_state(ax):
    counts = draw_rnn_graph(ax, [True, False], [False, True], initial_state=False)
    assert counts["arrows"] == 3 and "$h_0$" not in texts(ax)


@pytest.mark.parametrize("call, words", [
    (lambda ax: draw_unrolled_rnn(ax, steps=0), "steps"),
    (lambda ax: draw_unrolled_rnn(ax, steps=2.0), "steps"),
    (lambda ax: draw_io_pattern(ax, "two-to-two"), "pattern"),
    (lambda ax: draw_rnn_graph(ax, [True], [True, False]), "outputs"),
    (lambda ax: draw_rnn_graph(ax, [], []), "inputs"),
    (lambda ax: draw_rnn_graph(ax, [1, 0], [True, True]), "inputs"),
])
def test_bad_arguments_raise(ax, call, words):
    with pytest.raises(ValueError, match=words):
        call(ax)

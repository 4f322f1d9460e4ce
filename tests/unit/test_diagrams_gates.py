"""rnnbook.diagrams.draw_lstm_cell: what the drawing contains, and its argument checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook.diagrams import draw_lstm_cell  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def texts(ax):
    return [t.get_text() for t in ax.texts]


def dashed(ax):
    return [p for p in ax.patches if p.get_linestyle() not in ("-", "solid")]


def test_modern_cell_has_four_gates_in_torch_order(ax):
    counts = draw_lstm_cell(ax)
    assert counts == {"gates": 4, "pointwise": 5, "states": 5, "arrows": 15, "peepholes": 0}
    labels = texts(ax)
    gate_labels = [t for t in labels if t in ("$i_t$", "$f_t$", "$g_t$", "$o_t$")]
    assert sorted(gate_labels) == sorted(["$i_t$", "$f_t$", "$g_t$", "$o_t$"])
    for state in ("$c_{t-1}$", "$h_{t-1}$", "$x_t$", "$c_t$", "$h_t$"):
        assert state in labels
    assert not dashed(ax)
    assert not ax.axison


def test_1997_cell_has_no_forget_gate(ax):
    counts = draw_lstm_cell(ax, forget_gate=False)
    assert counts["gates"] == 3
    assert counts["pointwise"] == 4
    assert "$f_t$" not in texts(ax)


@pytest.mark.parametrize("forget_gate, expected", [(True, 3), (False, 2)])
def test_peepholes_are_dashed_and_reach_the_sigmoid_gates(ax, forget_gate, expected):
    counts = draw_lstm_cell(ax, forget_gate=forget_gate, peepholes=True)
    assert counts["peepholes"] == expected
    assert len(dashed(ax)) == expected


def test_title(ax):
    draw_lstm_cell(ax, title="one LSTM step")
    assert ax.get_title() == "one LSTM step"


@pytest.mark.parametrize("kwargs, name", [({"forget_gate": 1}, "forget_gate"),
                                          ({"peepholes": "yes"}, "peepholes")])
def test_flags_must_be_bools(ax, kwargs, name):
    with pytest.raises(ValueError, match=name):
        draw_lstm_cell(ax, **kwargs)

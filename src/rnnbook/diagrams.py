r"""Diagrams of recurrent networks drawn with matplotlib: boxes for values, arrows for weights.

    draw_rnn_graph(ax, inputs, outputs, ...)   the unrolled graph of any input/output pattern
    draw_unrolled_rnn(ax, T=4)                 x_t -> h_t -> y^_t over T steps, weights labelled
    draw_folded_rnn(ax)                        the same network as one cell with a loop on h
    draw_io_pattern(ax, pattern)               one of IO_PATTERNS (one-to-many, many-to-one, ...)
    draw_io_patterns(axes=None)                all four patterns, on a 2 x 2 grid by default
    draw_bptt_graph(ax, T=3)                   the unrolled graph with the gradient's paths back
    draw_lstm_cell(ax, forget_gate=True, ...)  one LSTM cell: gates, cell-state line, peepholes

Each ``draw_*`` function draws on the Axes it is given, turns its axis lines off, and returns a
dict that counts what it drew (``inputs``, ``states``, ``outputs``, ``arrows``, ...), which the
tests check. Colours come from ``rnnbook.plotting.PALETTE``: inputs blue, states orange, outputs
green, losses purple. Outputs are labelled ``\hat y_t``, the prediction, as in the notation page
(where ``y_t`` is the target). Example (Chapter 4 draws the graph with its per-step losses)::

    fig, ax = plt.subplots(figsize=(8, 3.2))
    draw_unrolled_rnn(ax, T=3, losses=True)
"""

import numbers

from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from rnnbook.plotting import PALETTE

__all__ = ["IO_PATTERNS", "draw_bptt_graph", "draw_folded_rnn", "draw_io_pattern",
           "draw_io_patterns", "draw_lstm_cell", "draw_rnn_graph", "draw_unrolled_rnn"]

COLORS = {"input": PALETTE[0], "state": PALETTE[1], "output": PALETTE[2], "loss": PALETTE[3]}
_W, _H = 0.72, 0.46          # box width and height, in data units
_ROW = {"input": 0.0, "state": 1.25, "output": 2.5, "loss": 3.75}
_DX = 1.45                   # horizontal distance between two steps

#: Which steps take an input and which produce an output, for four steps (five for the last).
#: In the generating patterns (one-to-many, and the decoder half of the unaligned one) each output
#: is fed back as the next step's input; :func:`draw_io_pattern` draws that as a dashed arrow.
IO_PATTERNS = {
    "one-to-many": ((True, False, False, False), (True, True, True, True)),
    "many-to-one": ((True, True, True, True), (False, False, False, True)),
    "many-to-many, aligned": ((True, True, True, True), (True, True, True, True)),
    "many-to-many, unaligned": ((True, True, True, False, False),
                                (False, False, False, True, True)),
}


def _box(ax, x, y, text, kind):
    color = COLORS[kind]
    ax.add_patch(FancyBboxPatch((x - _W / 2, y - _H / 2), _W, _H,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=color, alpha=0.22, linewidth=1.4))
    ax.add_patch(FancyBboxPatch((x - _W / 2, y - _H / 2), _W, _H,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor="none", edgecolor=color, linewidth=1.4))
    ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _arrow(ax, start, end, label=None, label_offset=(0.0, 0.0), **style):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                 color="0.25", linewidth=1.2, shrinkA=0, shrinkB=0, **style))
    if label:
        mx = (start[0] + end[0]) / 2 + label_offset[0]
        my = (start[1] + end[1]) / 2 + label_offset[1]
        ax.text(mx, my, label, ha="center", va="center", fontsize=9, color="0.15",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})


def _finish(ax, xmin, xmax, ymin, ymax, title):
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)


def _flags(name, values):
    values = tuple(values)
    if not values or not all(isinstance(v, bool) for v in values):
        raise ValueError(f"{name}: expected a non-empty sequence of booleans, got {values!r}")
    return values


def draw_rnn_graph(ax, inputs, outputs, weight_labels=False, initial_state=True, title=None,
                   feedback=False, losses=False, renumber_outputs=False):
    r"""Draw the unrolled graph of a recurrent network over ``T`` steps.

    Step ``t`` (1-based in the labels) has a state box ``h_t``, an input box ``x_t`` below it when
    ``inputs[t-1]`` is True and an output box ``y^_t`` (the prediction, ``\hat y_t``) above it when
    ``outputs[t-1]`` is True. Arrows run ``x_t -> h_t``, ``h_{t-1} -> h_t`` and ``h_t -> y^_t``.

    Args:
        ax: a matplotlib Axes (it is cleared of axis lines and set to equal aspect).
        inputs: sequence of ``T`` booleans: which steps read an input.
        outputs: sequence of ``T`` booleans: which steps emit an output.
        weight_labels: write ``W_xh``, ``W_hh``, ``W_hy`` on every arrow (the same three
            matrices at every step: weight sharing).
        initial_state: draw the initial state ``h_0`` to the left of step 1.
        title: optional title.
        feedback: draw a dashed arrow ``y^_t -> h_{t+1}`` wherever step ``t`` emits an output and
            step ``t+1`` reads no input of its own: in generation the prediction is fed back as
            the next input (through ``W_xh``, like any input).
        losses: draw a loss box ``l_t`` above every output (the per-step losses whose sum is the
            loss of the sequence).
        renumber_outputs: number the outputs ``y^_1, y^_2, ...`` in their own order instead of by
            the step that emits them (for an output sequence that starts after the input ends).

    Returns:
        dict with the counts ``inputs``, ``states``, ``outputs``, ``losses``, ``arrows`` (solid
        arrows), ``feedback`` (dashed arrows) and ``weight_labels`` (weight names written).

    Raises:
        ValueError: if ``inputs`` and ``outputs`` are not sequences of booleans of one length.
    """
    inputs, outputs = _flags("inputs", inputs), _flags("outputs", outputs)
    if len(inputs) != len(outputs):
        raise ValueError(
            f"outputs: expected {len(inputs)} flags like inputs, got {len(outputs)}"
        )
    T = len(inputs)
    counts = {"inputs": 0, "states": 0, "outputs": 0, "losses": 0, "arrows": 0, "feedback": 0,
              "weight_labels": 0}

    def label(text):
        if weight_labels:
            counts["weight_labels"] += 1
            return text
        return None

    y_in, y_h, y_out, y_loss = _ROW["input"], _ROW["state"], _ROW["output"], _ROW["loss"]
    if initial_state:
        _box(ax, 0.0, y_h, "$h_0$", "state")
    for t in range(1, T + 1):
        x = t * _DX
        _box(ax, x, y_h, f"$h_{{{t}}}$", "state")
        counts["states"] += 1
        if t > 1 or initial_state:
            _arrow(ax, (x - _DX + _W / 2, y_h), (x - _W / 2, y_h), label(r"$W_{hh}$"),
                   (0.0, 0.2))
            counts["arrows"] += 1
        if inputs[t - 1]:
            _box(ax, x, y_in, f"$x_{{{t}}}$", "input")
            _arrow(ax, (x, y_in + _H / 2), (x, y_h - _H / 2), label(r"$W_{xh}$"), (0.0, 0.0))
            counts["inputs"] += 1
            counts["arrows"] += 1
        if outputs[t - 1]:
            counts["outputs"] += 1
            k = counts["outputs"] if renumber_outputs else t
            _box(ax, x, y_out, rf"$\hat y_{{{k}}}$", "output")
            _arrow(ax, (x, y_h + _H / 2), (x, y_out - _H / 2), label(r"$W_{hy}$"), (0.0, 0.0))
            counts["arrows"] += 1
            if losses:
                _box(ax, x, y_loss, rf"$\ell_{{{k}}}$", "loss")
                _arrow(ax, (x, y_out + _H / 2), (x, y_loss - _H / 2))
                counts["losses"] += 1
                counts["arrows"] += 1
            if feedback and t < T and not inputs[t]:
                _arrow(ax, (x + _W / 2, y_out - _H / 2), (x + _DX - _W / 2, y_h + _H / 2),
                       linestyle=(0, (3, 2)))
                counts["feedback"] += 1
    xmin = (0.0 if initial_state else _DX) - _W / 2 - 0.15
    ymax = (y_loss if losses and counts["losses"] else y_out) + _H / 2 + 0.15
    _finish(ax, xmin, T * _DX + _W / 2 + 0.15, y_in - _H / 2 - 0.15, ymax, title)
    return counts


def draw_unrolled_rnn(ax, T=4, title=None, losses=False):
    """The unrolled vanilla RNN: ``T`` copies of one cell, the same weights on every copy.

    Args:
        ax: a matplotlib Axes.
        T: number of time steps to draw (a positive integer).
        title: optional title.
        losses: also draw the per-step losses ``l_t`` above the outputs.

    Returns:
        the counts of :func:`draw_rnn_graph`; ``weight_labels == 3 * T``.

    Raises:
        ValueError: if ``T`` is not a positive integer.
    """
    if not isinstance(T, numbers.Integral) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T: expected a positive integer (number of steps), got {T!r}")
    flags = (True,) * int(T)
    return draw_rnn_graph(ax, flags, flags, weight_labels=True, title=title, losses=losses)


def draw_folded_rnn(ax, title=None):
    """The folded ("rolled") view: one input, one state, one output, and a loop on the state.

    The loop ``W_hh`` carries ``h_{t-1}`` into the computation of ``h_t``: it is a delay of one
    step, which unrolling turns into the horizontal arrows of :func:`draw_unrolled_rnn`.

    Args:
        ax: a matplotlib Axes.
        title: optional title.

    Returns:
        dict of counts (one input, one state, one output, three arrows, three weight labels).
    """
    x, y_in, y_h, y_out = 0.0, _ROW["input"], _ROW["state"], _ROW["output"]
    _box(ax, x, y_in, "$x_t$", "input")
    _box(ax, x, y_h, "$h_t$", "state")
    _box(ax, x, y_out, r"$\hat y_t$", "output")
    _arrow(ax, (x, y_in + _H / 2), (x, y_h - _H / 2), r"$W_{xh}$")
    _arrow(ax, (x, y_h + _H / 2), (x, y_out - _H / 2), r"$W_{hy}$")
    # the loop: out of the right side of h_t and back into it, one step later
    _arrow(ax, (x + _W / 2 + 0.02, y_h + 0.15), (x + _W / 2 + 0.02, y_h - 0.15),
           connectionstyle="arc3,rad=-2.6")
    ax.text(x + _W / 2 + 0.75, y_h, "$W_{hh}$\n(delay 1)", ha="left", va="center", fontsize=9,
            color="0.15")
    _finish(ax, x - _W / 2 - 0.3, x + _W / 2 + 1.75, y_in - _H / 2 - 0.15,
            y_out + _H / 2 + 0.15, title)
    return {"inputs": 1, "states": 1, "outputs": 1, "arrows": 3, "weight_labels": 3}


def draw_io_pattern(ax, pattern, title=None):
    """Draw one input/output pattern of :data:`IO_PATTERNS` as an unrolled graph.

    The generating patterns get dashed feedback arrows (each output is the next step's input),
    and the outputs of the unaligned pattern are numbered from 1, as a sequence of their own.

    Args:
        ax: a matplotlib Axes.
        pattern: a key of ``IO_PATTERNS``: ``"one-to-many"``, ``"many-to-one"``,
            ``"many-to-many, aligned"`` or ``"many-to-many, unaligned"``.
        title: the title; defaults to the pattern's name.

    Returns:
        the counts of :func:`draw_rnn_graph`.

    Raises:
        ValueError: for an unknown pattern name.
    """
    if pattern not in IO_PATTERNS:
        raise ValueError(
            f"pattern: expected one of {sorted(IO_PATTERNS)}, got {pattern!r}"
        )
    inputs, outputs = IO_PATTERNS[pattern]
    return draw_rnn_graph(ax, inputs, outputs, initial_state=False, feedback=True,
                          renumber_outputs=pattern == "many-to-many, unaligned",
                          title=pattern if title is None else title)


def draw_io_patterns(axes=None):
    """Draw all four patterns of :data:`IO_PATTERNS`, one per Axes, in the dict's order.

    Args:
        axes: four matplotlib Axes (any array-like of them, e.g. the 2 x 2 array of
            ``plt.subplots(2, 2)``); by default a new 9 x 4.6 inch figure with a 2 x 2 grid.

    Returns:
        ``(fig, counts)``: the figure drawn on and a dict mapping each pattern's name to the
        counts of :func:`draw_rnn_graph`.

    Raises:
        ValueError: if ``axes`` does not hold exactly four Axes.
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(2, 2, figsize=(9, 4.6))
    flat = list(axes.flat) if hasattr(axes, "flat") else list(axes)
    if len(flat) != len(IO_PATTERNS) or not all(hasattr(ax, "add_patch") for ax in flat):
        raise ValueError(
            f"axes: expected {len(IO_PATTERNS)} matplotlib Axes, got {len(flat)} objects"
        )
    counts = {pattern: draw_io_pattern(ax, pattern) for ax, pattern in
              zip(flat, IO_PATTERNS, strict=True)}
    return flat[0].figure, counts


# ---------------------------------------------------------------------------------------------
# The LSTM cell (Chapter 5)
# ---------------------------------------------------------------------------------------------


def _op(ax, x, y, text):
    """A pointwise operation (product, sum, tanh) drawn as a small circle."""
    from matplotlib.patches import Circle

    ax.add_patch(Circle((x, y), 0.24, facecolor="white", edgecolor="0.25", linewidth=1.2,
                        zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=7 if text == "tanh" else 11, zorder=4)


def draw_lstm_cell(ax, forget_gate=True, peepholes=False, title=None):
    r"""Draw one LSTM cell: the cell-state line on top, the four gates below it.

    The cell state runs left to right along the top, ``c_{t-1} -> (x f_t) -> (+) -> c_t``: the
    only operations on it are a product with the forget gate and the addition of ``i_t * g_t``.
    Below, the gates read ``[h_{t-1}, x_t]``; on the right ``h_t = o_t * tanh(c_t)``. Gates are
    boxes (sigmoid gates in the state colour, the tanh candidate in the input colour),
    pointwise operations are circles.

    Args:
        ax: a matplotlib Axes (axis lines turned off, equal aspect).
        forget_gate: draw the forget gate ``f_t``. False draws the cell of Hochreiter and
            Schmidhuber (1997), whose cell state is carried on unchanged (``c_{t-1} + i_t g_t``).
        peepholes: draw the peephole connections of Gers and Schmidhuber (2000), dashed, from the
            cell state into the gates (``torch.nn.LSTM`` has none).
        title: optional title.

    Returns:
        dict with the counts ``gates`` (sigmoid and tanh boxes), ``pointwise`` (circles),
        ``states`` (the state boxes ``c_{t-1}``, ``h_{t-1}``, ``x_t``, ``c_t``, ``h_t``),
        ``arrows`` (solid) and ``peepholes`` (dashed arrows).

    Raises:
        ValueError: if ``forget_gate`` or ``peepholes`` is not a bool.
    """
    for name, value in (("forget_gate", forget_gate), ("peepholes", peepholes)):
        if not isinstance(value, bool):
            raise ValueError(f"{name}: expected True or False, got {value!r}")
    counts = {"gates": 0, "pointwise": 0, "states": 0, "arrows": 0, "peepholes": 0}
    y_c, y_mid, y_gate, y_in = 3.2, 2.15, 1.1, -0.2
    x_f, x_i, x_g, x_o, x_out = 1.6, 2.7, 3.7, 4.9, 5.9

    def arrow(start, end, **style):
        _arrow(ax, start, end, **style)
        counts["arrows"] += 1

    def state(x, y, text, kind):
        _box(ax, x, y, text, kind)
        counts["states"] += 1

    def gate(x, text, label, kind="state"):
        _box(ax, x, y_gate, text, kind)
        ax.text(x + 0.42, y_gate - 0.38, label, ha="left", va="center", fontsize=9)
        counts["gates"] += 1

    def op(x, y, text):
        _op(ax, x, y, text)
        counts["pointwise"] += 1

    # the inputs of every gate: [h_{t-1}, x_t] on a bus along the bottom
    state(0.0, y_in + 0.65, "$h_{t-1}$", "state")
    state(0.0, y_in - 0.2, "$x_t$", "input")
    bus_y = y_in + 0.2
    ax.plot([_W / 2, x_o], [bus_y, bus_y], color="0.25", linewidth=1.2)
    ax.plot([_W / 2, _W / 2 + 0.12], [y_in + 0.65, bus_y], color="0.25", linewidth=1.2)
    ax.plot([_W / 2, _W / 2 + 0.12], [y_in - 0.2, bus_y], color="0.25", linewidth=1.2)
    gates = [(x_i, r"$\sigma$", "$i_t$", "state"), (x_g, r"$\tanh$", "$g_t$", "input"),
             (x_o, r"$\sigma$", "$o_t$", "state")]
    if forget_gate:
        gates.insert(0, (x_f, r"$\sigma$", "$f_t$", "state"))
    for x, text, label, kind in gates:
        gate(x, text, label, kind)
        arrow((x, bus_y), (x, y_gate - _H / 2))

    # the cell-state line: c_{t-1} -> (x f) -> (+) -> c_t
    state(0.0, y_c, "$c_{t-1}$", "output")
    x_plus = (x_i + x_g) / 2 + 0.5
    if forget_gate:
        op(x_f, y_c, r"$\times$")
        arrow((_W / 2, y_c), (x_f - 0.24, y_c))
        arrow((x_f, y_gate + _H / 2), (x_f, y_c - 0.24))
        arrow((x_f + 0.24, y_c), (x_plus - 0.24, y_c))
    else:
        arrow((_W / 2, y_c), (x_plus - 0.24, y_c))
    op(x_plus, y_c, "+")
    # i * g joins the cell state
    x_ig = (x_i + x_g) / 2
    op(x_ig, y_mid, r"$\times$")
    arrow((x_i, y_gate + _H / 2), (x_ig - 0.17, y_mid - 0.17))
    arrow((x_g, y_gate + _H / 2), (x_ig + 0.17, y_mid - 0.17))
    arrow((x_ig + 0.17, y_mid + 0.17), (x_plus - 0.17, y_c - 0.17))
    x_c = x_out + 1.3
    arrow((x_plus + 0.24, y_c), (x_c - _W / 2, y_c))
    state(x_c, y_c, "$c_t$", "output")
    # h_t = o_t * tanh(c_t)
    op(x_out, y_mid, "tanh")
    arrow((x_out, y_c), (x_out, y_mid + 0.24))
    op(x_out, y_gate, r"$\times$")
    arrow((x_out, y_mid - 0.24), (x_out, y_gate + 0.24))
    arrow((x_o + _W / 2, y_gate), (x_out - 0.24, y_gate))
    state(x_c, y_gate, "$h_t$", "state")
    arrow((x_out + 0.24, y_gate), (x_c - _W / 2, y_gate))

    if peepholes:
        targets = ([x_f] if forget_gate else []) + [x_i, x_o]
        # i and f read c_{t-1} (before the forget gate acts on it), o reads c_t
        sources = {x_f: (x_f - 0.3, y_c), x_i: (x_f - 0.55, y_c), x_o: (x_out - 0.3, y_c)}
        if not forget_gate:
            sources[x_i] = (x_plus - 0.5, y_c)
        for x in targets:
            source = sources[x]
            _arrow(ax, source, (x - 0.25, y_gate + _H / 2), linestyle=(0, (3, 2)),
                   connectionstyle="arc3,rad=0.25")
            counts["peepholes"] += 1
    _finish(ax, -_W / 2 - 0.15, x_c + _W / 2 + 0.15, y_in - 0.2 - _H / 2 - 0.15,
            y_c + _H / 2 + 0.15, title)
    return counts


def draw_bptt_graph(ax, T=3, title=None):
    r"""The unrolled RNN with its per-step losses and the paths the gradient takes backwards.

    The forward graph is that of :func:`draw_unrolled_rnn` with ``losses=True`` (solid arrows).
    Dashed arrows, in the loss colour, run the other way: from each loss ``l_t`` down through
    ``y^_t`` into ``h_t`` (the direct path, ``W_hy^T (y^_t - y_t)``) and from ``h_{t+1}`` back
    into ``h_t`` (the recurrent path, ``W_hh^T delta_{t+1}``), ending in ``h_0``. So every
    ``h_t`` with ``t < T`` receives two gradients, and ``h_T`` only the direct one.

    Args:
        ax: a matplotlib Axes.
        T: number of time steps to draw (a positive integer).
        title: optional title.

    Returns:
        the counts of :func:`draw_rnn_graph`, plus ``direct`` (dashed arrows from a loss into its
        state, ``T``) and ``recurrent`` (dashed arrows from one state into the previous, ``T``,
        the last into ``h_0``).

    Raises:
        ValueError: if ``T`` is not a positive integer.
    """
    from matplotlib.lines import Line2D

    if not isinstance(T, numbers.Integral) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T: expected a positive integer (number of steps), got {T!r}")
    T = int(T)
    counts = draw_rnn_graph(ax, (True,) * T, (True,) * T, weight_labels=True, losses=True,
                            title=title)
    def back(start, end):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                     color=COLORS["loss"], linewidth=1.3, shrinkA=0, shrinkB=0,
                                     linestyle=(0, (3, 2))))

    y_h, y_out, y_loss = _ROW["state"], _ROW["output"], _ROW["loss"]
    dx, dy = 0.24, 0.14
    for t in range(1, T + 1):
        x = t * _DX
        back((x + dx, y_loss - _H / 2), (x + dx, y_out + _H / 2))
        back((x + dx, y_out - _H / 2), (x + dx, y_h + _H / 2))
        back((x - _W / 2, y_h - dy), (x - _DX + _W / 2, y_h - dy))
    counts["direct"] = T
    counts["recurrent"] = T
    handles = [Line2D([], [], color="0.25", label="forward"),
               Line2D([], [], color=COLORS["loss"], linestyle=(0, (3, 2)), label="gradient")]
    ax.legend(handles=handles, loc="upper left", fontsize=9)
    return counts

"""Argument checks shared by the cells and the multi-step layers.

Every check raises an error that names the argument, what was expected and what was received; the
shape checks themselves come from :mod:`rnnbook.shapes`.
"""

import numbers

import torch
from torch.nn.utils.rnn import PackedSequence

from rnnbook.shapes import check_float, check_same_dtype, check_shape


def check_positive_int(name, value):
    """Return ``value`` as an int if it is a positive integer (not a boolean); else ValueError."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_sizes(input_size, hidden_size):
    """Reject sizes that are not positive integers (booleans included)."""
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        check_positive_int(name, value)


def check_nonlinearity(nonlinearity):
    """Reject a nonlinearity other than 'tanh' or 'relu'."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")


def check_tensor(name, value, like=None):
    """``value`` must be a floating-point tensor (of the same dtype as ``like``, if given)."""
    if isinstance(value, PackedSequence):
        raise NotImplementedError(
            f"{name}: PackedSequence is not supported by rnnbook.modules; pass a padded tensor "
            "(torch.nn.utils.rnn.pad_packed_sequence turns one into the other) and mask the "
            "padded steps, or use torch.nn for packed input"
        )
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    check_float(name, value)
    if like is not None:
        check_same_dtype(**{name: value, like[0]: like[1]})


def check_cell_input(input, hx, input_size, hidden_size, weight, n_states):
    """Check a cell's ``input`` and ``hx``; say whether the input is batched.

    Args:
        input: tensor of shape (N, D) or (D,).
        hx: None, a tensor (``n_states == 1``) or a tuple of ``n_states`` tensors, each (N, H) or
            (H,) like the input.
        weight: a parameter of the cell, whose dtype the input must share.
        n_states: 1 for the RNN and GRU cells (hx), 2 for the LSTM cell (h_0, c_0).

    Returns:
        ``True`` if the input has a batch axis.
    """
    check_tensor("input", input, like=("weight_ih", weight))
    if input.ndim not in (1, 2):
        raise ValueError(
            f"input: expected 2 axes (N, D) or 1 axis (D,) for one example, "
            f"got shape {tuple(input.shape)}"
        )
    batched = input.ndim == 2
    dims = {"D": (input_size, "input_size"), "H": (hidden_size, "hidden_size")}
    check_shape("input", input, ("N", "D") if batched else ("D",), dims)
    for name, state in _states(hx, n_states, ("hx",) if n_states == 1 else ("h_0", "c_0")):
        check_tensor(name, state, like=("input", input))
        check_shape(name, state, ("N", "H") if batched else ("H",), dims)
    return batched


def check_layer_input(input, hx, module, n_states):
    """Check a multi-step layer's ``input`` and ``hx``; say whether the input is batched.

    Args:
        input: tensor of shape (T, N, D), (N, T, D) if ``module.batch_first``, or (T, D).
        hx: None, a tensor (``n_states == 1``) or a tuple of ``n_states`` tensors, each of shape
            (L, N, H) with L = num_layers * num_directions, or (L, H) for an unbatched input.
        module: the layer, for its sizes and the dtype of its parameters.
        n_states: 1 for RNN and GRU (hx), 2 for LSTM (h_0, c_0).

    Returns:
        ``True`` if the input has a batch axis.
    """
    check_tensor("input", input, like=("weight_ih_l0", module.weight_ih_l0))
    spec = ("N", "T", "D") if module.batch_first else ("T", "N", "D")
    if input.ndim not in (2, 3):
        raise ValueError(
            f"input: expected 3 axes ({', '.join(spec)}) or 2 axes (T, D) for one sequence, "
            f"got shape {tuple(input.shape)}"
        )
    batched = input.ndim == 3
    dims = {
        "D": (module.input_size, "input_size"),
        "H": (module.hidden_size, "hidden_size"),
        "L": (module.num_layers * module.num_directions, "num_layers * num_directions"),
    }
    check_shape("input", input, spec if batched else ("T", "D"), dims)
    for name, state in _states(hx, n_states, ("hx",) if n_states == 1 else ("h_0", "c_0")):
        check_tensor(name, state, like=("input", input))
        check_shape(name, state, ("L", "N", "H") if batched else ("L", "H"), dims)
    return batched


def _states(hx, n_states, names):
    """Pair each initial state in ``hx`` with its name; none if ``hx`` is None."""
    if hx is None:
        return []
    if n_states == 1:
        if isinstance(hx, tuple | list):
            raise TypeError(f"hx: expected a tensor, got a {type(hx).__name__}")
        return [("hx", hx)]
    if not isinstance(hx, tuple | list) or len(hx) != n_states:
        got = f"a {type(hx).__name__}" + (f" of length {len(hx)}" if isinstance(hx, tuple | list)
                                          else "")
        raise TypeError(f"hx: expected a tuple ({', '.join(names)}) of tensors, got {got}")
    return list(zip(names, hx, strict=True))

"""Argument checks shared by every public function of the package.

A shape is described by a tuple of symbols such as ``("N", "T", "D")`` or ``("4H", "D")``: a symbol
is a name, optionally prefixed by an integer multiplier. The first array that shows a symbol binds
its size in ``dims``; every later use must agree, and the error names the argument that bound it.
The functions accept NumPy arrays and torch tensors alike and import nothing but NumPy.
"""

import re

import numpy as np

_SYMBOL = re.compile(r"^(\d*)([A-Za-z_]\w*)$")


def _parse(symbol):
    match = _SYMBOL.match(symbol)
    if match is None:
        raise TypeError(f"bad shape symbol {symbol!r}: expected a name such as 'H' or '4H'")
    return int(match.group(1) or 1), match.group(2)


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_shape(name, value, spec, dims):
    """Check that ``value`` has the shape ``spec`` and bind its symbols in ``dims``.

    Args:
        name: the argument's name, used in the error message.
        value: a NumPy array or torch tensor.
        spec: tuple of symbols, e.g. ``("N", "T", "D")`` or ``("4H", "H")``.
        dims: dict mapping a symbol to ``(size, bound_by)``; updated in place.

    Returns:
        ``dims``, so calls can be chained.

    Raises:
        ValueError: naming the argument, the expected and the received shape.
    """
    if not hasattr(value, "shape") or not hasattr(value, "ndim"):
        raise ValueError(
            f"{name}: expected an array of shape {_fmt(spec)}, got {type(value).__name__}"
        )
    shape = tuple(value.shape)
    if len(shape) != len(spec):
        raise ValueError(
            f"{name}: expected {len(spec)} axes {_fmt(spec)}, got shape {_fmt(shape)}"
        )
    known = dict(dims)  # the sizes bound by earlier arguments, for the error message
    for axis, (symbol, size) in enumerate(zip(spec, shape, strict=True)):
        multiplier, base = _parse(symbol)
        if size == 0:
            what = "an empty sequence" if base == "T" else "an empty axis"
            raise ValueError(
                f"{name}: axis {axis} ({symbol}) has length 0 in shape {_fmt(shape)}; "
                f"{what} is not allowed"
            )
        if base in dims:
            bound, source = dims[base]
            if size != multiplier * bound:
                expected = tuple(_expected_size(s, known) for s in spec)
                resolved = f" = {_fmt(expected)}" if expected != tuple(spec) else ""
                raise ValueError(
                    f"{name}: expected shape {_fmt(spec)}{resolved}, got {_fmt(shape)} "
                    f"({base} = {bound} from {source})" + _transposed_hint(shape, expected)
                )
        elif size % multiplier:
            raise ValueError(
                f"{name}: axis {axis} must be a multiple of {multiplier} ({symbol}), "
                f"got shape {_fmt(shape)}"
            )
        else:
            dims[base] = (size // multiplier, name)
    return dims


def _transposed_hint(shape, expected):
    """A hint when a matrix arrived transposed: its reversed shape fits every known size."""
    if len(shape) != 2 or shape[0] == shape[1] or all(isinstance(e, str) for e in expected):
        return ""
    fits = all(isinstance(e, str) or e == s for e, s in zip(expected, reversed(shape), strict=True))
    return "; is it transposed?" if fits else ""


def _expected_size(symbol, dims):
    multiplier, base = _parse(symbol)
    return multiplier * dims[base][0] if base in dims else symbol


def _is_floating(value):
    if hasattr(value, "is_floating_point"):
        return value.is_floating_point()
    return np.issubdtype(np.asarray(value).dtype, np.floating)


def check_float(name, value):
    """Raise ValueError unless ``value`` is a floating-point array or tensor."""
    if not _is_floating(value):
        raise ValueError(f"{name}: expected a floating-point array, got dtype {value.dtype}")


def check_finite(name, value):
    """Raise ValueError if ``value`` holds NaN or infinity."""
    finite = value.isfinite().all().item() if hasattr(value, "isfinite") else np.isfinite(
        value
    ).all()
    if not finite:
        raise ValueError(f"{name}: contains NaN or infinity")


def check_same_dtype(**arrays):
    """Raise ValueError unless every array has the same dtype; keywords name the arguments."""
    dtypes = {name: value.dtype for name, value in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listing = ", ".join(f"{name} is {dtype}" for name, dtype in dtypes.items())
        raise ValueError(f"expected one dtype for all arrays, got {listing}")


def check_tokens(name, value, vocab_size):
    """Raise ValueError unless ``value`` is an integer array with entries in [0, vocab_size)."""
    if hasattr(value, "is_floating_point"):
        integer = not value.is_floating_point() and not value.is_complex()
    else:
        integer = np.issubdtype(np.asarray(value).dtype, np.integer)
    if not integer:
        raise ValueError(f"{name}: expected integer token ids, got dtype {value.dtype}")
    if value.numel() if hasattr(value, "numel") else value.size:
        low, high = int(value.min()), int(value.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(
                f"{name}: expected token ids in [0, {vocab_size}), got values from {low} to {high}"
            )

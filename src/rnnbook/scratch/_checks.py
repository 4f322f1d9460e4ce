"""Argument checks shared by the scratch layers (a thin layer over ``rnnbook.shapes``)."""

from rnnbook.shapes import check_finite, check_float, check_same_dtype, check_shape


def check_inputs(**arrays):
    """Check the float inputs of a forward function.

    Each keyword names an argument and maps it to ``(value, spec)``, for example
    ``x=(x, ("N", "T", "D"))``. Shapes are checked in the order given, so the first argument
    that shows a symbol binds its size. Then every value must be floating point, all must share
    one dtype, and none may hold NaN or infinity.

    Returns:
        dict mapping each symbol to its size, e.g. ``{"N": 2, "T": 5, "D": 3, "H": 4}``.

    Raises:
        ValueError: naming the offending argument (and, for shapes, both shapes).
    """
    dims = {}
    for name, (value, spec) in arrays.items():
        check_shape(name, value, spec, dims)
    values = {name: value for name, (value, _) in arrays.items()}
    for name, value in values.items():
        check_float(name, value)
    check_same_dtype(**values)
    for name, value in values.items():
        check_finite(name, value)
    return {symbol: size for symbol, (size, _) in dims.items()}


def check_upstream(name, value, spec, sizes):
    """Check an upstream gradient against the sizes its forward pass saw.

    Args:
        name: the argument's name, e.g. ``"dh"``.
        value: the upstream gradient.
        spec: its symbolic shape, e.g. ``("N", "T", "H")``.
        sizes: dict mapping each symbol of ``spec`` to its size in the forward pass.

    Raises:
        ValueError: on a wrong shape (naming both shapes) or a non-float dtype.
    """
    dims = {symbol: (size, "the forward pass") for symbol, size in sizes.items()}
    check_shape(name, value, spec, dims)
    check_float(name, value)

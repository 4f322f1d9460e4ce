"""rnnbook.shapes: symbolic shape specs; errors that name the argument and both shapes."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from rnnbook.shapes import check_finite, check_float, check_same_dtype, check_shape, check_tokens


def test_symbols_bind_and_multipliers_scale():
    dims = {}
    check_shape("x", np.zeros((2, 5, 3)), ("N", "T", "D"), dims)
    check_shape("h0", np.zeros((2, 4)), ("N", "H"), dims)
    check_shape("W_xh", np.zeros((16, 3)), ("4H", "D"), dims)
    assert dims == {"N": (2, "x"), "T": (5, "x"), "D": (3, "x"), "H": (4, "h0")}


def test_a_multiplier_can_bind_a_symbol():
    dims = check_shape("W_hh", np.zeros((12, 4)), ("3H", "H"), {})
    assert dims["H"] == (4, "W_hh")
    with pytest.raises(ValueError, match=r"W_xh: axis 0 must be a multiple of 3 \(3H\), "
                                         r"got shape \(10, 4\)"):
        check_shape("W_xh", np.zeros((10, 4)), ("3H", "D"), {})


def test_mismatch_names_argument_both_shapes_and_the_binding():
    dims = {}
    check_shape("h0", np.zeros((2, 4)), ("N", "H"), dims)
    with pytest.raises(ValueError) as info:
        check_shape("W_hh", np.zeros((4, 5)), ("H", "H"), dims)
    assert str(info.value) == "W_hh: expected shape (H, H) = (4, 4), got (4, 5) (H = 4 from h0)"


def test_expected_shape_shows_only_sizes_bound_by_other_arguments():
    dims = {}
    check_shape("h", np.zeros((2, 3, 4)), ("N", "T", "H"), dims)
    with pytest.raises(ValueError) as info:
        check_shape("W", np.zeros((4, 5)), ("M", "H"), dims)
    assert str(info.value) == ("W: expected shape (M, H) = (M, 4), got (4, 5) (H = 4 from h); "
                               "is it transposed?")


def test_a_matrix_that_fits_only_transposed_gets_a_hint():
    dims = {"H": (4, "h0"), "D": (3, "x")}
    with pytest.raises(ValueError, match=r"W_xh: expected shape \(H, D\) = \(4, 3\), got \(3, 4\) "
                                         r"\(H = 4 from h0\); is it transposed\?"):
        check_shape("W_xh", np.zeros((3, 4)), ("H", "D"), dict(dims))
    with pytest.raises(ValueError) as info:  # wrong, but not a transpose: no hint
        check_shape("W_xh", np.zeros((5, 3)), ("H", "D"), dict(dims))
    assert "transposed" not in str(info.value)


def test_a_symbol_repeated_in_one_spec_must_agree():
    with pytest.raises(ValueError) as info:
        check_shape("W_hh", np.zeros((4, 5)), ("H", "H"), {})
    assert str(info.value) == "W_hh: expected shape (H, H), got (4, 5) (H = 4 from W_hh)"


def test_wrong_number_of_axes_and_non_arrays():
    with pytest.raises(ValueError, match=r"x: expected 3 axes \(N, T, D\), got shape \(2, 3\)"):
        check_shape("x", np.zeros((2, 3)), ("N", "T", "D"), {})
    with pytest.raises(ValueError, match=r"b: expected 1 axes \(H,\), got shape \(\)"):
        check_shape("b", np.float64(1.0), ("H",), {})
    with pytest.raises(ValueError, match=r"x: expected an array of shape \(N, D\), got list"):
        check_shape("x", [[1.0, 2.0]], ("N", "D"), {})


def test_empty_axes_are_rejected():
    with pytest.raises(ValueError, match=r"x: axis 1 \(T\) has length 0 in shape \(2, 0, 3\); "
                                         r"an empty sequence is not allowed"):
        check_shape("x", np.zeros((2, 0, 3)), ("N", "T", "D"), {})
    with pytest.raises(ValueError, match=r"h0: axis 0 \(N\) has length 0 .* an empty axis"):
        check_shape("h0", np.zeros((0, 3)), ("N", "H"), {})


def test_bad_symbol_is_a_programming_error():
    with pytest.raises(TypeError, match="bad shape symbol"):
        check_shape("x", np.zeros(3), ("2*H",), {})


def test_torch_tensors_are_accepted():
    dims = check_shape("x", torch.zeros(2, 3), ("N", "D"), {})
    assert dims["D"] == (3, "x")
    check_float("x", torch.zeros(2))
    check_finite("x", torch.zeros(2))
    check_tokens("tokens", torch.tensor([[0, 2]]), 3)
    with pytest.raises(ValueError, match="x: contains NaN"):
        check_finite("x", torch.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match=r"tokens: expected token ids in \[0, 3\)"):
        check_tokens("tokens", torch.tensor([[0, 3]]), 3)


def test_dtype_and_value_checks():
    check_float("x", np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="x: expected a floating-point array, got dtype int64"):
        check_float("x", np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="W: contains NaN or infinity"):
        check_finite("W", np.array([1.0, np.inf]))
    check_same_dtype(x=np.zeros(1), W=np.zeros(1))
    with pytest.raises(ValueError, match="x is float64, W is float32"):
        check_same_dtype(x=np.zeros(1), W=np.zeros(1, dtype=np.float32))
    with pytest.raises(ValueError, match="tokens: expected integer token ids, got dtype bool"):
        check_tokens("tokens", np.array([True]), 3)
    check_tokens("tokens", np.zeros((0,), dtype=int), 3)  # nothing to range-check


def test_shapes_imports_only_numpy():
    code = "import sys, rnnbook.shapes; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

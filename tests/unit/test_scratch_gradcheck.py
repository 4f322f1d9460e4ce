"""numerical_gradient and relative_error on functions whose gradients are known by hand."""

import numpy as np
import pytest

from rnnbook.scratch import numerical_gradient, relative_error


def test_gradient_of_a_scalar_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: np.sum(v**3), x)  # d/dx sum(x^3) = 3 x^2
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-9)


def test_upstream_gradient_weights_the_outputs():
    x = np.array([1.0, 2.0, 3.0])
    df = np.array([[1.0, 0.0, -1.0], [2.0, 2.0, 2.0]])
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [4.0, 0.0, 1.0]])
    grad = numerical_gradient(lambda v: np.stack([A @ v, v**2]), x, df)
    np.testing.assert_allclose(grad, A.T @ df[0] + 2 * x * df[1], rtol=1e-9)


def test_x_is_restored_and_closures_work():
    x = np.array([0.3, -0.7])
    before = x.copy()
    y = np.array([2.0, 5.0])
    grad = numerical_gradient(lambda _: np.dot(x, y), x)  # reads x from the closure
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, y, rtol=1e-9)


def test_a_view_returned_by_f_is_copied():
    x = np.array([1.0, 2.0])
    grad = numerical_gradient(lambda v: v, x, np.array([1.0, 1.0]))  # f returns x itself
    np.testing.assert_allclose(grad, [1.0, 1.0], rtol=1e-9)


def test_rejects_float32_and_a_wrong_upstream_shape():
    with pytest.raises(ValueError, match="x: numerical gradients need a float64 array, got "
                                         "float32"):
        numerical_gradient(np.sum, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"df: expected the shape of f\(x\) \(3,\), got \(2,\)"):
        numerical_gradient(lambda v: v, np.zeros(3), np.ones(2))


def test_relative_error_definition():
    a = np.array([1.0, -2.0, 0.0])
    b = np.array([1.0, -2.5, 0.0])
    assert relative_error(a, b) == pytest.approx(0.5 / 4.5)  # max |a - b| / max (|a| + |b|)
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert relative_error(1e-20 * a, 1e-20 * b) == pytest.approx(0.5 / 4.5)  # scale-free
    assert isinstance(relative_error(a, b), float)
    with pytest.raises(ValueError, match=r"b: expected the shape of a \(3,\), got \(2,\)"):
        relative_error(a, b[:2])


def test_a_wrong_gradient_is_caught():
    x = np.linspace(-1, 1, 5)
    num = numerical_gradient(lambda v: np.sum(np.tanh(v)), x)
    assert relative_error(1 - np.tanh(x) ** 2, num) < 1e-9
    assert relative_error(1 - np.tanh(x), num) > 1e-2  # a plausible mistake

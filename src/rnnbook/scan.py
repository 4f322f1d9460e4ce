"""Associative scans for linear recurrences ``h_t = a_t * h_{t-1} + b_t``, in NumPy and PyTorch.

A step of a linear recurrence is the affine map ``h -> a_t * h + b_t`` (elementwise), and affine
maps compose: applying ``(a1, b1)`` and then ``(a2, b2)`` is the single map
``(a2 * a1, a2 * b1 + b2)``. That composition, :func:`combine`, is associative, so all the
states ``h_1 .. h_T`` are the prefix compositions of the sequence of pairs, which a parallel
prefix scan computes in ``O(log T)`` rounds instead of ``T`` sequential steps.

NumPy, one sequence with time on axis 0, arrays ``(T, ...)`` (real or complex):

    scan_sequential(a, b, h0=None)                the step loop (the reference)
    scan_hillis_steele(a, b, h0=None, stats=False)  doubling: depth ceil(log2 T), work ~T log2 T
    scan_blelloch(a, b, h0=None, stats=False)       up-sweep and down-sweep: work ~3T, depth
                                                    2 log2 P + 1 (P = T rounded up to a power of 2)

PyTorch, batch-major with time on dim 1, tensors ``(N, T, ...)`` (real or complex, autograd):

    linear_recurrence_loop(a, b, h0=None)   the step loop
    linear_scan(a, b, h0=None)              Hillis-Steele doubling, out of place, no division and
                                            no logarithm: safe in float32 whenever |a_t| <= 1
    log_space_scan(log_a, log_b, log_h0=None)  for positive a_t and b_t, in logarithms
                                            (Heinsen 2023): returns log h

``a`` may be given in any shape that broadcasts to ``b``'s (a per-channel decay, for example).
``h0`` is the state before the first step (zeros when None), shaped like one time step of ``b``.
"""

import dataclasses
import math

import numpy as np
import torch

__all__ = [
    "ScanStats",
    "combine",
    "linear_recurrence_loop",
    "linear_scan",
    "log_space_scan",
    "scan_blelloch",
    "scan_hillis_steele",
    "scan_sequential",
]


@dataclasses.dataclass(frozen=True)
class ScanStats:
    """What a scan costs. ``depth``: rounds of combines that must run one after another;
    ``work``: combines applied in all (each to one time position, elementwise over the rest)."""

    depth: int
    work: int


def combine(left, right):
    """Compose two steps of a linear recurrence: ``left`` first, then ``right``.

    Args:
        left: pair ``(a1, b1)``, the earlier step ``h -> a1 * h + b1``.
        right: pair ``(a2, b2)``, the later step.

    Returns:
        pair ``(a2 * a1, a2 * b1 + b2)``, the map ``h -> a2 * (a1 * h + b1) + b2``. Works on
        scalars, NumPy arrays and torch tensors alike (elementwise, broadcasting).
    """
    a1, b1 = left
    a2, b2 = right
    return a2 * a1, a2 * b1 + b2


# ---------------------------------------------------------------------------------------------
# NumPy, one sequence, time on axis 0


def _numpy_inputs(a, b, h0):
    """Validate and return float or complex arrays ``a``, ``b`` (both (T, ...)) with ``h0`` folded
    into ``b[0]``."""
    b = np.asarray(b)
    if b.ndim < 1 or b.shape[0] < 1:
        raise ValueError(f"b: expected an array of shape (T, ...) with T >= 1, got shape {b.shape}")
    if not (np.issubdtype(b.dtype, np.floating) or np.issubdtype(b.dtype, np.complexfloating)):
        raise ValueError(f"b: expected a float or complex array, got dtype {b.dtype}")
    a = np.asarray(a)
    try:
        a = np.broadcast_to(a, b.shape)
    except ValueError:
        raise ValueError(f"a: expected a shape that broadcasts to b's {b.shape}, "
                         f"got {a.shape}") from None
    dtype = np.result_type(a, b)
    a, b = a.astype(dtype), b.astype(dtype)  # copies: the inputs are never changed
    if h0 is not None:
        h0 = np.asarray(h0)
        if h0.shape != b.shape[1:]:
            raise ValueError(f"h0: expected shape {b.shape[1:]} (one time step of b), "
                             f"got {h0.shape}")
        b[0] = a[0] * h0 + b[0]
    return a, b


def scan_sequential(a, b, h0=None):
    """All states of ``h_t = a_t * h_{t-1} + b_t`` by the step loop.

    Args:
        a: array broadcastable to ``b``'s shape ``(T, ...)``.
        b: float or complex array ``(T, ...)``, ``T >= 1``.
        h0: optional array ``(...)``, the state before step 1 (zeros when None).

    Returns:
        h: array ``(T, ...)``, ``h[t]`` the state after step ``t + 1``.
    """
    a, b = _numpy_inputs(a, b, h0)
    h = np.empty_like(b)
    h[0] = b[0]
    for t in range(1, len(b)):
        h[t] = a[t] * h[t - 1] + b[t]
    return h


def scan_hillis_steele(a, b, h0=None, stats=False):
    """All states by the Hillis-Steele doubling scan.

    In round ``r`` (``d = 2**r``) every position ``t >= d`` composes the pair ``d`` places before
    it with its own, so after round ``r`` position ``t`` holds the composition of the last
    ``2d`` steps. ``ceil(log2 T)`` rounds, ``sum_r (T - 2**r)`` combines.

    Args and returns as :func:`scan_sequential`; with ``stats=True`` returns ``(h, ScanStats)``.
    """
    a, b = _numpy_inputs(a, b, h0)
    T = len(b)
    depth = work = 0
    d = 1
    while d < T:
        a_new, b_new = combine((a[:-d], b[:-d]), (a[d:], b[d:]))
        a[d:], b[d:] = a_new, b_new
        depth, work, d = depth + 1, work + T - d, 2 * d
    return (b, ScanStats(depth, work)) if stats else b


def scan_blelloch(a, b, h0=None, stats=False):
    """All states by Blelloch's work-efficient scan (an up-sweep, a down-sweep, one last round).

    The sequence is padded to ``P = 2**ceil(log2 T)`` with the identity step ``(1, 0)``. The
    up-sweep builds a balanced tree of partial compositions (``P - 1`` combines in ``log2 P``
    rounds); the down-sweep replaces the root by the identity and pushes prefixes down the tree,
    giving the exclusive scan (``P - 1`` combines, ``log2 P`` rounds); one more round composes
    each exclusive prefix with its own step (``T`` combines). Work ``2(P - 1) + T``, depth
    ``2 log2 P + 1``.

    Args and returns as :func:`scan_sequential`; with ``stats=True`` returns ``(h, ScanStats)``.
    """
    a, b = _numpy_inputs(a, b, h0)
    T = len(b)
    levels = math.ceil(math.log2(T)) if T > 1 else 0
    P = 2**levels
    pad = [(0, P - T)] + [(0, 0)] * (b.ndim - 1)
    xa = np.pad(a, pad, constant_values=1)
    xb = np.pad(b, pad, constant_values=0)
    depth = work = 0
    for level in range(levels):  # up-sweep: node i (right end of its block) absorbs its sibling
        half, stride = 2**level, 2 ** (level + 1)
        right = np.arange(stride - 1, P, stride)
        xa[right], xb[right] = combine((xa[right - half], xb[right - half]), (xa[right], xb[right]))
        depth, work = depth + 1, work + len(right)
    xa[P - 1], xb[P - 1] = 1, 0  # the root becomes the identity: the prefix before everything
    for level in reversed(range(levels)):  # down-sweep
        half, stride = 2**level, 2 ** (level + 1)
        right = np.arange(stride - 1, P, stride)
        left = right - half
        sub_a, sub_b = xa[left].copy(), xb[left].copy()  # the left subtree's composition
        xa[left], xb[left] = xa[right], xb[right]  # the left child inherits the parent's prefix
        xa[right], xb[right] = combine((xa[right], xb[right]), (sub_a, sub_b))
        depth, work = depth + 1, work + len(right)
    _, h = combine((xa[:T], xb[:T]), (a, b))  # exclusive prefix, then the step itself
    depth, work = depth + 1, work + T
    return (h, ScanStats(depth, work)) if stats else h


# ---------------------------------------------------------------------------------------------
# PyTorch, batch-major, time on dim 1


def _torch_inputs(a, b, h0, names=("a", "b", "h0")):
    """Validate tensors and return ``a`` expanded to ``b``'s shape (N, T, ...), and ``h0``."""
    for name, value in zip(names[:2], (a, b), strict=True):
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if b.dim() < 2 or b.shape[1] < 1:
        raise ValueError(f"{names[1]}: expected a tensor of shape (N, T, ...) with T >= 1, "
                         f"got shape {tuple(b.shape)}")
    if not (b.is_floating_point() or b.is_complex()):
        raise ValueError(f"{names[1]}: expected a float or complex tensor, got dtype {b.dtype}")
    try:
        a = a.expand_as(b)
    except RuntimeError:
        raise ValueError(f"{names[0]}: expected a shape that broadcasts to {names[1]}'s "
                         f"{tuple(b.shape)}, got {tuple(a.shape)}") from None
    if h0 is not None:
        expected = b.shape[:1] + b.shape[2:]
        if not isinstance(h0, torch.Tensor) or h0.shape != expected:
            got = tuple(h0.shape) if isinstance(h0, torch.Tensor) else type(h0).__name__
            raise ValueError(f"{names[2]}: expected a tensor of shape {tuple(expected)} "
                             f"(N and one time step of {names[1]}), got {got}")
    return a, b, h0


def linear_recurrence_loop(a, b, h0=None):
    """All states of ``h_t = a_t * h_{t-1} + b_t`` by the step loop (the reference).

    Args:
        a: tensor broadcastable to ``b``'s shape ``(N, T, ...)``.
        b: float or complex tensor ``(N, T, ...)``.
        h0: optional tensor ``(N, ...)``, the state before step 1 (zeros when None).

    Returns:
        h: tensor ``(N, T, ...)``.
    """
    a, b, h0 = _torch_inputs(a, b, h0)
    h = torch.zeros_like(b[:, 0]) if h0 is None else h0
    states = []
    # unbind: indexing a[:, t] would give every step a full-size gradient buffer in backward
    for a_t, b_t in zip(a.unbind(1), b.unbind(1), strict=True):
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states, dim=1)


def linear_scan(a, b, h0=None):
    """All states of ``h_t = a_t * h_{t-1} + b_t`` by a Hillis-Steele scan over dim 1.

    ``ceil(log2 T)`` rounds, each a few whole-tensor operations, all out of place so autograd
    differentiates it. It only multiplies and adds, so it stays finite in float32 whenever
    ``|a_t| <= 1`` (unlike the closed form through cumulative products and division).

    Args and returns as :func:`linear_recurrence_loop`.
    """
    a, b, h0 = _torch_inputs(a, b, h0)
    if h0 is not None:
        b = torch.cat([a[:, :1] * h0.unsqueeze(1) + b[:, :1], b[:, 1:]], dim=1)
    T = b.shape[1]
    d = 1
    while d < T:
        a_new, b_new = combine((a[:, :-d], b[:, :-d]), (a[:, d:], b[:, d:]))
        a = torch.cat([a[:, :d], a_new], dim=1)
        b = torch.cat([b[:, :d], b_new], dim=1)
        d *= 2
    return b


def log_space_scan(log_a, log_b, log_h0=None):
    """The logarithms of the states of ``h_t = a_t h_{t-1} + b_t`` for positive ``a_t``, ``b_t``.

    With ``A_t = sum_{s <= t} log a_s``, ``h_t = exp(A_t) (h_0 + sum_{s <= t} b_s exp(-A_s))``,
    so ``log h_t = A_t + logcumsumexp_t(log b_t - A_t)`` (Heinsen 2023): one cumulative sum and
    one cumulative log-sum-exp, where the same formula without logarithms overflows. It does not
    overflow, but it loses relative precision as ``|A_t|`` grows (``A_t`` and ``log b_t - A_t``
    are large numbers whose sum is small): in float32 expect relative errors near 1e-4 after a
    few hundred steps of strong decay. ``log_h0`` enters as an extra first term.

    Args:
        log_a: real tensor broadcastable to ``log_b``'s shape ``(N, T, ...)``, ``log a_t``.
        log_b: real tensor ``(N, T, ...)``, ``log b_t`` (``-inf`` for ``b_t = 0``).
        log_h0: optional real tensor ``(N, ...)``, ``log h_0`` (``h_0 = 0`` when None).

    Returns:
        log_h: tensor ``(N, T, ...)``.
    """
    log_a, log_b, log_h0 = _torch_inputs(log_a, log_b, log_h0, ("log_a", "log_b", "log_h0"))
    if log_b.is_complex():
        raise ValueError("log_b: expected a real tensor (log_space_scan needs positive a_t and "
                         "b_t); use linear_scan for complex recurrences")
    a_star = torch.cumsum(log_a, dim=1)
    terms = log_b - a_star
    if log_h0 is not None:
        terms = torch.cat([log_h0.unsqueeze(1), terms], dim=1)
        return a_star + torch.logcumsumexp(terms, dim=1)[:, 1:]
    return a_star + torch.logcumsumexp(terms, dim=1)

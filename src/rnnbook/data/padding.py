"""Padding variable-length sequences into one batch, and the masks that keep padding harmless.

A batch of ``N`` sequences of lengths ``T_1, ..., T_N`` becomes one array of shape
``(N, T_max, ...)``: sequence ``n`` fills the steps ``0 .. T_n - 1`` and the rest is padding
(at the end, "post-padding"). Three helpers go with it:

    pad_sequences(seqs, pad_value=0)  list of (T_n, ...) arrays -> (N, T_max, ...), lengths (N,)
    length_mask(lengths, T)           lengths (N,) -> (N, T) booleans, True on the real steps
    last_valid(h, lengths)            states (N, T, ...) -> (N, ...), at each row's own last step

They use NumPy only; ``last_valid`` also accepts a torch tensor for ``h`` and returns one.
"""

import numbers

import numpy as np

__all__ = ["last_valid", "length_mask", "pad_sequences"]


def pad_sequences(seqs, pad_value=0):
    """Pad a list of sequences at the end to the length of the longest one.

    Args:
        seqs: non-empty list (or tuple) of ``N`` array-likes; sequence ``n`` has shape
            ``(T_n,)`` (e.g. token ids) or ``(T_n, D, ...)`` (feature vectors). All must have the
            same trailing shape and ``T_n >= 1``. Torch tensors on the CPU are accepted.
        pad_value: the number written into the padded steps (default 0).

    Returns:
        padded: NumPy array of shape ``(N, T_max, ...)`` with ``T_max = max(T_n)``, in the common
            dtype of the sequences (and of ``pad_value`` if that needs a wider type);
            ``padded[n, :T_n]`` is sequence ``n``, ``padded[n, T_n:]`` is ``pad_value``.
        lengths: int64 array of shape ``(N,)`` holding ``T_n``.

    Raises:
        ValueError: for an empty list, a sequence with no steps or no axes, or sequences whose
            trailing (feature) shapes differ.
    """
    if isinstance(seqs, np.ndarray) or not isinstance(seqs, list | tuple):
        raise ValueError(
            f"seqs: expected a list of N sequences of shape (T_n, ...), got {type(seqs).__name__}"
        )
    if len(seqs) == 0:
        raise ValueError("seqs: expected a non-empty list of sequences, got an empty list")
    arrays = []
    for n, seq in enumerate(seqs):
        if hasattr(seq, "detach"):
            seq = seq.detach().cpu().numpy()
        array = np.asarray(seq)
        if array.dtype == object:
            raise ValueError(f"seqs[{n}]: expected an array of numbers, got ragged or mixed values")
        if array.ndim == 0:
            raise ValueError(
                f"seqs[{n}]: expected a sequence of shape (T_n, ...), got a scalar {array!r}"
            )
        if array.shape[0] == 0:
            raise ValueError(
                f"seqs[{n}]: expected at least one step, got shape {array.shape}: "
                "an empty sequence has no last step to read"
            )
        if arrays and array.shape[1:] != arrays[0].shape[1:]:
            raise ValueError(
                f"seqs[{n}]: expected shape (T_n, {', '.join(map(str, arrays[0].shape[1:]))}) like "
                f"seqs[0], got {array.shape}: every step must have the same feature shape"
            )
        arrays.append(array)
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    dtype = np.result_type(*arrays)
    if not np.can_cast(np.min_scalar_type(pad_value), dtype):
        dtype = np.result_type(dtype, np.asarray(pad_value).dtype)
    shape = (len(arrays), int(lengths.max()), *arrays[0].shape[1:])
    padded = np.full(shape, pad_value, dtype=dtype)
    for n, array in enumerate(arrays):
        padded[n, : array.shape[0]] = array
    return padded, lengths


def _check_lengths(lengths, T=None):
    """``lengths`` as an int64 array of shape (N,), every entry in [1, T]."""
    if hasattr(lengths, "detach"):
        lengths = lengths.detach().cpu().numpy()
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.shape[0] == 0:
        raise ValueError(f"lengths: expected shape (N,) with N >= 1, got {lengths.shape}")
    if not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths: expected integers, got dtype {lengths.dtype}")
    if lengths.min() < 1:
        raise ValueError(
            f"lengths: expected every length >= 1, got {int(lengths.min())} at index "
            f"{int(np.argmin(lengths))}: an empty sequence has no last step"
        )
    if T is not None and lengths.max() > T:
        raise ValueError(
            f"lengths: expected every length <= T = {T}, got {int(lengths.max())} at index "
            f"{int(np.argmax(lengths))}"
        )
    return lengths.astype(np.int64)


def length_mask(lengths, T):
    """The padding mask of a batch: True on the real steps, False on the padded ones.

    Args:
        lengths: integer array-like of shape ``(N,)``, each in ``[1, T]``.
        T: the padded length (a positive integer), usually ``max(lengths)``.

    Returns:
        mask: bool array of shape ``(N, T)`` with ``mask[n, t] = t < lengths[n]``.

    Raises:
        ValueError: if ``T`` is not a positive integer, ``lengths`` is not 1-D, not integer,
            or holds a length below 1 or above ``T``.
    """
    if not isinstance(T, numbers.Integral) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T: expected a positive integer, got {T!r}")
    lengths = _check_lengths(lengths, int(T))
    return np.arange(int(T))[None, :] < lengths[:, None]


def last_valid(h, lengths):
    """Each sequence's state at its own last real step, ``h[n, lengths[n] - 1]``.

    This is the correct "final state" of a post-padded batch; ``h[:, -1]`` is not, for every
    sequence shorter than ``T``.

    Args:
        h: array or torch tensor of shape ``(N, T, H)`` (or ``(N, T, ...)``): the states of every
            step, batch-major.
        lengths: integer array-like of shape ``(N,)``, each in ``[1, T]``.

    Returns:
        the states at the last valid steps, shape ``(N, H)`` (or ``(N, ...)``), of the same type
        as ``h`` (a torch tensor stays a tensor and keeps its autograd graph).

    Raises:
        ValueError: if ``h`` has fewer than 2 axes, or ``lengths`` does not have shape ``(N,)``
            with every entry in ``[1, T]``.
    """
    if not hasattr(h, "shape") or len(h.shape) < 2:
        raise ValueError(
            f"h: expected an array of shape (N, T, H), got {getattr(h, 'shape', type(h).__name__)}"
        )
    N, T = int(h.shape[0]), int(h.shape[1])
    lengths = _check_lengths(lengths, T)
    if lengths.shape[0] != N:
        raise ValueError(
            f"lengths: expected shape (N,) = ({N},) to match h of shape {tuple(h.shape)}, "
            f"got {lengths.shape}"
        )
    return h[list(range(N)), (lengths - 1).tolist()]

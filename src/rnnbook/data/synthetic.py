"""Generated tasks: small data sets drawn from a NumPy ``Generator``, no download needed.

Every function takes the generator ``rng`` first (``numpy.random.default_rng(seed)`` or the one
``rnnbook.utils.seed_everything`` returns), so the same seed gives the same data on every
machine. Arrays are batch-major and float64 unless stated; convert with ``torch.from_numpy`` (and
``.float()`` for training).

    sine_waves(rng, N, T, ...)               (N, T) sines, random phase and period, optional noise
    sine_prediction(rng, N, T, ...)          inputs (N, T, 1), targets (N, T, 1): the next sample
    random_length_sequences(rng, N, D, ...)  list of N arrays (T_n, D), random lengths
    sequence_sum(rng, N, ...)                list of N arrays (T_n, D) and their sums (N, D):
                                             a many-to-one regression task
    adding_problem(rng, N, T)                inputs (N, T, 2) float32 (value, marker), targets
                                             (N,): the sum of the two marked values
    copy_task(rng, N, S, T, K, symbols=None) tokens (N, T + 2S) int64 and per-step targets: copy
                                             S symbols after a delay of T steps
    selective_copy_task(rng, N, S, L, K)     tokens (N, L + S) int64 and per-step targets: copy
                                             S symbols scattered at random among L steps
    associative_recall_task(rng, N, P, ...)  tokens (N, 2P + 1) int64 (P key-value pairs and a
                                             query key) and targets (N,): the queried value
"""

import numbers

import numpy as np

__all__ = [
    "ADDING_BASELINE_MSE",
    "COPY_BLANK",
    "adding_problem",
    "copy_task",
    "copy_task_baseline",
    "associative_recall_task",
    "selective_copy_baseline",
    "selective_copy_task",
    "random_length_sequences",
    "sequence_sum",
    "sine_prediction",
    "sine_waves",
]


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng: expected a numpy.random.Generator (numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )


def _check_positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _check_range(name, value):
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a pair (low, high) of numbers, got {value!r}") from None
    if not low <= high:
        raise ValueError(f"{name}: expected low <= high, got {value!r}")
    return low, high


def sine_waves(rng, num_sequences, length, period_range=(15.0, 30.0), amplitude=1.0,
               noise_std=0.0):
    """Sampled sine waves with a random phase and period per sequence.

    Sequence ``n`` is ``amplitude * sin(2 pi t / P_n + phi_n) + noise`` for ``t = 0 .. length-1``,
    with the period ``P_n`` (in steps) uniform in ``period_range``, the phase ``phi_n`` uniform in
    ``[0, 2 pi)`` and Gaussian noise of standard deviation ``noise_std``.

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``, a positive integer.
        length: ``T``, a positive integer (number of samples per sequence).
        period_range: ``(low, high)`` period in steps, ``0 < low <= high``.
        amplitude: peak value of the clean wave.
        noise_std: standard deviation of the added noise, ``>= 0``.

    Returns:
        waves: float64 array of shape ``(N, T)``.

    Raises:
        ValueError: on a non-Generator ``rng``, non-positive sizes, a bad period range or a
            negative noise level.
    """
    _check_rng(rng)
    N = _check_positive_int("num_sequences", num_sequences)
    T = _check_positive_int("length", length)
    low, high = _check_range("period_range", period_range)
    if low <= 0:
        raise ValueError(f"period_range: expected periods > 0, got {period_range!r}")
    if not noise_std >= 0:
        raise ValueError(f"noise_std: expected a number >= 0, got {noise_std!r}")
    periods = rng.uniform(low, high, size=(N, 1))
    phases = rng.uniform(0.0, 2 * np.pi, size=(N, 1))
    t = np.arange(T)[None, :]
    waves = amplitude * np.sin(2 * np.pi * t / periods + phases)
    if noise_std > 0:
        waves = waves + rng.normal(0.0, noise_std, size=(N, T))
    return waves


def sine_prediction(rng, num_sequences, length, **kwargs):
    """One-step-ahead prediction of sine waves: predict the next sample from the ones so far.

    Draws ``sine_waves(rng, num_sequences, length + 1, **kwargs)`` and splits each wave into the
    input (samples ``0 .. T-1``) and the target (samples ``1 .. T``), so that
    ``targets[:, t] == inputs[:, t + 1]``: the aligned many-to-many pattern.

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``.
        length: ``T``, the number of input steps.
        **kwargs: ``period_range``, ``amplitude``, ``noise_std``, as in :func:`sine_waves`.

    Returns:
        inputs: float64 array of shape ``(N, T, 1)``.
        targets: float64 array of shape ``(N, T, 1)``.
    """
    T = _check_positive_int("length", length)
    waves = sine_waves(rng, num_sequences, T + 1, **kwargs)
    return waves[:, :-1, None], waves[:, 1:, None]


def _check_length_range(length_range):
    try:
        low, high = (int(v) for v in length_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"length_range: expected a pair (low, high) of integers, got {length_range!r}"
        ) from None
    if not 1 <= low <= high:
        raise ValueError(f"length_range: expected 1 <= low <= high, got {length_range!r}")
    return low, high


def random_length_sequences(rng, num_sequences, input_size, length_range=(2, 10)):
    """A list of Gaussian sequences of random lengths, to be padded into a batch.

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``, a positive integer.
        input_size: ``D``, features per step, a positive integer.
        length_range: ``(low, high)``, both included, ``1 <= low <= high``; each ``T_n`` is drawn
            uniformly from it.

    Returns:
        seqs: list of ``N`` float64 arrays, sequence ``n`` of shape ``(T_n, D)``.

    Raises:
        ValueError: on a non-Generator ``rng``, non-positive sizes or a bad length range.
    """
    _check_rng(rng)
    N = _check_positive_int("num_sequences", num_sequences)
    D = _check_positive_int("input_size", input_size)
    low, high = _check_length_range(length_range)
    lengths = rng.integers(low, high + 1, size=N)
    return [rng.normal(size=(int(T), D)) for T in lengths]


def sequence_sum(rng, num_sequences, length_range=(2, 10), input_size=1, scale=1.0):
    """The sum of a sequence: a many-to-one regression task on sequences of random lengths.

    Each sequence has ``T_n`` steps (uniform in ``length_range``) of ``D`` Gaussian features with
    standard deviation ``scale``; its target is the sum over time, ``x.sum(axis=0)``. A model has
    to read every step and keep a running total in its state; padding a sequence with zeros does
    not change its sum, which makes the task a clean test of padding (the RNN's state, unlike the
    sum, does move on a zero input).

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``, a positive integer.
        length_range: ``(low, high)``, both included, ``1 <= low <= high``.
        input_size: ``D``, features per step, a positive integer (default 1).
        scale: standard deviation of every input, a number ``> 0``.

    Returns:
        seqs: list of ``N`` float64 arrays, sequence ``n`` of shape ``(T_n, D)``.
        sums: float64 array of shape ``(N, D)``, ``sums[n] == seqs[n].sum(axis=0)``.

    Raises:
        ValueError: on a non-Generator ``rng``, non-positive sizes, a bad length range or a
            non-positive scale.
    """
    _check_rng(rng)
    N = _check_positive_int("num_sequences", num_sequences)
    D = _check_positive_int("input_size", input_size)
    low, high = _check_length_range(length_range)
    if not scale > 0:
        raise ValueError(f"scale: expected a number > 0, got {scale!r}")
    lengths = rng.integers(low, high + 1, size=N)
    seqs = [scale * rng.normal(size=(int(T), D)) for T in lengths]
    return seqs, np.stack([s.sum(axis=0) for s in seqs])


# --- Long-range tasks of chapter 5: the adding problem and the copy (memory) task -------------

ADDING_BASELINE_MSE = 1.0 / 6.0
"""MSE of always predicting the mean sum 1: the variance of the sum of two U(0, 1) values."""

COPY_BLANK = 0
"""Token id of the blank in :func:`copy_task` (symbols are ``1 .. alphabet_size``)."""


def adding_problem(rng, num_sequences, length):
    """The adding problem: the sum of the two marked values of a long sequence.

    Each step carries two features: a value drawn uniformly from ``[0, 1]`` and a marker that is 1
    at exactly two steps and 0 elsewhere. The first marked step is uniform over the first half,
    ``t1 in {0, ..., T//2 - 1}``, the second uniform over the second half,
    ``t2 in {T//2, ..., T-1}`` (the placement of Le, Jaitly and Hinton 2015; Hochreiter and
    Schmidhuber 1997 used a variant). The target is ``value[t1] + value[t2]``. Its mean is 1 and
    its variance 2/12, so predicting the constant 1 gives the baseline MSE
    ``ADDING_BASELINE_MSE = 1/6`` (about 0.167) whatever the length.

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``, a positive integer.
        length: ``T``, an integer ``>= 2`` (each half holds one marker).

    Returns:
        inputs: float32 array of shape ``(N, T, 2)``; ``inputs[..., 0]`` the values,
            ``inputs[..., 1]`` the markers (0 or 1, exactly two ones per sequence).
        targets: float32 array of shape ``(N,)``, the sum of the two marked values.

    Raises:
        ValueError: on a non-Generator ``rng``, a non-positive ``num_sequences`` or a ``length``
            below 2.
    """
    _check_rng(rng)
    N = _check_positive_int("num_sequences", num_sequences)
    T = _check_positive_int("length", length)
    if T < 2:
        raise ValueError(f"length: expected an integer >= 2 (one marker per half), got {length!r}")
    half = T // 2
    values = rng.uniform(0.0, 1.0, size=(N, T))
    first = rng.integers(0, half, size=N)
    second = rng.integers(half, T, size=N)
    markers = np.zeros((N, T))
    rows = np.arange(N)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    inputs = np.stack([values, markers], axis=-1)
    return inputs.astype(np.float32), targets.astype(np.float32)


def _check_copy_symbols(symbols, N, S, K):
    symbols = np.asarray(symbols)
    if symbols.shape != (N, S):
        raise ValueError(f"symbols: expected shape (num_sequences, num_symbols) = ({N}, {S}), "
                         f"got {symbols.shape}")
    if not np.issubdtype(symbols.dtype, np.integer):
        raise ValueError(f"symbols: expected an integer array, got dtype {symbols.dtype}")
    if symbols.size and (symbols.min() < 1 or symbols.max() > K):
        raise ValueError(f"symbols: expected values in 1 .. {K}, got values in "
                         f"{symbols.min()} .. {symbols.max()}")
    return symbols.astype(np.int64)


def _check_alphabet(alphabet_size):
    K = _check_positive_int("alphabet_size", alphabet_size)
    if K < 2:
        raise ValueError(f"alphabet_size: expected an integer >= 2, got {alphabet_size!r}")
    return K


def copy_task(rng, num_sequences, num_symbols, delay, alphabet_size=8, symbols=None):
    """The copy (memory) task: reproduce ``S`` symbols after a delay of ``T`` blank steps.

    Tokens are integers: ``0`` the blank (``COPY_BLANK``), ``1 .. K`` the symbols
    (``K = alphabet_size``) and ``K + 1`` the delimiter, so a model sees ``K + 2`` token kinds and
    predicts one of ``K + 1`` (blank or a symbol). Every sequence has ``T + 2S`` steps (the version
    of Arjovsky, Shah and Bengio 2016)::

        input:   s_1 .. s_S   blank x (T - 1)   delimiter   blank x S
        target:  blank x (T + S)                            s_1 .. s_S

    with ``s_j`` drawn uniformly from the ``K`` symbols, or taken from ``symbols`` when given (to
    hold some symbol sequences out of training, give each split its own). The delimiter tells the
    model when to start writing; every symbol is written ``T + S`` steps after it is read. A model
    that remembers none of the symbols (it may still count steps) can at best output blanks for
    the first ``T + S`` steps and guess uniformly among the ``K`` symbols in the last ``S``: its
    mean cross-entropy per step is :func:`copy_task_baseline`, ``S log K / (T + 2S)`` nats.

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``, a positive integer.
        num_symbols: ``S``, how many symbols to copy, a positive integer.
        delay: ``T``, a positive integer (steps from the last symbol to the delimiter, included).
        alphabet_size: ``K``, the number of distinct symbols, an integer ``>= 2``.
        symbols: optional integer array of shape ``(N, S)`` with values in ``1 .. K``, the
            symbols of each sequence; None (default) draws them from ``rng``.

    Returns:
        inputs: int64 array of shape ``(N, T + 2S)``, values in ``0 .. K + 1``.
        targets: int64 array of shape ``(N, T + 2S)``, values in ``0 .. K``.

    Raises:
        ValueError: on a non-Generator ``rng``, non-positive sizes, ``alphabet_size < 2`` or
            ``symbols`` of another shape, a non-integer dtype or values outside ``1 .. K``.
    """
    _check_rng(rng)
    N = _check_positive_int("num_sequences", num_sequences)
    S = _check_positive_int("num_symbols", num_symbols)
    T = _check_positive_int("delay", delay)
    K = _check_alphabet(alphabet_size)
    if symbols is None:
        symbols = rng.integers(1, K + 1, size=(N, S))
    else:
        symbols = _check_copy_symbols(symbols, N, S, K)
    inputs = np.full((N, T + 2 * S), COPY_BLANK, dtype=np.int64)
    targets = np.full((N, T + 2 * S), COPY_BLANK, dtype=np.int64)
    inputs[:, :S] = symbols
    inputs[:, S + T - 1] = K + 1
    targets[:, T + S:] = symbols
    return inputs, targets


def copy_task_baseline(num_symbols, delay, alphabet_size=8):
    """Mean cross-entropy per step (nats) of the best memoryless model on :func:`copy_task`.

    It predicts the blank with certainty for the first ``T + S`` steps (loss 0) and the uniform
    distribution over the ``K`` symbols for the last ``S`` (loss ``log K`` each)::

        S log K / (T + 2S)

    Args:
        num_symbols: ``S``; delay: ``T``; alphabet_size: ``K``, as in :func:`copy_task`.

    Returns:
        float, nats per step.
    """
    S = _check_positive_int("num_symbols", num_symbols)
    T = _check_positive_int("delay", delay)
    K = _check_alphabet(alphabet_size)
    return S * float(np.log(K)) / (T + 2 * S)


def selective_copy_task(rng, num_sequences, num_symbols, length, alphabet_size=8):
    """Selective copying: reproduce ``S`` symbols scattered at random positions among blanks.

    The task Gu and Dao (2023) use to show why a recurrence's coefficients must depend on its
    input: unlike :func:`copy_task`, the symbols sit at positions that change from sequence to
    sequence, so a model must decide from each token whether to keep it. Tokens as in
    :func:`copy_task`: ``0`` the blank, ``1 .. K`` the symbols, ``K + 1`` the delimiter. Every
    sequence has ``L + S`` steps::

        input:   L steps, S of them symbols (at sorted random distinct positions), the rest blank
                 then delimiter x S
        target:  blank x L, then the S symbols in the order they appeared

    A model that remembers no symbol can at best output blanks for the first ``L`` steps and
    guess uniformly in the last ``S``: :func:`selective_copy_baseline`, ``S log K / (L + S)`` nats
    per step.

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``, a positive integer.
        num_symbols: ``S``, a positive integer, at most ``length``.
        length: ``L``, the steps over which the symbols are scattered, a positive integer.
        alphabet_size: ``K``, an integer ``>= 2``.

    Returns:
        inputs: int64 array ``(N, L + S)``, values in ``0 .. K + 1``.
        targets: int64 array ``(N, L + S)``, values in ``0 .. K``.

    Raises:
        ValueError: on a non-Generator ``rng``, non-positive sizes, ``num_symbols > length`` or
            ``alphabet_size < 2``.
    """
    _check_rng(rng)
    N = _check_positive_int("num_sequences", num_sequences)
    S = _check_positive_int("num_symbols", num_symbols)
    L = _check_positive_int("length", length)
    K = _check_alphabet(alphabet_size)
    if S > L:
        raise ValueError(f"num_symbols: expected at most length = {L} symbols, got {S}")
    positions = np.sort(np.argsort(rng.random((N, L)), axis=1)[:, :S], axis=1)
    symbols = rng.integers(1, K + 1, size=(N, S))
    inputs = np.full((N, L + S), COPY_BLANK, dtype=np.int64)
    targets = np.full((N, L + S), COPY_BLANK, dtype=np.int64)
    np.put_along_axis(inputs, positions, symbols, axis=1)
    inputs[:, L:] = K + 1
    targets[:, L:] = symbols
    return inputs, targets


def selective_copy_baseline(num_symbols, length, alphabet_size=8):
    """Mean cross-entropy per step (nats) of the best memoryless model on
    :func:`selective_copy_task`: ``S log K / (L + S)``.

    Args:
        num_symbols: ``S``; length: ``L``; alphabet_size: ``K``, as in the task.

    Returns:
        float, nats per step.
    """
    S = _check_positive_int("num_symbols", num_symbols)
    L = _check_positive_int("length", length)
    K = _check_alphabet(alphabet_size)
    return S * float(np.log(K)) / (L + S)


def associative_recall_task(rng, num_sequences, num_pairs, num_keys=16, num_values=16):
    """Associative recall: after ``P`` key-value pairs, give the value stored under a query key.

    Keys are tokens ``0 .. num_keys - 1``, distinct within a sequence; values are tokens
    ``num_keys .. num_keys + num_values - 1``; the last token repeats one of the sequence's keys
    (uniformly chosen), so the vocabulary has ``num_keys + num_values`` tokens::

        input:   k_1 v_1 k_2 v_2 ... k_P v_P q        (2P + 1 tokens)
        target:  the index (0 .. num_values - 1) of the value stored with key q

    Guessing without reading the pairs is right with probability ``1 / num_values``.

    Args:
        rng: ``numpy.random.Generator``.
        num_sequences: ``N``, a positive integer.
        num_pairs: ``P``, a positive integer, at most ``num_keys``.
        num_keys: a positive integer. num_values: an integer ``>= 2``.

    Returns:
        inputs: int64 array ``(N, 2P + 1)``.
        targets: int64 array ``(N,)``, values in ``0 .. num_values - 1``.

    Raises:
        ValueError: on a non-Generator ``rng``, non-positive sizes, ``num_pairs > num_keys`` or
            ``num_values < 2``.
    """
    _check_rng(rng)
    N = _check_positive_int("num_sequences", num_sequences)
    P = _check_positive_int("num_pairs", num_pairs)
    n_keys = _check_positive_int("num_keys", num_keys)
    n_values = _check_positive_int("num_values", num_values)
    if P > n_keys:
        raise ValueError(f"num_pairs: expected at most num_keys = {n_keys} pairs (keys are "
                         f"distinct), got {P}")
    if n_values < 2:
        raise ValueError(f"num_values: expected an integer >= 2, got {num_values!r}")
    keys = np.argsort(rng.random((N, n_keys)), axis=1)[:, :P]
    values = rng.integers(0, n_values, size=(N, P))
    which = rng.integers(0, P, size=N)
    inputs = np.empty((N, 2 * P + 1), dtype=np.int64)
    inputs[:, 0:2 * P:2] = keys
    inputs[:, 1:2 * P:2] = n_keys + values
    rows = np.arange(N)
    inputs[:, -1] = keys[rows, which]
    return inputs, values[rows, which]

"""The one training loop of the book, and the metrics it reports.

``fit`` trains any ``torch.nn.Module`` whose loss for a batch a function computes, with gradient
clipping by global norm, periodic evaluation on held-out data, early stopping that restores the
best weights, and a :class:`History` that ``rnnbook.plotting.plot_history`` draws in one call.

The progress bar (tqdm) appears only when a person is watching: in a terminal, or in a notebook
opened in Jupyter. Runs by nbval, nbgrader or ``make notebooks`` (kernels started by nbclient)
get none, and ``RNNBOOK_PROGRESS=0`` (or ``progress=False``) switches it off everywhere.
"""

import copy
import math
import os
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from rnnbook.shapes import check_shape

LN2 = math.log(2.0)


class TrainingDiverged(FloatingPointError):
    """The loss or the gradient became NaN or infinite; the weights of the last good step are kept.

    Attributes:
        step: the 1-based step at which it happened.
        history: the :class:`History` up to the last good step.
    """

    def __init__(self, message, step, history):
        super().__init__(message)
        self.step = step
        self.history = history


@dataclass
class History:
    """What a run of :func:`fit` did, one entry per evaluation (lists of equal length).

    Attributes:
        steps: the number of optimiser steps taken at each evaluation.
        train_loss: mean training loss over the steps since the previous evaluation.
        valid_loss: held-out loss (``nan`` when there is no held-out data).
        lr: learning rate of the first parameter group.
        grad_norm: mean global gradient norm (before clipping) since the previous evaluation.
        step_loss: the training loss of every step (one entry per step).
        best_step, best_valid: where the held-out loss was lowest (``None`` without held-out data).
        stop_reason: ``"budget"``, ``"time limit"`` or ``"early stopping"``.
        seconds: wall-clock seconds of the whole run.
    """

    steps: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    valid_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    best_step: int | None = None
    best_valid: float | None = None
    stop_reason: str = ""
    seconds: float = 0.0

    def __len__(self):
        return len(self.steps)


def _positive(name, value, kind=int):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
            or (kind is int and value != int(value)):
        expected = "a positive integer" if kind is int else "a positive number"
        raise ValueError(f"{name}: expected {expected} or None, got {value!r}")
    return kind(value)


def progress_enabled(progress=None):
    """Whether :func:`fit` shows a progress bar.

    ``progress`` True or False decides; otherwise ``RNNBOOK_PROGRESS`` (``0`` or ``1``) decides;
    otherwise a bar is shown in a terminal or in a kernel that Jupyter's server started (which sets
    ``JPY_SESSION_NAME``), never in kernels run by nbval, nbgrader or nbclient.
    """
    if progress is not None:
        return bool(progress)
    setting = os.environ.get("RNNBOOK_PROGRESS", "").strip()
    if setting in ("0", "1"):
        return setting == "1"
    return "JPY_SESSION_NAME" in os.environ or bool(getattr(sys.stderr, "isatty", bool)())


def _progress_bar(total, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, leave=False, desc="training", unit="step")


def _batches(train_batches, steps, epochs):
    """Yield batches: ``steps`` of them, or ``epochs`` passes over an iterable."""
    if callable(train_batches):
        if epochs is not None:
            raise ValueError("epochs: a callable train_batches has no epochs; give steps instead")
        for step in range(steps):
            yield train_batches(step)
        return
    count = 0
    epoch = 0
    while epochs is None or epoch < epochs:
        empty = True
        for batch in train_batches:
            empty = False
            if steps is not None and count >= steps:
                return
            count += 1
            yield batch
        if empty:
            raise ValueError("train_batches: the iterable yielded no batch")
        epoch += 1
        if steps is not None and count >= steps:
            return


def _default_eval_every(train_batches, steps, epochs):
    """Once per epoch for a sized iterable, else about 20 evaluations over the budget."""
    if epochs is not None and hasattr(train_batches, "__len__"):
        return max(1, len(train_batches))
    total = steps if steps is not None else None
    return max(1, total // 20) if total else 100


def _held_out_loss(model, loss_fn, valid_batches, valid_fn):
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if valid_fn is not None:
                return float(valid_fn(model))
            losses = [float(loss_fn(model, batch).detach()) for batch in valid_batches]
            if not losses:
                raise ValueError("valid_batches: the iterable yielded no batch")
            return sum(losses) / len(losses)
    finally:
        model.train(was_training)


def _global_norm(parameters):
    grads = [p.grad.detach().flatten() for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.cat(grads)))


def fit(model, loss_fn, train_batches, optimizer, *, steps=None, epochs=None, time_limit=None,
        clip=None, valid_batches=None, valid_fn=None, eval_every=None, patience=None,
        scheduler=None, progress=None):
    """Train ``model`` by minimising ``loss_fn`` over ``train_batches``; return a :class:`History`.

    Args:
        model: a ``torch.nn.Module`` (put in train mode; evaluated in eval mode without grad).
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``, the loss to minimise on one batch.
        train_batches: an iterable of batches (a list, a DataLoader), passed over once an epoch,
            or a callable ``step -> batch`` (0-based step) for generated data.
        optimizer: a ``torch.optim`` optimiser over the model's parameters.
        steps: the budget in optimiser steps; ``epochs``: in passes over an iterable. At least one.
        time_limit: optional wall-clock seconds after which training stops (scripts only; notebooks
            use steps or epochs, so re-runs print the same numbers).
        clip: maximal global gradient norm (``torch.nn.utils.clip_grad_norm_``); None: no clipping.
            The norm before clipping is recorded either way.
        valid_batches: iterable of held-out batches; the held-out loss is the mean of ``loss_fn``
            over them. Or ``valid_fn(model) -> float``. Without either, no early stopping.
        eval_every: evaluate every this many steps (default: once an epoch for a sized iterable,
            else 20 times over the budget), and once at the end.
        patience: stop after this many evaluations without a lower held-out loss, then restore
            the weights of the best evaluation.
        scheduler: optional learning-rate scheduler, stepped after every optimiser step.
        progress: show a tqdm bar (None: only when a person watches; see :func:`progress_enabled`).

    Returns:
        History.

    Raises:
        ValueError: a bad argument, or no batches.
        TrainingDiverged: the loss or gradient norm was not finite at some step; the weights are
            those of the last good step (the bad update is never applied).
    """
    steps = _positive("steps", steps)
    epochs = _positive("epochs", epochs)
    time_limit = _positive("time_limit", time_limit, kind=float)
    clip = _positive("clip", clip, kind=float)
    eval_every = _positive("eval_every", eval_every)
    patience = _positive("patience", patience)
    if steps is None and epochs is None:
        raise ValueError("steps, epochs: give a budget (a positive number of steps or epochs)")
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise ValueError(f"loss_fn: expected a callable loss_fn(model, batch), got {loss_fn!r}")
    if valid_batches is not None and valid_fn is not None:
        raise ValueError("valid_batches, valid_fn: give one of them, not both")
    if patience is not None and valid_batches is None and valid_fn is None:
        raise ValueError("patience: early stopping needs valid_batches or valid_fn")
    if eval_every is None:
        eval_every = _default_eval_every(train_batches, steps, epochs)
    has_valid = valid_batches is not None or valid_fn is not None
    parameters = [p for p in model.parameters() if p.requires_grad]

    history = History()
    best_state = None
    since_best = 0
    window_loss, window_norm, window_count = 0.0, 0.0, 0
    start = time.perf_counter()
    total = steps if steps is not None else (
        epochs * len(train_batches) if hasattr(train_batches, "__len__") else None)
    bar = _progress_bar(total, progress_enabled(progress))

    def evaluate(step):
        nonlocal best_state, since_best, window_loss, window_norm, window_count
        valid = _held_out_loss(model, loss_fn, valid_batches, valid_fn) if has_valid else math.nan
        history.steps.append(step)
        history.train_loss.append(window_loss / max(window_count, 1))
        history.grad_norm.append(window_norm / max(window_count, 1))
        history.valid_loss.append(valid)
        history.lr.append(optimizer.param_groups[0]["lr"])
        window_loss, window_norm, window_count = 0.0, 0.0, 0
        if has_valid:
            if history.best_valid is None or valid < history.best_valid:
                history.best_valid, history.best_step = valid, step
                best_state = copy.deepcopy(model.state_dict())
                since_best = 0
            else:
                since_best += 1
        if bar is not None:
            bar.set_postfix(train=f"{history.train_loss[-1]:.4g}",
                            valid=f"{valid:.4g}" if has_valid else "-")
        return patience is not None and since_best >= patience

    model.train()
    step = 0
    stop_reason = "budget"
    try:
        for batch in _batches(train_batches, steps, epochs):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise ValueError(f"loss_fn: expected a scalar tensor, got {loss!r}")
            value = float(loss.detach())
            if not math.isfinite(value):
                raise TrainingDiverged(f"the training loss is {value} at step {step + 1}; the "
                                       f"weights of step {step} are kept", step + 1, history)
            loss.backward()
            norm = _global_norm(parameters)
            if not math.isfinite(norm):
                raise TrainingDiverged(f"the gradient norm is {norm} at step {step + 1} (loss "
                                       f"{value:.4g}); the weights of step {step} are kept",
                                       step + 1, history)
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(parameters, clip)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            history.step_loss.append(value)
            window_loss, window_norm, window_count = (window_loss + value, window_norm + norm,
                                                      window_count + 1)
            if bar is not None:
                bar.update(1)
            if step % eval_every == 0 and evaluate(step):
                stop_reason = "early stopping"
                break
            if time_limit is not None and time.perf_counter() - start > time_limit:
                stop_reason = "time limit"
                break
        if step == 0:
            raise ValueError("train_batches: no batch was drawn, so nothing was trained")
        if not history.steps or history.steps[-1] != step:
            evaluate(step)
    finally:
        if bar is not None:
            bar.close()
        history.seconds = time.perf_counter() - start
    if best_state is not None and history.best_step != step:
        model.load_state_dict(best_state)
    history.stop_reason = stop_reason
    return history


def masked_mean_loss(logits, targets, mask=None):
    """Mean cross-entropy in nats per counted token.

    Args:
        logits: tensor (N, T, V) of unnormalised scores.
        targets: long tensor (N, T) of class ids in [0, V).
        mask: optional bool tensor (N, T); True marks the tokens that count.

    Returns:
        scalar tensor: the sum of the counted tokens' losses divided by their number.
    """
    dims = check_shape("logits", logits, ("N", "T", "V"), {})
    check_shape("targets", targets, ("N", "T"), dims)
    N, T, V = logits.shape
    if targets.dtype != torch.long:
        raise ValueError(f"targets: expected a long tensor of class ids, got {targets.dtype}")
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= V):
        raise ValueError(f"targets: expected class ids in [0, {V}), got values in "
                         f"[{int(targets.min())}, {int(targets.max())}]")
    losses = F.cross_entropy(logits.reshape(N * T, V), targets.reshape(N * T), reduction="none")
    if mask is None:
        return losses.mean()
    check_shape("mask", mask, ("N", "T"), dims)
    if mask.dtype != torch.bool:
        raise ValueError(f"mask: expected a bool tensor, got {mask.dtype}")
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mask: expected at least one counted token, got none")
    return (losses * mask.reshape(N * T)).sum() / count


def _nats(name, value):
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite, non-negative loss in nats, got {value}")
    return value


def perplexity(nats_per_token):
    """``exp`` of the mean loss in nats per token (the mean over tokens, not over sequences)."""
    return math.exp(_nats("nats_per_token", nats_per_token))


def bits_per_token(nats_per_token):
    """The mean loss in bits per token: nats divided by ln 2."""
    return _nats("nats_per_token", nats_per_token) / LN2

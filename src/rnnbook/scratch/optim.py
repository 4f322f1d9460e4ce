"""Gradient clipping and three optimisers as small update rules on dicts of NumPy arrays.

The parameters of a model are a dict ``params`` mapping a name to an array, and a backward pass
gives a dict ``grads`` with the same names and shapes. An optimiser's ``step(params, grads)``
updates the arrays of ``params`` *in place* and keeps its own state (velocities, running averages)
per name. The update rules are those of ``torch.optim.SGD``, ``Adagrad`` and ``Adam`` with their
default options, so the same numbers come out.
"""

import numpy as np


def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so that their global norm is at most ``max_norm``.

    The global norm treats all gradients as one long vector,
    ``norm = sqrt(sum over arrays of sum(g ** 2))``. If it exceeds ``max_norm``, every gradient is
    multiplied by ``max_norm / norm``: the direction of the whole update is kept and only its
    length is capped, which tames exploding gradients without biasing the update toward some
    parameters.

    Args:
        grads: dict mapping names to arrays, or a list or tuple of arrays.
        max_norm: positive number.

    Returns:
        clipped: new arrays in a container of the same kind (the inputs are not modified).
        norm: the global norm *before* clipping, a Python float (worth logging: it shows when
            gradients explode).

    Raises:
        ValueError: if ``max_norm`` is not positive or the norm is NaN or infinite.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm: expected a positive number, got {max_norm!r}")
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    norm = float(np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in arrays)))
    if not np.isfinite(norm):
        raise ValueError(f"grads: the global gradient norm is {norm}; clipping cannot repair "
                         "NaN or infinite gradients")
    scale = max_norm / norm if norm > max_norm else 1.0
    clipped = [g * np.asarray(scale, dtype=g.dtype) for g in arrays]
    if isinstance(grads, dict):
        return dict(zip(grads.keys(), clipped, strict=True)), norm
    return type(grads)(clipped), norm


def _check_pairs(params, grads):
    """Both dicts hold the same names, and each gradient has its parameter's shape."""
    if params.keys() != grads.keys():
        raise ValueError(f"grads: expected the names {sorted(params)}, got {sorted(grads)}")
    for name, p in params.items():
        if grads[name].shape != p.shape:
            raise ValueError(f"grads[{name!r}]: expected shape {p.shape} of params[{name!r}], "
                             f"got {grads[name].shape}")


class SGD:
    """Stochastic gradient descent, optionally with momentum.

    With ``momentum = 0``: ``p <- p - lr * g``. With momentum ``mu`` each parameter keeps a
    velocity ``v`` (zero at first), and

        v <- mu * v + g,        p <- p - lr * v,

    so a gradient that points the same way step after step builds up speed (PyTorch's convention;
    CS231n's ``v <- mu v - lr g; p <- p + v`` is the same for a constant ``lr``).

    Args:
        lr: learning rate.
        momentum: in [0, 1).
    """

    def __init__(self, lr=0.01, momentum=0.0):
        self.lr = lr
        self.momentum = momentum
        self.velocity = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (dicts with the same names)."""
        _check_pairs(params, grads)
        for name, p in params.items():
            g = grads[name]
            if self.momentum:
                v = self.velocity.setdefault(name, np.zeros_like(p))
                v *= self.momentum
                v += g
                g = v
            p -= self.lr * g


class Adagrad:
    """Adagrad: a per-entry learning rate that shrinks with the gradients seen so far.

    Each parameter keeps the running sum of its squared gradients ``s`` (zero at first), and

        s <- s + g ** 2,        p <- p - lr * g / (sqrt(s) + eps).

    Entries with large or frequent gradients take smaller steps.

    Args:
        lr: learning rate.
        eps: small number that avoids a division by zero.
    """

    def __init__(self, lr=0.01, eps=1e-10):
        self.lr = lr
        self.eps = eps
        self.sum_sq = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (dicts with the same names)."""
        _check_pairs(params, grads)
        for name, p in params.items():
            g = grads[name]
            s = self.sum_sq.setdefault(name, np.zeros_like(p))
            s += g * g
            p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam:
    """Adam: momentum on the gradient and a per-entry scale from its running second moment.

    Each parameter keeps running averages ``m`` of the gradient and ``v`` of its square (zero at
    first). At step ``t = 1, 2, ...``

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t),   v_hat = v / (1 - beta2 ** t)
        p <- p - lr * m_hat / (sqrt(v_hat) + eps)

    Because ``m`` and ``v`` start at zero, they underestimate the averages in the first steps;
    dividing by ``1 - beta ** t`` (the *bias correction*) removes that. At ``t = 1`` it gives
    ``m_hat = g`` and ``v_hat = g ** 2``, so the first step moves every entry by about ``lr``.

    Args:
        lr: learning rate.
        beta1, beta2: decay rates of the two running averages, in [0, 1).
        eps: small number that avoids a division by zero.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.t = 0
        self.m = {}
        self.v = {}

    def step(self, params, grads):
        """Update every array of ``params`` in place from ``grads`` (dicts with the same names)."""
        _check_pairs(params, grads)
        self.t += 1
        for name, p in params.items():
            g = grads[name]
            m = self.m.setdefault(name, np.zeros_like(p))
            v = self.v.setdefault(name, np.zeros_like(p))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

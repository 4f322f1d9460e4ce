"""Recurrent forecasters: point or Gaussian, one step or several steps ahead in one pass.

    RNNForecaster(cell="lstm", hidden_size=32, horizon=1, gaussian=False)
        forward(x (N, p)) -> mean (N, horizon)                      (point forecaster)
                          -> (mean (N, horizon), std (N, horizon))  (gaussian=True)
        recursive(x (N, p), steps) -> (N, steps): the one-step model fed its own forecasts
    gaussian_nll(mean, std, y)      mean negative log-likelihood of y under N(mean, std^2)
    gaussian_interval(mean, std, level) -> (low, high), the central interval of probability level
    coverage(y, low, high)          fraction of targets inside their intervals

The recurrent layer reads the window one value per step; a linear head on the last state gives
``horizon`` outputs at once (a multi-output forecaster) and, for the Gaussian forecaster, as many
standard deviations through a softplus (plus a small floor) so that they stay positive.
"""

import math
import numbers

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["RNNForecaster", "autoreg_predict", "autoreg_recursive", "coverage", "fit_autoreg",
           "gaussian_interval", "gaussian_nll", "predict", "rmse", "select_autoreg_order",
           "train_forecaster"]

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
MIN_STD = 1e-3


class RNNForecaster(nn.Module):
    """A recurrent layer over the window, then a linear head on its last state.

    Args:
        cell: ``"lstm"``, ``"gru"`` or ``"rnn"``.
        hidden_size: width of the state (positive integer).
        horizon: number of future values predicted at once (positive integer).
        gaussian: also predict a standard deviation for each of them.
        num_layers: stacked recurrent layers.
        dropout: probability of zeroing each unit of the last state before the head, in training
            only (as a Keras ``Dropout`` layer after the recurrent layer); 0 disables it.
    """

    def __init__(self, cell="lstm", hidden_size=32, horizon=1, gaussian=False, num_layers=1,
                 dropout=0.0):
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell: expected one of {sorted(_CELLS)}, got {cell!r}")
        for name, value in (("hidden_size", hidden_size), ("horizon", horizon),
                            ("num_layers", num_layers)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout!r}")
        self.cell, self.horizon, self.gaussian = cell, int(horizon), bool(gaussian)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _CELLS[cell](1, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, horizon * (2 if gaussian else 1))

    def _check(self, x):
        if not torch.is_tensor(x):
            x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        if x.ndim == 3 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.ndim != 2 or x.shape[1] < 1:
            raise ValueError(f"x: expected shape (N, p) (or (N, p, 1)), got {tuple(x.shape)}")
        return x.float()

    def forward(self, x):
        """Forecast from windows ``x`` of shape ``(N, p)``: mean ``(N, horizon)`` [and std]."""
        x = self._check(x)
        out, _ = self.rnn(x.unsqueeze(-1))
        z = self.head(self.dropout(out[:, -1]))
        if not self.gaussian:
            return z
        mean, raw = z[:, :self.horizon], z[:, self.horizon:]
        return mean, F.softplus(raw) + MIN_STD

    @torch.no_grad()
    def recursive(self, x, steps):
        """Iterate a one-step forecaster ``steps`` times on its own forecasts: ``(N, steps)``.

        The window slides forward by one value per step, its newest value being the last forecast
        (the mean, for a Gaussian forecaster). Costs ``steps`` passes over the window.
        """
        if self.horizon != 1:
            raise ValueError(f"recursive: needs a one-step forecaster (horizon 1), this one has "
                             f"horizon {self.horizon}")
        if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps: expected a positive integer, got {steps!r}")
        window = self._check(x)
        outputs = []
        for _ in range(int(steps)):
            y = self(window)
            y = y[0] if self.gaussian else y
            outputs.append(y[:, 0])
            window = torch.cat([window[:, 1:], y], dim=1)
        return torch.stack(outputs, dim=1)


def _same_shape(**arrays):
    shapes = {k: tuple(v.shape) for k, v in arrays.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"expected arrays of one shape, got {shapes}")


def gaussian_nll(mean, std, y):
    """Mean negative log-likelihood, in nats, of ``y`` under ``N(mean, std^2)`` elementwise.

    ``0.5 * log(2 pi) + log(std) + (y - mean)^2 / (2 std^2)``, averaged over all entries. Tensors
    of one shape; ``std`` must be positive.
    """
    _same_shape(mean=mean, std=std, y=y)
    if torch.any(std <= 0):
        raise ValueError("std: expected positive standard deviations")
    return (0.5 * math.log(2 * math.pi) + torch.log(std)
            + (y - mean) ** 2 / (2 * std ** 2)).mean()


def gaussian_interval(mean, std, level):
    """Central interval of probability ``level`` of ``N(mean, std^2)``: ``mean -/+ z * std``.

    ``z`` is the ``(1 + level) / 2`` quantile of the standard normal (1.2816 for 80 %, 1.9600 for
    95 %). Accepts NumPy arrays or tensors; returns the same kind.
    """
    if not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level: expected a probability in (0, 1), got {level!r}")
    z = math.sqrt(2.0) * torch.special.erfinv(torch.tensor(float(level),
                                                           dtype=torch.float64)).item()
    return mean - z * std, mean + z * std


def coverage(y, low, high):
    """Fraction of entries with ``low <= y <= high`` (arrays of one shape), a float in [0, 1]."""
    y, low, high = (np.asarray(a.detach().cpu() if torch.is_tensor(a) else a, dtype=np.float64)
                    for a in (y, low, high))
    _same_shape(y=y, low=low, high=high)
    if y.size == 0:
        raise ValueError("y: expected at least one target, got none")
    return float(np.mean((low <= y) & (y <= high)))


# ---------------------------------------------------------------------------------------------
# Training, and the linear autoregressive baseline (fitted by statsmodels)
# ---------------------------------------------------------------------------------------------


def train_forecaster(model, X, Y, X_valid, Y_valid, *, steps, lr=5e-3, batch_size=32,
                     patience=20, eval_every=25, seed=0):
    """Fit ``model`` on windows ``X (n, p)`` and targets ``Y (n, horizon)`` with early stopping.

    The loss is the mean squared error for a point forecaster and the Gaussian negative
    log-likelihood for a Gaussian one; the held-out loss on ``(X_valid, Y_valid)`` decides when to
    stop, and the best weights are restored (``rnnbook.training.fit``). Adam, batches drawn with
    ``seed``. Returns the History.
    """
    from rnnbook.data.forecasting import random_batches
    from rnnbook.training import fit

    def loss_fn(m, batch):
        x, y = batch
        if m.gaussian:
            return gaussian_nll(*m(x), y)
        return torch.mean((m(x) - y) ** 2)

    valid = (torch.as_tensor(np.asarray(X_valid), dtype=torch.float32),
             torch.as_tensor(np.asarray(Y_valid), dtype=torch.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return fit(model, loss_fn, random_batches((X, Y), batch_size, seed), optimizer, steps=steps,
               valid_batches=[valid], eval_every=eval_every, patience=patience, progress=False)


@torch.no_grad()
def predict(model, X):
    """NumPy float64 forecasts of ``model`` for windows ``X``: mean, or (mean, std) if Gaussian."""
    model.eval()
    out = model(torch.as_tensor(np.asarray(X), dtype=torch.float32))
    if isinstance(out, tuple):
        return tuple(o.numpy().astype(np.float64) for o in out)
    return out.numpy().astype(np.float64)


def fit_autoreg(train, lags):
    """Fit ``y_t = c + sum_k phi_k y_{t-k} + e_t`` by ``statsmodels``' AutoReg (OLS) on ``train``.

    Returns ``(c, phi)`` with ``phi`` of shape ``(lags,)``, ``phi[0]`` the weight of lag 1.
    """
    from statsmodels.tsa.ar_model import AutoReg

    x = np.asarray(train, dtype=np.float64)
    if x.ndim != 1 or not isinstance(lags, numbers.Integral) or not 1 <= lags < x.size // 2:
        raise ValueError(f"lags: expected an integer in [1, {x.size // 2}) for a series of shape "
                         f"{x.shape}, got {lags!r}")
    params = AutoReg(x, lags=int(lags), trend="c").fit().params
    return float(params[0]), np.asarray(params[1:], dtype=np.float64)


def autoreg_predict(X, c, phi):
    """One-step forecasts ``c + sum_k phi_k X[:, -k]`` for windows ``X (n, p)``, ``p >= lags``."""
    X = np.asarray(X, dtype=np.float64)
    k = len(phi)
    if X.ndim != 2 or X.shape[1] < k:
        raise ValueError(f"X: expected shape (n, p) with p >= {k}, got {X.shape}")
    return c + X[:, ::-1][:, :k] @ phi


def autoreg_recursive(X, c, phi, steps):
    """Iterate the AR model on its own forecasts from windows ``X (n, p)``: ``(n, steps)``."""
    window = np.asarray(X, dtype=np.float64).copy()
    out = []
    for _ in range(steps):
        y = autoreg_predict(window, c, phi)
        out.append(y)
        window = np.concatenate([window[:, 1:], y[:, None]], axis=1)
    return np.stack(out, axis=1)


def select_autoreg_order(series, train_end, valid_end, max_lags):
    """The AR order with the lowest one-step validation RMSE, fitted on ``series[:train_end]``.

    Returns ``(best_lags, rmse)`` with ``rmse[k - 1]`` the validation RMSE of order ``k``
    (targets ``series[train_end:valid_end]``).
    """
    from rnnbook.data.forecasting import forecast_windows

    x = np.asarray(series, dtype=np.float64)
    rmse = []
    for k in range(1, int(max_lags) + 1):
        c, phi = fit_autoreg(x[:train_end], k)
        X, Y, _ = forecast_windows(x, k, train_end, valid_end)
        rmse.append(float(np.sqrt(np.mean((autoreg_predict(X, c, phi) - Y[:, 0]) ** 2))))
    rmse = np.array(rmse)
    return int(np.argmin(rmse)) + 1, rmse


def rmse(forecast, target):
    """Root mean squared error of arrays of one shape (float)."""
    forecast, target = np.asarray(forecast, dtype=np.float64), np.asarray(target, dtype=np.float64)
    _same_shape(forecast=forecast, target=target)
    return float(np.sqrt(np.mean((forecast - target) ** 2)))

"""rnnbook.data.forecasting: chronological split, training-only scaling, leakage-free windows."""

import numpy as np
import pytest
import torch

from rnnbook.data.forecasting import (
    Scaler,
    chronological_split,
    forecast_windows,
    monthly_co2,
    random_batches,
    yearly_sunspots,
)


def test_chronological_split_boundaries():
    assert chronological_split(100, 10, 20) == (70, 80)
    assert chronological_split(3, 1, 1) == (1, 2)


@pytest.mark.parametrize("args", [(100, 0, 10), (100, 10, 0), (10, 5, 5), (2, 1, 1),
                                  (100.0, 10, 10), (100, True, 10)])
def test_chronological_split_rejects_bad_sizes(args):
    with pytest.raises(ValueError):
        chronological_split(*args)


def test_scaler_uses_training_values_only():
    x = np.arange(10.0)
    s = Scaler.fit(x[:5])
    assert s.mean == pytest.approx(2.0) and s.std == pytest.approx(np.std(x[:5]))
    z = s.transform(x)
    assert np.allclose(s.inverse(z), x)
    assert s.inverse_std(2.0) == pytest.approx(2.0 * s.std)
    assert "Scaler(" in repr(s)


@pytest.mark.parametrize("bad", [[1.0], [2.0, 2.0], [[1.0, 2.0]], [1.0, np.nan]])
def test_scaler_rejects_degenerate_training_data(bad):
    with pytest.raises(ValueError):
        Scaler.fit(np.array(bad))


def test_forecast_windows_targets_inside_period_inputs_may_reach_back():
    x = np.arange(30.0)
    X, Y, index = forecast_windows(x, 4, 20, 30, horizon=3)
    assert X.shape == (8, 4) and Y.shape == (8, 3)
    assert index[0] == 20 and index[-1] + 2 == 29
    assert np.array_equal(X[0], [16, 17, 18, 19]) and np.array_equal(Y[0], [20, 21, 22])
    assert np.all(Y >= 20) and np.all(Y < 30)


def test_training_and_test_windows_share_no_target():
    x = np.random.default_rng(0).normal(size=50)
    _, _, i_train = forecast_windows(x, 5, 0, 35, horizon=2)
    _, Y_test, i_test = forecast_windows(x, 5, 35, 50, horizon=2)
    assert i_train.max() + 1 < 35 and i_test.min() == 35
    assert np.array_equal(Y_test[:, 0], x[35:49])


@pytest.mark.parametrize("kwargs", [dict(p=0, start=0, stop=10), dict(p=3, start=5, stop=5),
                                    dict(p=3, start=0, stop=11), dict(p=3, start=8, stop=10,
                                                                      horizon=3),
                                    dict(p=3, start=0, stop=10, horizon=0)])
def test_forecast_windows_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        forecast_windows(np.arange(10.0), **kwargs)


def test_real_series_shapes():
    years, sun = yearly_sunspots()
    assert years.shape == sun.shape == (309,)
    months, co2 = monthly_co2()
    assert months.shape == co2.shape == (526,) and np.all(np.isfinite(co2))
    assert np.all(np.diff(months.astype("datetime64[M]").astype(int)) == 1)
    assert 310 < co2.min() < co2.max() < 380


def test_random_batches_repeatable_and_cover_each_row_once_per_pass():
    X, Y = np.arange(20.0)[:, None], np.arange(20.0)
    first = random_batches((X, Y), 5, seed=3)
    rows = torch.cat([first(s)[1] for s in range(4)])
    assert sorted(rows.tolist()) == list(range(20))
    again = random_batches((X, Y), 5, seed=3)
    assert torch.equal(torch.cat([again(s)[1] for s in range(4)]), rows)
    with pytest.raises(ValueError):
        random_batches((X, Y[:3]), 5)

"""rnnbook.training: the loop learns, stops early with the best weights, records, fails clearly."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnnbook.plotting import plot_history  # noqa: E402
from rnnbook.training import (  # noqa: E402
    History,
    TrainingDiverged,
    bits_per_token,
    fit,
    masked_mean_loss,
    perplexity,
    progress_enabled,
)


def mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def linear_data(seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return x, y


def test_a_tiny_model_learns_a_known_linear_function():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    data = linear_data()
    history = fit(model, mse, [data], torch.optim.SGD(model.parameters(), lr=0.1), steps=300,
                  progress=False)
    assert history.train_loss[-1] < 1e-6
    assert torch.allclose(model.weight, torch.tensor([[1.0, -2.0, 0.5]]), atol=1e-3)
    assert torch.allclose(model.bias, torch.tensor([0.3]), atol=1e-3)


def test_a_callable_source_is_called_with_the_step_and_epochs_pass_over_an_iterable():
    seen = []

    def source(step):
        seen.append(step)
        return linear_data(step)

    model = torch.nn.Linear(3, 1)
    fit(model, mse, source, torch.optim.SGD(model.parameters(), lr=0.01), steps=7, progress=False)
    assert seen == list(range(7))
    batches = [linear_data(i, n=8) for i in range(5)]
    history = fit(model, mse, batches, torch.optim.SGD(model.parameters(), lr=0.01), epochs=3,
                  progress=False)
    assert len(history.step_loss) == 15
    assert history.steps == [5, 10, 15]  # once an epoch by default


def test_the_history_records_what_was_run():
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    history = fit(model, mse, [linear_data()], opt, steps=30, eval_every=10,
                  valid_batches=[linear_data(1)], scheduler=scheduler, clip=0.5, progress=False)
    assert history.steps == [10, 20, 30]
    assert history.lr == [0.025, 0.0125, 0.00625]
    assert len(history.step_loss) == 30
    assert history.train_loss[0] == pytest.approx(sum(history.step_loss[:10]) / 10)
    assert all(norm > 0 for norm in history.grad_norm)
    assert history.stop_reason == "budget"
    assert history.best_valid == min(history.valid_loss)
    assert history.seconds > 0


def test_clipping_bounds_the_update_and_records_the_unclipped_norm():
    model = torch.nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.fill_(10.0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    history = fit(model, mse, [linear_data()], torch.optim.SGD(model.parameters(), lr=1.0),
                  steps=1, clip=0.01, progress=False)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert history.grad_norm[0] > 1.0
    assert float((after - before).norm()) == pytest.approx(0.01, rel=1e-4)  # lr 1: step = grad


def test_early_stopping_restores_the_best_weights():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    train = linear_data(0, n=4)  # tiny training set: the held-out loss eventually rises
    valid = [linear_data(1)]
    snapshots = {}

    def valid_fn(m):
        loss = float(mse(m, valid[0]))
        snapshots[loss] = {k: v.clone() for k, v in m.state_dict().items()}
        return loss

    noisy = (train[0], train[1] + torch.tensor([[3.0], [-3.0], [3.0], [-3.0]]))
    history = fit(model, mse, [noisy], torch.optim.SGD(model.parameters(), lr=0.2), steps=500,
                  eval_every=5, valid_fn=valid_fn, patience=3, progress=False)
    assert history.stop_reason == "early stopping"
    assert history.steps[-1] < 500
    assert history.valid_loss[-1] > history.best_valid
    best = snapshots[history.best_valid]
    for name, value in model.state_dict().items():
        assert torch.equal(value, best[name])


def test_a_nan_loss_names_the_step_and_keeps_the_last_good_weights():
    model = torch.nn.Linear(3, 1)
    good = linear_data()
    calls = []

    def loss_fn(m, batch):
        calls.append(1)
        loss = mse(m, batch)
        return loss * float("nan") if len(calls) == 4 else loss

    states = []
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(TrainingDiverged, match="step 4") as info:
        fit(model, lambda m, b: (states.append({k: v.clone() for k, v in m.state_dict().items()}),
                                 loss_fn(m, b))[1], [good], opt, steps=10, progress=False)
    assert info.value.step == 4
    assert len(info.value.history.step_loss) == 3
    for name, value in model.state_dict().items():
        assert torch.equal(value, states[3][name])  # the weights the 4th step started from


def test_an_infinite_gradient_is_caught_before_the_update():
    model = torch.nn.Linear(3, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def loss_fn(m, batch):
        return (m.weight * torch.tensor(float("inf"))).sum() * 0.0 + mse(m, batch)

    with pytest.raises(TrainingDiverged, match="step 1"):
        fit(model, loss_fn, [linear_data()], torch.optim.SGD(model.parameters(), lr=0.1),
            steps=3, progress=False)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])


@pytest.mark.parametrize("kwargs, message", [
    ({}, "budget"),
    ({"steps": 0}, "steps"),
    ({"steps": -3}, "steps"),
    ({"steps": 2.5}, "steps"),
    ({"epochs": 0}, "epochs"),
    ({"steps": 5, "clip": 0}, "clip"),
    ({"steps": 5, "patience": 2}, "patience"),
    ({"steps": 5, "eval_every": 0}, "eval_every"),
    ({"steps": 5, "time_limit": -1}, "time_limit"),
])
def test_bad_arguments_are_named(kwargs, message):
    model = torch.nn.Linear(3, 1)
    with pytest.raises(ValueError, match=message):
        fit(model, mse, [linear_data()], torch.optim.SGD(model.parameters(), lr=0.1),
            progress=False, **kwargs)


def test_no_batches_is_a_clear_error():
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="train_batches"):
        fit(model, mse, [], opt, epochs=1, progress=False)
    with pytest.raises(ValueError, match="valid_batches"):
        fit(model, mse, [linear_data()], opt, steps=2, valid_batches=[], progress=False)
    with pytest.raises(ValueError, match="scalar"):
        fit(model, lambda m, b: m(b[0]), [linear_data()], opt, steps=1, progress=False)


def test_training_is_deterministic_given_the_seed():
    def run():
        torch.manual_seed(3)
        model = torch.nn.GRU(2, 4, batch_first=True)
        head = torch.nn.Linear(4, 1)
        both = torch.nn.ModuleDict({"rnn": model, "head": head})
        g = torch.Generator().manual_seed(1)

        def source(step):
            x = torch.randn(8, 5, 2, generator=g)
            return x, x.sum(dim=(1, 2)).unsqueeze(1)

        def loss_fn(m, batch):
            out, _ = m["rnn"](batch[0])
            return torch.nn.functional.mse_loss(m["head"](out[:, -1]), batch[1])

        return fit(both, loss_fn, source, torch.optim.Adam(both.parameters(), lr=0.01),
                   steps=20, progress=False).step_loss

    assert run() == run()


def test_the_progress_bar_is_silent_where_it_must_be(monkeypatch, capsys):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("RNNBOOK_PROGRESS", raising=False)
    assert not progress_enabled()  # pytest captures stderr: not a terminal
    model = torch.nn.Linear(3, 1)
    fit(model, mse, [linear_data()], torch.optim.SGD(model.parameters(), lr=0.1), steps=5)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("JPY_SESSION_NAME", "notebook.ipynb")  # a kernel started by Jupyter
    assert progress_enabled()
    monkeypatch.setenv("RNNBOOK_PROGRESS", "0")
    assert not progress_enabled()
    assert progress_enabled(True)
    monkeypatch.setenv("RNNBOOK_PROGRESS", "1")
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert progress_enabled()
    assert not progress_enabled(False)


def test_the_progress_bar_is_drawn_when_asked_for(capsys):
    model = torch.nn.Linear(3, 1)
    fit(model, mse, [linear_data()], torch.optim.SGD(model.parameters(), lr=0.1), steps=5,
        progress=True)
    assert "training" in capsys.readouterr().err


def test_masked_mean_loss_counts_only_masked_tokens():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 5, generator=g)
    targets = torch.tensor([[0, 1, 2], [3, 4, 0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    log_probs = logits.log_softmax(-1)
    expected = -(log_probs[0, 0, 0] + log_probs[0, 1, 1] + log_probs[1, 0, 3]) / 3
    assert torch.allclose(masked_mean_loss(logits, targets, mask), expected)
    all_tokens = -log_probs.gather(2, targets[..., None]).mean()
    assert torch.allclose(masked_mean_loss(logits, targets), all_tokens)


@pytest.mark.parametrize("logits, targets, mask, message", [
    (torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long), None, "logits"),
    (torch.zeros(2, 3, 4), torch.zeros(3, 2, dtype=torch.long), None, "targets"),
    (torch.zeros(2, 3, 4), torch.zeros(2, 3), None, "long"),
    (torch.zeros(2, 3, 4), torch.full((2, 3), 4), None, r"\[0, 4\)"),
    (torch.zeros(2, 3, 4), torch.zeros(2, 3, dtype=torch.long), torch.ones(2, 3), "bool"),
    (torch.zeros(2, 3, 4), torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=bool),
     "at least one"),
])
def test_masked_mean_loss_rejects_bad_input(logits, targets, mask, message):
    with pytest.raises(ValueError, match=message):
        masked_mean_loss(logits, targets, mask)


def test_perplexity_and_bits_per_token():
    assert perplexity(math.log(7.0)) == pytest.approx(7.0)
    assert bits_per_token(math.log(2.0) * 3) == pytest.approx(3.0)
    assert bits_per_token(0.0) == 0.0
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="nats_per_token"):
            perplexity(bad)


def test_plot_history_draws_both_curves_and_the_best_point():
    history = History(steps=[1, 2, 3], train_loss=[3.0, 2.0, 1.0], valid_loss=[3.5, 2.5, 2.7],
                      lr=[0.1] * 3, grad_norm=[1.0] * 3, best_step=2, best_valid=2.5)
    fig, ax = plt.subplots()
    plot_history(ax, history, log=True)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["train", "held out", "best held out"]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "training step"
    plt.close(fig)
    with pytest.raises(ValueError, match="history"):
        plot_history(ax, History())

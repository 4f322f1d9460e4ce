"""minGRU and minLSTM against nn.GRU and nn.LSTM at an equal wall-clock budget, on the copy task.

Run as ``.venv/bin/python benchmarks/bench_min_rnn.py [--budget 15] [--threads 1] [--seeds 1]``.
Chapter 7's notebook ``min_rnn_training`` compares the models at equal parameter counts and equal
training *steps*; a step of one model can take longer than a step of another, so this script gives
every model the same number of *seconds* instead and reports how many steps each managed.

Task: the copy task of chapter 5 (``rnnbook.data.synthetic.copy_task``, S = 3 of K = 8 symbols
across a delay of 30 blanks), with the notebook's held-out split of the 512 symbol triples: the
64 whose sum is 0 mod 8 are the test set, training draws only from the 384 whose sum is 2 or more
mod 8. Models: ``rnnbook.models.equal_budget.TaskModel`` (embedding of 16, the recurrent layer(s), a
linear head) of kinds GRU, LSTM (``torch.nn``), minGRU, minLSTM and two stacked minGRU layers,
each with the hidden size that brings its parameter count closest to the GRU's with 24 units.
Training: Adam (learning rate 0.01), clipping at global norm 1, batches of 64, torch seeded with
the seed, stopped by ``rnnbook.training.fit``'s ``time_limit`` after ``--budget`` seconds of wall
time. Score: the test cross-entropy as a multiple of the memoryless baseline
S log K / (T + 2S) and the accuracy on the copied symbols (chance 1/8).

With the defaults (15 s per model, one seed, one thread) it takes under two minutes. Timings
depend on the machine and on what else runs on it; compare rows of one table only. ``--threads 2``
uses two intra-op threads; on a machine whose cores are busy with other work that can be far
slower than one thread (on a loaded two-core machine we measured steps 17 times slower for the GRU
and over 100 times slower for minGRU), so the default is one.
"""

import argparse
import itertools
import platform
import time

MODELS = {"GRU": ("gru", 1), "LSTM": ("lstm", 1), "minGRU": ("mingru", 1),
          "minLSTM": ("minlstm", 1), "minGRU x2": ("mingru", 2)}
S, DELAY, K, BATCH = 3, 30, 8, 64


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=15.0,
                        help="wall-clock seconds of training per model and seed (default: 15)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per model (default: 1)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    return parser.parse_args()


def copy_split():
    """The training and test triples of the held-out split."""
    import numpy as np

    triples = np.array(list(itertools.product(range(1, K + 1), repeat=S)))
    residue = triples.sum(axis=1) % K
    return triples[residue >= 2], triples[residue == 0]


def run(name, seed, budget):
    """Train one model for ``budget`` seconds; return (steps, seconds, ms per step, ratio, acc)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from rnnbook.data.synthetic import copy_task, copy_task_baseline
    from rnnbook.models.equal_budget import TaskModel, matched_hidden_size
    from rnnbook.training import fit

    train_triples, test_triples = copy_split()
    task = dict(output_size=K + 1, vocab_size=K + 2, per_step=True)

    def tensors(batch):
        return tuple(torch.from_numpy(a) for a in batch)

    def batches(step):
        rng = np.random.default_rng([1, seed, step])
        rows = rng.integers(len(train_triples), size=BATCH)
        return tensors(copy_task(rng, BATCH, S, DELAY, K, symbols=train_triples[rows]))

    def loss_fn(model, batch):
        return F.cross_entropy(model(batch[0]).flatten(0, 1), batch[1].flatten())

    tokens, labels = tensors(copy_task(np.random.default_rng(3), len(test_triples), S, DELAY, K,
                                       symbols=test_triples))
    kind, layers = MODELS[name]
    budget_count = sum(p.numel() for p in TaskModel("gru", 24, **task).parameters())
    hidden = matched_hidden_size(kind, budget_count, num_layers=layers, **task)
    torch.manual_seed(seed)
    model = TaskModel(kind, hidden, num_layers=layers, **task)
    count = sum(p.numel() for p in model.parameters())
    history = fit(model, loss_fn, batches, torch.optim.Adam(model.parameters(), lr=0.01),
                  steps=10**9, time_limit=budget, clip=1.0, progress=False)
    steps = len(history.step_loss)
    model.eval()
    with torch.no_grad():
        ratio = loss_fn(model, (tokens, labels)).item() / copy_task_baseline(S, DELAY, K)
        accuracy = (model(tokens)[:, -S:].argmax(-1) == labels[:, -S:]).float().mean().item()
    return hidden, count, steps, history.seconds, ratio, accuracy


def main():
    args = parse_args()
    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    rows = []
    for name in args.models:
        for seed in range(args.seeds):
            hidden, count, steps, seconds, ratio, accuracy = run(name, seed, args.budget)
            rows.append((name, str(hidden), f"{count:,}", str(seed), str(steps),
                         f"{seconds:.1f}", f"{1000 * seconds / steps:.1f}", f"{ratio:.3f}",
                         f"{accuracy:.3f}"))
            print(f"done: {rows[-1]}", flush=True)

    header = ("model", "H", "params", "seed", "steps", "train s", "ms/step", "loss/baseline",
              "copy acc")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print(f"Equal wall-clock budget ({args.budget:g} s per model), copy task S={S}, delay {DELAY}, "
          f"K={K}; torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}")
    print(line.format(*header).rstrip())
    print(line.format(*("-" * w for w in widths)).rstrip())
    for row in rows:
        print(line.format(*row).rstrip())
    print("loss/baseline: test cross-entropy over the memoryless S log K / (T + 2S) (1 = no "
          "memory); copy acc: chance 0.125. Held-out triples (sum 0 mod 8).")
    print(f"total {time.perf_counter() - start:.0f} s")
    assert all(int(r[4]) > 0 for r in rows)


if __name__ == "__main__":
    main()

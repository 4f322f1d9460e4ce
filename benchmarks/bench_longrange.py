"""Long-range tasks at T = 100 and 200: the adding problem and the copy task, RNN vs LSTM vs GRU.

Run as ``.venv/bin/python benchmarks/bench_longrange.py [--lengths 100 200] [--threads K]``. For
each length T and each cell (tanh RNN, LSTM, GRU of ``torch.nn``, through
``rnnbook.models.sequence``) it trains, with ``rnnbook.training.fit``:

- on the **adding problem** (``rnnbook.data.synthetic.adding_problem``, length T): a
  ``SequenceRegressor`` with 32 hidden units, MSE loss, and reports the MSE on 2000 test sequences
  (baseline: predicting the mean, 1/6 = 0.167; solved: below 0.01);
- on the **copy task** (``copy_task`` with S symbols of K = 8 after a delay T): a
  ``SequenceTagger`` with 64 hidden units, cross-entropy over all T + 2S steps, and reports the
  cross-entropy (nats per step) and the accuracy on the copied symbols, on 1000 test sequences
  (baseline: S log 8 / (T + 2S) nats per step, accuracy 1/8 by chance). The symbol sequences
  are held out as in the book's copy-task notebook: those whose symbols sum to 0 (mod K) are
  for testing, to 1 (mod K) for validation, and training never draws either.

Every run: Adam (learning rate 0.01), gradient clipping at global norm 1, batches of 64 freshly
generated sequences (the same ones for every cell), torch seeded with 0; ``fit`` keeps the weights
of the best held-out evaluation (every ``steps / 10`` steps, 500 held-out sequences). The CPU
seconds are the process time of the training run (user + system), with ``--threads`` torch threads.
It prints one table. With the defaults it takes about ten minutes of CPU time.
"""

import argparse
import math
import platform
import time

TASKS = ("adding", "copy")
KINDS = ("rnn", "lstm", "gru")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 200],
                        help="sequence lengths (adding) and delays (copy) T (default: 100 200)")
    parser.add_argument("--adding-steps", type=int, default=1500,
                        help="training steps on the adding problem (default: 1500)")
    parser.add_argument("--copy-steps", type=int, default=1500,
                        help="training steps on the copy task (default: 1500)")
    parser.add_argument("--symbols", type=int, default=3,
                        help="symbols S to copy (default: 3)")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    return parser.parse_args()


def to_tensors(batch):
    import torch

    return tuple(torch.from_numpy(a) for a in batch)


def adding_run(kind, T, steps):
    """Train on the adding problem of length T; return (test MSE, baseline MSE, CPU seconds)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from rnnbook.data.synthetic import ADDING_BASELINE_MSE, adding_problem
    from rnnbook.models.sequence import SequenceRegressor
    from rnnbook.training import fit

    def batch(step):
        return to_tensors(adding_problem(np.random.default_rng([1, step]), 64, T))

    def loss_fn(model, b):
        return F.mse_loss(model(b[0])[:, 0], b[1])

    valid = [to_tensors(adding_problem(np.random.default_rng(2), 500, T))]
    x_test, y_test = to_tensors(adding_problem(np.random.default_rng(3), 2000, T))
    torch.manual_seed(0)
    model = SequenceRegressor(2, 32, kind=kind)
    start = time.process_time()
    fit(model, loss_fn, batch, torch.optim.Adam(model.parameters(), lr=0.01), steps=steps,
        clip=1.0, valid_batches=valid, eval_every=max(1, steps // 10), progress=False)
    seconds = time.process_time() - start
    model.eval()
    with torch.no_grad():
        mse = loss_fn(model, (x_test, y_test)).item()
    return f"MSE {mse:.4f}", f"MSE {ADDING_BASELINE_MSE:.4f}", seconds


def copy_run(kind, T, steps, S, K=8):
    """Train on the copy task with delay T; return (test result, baseline, CPU seconds)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from rnnbook.data.synthetic import copy_task, copy_task_baseline
    from rnnbook.models.sequence import SequenceTagger
    from rnnbook.training import fit

    def symbols(rng, n, residues):
        """(n, S) symbols in 1..K whose sum mod K is one of ``residues``."""
        out = rng.integers(1, K + 1, size=(n, S))
        while (bad := ~np.isin(out.sum(axis=1) % K, residues)).any():
            out[bad] = rng.integers(1, K + 1, size=(int(bad.sum()), S))
        return out

    def split(seed, n, residues):
        rng = np.random.default_rng(seed)
        return to_tensors(copy_task(rng, n, S, T, K, symbols=symbols(rng, n, residues)))

    def batch(step):
        return split([1, step], 64, list(range(2, K)))

    def loss_fn(model, b):
        return F.cross_entropy(model(b[0]).flatten(0, 1), b[1].flatten())

    valid = [split(2, 500, [1])]
    tokens, labels = split(3, 1000, [0])
    torch.manual_seed(0)
    model = SequenceTagger(K + 2, 64, K + 1, kind=kind)
    start = time.process_time()
    fit(model, loss_fn, batch, torch.optim.Adam(model.parameters(), lr=0.01), steps=steps,
        clip=1.0, valid_batches=valid, eval_every=max(1, steps // 10), progress=False)
    seconds = time.process_time() - start
    model.eval()
    with torch.no_grad():
        logits = model(tokens)
        loss = loss_fn(model, (tokens, labels)).item()
        accuracy = (logits[:, -S:].argmax(-1) == labels[:, -S:]).float().mean().item()
    baseline = copy_task_baseline(S, T, K)
    return (f"CE {loss:.4f}, acc {accuracy:.3f}", f"CE {baseline:.4f}, acc {1 / K:.3f}",
            seconds)


def main():
    args = parse_args()
    import torch

    torch.set_num_threads(args.threads)
    names = {"rnn": "RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}
    rows = []
    for task in args.tasks:
        for T in args.lengths:
            for kind in KINDS:
                if task == "adding":
                    steps = args.adding_steps
                    result, baseline, seconds = adding_run(kind, T, steps)
                else:
                    steps = args.copy_steps
                    result, baseline, seconds = copy_run(kind, T, steps, args.symbols)
                rows.append((task if task == "adding" else f"copy S={args.symbols}",
                             names[kind], str(T), str(steps), f"{seconds:.1f}", result, baseline))
                print(f"done: {rows[-1]}", flush=True)

    header = ("task", "model", "T", "steps", "CPU s", "test result", "baseline")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print(f"Long-range tasks, torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}")
    print(line.format(*header).rstrip())
    print(line.format(*("-" * w for w in widths)).rstrip())
    for row in rows:
        print(line.format(*row).rstrip())
    print("adding: test MSE on 2000 sequences (solved below 0.01); copy: cross-entropy in nats "
          "per step and accuracy on the copied symbols, 1000 sequences.")
    assert all(math.isfinite(float(r[4])) for r in rows)


if __name__ == "__main__":
    main()

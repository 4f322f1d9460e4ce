"""Character language models of Python's documentation against compressors and n-grams.

Run as ``.venv/bin/python benchmarks/bench_charlm.py [--budget 600] [--threads 2]``. On the
held-out text of ``rnnbook.models.language_model.char_lm_data`` (the last 10 % of
``load_pydoc_text``) it prints one table, one row each:

- ``uniform``, ``unigram`` and the best add-alpha character n-gram (order and alpha chosen on
  the last 10 % of the training text), from ``rnnbook.baselines``;
- ``gzip -9`` and ``xz -9e`` conditional on the training text (Python's ``gzip`` and ``lzma``);
- the book's two notebook models (``train_char_lm``: LSTM 1x256 and GRU 1x192, 800 steps;
  loaded from ``_build/cache/`` when a notebook has trained them);
- the largest model of the script: an LSTM trained on the rest of the wall-clock budget with
  Adam, a warm-up and a cosine decay of the learning rate *in time* (the schedule follows the
  elapsed fraction of its time budget), gradient clipping at norm 1, truncated BPTT.

Columns: parameters, training seconds (wall clock), held-out bits per character (the state
carried through the held-out text, every character predicted once). The whole script stays
within ``--budget`` seconds of wall time.
"""

import argparse
import math
import time

import torch

from rnnbook.baselines import best_char_ngram, compressor_bits, uniform_bits
from rnnbook.data.corpora import CharNGram
from rnnbook.data.lm_batches import TBPTTBatches, eval_windows
from rnnbook.models.language_model import (
    LanguageModel,
    TBPTTLoss,
    char_lm_data,
    held_out_nats,
    train_char_lm,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=600.0,
                        help="wall-clock seconds for the whole script (default: 600)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--hidden", type=int, default=512, help="LSTM units of the big model")
    parser.add_argument("--layers", type=int, default=1, help="LSTM layers of the big model")
    parser.add_argument("--batch", type=int, default=64, help="streams per step (default: 64)")
    parser.add_argument("--bptt", type=int, default=100, help="TBPTT window (default: 100)")
    parser.add_argument("--lr", type=float, default=4e-3, help="peak learning rate")
    return parser.parse_args()


def train_for(seconds, ids, V, args):
    """Train the big LSTM for ``seconds`` of wall time; return (model, steps, seconds)."""
    torch.manual_seed(0)
    model = LanguageModel(V, 64, args.hidden, args.layers, "lstm")
    batches = TBPTTBatches(ids, args.batch, args.bptt)
    loss_fn = TBPTTLoss(batches)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    start, step = time.perf_counter(), 0
    model.train()
    while True:
        fraction = (time.perf_counter() - start) / seconds
        if fraction >= 1:
            break
        warm = min(1.0, fraction / 0.03)
        lr = args.lr * warm * (0.03 + 0.97 * 0.5 * (1 + math.cos(math.pi * fraction)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, batches(step))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
    model.eval()
    return model, step, time.perf_counter() - start


def main():
    args = parse_args()
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    data = char_lm_data()
    ids, cut, V = data["ids"], data["cut"], len(data["vocab"])
    train_np, held_np = ids[:cut].numpy(), ids[cut:].numpy()
    rows = [("uniform", None, None, uniform_bits(V)),
            ("unigram", None, None, CharNGram(0, V, 0.1).fit(train_np).cross_entropy(held_np))]
    ngram = best_char_ngram(train_np, held_np, V, orders=range(0, 8),
                            alphas=(0.01, 0.03, 0.1, 0.3))
    rows.append((f"{ngram['order']}-gram add-{ngram['alpha']}", None, None, ngram["held_bits"]))
    for method in ("gzip -9", "xz -9e"):
        rows.append((method, None, None,
                     compressor_bits(data["train_text"], data["held_text"], method)))
    for kind, hidden in (("lstm", 256), ("gru", 192)):
        run = train_char_lm(kind=kind, hidden_size=hidden)
        rows.append((f"{kind} 1x{hidden} (book, 800 steps)", run.model.num_parameters(),
                     run.seconds, run.held_bits))
    windows = eval_windows(ids, cut, 16, 256)
    remaining = args.budget - (time.perf_counter() - start) - 45.0  # keep time to evaluate
    model, steps, seconds = train_for(max(30.0, remaining), ids[:cut], V, args)
    bits = held_out_nats(model, windows) / math.log(2)
    rows.append((f"lstm {args.layers}x{args.hidden} ({steps} steps, B={args.batch}, "
                 f"bptt={args.bptt})", model.num_parameters(), seconds, bits))

    print(f"held-out text: {cut:,} training and {ids.numel() - cut:,} held-out characters, "
          f"V = {V}, {args.threads} torch threads")
    print(f"{'model':44s} {'params':>10s} {'train s':>8s} {'bits/char':>10s}")
    for name, params, secs, bpc in rows:
        p = f"{params:,}" if params else ""
        s = f"{secs:.0f}" if secs is not None else ""
        print(f"{name:44s} {p:>10s} {s:>8s} {bpc:10.3f}")
    print(f"total wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

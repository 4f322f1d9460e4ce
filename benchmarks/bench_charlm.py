"""Character language models of Python's documentation against compressors and n-grams.

Run as ``.venv/bin/python benchmarks/bench_charlm.py [--budget 600] [--threads 2]``. On the
held-out text of ``rnnbook.models.language_model.char_lm_data`` (whole pydoc topics, none
sharing a 64-character passage with the training topics: ``split_pydoc_topics``) it prints one
table, one row each:

- ``uniform``, ``unigram``, the best add-alpha character n-gram and the best Kneser-Ney
  character n-gram (``best_kneser_ney``; for both, order and smoothing chosen on validation
  topics, whole training topics set apart as the held-out ones were:
  ``split_pydoc_topics(valid=0.1)``), from ``rnnbook.baselines``;
- ``gzip -9`` and ``xz -9e`` conditional on the training text (Python's ``gzip`` and ``lzma``);
- the book's notebook model (``train_char_lm(bptt=32)``: LSTM 1x256, 800 steps of 32 x 32
  characters; loaded from ``_build/cache/`` when a notebook has trained it);
- the largest model of the script: an LSTM trained on the rest of the wall-clock budget with
  Adam, a warm-up and a cosine decay of the learning rate *in time* (the schedule follows the
  elapsed fraction of its time budget), gradient clipping at norm 1, truncated BPTT;
- both LSTMs again under *dynamic evaluation* (``dynamic_eval_nats``: one plain SGD step per
  window of 50 characters, each window scored before it is learned from), the step size chosen
  among ``--dyneval-lrs`` on the first ``--dyneval-valid`` characters of the validation topics
  (read after the other training topics; the models were trained on them too).

Columns: parameters, training seconds (wall clock; for the dynamic-evaluation rows, the seconds
of evaluation), held-out bits per character (the state
carried through the held-out text, every character predicted once). The whole script stays
within ``--budget`` seconds of wall time, plus the n-gram fits when the budget is tiny.
"""

import argparse
import math
import time

import torch

from rnnbook.baselines import best_char_ngram, best_kneser_ney, compressor_bits, uniform_bits
from rnnbook.data.corpora import CharNGram, split_pydoc_topics
from rnnbook.data.lm_batches import TBPTTBatches, eval_windows
from rnnbook.models.language_model import (
    LanguageModel,
    TBPTTLoss,
    char_lm_data,
    dynamic_eval_nats,
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
    parser.add_argument("--dyneval-lrs", type=float, nargs="+", default=[0.1, 0.2, 0.4, 0.8],
                        help="SGD step sizes tried for dynamic evaluation")
    parser.add_argument("--dyneval-valid", type=int, default=10000,
                        help="validation characters that choose the step size")
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


def dynamic_row(name, model, ids, cut, fit_valid, n_valid, args):
    """A table row for ``model`` under dynamic evaluation, its step size chosen on validation.

    ``fit_valid``: the training ids with the validation topics last, ``n_valid`` of them.
    """
    start = time.perf_counter()
    first = fit_valid.numel() - n_valid
    stream = fit_valid[:first + args.dyneval_valid]
    valid = {lr: dynamic_eval_nats(model, stream, first, lr) for lr in args.dyneval_lrs}
    lr = min(valid, key=valid.get)
    bits = dynamic_eval_nats(model, ids, cut, lr) / math.log(2)
    return (f"{name} + dynamic eval (SGD {lr:g})", None, time.perf_counter() - start, bits)


def main():
    args = parse_args()
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    data = char_lm_data()
    ids, cut, V = data["ids"], data["cut"], len(data["vocab"])
    train_np, held_np = ids[:cut].numpy(), ids[cut:].numpy()
    split = split_pydoc_topics(valid=0.1)
    fit_valid = torch.from_numpy(data["vocab"].encode(split["fit_text"] + "\n"
                                                      + split["valid_text"]))
    n_valid, fv_np = len(split["valid_text"]), fit_valid.numpy()
    rows = [("uniform", None, None, uniform_bits(V)),
            ("unigram", None, None, CharNGram(0, V, 0.1).fit(train_np).cross_entropy(held_np))]
    ngram = best_char_ngram(fv_np, held_np, V, orders=range(0, 8),
                            alphas=(0.01, 0.03, 0.1, 0.3), n_valid=n_valid)
    rows.append((f"{ngram['order'] + 1}-gram add-{ngram['alpha']}", None, None,
                 ngram["held_bits"]))
    kn = best_kneser_ney(fv_np, held_np, V, orders=(4, 6, 8, 12, 16, 24, 32),
                         discounts=("modified", 0.9), n_valid=n_valid)
    rows.append((f"{kn['order']}-gram Kneser-Ney ({kn['discount']})", None, None,
                 kn["held_bits"]))
    for method in ("gzip -9", "xz -9e"):
        rows.append((method, None, None,
                     compressor_bits(data["train_text"], data["held_text"], method)))
    run = train_char_lm(bptt=32)
    rows.append(("lstm 1x256 (book, 800 steps)", run.model.num_parameters(), run.seconds,
                 run.held_bits))
    rows.append(dynamic_row("lstm 1x256 (book)", run.model, ids, cut, fit_valid, n_valid, args))
    windows = eval_windows(ids, cut, 16, 256)
    spent = time.perf_counter() - start
    # keep time to evaluate: a static pass, and for dynamic evaluation what the book model took
    remaining = args.budget - spent - 45.0 - 2 * rows[-1][2]
    model, steps, seconds = train_for(max(30.0, remaining), ids[:cut], V, args)
    bits = held_out_nats(model, windows) / math.log(2)
    name = f"lstm {args.layers}x{args.hidden}"
    rows.append((f"{name} ({steps} steps, B={args.batch}, bptt={args.bptt})",
                 model.num_parameters(), seconds, bits))
    rows.append(dynamic_row(name, model, ids, cut, fit_valid, n_valid, args))

    print(f"held-out text: {cut:,} training and {ids.numel() - cut:,} held-out characters, "
          f"V = {V}, {args.threads} torch threads")
    print(f"{'model':44s} {'params':>10s} {'seconds':>8s} {'bits/char':>10s}")
    for name, params, secs, bpc in rows:
        p = f"{params:,}" if params else ""
        s = f"{secs:.0f}" if secs is not None else ""
        print(f"{name:44s} {p:>10s} {s:>8s} {bpc:10.3f}")
    print(f"total wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

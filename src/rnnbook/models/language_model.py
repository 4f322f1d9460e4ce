"""A recurrent language model (characters or words) and its training by truncated BPTT.

    LanguageModel(V, E, H, L, kind)        tokens (B, T) -> logits (B, T, V), state
    model.step_fn                          (tokens (B,), state) -> (log_probs (B, V), state),
                                           for rnnbook.decoding
    detach_state(state)                    cut the graph between two TBPTT windows
    TBPTTLoss()                            loss_fn for rnnbook.training.fit that carries the state
    held_out_nats(model, windows)          mean nats per held-out token, state carried
    dynamic_eval_losses(model, ids, start, lr)  nats of each token, learning from each window
                                             once it is scored (dynamic evaluation)
    dynamic_eval_nats(model, ids, start, lr)  their mean
    train_language_model(ids, V, ...)      fit with Adam, warm-up and cosine decay, by steps
    train_char_lm(...)                     the book's character model of Python's documentation,
                                           cached under _build/cache/ keyed by its arguments
    char_lm_data(held_out=0.1)             the text, vocabulary and topic split train_char_lm uses

Shapes: B batch (parallel streams), T steps, V vocabulary, E embedding size, H hidden size,
L layers. The state is ``torch.nn``'s: ``(L, B, H)`` for a GRU, a pair ``(h, c)`` of them for
an LSTM.
"""

import copy
import dataclasses
import hashlib
import json
import math
import numbers
import os
import pathlib
import time

import torch
from torch import nn

from rnnbook.data.corpora import CharVocab, split_pydoc_topics
from rnnbook.data.lm_batches import TBPTTBatches, eval_windows
from rnnbook.training import History, fit, masked_mean_loss

__all__ = ["CharLMResult", "LanguageModel", "TBPTTLoss", "char_lm_data", "detach_state",
           "dynamic_eval_losses", "dynamic_eval_nats", "held_out_nats", "train_char_lm",
           "train_language_model"]

_KINDS = {"lstm": nn.LSTM, "gru": nn.GRU}


def _positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def detach_state(state):
    """The state with its autograd history cut (a tensor, a tuple of them, or None)."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(detach_state(s) for s in state)


class LanguageModel(nn.Module):
    """Embedding -> ``torch.nn`` LSTM or GRU (batch first) -> linear layer to V logits.

    Args:
        vocab_size: V.
        embedding_dim: E.
        hidden_size: H.
        num_layers: L.
        kind: ``"lstm"`` or ``"gru"``.
        dropout: dropout between layers (and before the output layer) in training mode.
    """

    def __init__(self, vocab_size, embedding_dim=32, hidden_size=256, num_layers=1, kind="lstm",
                 dropout=0.0):
        super().__init__()
        if kind not in _KINDS:
            raise ValueError(f"kind: expected one of {sorted(_KINDS)}, got {kind!r}")
        self.vocab_size = _positive_int("vocab_size", vocab_size)
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, _positive_int("embedding_dim", embedding_dim))
        self.rnn = _KINDS[kind](embedding_dim, _positive_int("hidden_size", hidden_size),
                                _positive_int("num_layers", num_layers), batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_size, vocab_size)

    @property
    def hidden_size(self):
        return self.rnn.hidden_size

    def num_parameters(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, tokens, state=None):
        """tokens: LongTensor (B, T) -> (logits (B, T, V), state after the last step)."""
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or \
                tokens.is_floating_point():
            shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else None
            raise ValueError(f"tokens: expected a LongTensor of shape (B, T), got {shape}")
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.vocab_size):
            raise ValueError(f"tokens: expected ids in [0, {self.vocab_size}), got values from "
                             f"{int(tokens.min())} to {int(tokens.max())}")
        hidden, state = self.rnn(self.embedding(tokens), state)
        return self.output(self.drop(hidden)), state

    def hidden_states(self, tokens, state=None):
        """The last layer's hidden state at every step, (B, T, H) (and, for an LSTM, the cell
        state of the last layer at every step, else None), computed one step at a time."""
        hs, cs = [], []
        with torch.no_grad():
            for t in range(tokens.shape[1]):
                _, state = self.rnn(self.embedding(tokens[:, t:t + 1]), state)
                h = state[0] if self.kind == "lstm" else state
                hs.append(h[-1])
                if self.kind == "lstm":
                    cs.append(state[1][-1])
        return torch.stack(hs, 1), (torch.stack(cs, 1) if cs else None)

    def step_fn(self, tokens, state):
        """One decoding step for :mod:`rnnbook.decoding`: tokens (B,) -> log_probs (B, V)."""
        with torch.no_grad():
            was_training = self.training
            self.eval()
            logits, state = self(tokens[:, None], state)
            self.train(was_training)
        return torch.log_softmax(logits[:, 0].double(), dim=-1), state

    def warm_up(self, ids):
        """Read a prompt ``ids`` (T,) except its last token; return (state, last token) so that
        a decoder can continue the prompt: ``sample(model.step_fn, state, last, n)``."""
        ids = torch.as_tensor(ids).long()
        if ids.dim() != 1 or ids.numel() < 1:
            raise ValueError(f"ids: expected a non-empty prompt of shape (T,), got "
                             f"{tuple(ids.shape)}")
        state = None
        if ids.numel() > 1:
            with torch.no_grad():
                was_training = self.training
                self.eval()
                _, state = self(ids[None, :-1])
                self.train(was_training)
        return state, int(ids[-1])


class TBPTTLoss:
    """``loss_fn(model, (x, y))`` for :func:`rnnbook.training.fit` with truncated BPTT.

    Carries the final state of one window, detached, into the next (the windows of
    :class:`~rnnbook.data.lm_batches.TBPTTBatches` continue one another), and resets it when a
    new pass over the text starts. Returns the mean nats per token of the window.
    """

    def __init__(self, batches=None):
        self.batches = batches
        self.state = None
        self.count = 0

    def reset(self):
        self.state = None

    def __call__(self, model, batch):
        x, y = batch
        if self.batches is not None and self.batches.starts_epoch(self.count):
            self.state = None
        self.count += 1
        logits, state = model(x, self.state)
        self.state = detach_state(state)
        return masked_mean_loss(logits, y)


def held_out_nats(model, windows):
    """Mean nats per held-out token over ``windows`` from
    :func:`~rnnbook.data.lm_batches.eval_windows` (read in order, the state carried)."""
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y, mask in windows:
            logits, state = model(x, state)
            nats = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               y.reshape(-1), reduction="none")
            total += float(nats[mask.reshape(-1)].double().sum())
            count += int(mask.sum())
    model.train(was_training)
    return total / count


def dynamic_eval_losses(model, ids, start, lr, window=50):
    """Nats of every token of ``ids[start:]`` under *dynamic evaluation* (Krause et al., 2018).

    The text is read as one stream, the state carried. Each window of ``window`` tokens is first
    scored with the current weights, then learned from: one plain SGD step of size ``lr`` on
    that window's mean loss (gradients through the window only). So every token is scored
    before the model has learned from it. ``lr = 0`` gives the static score. ``model`` itself is
    not changed: the steps are taken on a copy.

    Args:
        model: a LanguageModel.
        ids: integer tensor (T,), training ids then held-out ids; ``ids[start - 1]`` is the
            first input.
        start: index of the first scored token, 1 <= start < T.
        lr: SGD step size >= 0.
        window: tokens per step, a positive integer.

    Returns:
        float64 tensor (T - start,): nats of each scored token.
    """
    if not isinstance(ids, torch.Tensor) or ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-D tensor, got {type(ids).__name__}")
    if not isinstance(start, numbers.Integral) or not 1 <= start < ids.numel():
        raise ValueError(f"start: expected an integer in [1, {ids.numel()}), got {start!r}")
    if not isinstance(lr, numbers.Real) or not lr >= 0:
        raise ValueError(f"lr: expected a number >= 0, got {lr!r}")
    window = _positive_int("window", window)
    learner = copy.deepcopy(model).eval()     # eval: no dropout while scoring
    params = [p for p in learner.parameters() if p.requires_grad]
    losses, state = [], None
    for begin in range(start, ids.numel(), window):
        x = ids[begin - 1:min(begin + window, ids.numel()) - 1][None]
        y = ids[begin:begin + window][None]
        logits, new_state = learner(x, state)
        loss = nn.functional.cross_entropy(logits[0], y[0], reduction="none")
        losses.append(loss.detach().double())
        if lr > 0:
            grads = torch.autograd.grad(loss.mean(), params)
            with torch.no_grad():
                for p, g in zip(params, grads, strict=True):
                    p -= lr * g
        state = detach_state(new_state)
    return torch.cat(losses)


def dynamic_eval_nats(model, ids, start, lr, window=50):
    """Mean nats per token of ``ids[start:]`` under dynamic evaluation: the mean of
    :func:`dynamic_eval_losses` (same arguments)."""
    return float(dynamic_eval_losses(model, ids, start, lr, window).mean())


def _schedule(optimizer, steps, warmup):
    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_language_model(train_ids, vocab_size, *, kind="lstm", embedding_dim=32,
                         hidden_size=256, num_layers=1, dropout=0.0, batch_size=32, bptt=64,
                         steps=300, lr=3e-3, clip=1.0, seed=0, valid_fn=None, eval_every=None):
    """Train a :class:`LanguageModel` on ``train_ids`` (T,) by truncated BPTT for ``steps``.

    Adam with ``lr``, a linear warm-up over the first 5 % of the steps and a cosine decay to
    5 % of ``lr``, gradient clipping at global norm ``clip``. The model is initialised from
    ``torch.manual_seed(seed)``, so a run is repeatable on one machine and thread count.

    Returns:
        (model, history) with history a :class:`rnnbook.training.History`.
    """
    steps = _positive_int("steps", steps)
    torch.manual_seed(seed)
    model = LanguageModel(vocab_size, embedding_dim, hidden_size, num_layers, kind, dropout)
    batches = TBPTTBatches(train_ids, batch_size, bptt)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = fit(model, TBPTTLoss(batches), batches, optimizer, steps=steps, clip=clip,
                  scheduler=_schedule(optimizer, steps, max(1, steps // 20)),
                  valid_fn=valid_fn, eval_every=eval_every or steps, progress=False)
    model.eval()
    return model, history


# ---------------------------------------------------------------------------------------------
# The book's character model
# ---------------------------------------------------------------------------------------------


def char_lm_data(held_out=0.1):
    """The text of :func:`train_char_lm`: Python's documentation, whole topics held out.

    The split is :func:`rnnbook.data.corpora.split_pydoc_topics`: about ``held_out`` of the
    characters, in whole topics, none of which shares a 64-character string with a training
    topic. The held-out topics follow the training topics in ``text``.

    Returns:
        dict with ``text`` (training text then held-out text), ``train_text``, ``held_text``,
        ``held_topics`` (their names), ``vocab`` (a CharVocab of the training text only;
        encoding the held-out part raises if it has a character training lacks), ``ids`` (all
        ids, shape (len(text),)), ``cut`` (the index of the first held-out character).
    """
    split = split_pydoc_topics(held_out)
    train_text, held_text = split["train_text"], split["held_text"]
    text = train_text + held_text
    vocab = CharVocab.from_text(train_text)
    ids = torch.from_numpy(vocab.encode(text))  # raises if the held-out part has a new char
    return {"text": text, "train_text": train_text, "held_text": held_text,
            "held_topics": split["held_topics"], "vocab": vocab, "ids": ids,
            "cut": len(train_text)}


@dataclasses.dataclass
class CharLMResult:
    """What :func:`train_char_lm` returns.

    Attributes:
        model: the trained LanguageModel (in eval mode).
        vocab: the CharVocab.
        held_bits: bits per held-out character (state carried through the held-out text).
        train_bits: the same measure on the last stretch of training text (as long as the
            held-out text), for the gap between the two.
        history: the training History (step_loss: nats per character of every step).
        seconds: training seconds when it was trained (the cached value when loaded).
        cached: whether the weights were loaded from the cache.
        config: the arguments.
    """

    model: LanguageModel
    vocab: CharVocab
    held_bits: float
    train_bits: float
    history: History
    seconds: float
    cached: bool
    config: dict


def cache_dir():
    """Where trained models are cached: ``$RNNBOOK_CACHE`` if set, else ``_build/cache/`` in the
    repository (or in the working directory when not in one)."""
    if os.environ.get("RNNBOOK_CACHE"):
        return pathlib.Path(os.environ["RNNBOOK_CACHE"])
    root = pathlib.Path(__file__).resolve().parents[3]
    if not (root / "_toc.yml").exists():
        root = pathlib.Path.cwd()
    return root / "_build" / "cache"


def train_char_lm(kind="lstm", hidden_size=256, embedding_dim=32, num_layers=1, batch_size=32,
                  bptt=64, steps=800, lr=1e-2, clip=1.0, dropout=0.0, seed=0, held_out=0.1,
                  cache=True):
    """Train (or load) a character model of Python's documentation; see :class:`CharLMResult`.

    The budget is ``steps`` windows of ``batch_size x bptt`` characters; everything else as in
    :func:`train_language_model`. With ``cache`` the weights and history are stored in
    ``_build/cache/charlm-<key>.pt`` (key: a hash of the arguments and the text) and loaded
    from there on the next call, so notebooks that need the same model train it once.
    """
    config = {"kind": kind, "hidden_size": hidden_size, "embedding_dim": embedding_dim,
              "num_layers": num_layers, "batch_size": batch_size, "bptt": bptt,
              "steps": steps, "lr": lr, "clip": clip, "dropout": dropout, "seed": seed,
              "held_out": held_out}
    data = char_lm_data(held_out)
    ids, cut, vocab = data["ids"], data["cut"], data["vocab"]
    key_source = json.dumps(config, sort_keys=True) + hashlib.sha1(
        data["text"].encode()).hexdigest() + torch.__version__
    path = cache_dir() / f"charlm-{hashlib.sha1(key_source.encode()).hexdigest()[:16]}.pt"
    model = LanguageModel(len(vocab), embedding_dim, hidden_size, num_layers, kind, dropout)
    if cache and path.exists():
        saved = torch.load(path, weights_only=False)
        model.load_state_dict(saved["state_dict"])
        model.eval()
        history, seconds, cached = History(**saved["history"]), saved["seconds"], True
    else:
        start = time.perf_counter()
        model, history = train_language_model(
            ids[:cut], len(vocab), kind=kind, embedding_dim=embedding_dim,
            hidden_size=hidden_size, num_layers=num_layers, dropout=dropout,
            batch_size=batch_size, bptt=bptt, steps=steps, lr=lr, clip=clip, seed=seed)
        seconds, cached = time.perf_counter() - start, False
        if cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            torch.save({"state_dict": model.state_dict(), "seconds": seconds,
                        "history": dataclasses.asdict(history), "config": config}, tmp)
            tmp.replace(path)
    n_held = ids.numel() - cut
    held = held_out_nats(model, eval_windows(ids, cut, 16, 256)) / math.log(2)
    train = held_out_nats(model, eval_windows(ids[:cut], cut - n_held, 16, 256)) / math.log(2)
    return CharLMResult(model, vocab, held, train, history, seconds, cached, config)

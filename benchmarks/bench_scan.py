"""Time of a linear recurrence computed by a step loop and by parallel scans, beside torch.nn.GRU.

Run as ``.venv/bin/python benchmarks/bench_scan.py [--threads K] [--repeats R] [--budget S]``.
It prints one table: for each length T = 64, 256, 1024, 4096, 16384, two rows, the best time of
``R`` repeats (after a warm-up) of one forward pass (fwd), and of one forward and one backward
pass (fwd+bwd: gradients with respect to every input and parameter), in float32, batch B = 4
sequences of D = 32 channels. Every implementation runs with the same number of threads
(``torch.set_num_threads``); the implementations are timed in turn within each repeat, so a
change in the machine's load affects them alike.

To keep the default run short (about a minute on two idle cores), a column stops at the first
length where one run is expected to take more than ``--budget`` seconds (default 3), judged from
its time at the previous length, scaled in proportion to T; the table shows ``skipped`` there. A
warm-up run that takes longer than the budget is not repeated: its time is the one shown. (Times
that grow faster than T, as the backward passes of the step loops do, can overshoot once.)
``--budget 1000`` times everything (the backward passes of the step loops then take minutes).

What each column computes:
    loop              rnnbook.scan.linear_recurrence_loop: h_t = a_t * h_{t-1} + b_t, one step
                      at a time (T steps of elementwise ops)
    linear_scan       rnnbook.scan.linear_scan: the same h, by ceil(log2 T) doubling rounds
    log_space_scan    rnnbook.scan.log_space_scan: the same h for a_t, b_t > 0, through
                      logcumsumexp; the time includes taking the logs and the final exp
    torch.nn.GRU      a GRU layer with D inputs and D hidden units: a nonlinear recurrence with
                      two (3D, D) matrix products per step, so a reference point, not the same
                      computation
    modules.GRU       rnnbook.modules.GRU, the book's GRU written from the equations, a Python
                      loop over steps, with the weights of the torch.nn.GRU column

The three linear-recurrence columns are checked against a float64 step loop before they are
timed.
"""

import argparse
import os
import platform
import time

LENGTHS = [64, 256, 1024, 4096, 16384]
B, D = 4, 32
COLUMNS = ["loop", "linear_scan", "log_space_scan", "torch.nn.GRU", "modules.GRU"]
PASSES = {0: "fwd", 1: "fwd+bwd"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for torch (default: 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per length")
    parser.add_argument("--budget", type=float, default=3.0,
                        help="skip a column once one run is expected to exceed this many seconds")
    return parser.parse_args()


def make_inputs(T, seed=0):
    """Gates a (B, T, D) in (0.5, 1), inputs b (B, T, D) in (0, 1), float32, seeded."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    a = 0.5 + 0.5 * torch.rand(B, T, D, generator=generator)
    b = torch.rand(B, T, D, generator=generator)
    return a, b


def recurrences():
    """name -> function(a, b) returning h (B, T, D), for the three linear-recurrence columns."""
    from rnnbook.scan import linear_recurrence_loop, linear_scan, log_space_scan

    def log_space(a, b):
        return log_space_scan(a.log(), b.log()).exp()

    return {"loop": linear_recurrence_loop, "linear_scan": linear_scan,
            "log_space_scan": log_space}


def gru_layers():
    """name -> GRU layer (D inputs, D hidden units, batch-first), the same weights in both."""
    import torch

    torch.manual_seed(0)
    layers = {"torch.nn.GRU": torch.nn.GRU(D, D, batch_first=True)}
    try:
        from rnnbook.modules import GRU
        book = GRU(D, D, batch_first=True)
        book.load_state_dict(layers["torch.nn.GRU"].state_dict())
        layers["modules.GRU"] = book
    except Exception as exc:  # report, do not fail the benchmark
        print(f"note: rnnbook.modules.GRU not used ({type(exc).__name__}: {exc})")
    return layers


def scan_runs(scan, a, b):
    """(forward, forward_backward) closures for one linear-recurrence column."""
    import torch

    a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)

    def forward():
        with torch.no_grad():
            return scan(a, b)

    def forward_backward():
        a_.grad = b_.grad = None
        h = scan(a_, b_)
        h.sum().backward()
        return h
    return forward, forward_backward


def layer_runs(layer, x):
    """(forward, forward_backward) closures for one GRU column."""
    import torch

    x_ = x.clone().requires_grad_(True)

    def forward():
        with torch.no_grad():
            return layer(x)[0]

    def forward_backward():
        x_.grad = None
        layer.zero_grad(set_to_none=True)
        out = layer(x_)[0]
        out.sum().backward()
        return out
    return forward, forward_backward


def jobs_for(T, layers):
    """name -> (forward, forward_backward) closures for length T."""
    a, b = make_inputs(T)
    jobs = {name: scan_runs(scan, a, b) for name, scan in recurrences().items()}
    jobs.update({name: layer_runs(layer, b) for name, layer in layers.items()})
    return jobs


def check_agreement(jobs, T):
    """The three linear-recurrence columns compute the states of a float64 step loop.

    Relative tolerance 1e-5 for the loop and linear_scan; 1e-2 for log_space_scan, whose float32
    error grows with |sum of log a_t| (about 0.3 T here), as parallel_scan.ipynb shows.
    """
    from rnnbook.scan import linear_recurrence_loop

    a, b = make_inputs(T)
    exact = linear_recurrence_loop(a.double(), b.double())
    for name, tolerance in [("loop", 1e-5), ("linear_scan", 1e-5), ("log_space_scan", 1e-2)]:
        error = ((jobs[name][0]().double() - exact).abs() / exact).max().item()
        if error > tolerance:
            raise SystemExit(f"error: {name} is off by {error:.1e} (relative) at T = {T}")


def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def expected_time(history, T):
    """Seconds one run at length T is expected to take: the last measured time (T', seconds) in
    ``history``, scaled in proportion to T / T'; 0 when nothing was measured."""
    if not history:
        return 0.0
    T_last, t_last = history[-1]
    return t_last * T / T_last


def bench(repeats, budget):
    """{(T, name, pass): best seconds, or None where skipped}, over all lengths."""
    layers = gru_layers()
    best, history = {}, {}
    for T in LENGTHS:
        jobs = jobs_for(T, layers)
        check_agreement(jobs, T)
        for kind in PASSES:
            active = {}
            for name, runs in jobs.items():
                if expected_time(history.get((name, kind), []), T) > budget:
                    best[T, name, kind] = None  # expected to take too long: skipped
                    history[name, kind] = [(T, float("inf"))]
                    continue
                warm_up = timed(runs[kind])
                active[name] = runs[kind]
                best[T, name, kind] = warm_up if warm_up > budget else float("inf")
            for _ in range(repeats):
                for name, run in active.items():
                    if best[T, name, kind] == float("inf") or best[T, name, kind] <= budget:
                        best[T, name, kind] = min(best[T, name, kind], timed(run))
            for name in active:
                history.setdefault((name, kind), []).append((T, best[T, name, kind]))
    return best


def format_time(seconds):
    if seconds is None:
        return "skipped"
    return f"{1e3 * seconds:.2f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def main():
    args = parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    best = bench(args.repeats, args.budget)

    print(f"linear recurrence h_t = a_t * h_(t-1) + b_t and GRU layers, float32, B = {B}, "
          f"D = {D}, {args.threads} thread(s); best of {args.repeats} after a warm-up")
    print(f"torch {torch.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPU cores; skipped: one run expected above {args.budget:g} s")
    width = 16
    print(f"{'T':>6} {'pass':<8}" + "".join(f"{c:>{width}}" for c in COLUMNS))
    for T in LENGTHS:
        for kind, label in PASSES.items():
            cells = [format_time(best.get((T, c, kind), None)) if (T, c, kind) in best else "n/a"
                     for c in COLUMNS]
            print(f"{T:>6} {label:<8}" + "".join(f"{cell:>{width}}" for cell in cells))


if __name__ == "__main__":
    main()

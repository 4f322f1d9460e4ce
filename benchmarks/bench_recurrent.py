"""Forward + backward time of an LSTM layer: the NumPy scratch version, rnnbook.modules, torch.nn.

Run as ``.venv/bin/python benchmarks/bench_recurrent.py [--threads K] [--repeats R]``. It prints
one table: for each size (T, N, D, H), the best time of ``R`` repeats (after a warm-up) of one
forward pass over the sequence and one backward pass that computes the gradients with respect to
the inputs, the initial state and all parameters, in float32; and each time's ratio to
``torch.nn.LSTM``. Every implementation runs with the same number of threads: torch through
``torch.set_num_threads`` and NumPy's BLAS through ``OPENBLAS_NUM_THREADS`` (and its MKL and OpenMP
equivalents), which must be set before NumPy is imported. The implementations are timed in turn
within each repeat, so a change in the machine's load affects them alike.

Columns:
    scratch          rnnbook.scratch.lstm_forward / lstm_backward (the sequence-level fast path)
    scratch, steps   a plain loop over lstm_step_forward / lstm_step_backward (the readable one)
    rnnbook.modules  rnnbook.modules.LSTM (n/a when it cannot be imported)
    torch.nn         torch.nn.LSTM
"""

import argparse
import os
import platform
import time

SIZES = [(100, 32, 64, 128), (1000, 8, 32, 64)]  # (T, N, D, H)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for torch and for NumPy's BLAS (default: 1)")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per size")
    return parser.parse_args()


def scratch_runner(x, h0, W_xh, W_hh, b, dh):
    from rnnbook.scratch import lstm_backward, lstm_forward

    def run():
        _, cache = lstm_forward(x, h0, W_xh, W_hh, b)
        return lstm_backward(dh, cache)
    return run


def scratch_steps_runner(x, h0, W_xh, W_hh, b, dh):
    from rnnbook.scratch import lstm_backward_by_steps, lstm_forward_by_steps

    def run():
        _, _, caches = lstm_forward_by_steps(x, h0, W_xh, W_hh, b)
        return lstm_backward_by_steps(dh, caches)[:5]
    return run


def torch_runner(lstm, x, h0, dh):
    import torch

    x = torch.from_numpy(x).requires_grad_(True)
    h0 = torch.from_numpy(h0[None]).requires_grad_(True)
    c0 = torch.zeros_like(h0)
    dh = torch.from_numpy(dh)

    def run():
        x.grad = h0.grad = None
        lstm.zero_grad(set_to_none=True)
        out, _ = lstm(x, (h0, c0))
        out.backward(dh)
        return out
    return run


def modules_lstm(reference):
    """rnnbook.modules.LSTM with the weights of ``reference``, or None if it is not available."""
    try:
        from rnnbook.modules import LSTM
        lstm = LSTM(reference.input_size, reference.hidden_size, batch_first=True)
        lstm.load_state_dict(reference.state_dict())
    except Exception as exc:  # being written elsewhere: report, do not fail the benchmark
        print(f"note: rnnbook.modules.LSTM not used ({type(exc).__name__}: {exc})")
        return None
    return lstm


def check_agreement(outputs, reference):
    """The implementations compute the same forward pass (float32 tolerance)."""
    import numpy as np

    for name, out in outputs.items():
        if not np.allclose(out, reference, rtol=1e-4, atol=1e-5):
            raise SystemExit(f"error: {name} disagrees with torch.nn.LSTM")


def bench(T, N, D, H, repeats):
    import numpy as np
    import torch

    from rnnbook.scratch import lstm_forward

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    h0 = rng.standard_normal((N, H), dtype=np.float32)
    dh = rng.standard_normal((N, T, H), dtype=np.float32)
    W_xh = lstm.weight_ih_l0.detach().numpy()
    W_hh = lstm.weight_hh_l0.detach().numpy()
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy()

    runners = {"scratch": scratch_runner(x, h0, W_xh, W_hh, b, dh),
               "scratch, steps": scratch_steps_runner(x, h0, W_xh, W_hh, b, dh),
               "torch.nn": torch_runner(lstm, x, h0, dh)}
    modules = modules_lstm(lstm)
    if modules is not None:
        runners["rnnbook.modules"] = torch_runner(modules, x, h0, dh)

    reference = runners["torch.nn"]().detach().numpy()
    outputs = {"scratch": lstm_forward(x, h0, W_xh, W_hh, b)[0]}
    if modules is not None:
        outputs["rnnbook.modules"] = runners["rnnbook.modules"]().detach().numpy()
    check_agreement(outputs, reference)

    for run in runners.values():  # warm-up
        run()
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main():
    args = parse_args()
    for variable in ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"]:
        os.environ[variable] = str(args.threads)
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    columns = ["scratch", "scratch, steps", "rnnbook.modules", "torch.nn"]
    results = {size: bench(*size, args.repeats) for size in SIZES}

    print(f"LSTM forward + backward, float32, {args.threads} thread(s) for torch and NumPy; "
          f"best of {args.repeats} after a warm-up; time (ratio to torch.nn.LSTM)")
    print(f"numpy {np.__version__}, torch {torch.__version__}, python "
          f"{platform.python_version()}, {os.cpu_count()} CPU cores")
    width = 18
    print(f"{'(T, N, D, H)':<20}" + "".join(f"{c:>{width}}" for c in columns))
    for size, best in results.items():
        cells = []
        for column in columns:
            if column not in best:
                cells.append(f"{'n/a':>{width}}")
                continue
            ms, ratio = 1e3 * best[column], best[column] / best["torch.nn"]
            cells.append(f"{f'{ms:.1f} ms ({ratio:.2f}x)':>{width}}")
        print(f"{str(size):<20}" + "".join(cells))


if __name__ == "__main__":
    main()

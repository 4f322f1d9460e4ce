"""Seeding and the environment report that every notebook starts with."""

import os
import platform
import random
from importlib import metadata

import numpy as np
import torch

DEFAULT_SEED = 0
DEFAULT_THREADS = 1


def seed_everything(seed=DEFAULT_SEED, threads=DEFAULT_THREADS):
    """Make a notebook repeatable: seed Python, NumPy and torch and fix torch's thread count.

    One thread by default, so that a re-run on the same machine repeats exactly and other machines
    agree to the digits the book prints (CPUs with other instruction sets may dispatch other
    kernels, so the last bits of float32 results can still differ between machines).

    Args:
        seed: non-negative integer.
        threads: number of intra-op threads torch may use (positive integer).

    Returns:
        A ``numpy.random.Generator`` seeded with ``seed``: the generator notebooks should draw from.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    if not isinstance(threads, int | np.integer) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads: expected a positive integer, got {threads!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(threads))
    return np.random.default_rng(seed)


def environment_report(packages=("numpy", "torch", "matplotlib", "statsmodels")):
    """The versions that matter for reproducing the book's numbers.

    Returns:
        dict mapping a name (``python``, ``platform``, each package, ``torch threads``) to a string.
    """
    report = {"python": platform.python_version(), "platform": platform.system()}
    for name in packages:
        report[name] = metadata.version(name)
    report["rnnbook"] = metadata.version("rnnbook")
    report["torch threads"] = str(torch.get_num_threads())
    report["cpu cores"] = str(os.cpu_count())
    return report

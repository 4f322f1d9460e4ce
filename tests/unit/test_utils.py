import numpy as np
import pytest
import torch

from rnnbook.utils import environment_report, seed_everything


def test_seed_everything_repeats_numpy_torch_and_python_draws():
    import random

    def draws():
        rng = seed_everything(123)
        return rng.normal(size=4), np.random.rand(2), torch.randn(3), random.random()

    first, second = draws(), draws()
    assert np.array_equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert torch.equal(first[2], second[2])
    assert first[3] == second[3]


def test_different_seeds_give_different_draws():
    assert not np.array_equal(seed_everything(1).normal(size=4), seed_everything(2).normal(size=4))


def test_seed_everything_fixes_the_thread_count():
    seed_everything(0, threads=2)
    assert torch.get_num_threads() == 2
    seed_everything(0)
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_bad_seed_is_rejected_with_its_name(seed):
    with pytest.raises(ValueError, match="seed: expected a non-negative integer"):
        seed_everything(seed)


@pytest.mark.parametrize("threads", [0, -2, 1.0, None])
def test_bad_thread_count_is_rejected_with_its_name(threads):
    with pytest.raises(ValueError, match="threads: expected a positive integer"):
        seed_everything(0, threads=threads)


def test_environment_report_names_the_versions_that_matter():
    report = environment_report()
    for key in ("python", "numpy", "torch", "matplotlib", "statsmodels", "rnnbook"):
        assert report[key] and report[key][0].isdigit(), key
    assert report["torch"].startswith(torch.__version__.split("+")[0])

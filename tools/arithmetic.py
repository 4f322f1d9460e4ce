"""Print the arithmetic configuration a kernel gets: `python tools/arithmetic.py`.

The kernels PyTorch (ATen, MKL, oneDNN) and NumPy (OpenBLAS) dispatch to decide the last bits
of every float result. `make test-portability` sets them by environment variables; this prints
what each library actually chose, so that a run under another configuration can be told apart
from one where a variable was ignored.
"""

import os

import numpy as np  # noqa: F401  (loads OpenBLAS, for threadpoolctl to find it)
import threadpoolctl
import torch
from numpy.lib.introspect import opt_func_info

VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA",
             "OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")

if __name__ == "__main__":
    blas = [f"{info['internal_api']} {info.get('architecture') or ''}".strip()
            for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    loops = opt_func_info(func_name="exp", signature="float32")["exp"]["ff"]["current"]
    print(f"torch CPU capability: {torch.backends.cpu.get_cpu_capability()}; "
          f"NumPy's BLAS: {', '.join(blas)}; NumPy's own loops: {loops}")
    print("set:", ", ".join(f"{name}={os.environ[name]}" for name in VARIABLES
                            if name in os.environ) or "nothing (the machine's own choice)")

"""rnnbook.scratch as a package: NumPy only, every public name exported and documented."""

import inspect
import subprocess
import sys

import rnnbook.scratch as scratch


def test_scratch_never_imports_torch():
    code = ("import sys, rnnbook.scratch, rnnbook.scratch.tbptt, rnnbook.scratch.optim; "
            "assert 'torch' not in sys.modules, 'rnnbook.scratch imported torch'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_are_exported_and_documented():
    for name in scratch.__all__:
        obj = getattr(scratch, name)
        assert inspect.getdoc(obj), f"{name} has no docstring"
        assert name in scratch.__doc__, f"{name} is missing from the package docstring"


def test_every_forward_has_its_backward():
    forwards = {n for n in scratch.__all__ if n.endswith("_forward")}
    for name in forwards:
        assert name.replace("_forward", "_backward") in scratch.__all__, name


def test_backward_docstrings_list_inputs_and_outputs_with_shapes():
    for name in [n for n in scratch.__all__ if n.endswith(("_forward", "_backward"))]:
        doc = inspect.getdoc(getattr(scratch, name))
        assert "Args:" in doc and "Returns:" in doc, name
        assert "(" in doc.split("Returns:")[1], f"{name}: no shape in Returns"

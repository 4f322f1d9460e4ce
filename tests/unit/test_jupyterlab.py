"""JupyterLab shows the book's MyST markup as text, not as raw roles: jupyterlab-myst is on."""

import pathlib
import re
import subprocess
import sys

import pytest

JUPYTER = pathlib.Path(sys.executable).with_name("jupyter")


@pytest.mark.skipif(not JUPYTER.exists(), reason="JupyterLab is not installed next to Python")
def test_the_myst_extension_is_installed_enabled_and_compatible():
    listing = subprocess.run([JUPYTER, "labextension", "list"], capture_output=True, text=True,
                             check=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(r"jupyterlab-myst v[\d.]+ enabled OK", text), text
    assert "is not compatible with the current JupyterLab" not in text, text

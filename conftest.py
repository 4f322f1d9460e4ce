"""pytest settings for the notebook tests (`make test-notebooks`, `make test-portability`).

The notebooks run on both cores with pytest-xdist (`-n 2 --dist loadgroup`). nbval runs the cells
of a notebook one after another in one kernel, so each notebook is one group that a single worker
runs in order. The notebooks that train the cached character language model (they call
`train_char_lm`) share one group, so that the first trains it and the others load it instead of
training it again at the same time on the other core.
"""

import pytest

SHARED_MODEL = "train_char_lm("


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        path = item.path
        if path.suffix != ".ipynb":
            continue
        shares_model = SHARED_MODEL in path.read_text(encoding="utf-8")
        item.add_marker(pytest.mark.xdist_group("char-lm" if shares_model else str(path)))

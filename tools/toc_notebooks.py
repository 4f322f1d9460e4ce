"""Print the notebooks listed in _toc.yml, one path per line, in reading order."""

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def toc_files(node):
    """Yield every 'file' entry of a _toc.yml tree, depth first, in order."""
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        if "root" in node:
            yield node["root"]
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                yield from toc_files(child)


def toc_notebooks(root=ROOT):
    """The TOC's notebooks as paths relative to the book root."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return [f"{name}.ipynb" for name in toc_files(toc) if (root / f"{name}.ipynb").exists()]


if __name__ == "__main__":
    notebooks = toc_notebooks()
    if not notebooks:
        sys.exit("error: _toc.yml lists no notebook")
    print("\n".join(notebooks))

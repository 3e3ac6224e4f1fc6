"""Small helpers to write notebooks from Python: `write_nb(path, cells)` where cells are ('md'|'code', source).

Used to create or rewrite notebooks as JSON; run `nbdev-export` and `nbdev-clean` after.
"""
import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell, new_code_cell

def write_nb(path, cells):
    nb = new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}
    for kind, src in cells:
        src = src.strip("\n")
        nb.cells.append(new_markdown_cell(src) if kind == "md" else new_code_cell(src))
    nbformat.write(nb, path)
    return path

"""Edit notebooks as plain text: `to-py` writes a notebook's cells to a text file, `from-py` writes them back.

    python scripts/nbedit.py to-py nbs/07_trainer.ipynb /tmp/trainer.py     # edit /tmp/trainer.py
    python scripts/nbedit.py from-py /tmp/trainer.py nbs/07_trainer.ipynb   # cells back, outputs kept by cell id
    python scripts/nbedit.py new /tmp/new.py nbs/07a_train.ipynb           # a new notebook from such a file
    python scripts/nbedit.py ls nbs/07_trainer.ipynb                        # one line per cell

Each cell starts with a marker line `#%%nb code id=XXXX` or `#%%nb md id=XXXX` (`tags=a,b` may follow); a cell added
without an id gets a new one. Outputs of code cells are kept for ids that survive (they may then be stale: rerun the
notebook, or `nbdev-test`, to refresh them). Run `nbdev-export` and `nbdev-clean` afterwards.
"""
import json, sys, uuid
from pathlib import Path

MARK = "#%%nb "

def to_py(nb_path, out_path):
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for c in nb["cells"]:
        kind = "code" if c["cell_type"] == "code" else ("md" if c["cell_type"] == "markdown" else "raw")
        head = f"{MARK}{kind} id={c.get('id', '')}"
        tags = c.get("metadata", {}).get("tags")
        if tags: head += " tags=" + ",".join(tags)
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        parts.append(head + "\n" + src.rstrip("\n") + "\n")
    Path(out_path).write_text("".join(parts))

def _parse(py_path):
    cells, cur = [], None
    for line in Path(py_path).read_text().splitlines(keepends=True):
        if line.startswith(MARK):
            words = line[len(MARK):].split()
            opts = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            cur = dict(kind=words[0], id=opts.get("id", ""), tags=[t for t in opts.get("tags", "").split(",") if t], lines=[])
            cells.append(cur)
        elif cur is None:
            if line.strip(): raise SystemExit(f"{py_path}: text before the first {MARK!r} marker line")
        else: cur["lines"].append(line)
    return cells

def _lines(src):
    src = src.rstrip("\n")
    ls = src.splitlines(keepends=True)
    return ls

def from_py(py_path, nb_path, template=None):
    nb = json.loads(Path(template or nb_path).read_text()) if (template or Path(nb_path).exists()) else None
    if nb is None:
        nb = {"cells": [], "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
              "nbformat": 4, "nbformat_minor": 5}
    old = {c.get("id"): c for c in nb["cells"]}
    cells = []
    for p in _parse(py_path):
        cid = p["id"] or uuid.uuid4().hex[:8]
        kind = {"code": "code", "md": "markdown", "raw": "raw"}[p["kind"]]
        c = {"cell_type": kind, "id": cid, "metadata": {}, "source": _lines("".join(p["lines"]))}
        if p["tags"]: c["metadata"]["tags"] = p["tags"]
        if kind == "code":
            prev = old.get(p["id"]) if p["id"] else None
            c["execution_count"] = None
            c["outputs"] = prev.get("outputs", []) if prev and prev["cell_type"] == "code" else []
        cells.append(c)
    nb["cells"] = cells
    Path(nb_path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")

def ls(nb_path):
    nb = json.loads(Path(nb_path).read_text())
    for i, c in enumerate(nb["cells"]):
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        first = src.strip().splitlines()[0] if src.strip() else ""
        print(f"{i:3d} {c['cell_type'][:4]:4s} {c.get('id', ''):10s} {first[:90]}")

if __name__ == "__main__":
    cmd, *args = sys.argv[1:] or ["-h"]
    if cmd == "to-py": to_py(*args)
    elif cmd == "from-py": from_py(*args)
    elif cmd == "new":
        if Path(args[1]).exists(): raise SystemExit(f"{args[1]} exists; use from-py")
        from_py(args[0], args[1])
    elif cmd == "ls": ls(*args)
    else: print(__doc__)

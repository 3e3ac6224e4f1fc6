"""Write README.md from nbs/index.ipynb (`nbdev-readme` needs Quarto, which cannot be installed offline).

Run after editing the index notebook: `.venv/bin/python scripts/readme_from_index.py`. Links to docs pages
(`weighting.html`) become links to the notebooks; `#|` directive lines are dropped from code cells.
`tests/test_cli.py` checks that README.md is up to date.
"""
import re, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]

def readme_text() -> str:
    nb = nbformat.read(ROOT / "nbs/index.ipynb", as_version=4)
    pages = {p.stem.split("_", 1)[1]: p.name for p in (ROOT / "nbs").glob("[0-9]*.ipynb")}
    parts = []
    for c in nb.cells:
        src = c.source
        if c.cell_type == "code":
            src = "```python\n" + "\n".join(l for l in src.splitlines() if not l.startswith("#|")) + "\n```"
        parts.append(re.sub(r"\]\((\w+)\.html\)", lambda m: f"](nbs/{pages[m.group(1)]})", src))
    return "\n\n".join(parts) + "\n"

if __name__ == "__main__":
    out = ROOT / "README.md"
    if "--check" in sys.argv:
        sys.exit(0 if out.read_text() == readme_text() else "README.md is out of date: run scripts/readme_from_index.py")
    out.write_text(readme_text())

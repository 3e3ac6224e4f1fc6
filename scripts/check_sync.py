"""Fail if `nbdev-export` or `nbdev-clean` would change the tree: notebooks and package in sync, notebooks clean.

Works in a dirty working tree too: it compares file contents before and after, not against git.
"""
import hashlib, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def snapshot():
    files = [*sorted((root/'twgrpo').rglob('*.py')), *sorted((root/'nbs').rglob('*.ipynb'))]
    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in files if '.ipynb_checkpoints' not in f.parts and '_proc' not in f.parts}

before = snapshot()
for cmd in ('nbdev-export', 'nbdev-clean'):
    subprocess.run([str(BIN/cmd)], cwd=root, check=True)
after = snapshot()
changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
if changed:
    print("nbdev-export / nbdev-clean changed these files (they are now fixed in your tree; commit them):")
    for c in changed: print("  ", c)
    sys.exit(1)
print(f"check-sync: {len(after)} files, notebooks and package in sync, notebooks clean")

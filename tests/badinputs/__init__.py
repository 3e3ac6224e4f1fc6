"""The table of bad inputs: one module per area (`config`, `data`, `evaluate`, `video`, `cli`), each a list `CASES`.

`tests/test_bad_inputs.py` runs every case. A case is a user's mistake; the kit must answer it with exit code 2 (CLI)
or the expected exception (API) and one line naming the file, record or setting, never a traceback and never a
silent wrong result.
"""
from __future__ import annotations
from dataclasses import dataclass, field
from typing import Callable

@dataclass
class Case:
    id: str                                    # unique, short: "train/alpha-nan"
    argv: list[str] | None = None              # `twgrpo` arguments, run in-process; "{tmp}" is the case's folder
    call: Callable | None = None               # or an API call `call(tmp: Path)` that must raise `raises`
    files: dict = field(default_factory=dict)  # files written into the case's folder first: name -> str | bytes | callable(path)
    names: tuple = ()                          # substrings one line of the message must all contain ("{tmp}" allowed)
    code: int = 2                              # expected exit code of a CLI case
    raises: type | tuple = ValueError          # expected exception of an API case
    slow: bool = False                         # loads a model or decodes videos (still run; for the record)

def cases() -> list[Case]:
    "Every case of every area module."
    import importlib, pkgutil
    out = []
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        out += getattr(importlib.import_module(f"{__name__}.{m.name}"), "CASES", [])
    return out

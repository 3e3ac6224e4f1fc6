"""Bad inputs (the table in `tests/badinputs/`): exit code 2 or the expected exception, one line naming the culprit."""
import contextlib, io, os
from pathlib import Path

import pytest

from badinputs import Case, cases

CASES = cases()

def _write(root: Path, files: dict):
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if callable(content): content(p)
        elif isinstance(content, bytes): p.write_bytes(content)
        else: p.write_text(content.replace("{tmp}", str(root)))

def _run_cli(argv: list[str]) -> tuple[int, str]:
    from twgrpo.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: code = main(argv)
        except SystemExit as e: code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return code, out.getvalue() + "\n" + err.getvalue()

def test_table_is_large_and_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert len(CASES) >= 150, len(CASES)

@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, case.files)
    names = [n.replace("{tmp}", str(tmp_path)) for n in case.names]
    if case.argv is not None:
        code, text = _run_cli([a.replace("{tmp}", str(tmp_path)) for a in case.argv])
        assert "Traceback" not in text, text
        assert code == case.code, f"exit code {code}, expected {case.code}:\n{text}"
    else:
        with pytest.raises(case.raises) as info: case.call(tmp_path)
        text = str(info.value)
        assert "\n" not in text.strip(), f"not one line: {text!r}"
    assert any(all(n in line for n in names) for line in text.splitlines()), f"no line names {names}:\n{text}"

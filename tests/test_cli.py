"""The `twgrpo` command from the outside: help, version, errors, and that it starts without heavy imports."""
import json, subprocess, sys
from pathlib import Path

import twgrpo

BIN = Path(sys.executable).parent


def run(*args, **kw):
    return subprocess.run([str(BIN / "twgrpo"), *args], capture_output=True, text=True, timeout=120, **kw)


def test_help_lists_every_command():
    from twgrpo.cli import COMMANDS
    r = run("--help")
    assert r.returncode == 0, r.stderr
    for name in COMMANDS: assert name in r.stdout


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"twgrpo {twgrpo.__version__}"


def test_unknown_command_is_an_error():
    r = run("fly")
    assert r.returncode == 2 and "invalid choice: 'fly'" in r.stderr


def test_import_and_help_stay_light():
    "Importing twgrpo and its CLI loads neither torch nor the optional deepspeed / vllm."
    code = ("import sys, twgrpo, twgrpo.cli, json; "
            "print(json.dumps([m for m in ('torch', 'transformers', 'trl', 'deepspeed', 'vllm') if m in sys.modules]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_every_command_resolves():
    "Each command's module exists and exposes its function (a typo in COMMANDS would only show at run time)."
    import importlib
    from twgrpo.cli import COMMANDS
    for name, (module, func, _) in COMMANDS.items():
        assert callable(getattr(importlib.import_module(module), func)), name


def test_python_dash_m():
    "`python -m twgrpo.cli` is the form `accelerate launch -m twgrpo.cli ...` uses."
    r = subprocess.run([sys.executable, "-m", "twgrpo.cli", "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"twgrpo {twgrpo.__version__}"


def test_readme_matches_the_index_notebook():
    "README.md is written from nbs/index.ipynb by scripts/readme_from_index.py (nbdev-readme needs Quarto)."
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "scripts/readme_from_index.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_bare_command_is_a_usage_error():
    r = run()
    assert r.returncode == 2 and "COMMAND" in r.stderr


def test_output_piped_into_a_closed_reader_ends_quietly():
    "A reader that went away (`twgrpo configs | head -0`) gives no BrokenPipeError traceback, and the SIGPIPE status."
    import os
    r_fd, w_fd = os.pipe()
    os.close(r_fd)  # the reader is gone before the first write: every write raises EPIPE
    try: r = subprocess.run([str(BIN / "twgrpo"), "configs"], stdout=w_fd, stderr=subprocess.PIPE, text=True, timeout=120)
    finally: os.close(w_fd)
    assert r.returncode == 141, r.stderr
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr

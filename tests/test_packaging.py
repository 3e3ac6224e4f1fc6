"""`pip install twgrpo` as a user gets it: the wheel and sdist hold the package and its configs and nothing else, and an
installed wheel works from a folder outside the repository without reading a single file of the repository.

The fresh environment is a new virtual environment with the wheel installed into it. So that the test needs no
network and does not copy several GB of torch, the third-party dependencies are made visible through a `.pth` line
pointing at the development environment's site-packages (`.pth` lines add paths; they do not run the editable-install
hook that lives there). An audit hook in the new environment records every file or folder opened under the
repository outside that site-packages: the test requires none.
"""
import json, os, subprocess, sys, sysconfig, tarfile, textwrap, zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPS = Path(sysconfig.get_paths()["purelib"]).resolve()

pytestmark = pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source tree")


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def test_wheel_and_sdist_contents(dist):
    import twgrpo
    wheel, = dist.glob("twgrpo-*.whl")
    sdist, = dist.glob("twgrpo-*.tar.gz")
    assert wheel.name.startswith(f"twgrpo-{twgrpo.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    for must in ("twgrpo/__init__.py", "twgrpo/cli.py", "twgrpo/trainer.py", "twgrpo/_modidx.py",
                 "twgrpo/configs/tiny_cpu.yaml", "twgrpo/configs/paper_clevrer_7b.yaml",
                 "twgrpo/configs/accelerate/zero3_offload.yaml"):
        assert must in names, must
    assert not [n for n in names if n.endswith(".ipynb") or n.split("/")[0] in ("nbs", "tests", "data", "benchmarks")]
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "Provides-Extra: deepspeed" in text and "Provides-Extra: vllm" in text and "Provides-Extra: dev" in text
    base = [l for l in text.splitlines() if l.startswith("Requires-Dist:") and "extra ==" not in l]
    assert not [l for l in base if "deepspeed" in l or "vllm" in l], base  # the base install never pulls them
    members = [m.split("/", 1)[1] for m in tarfile.open(sdist).getnames() if "/" in m]
    assert "twgrpo/configs/tiny_cpu.yaml" in members
    assert not [m for m in members if m.endswith(".ipynb") or m.split("/")[0] in ("nbs", "tests", "data", "benchmarks")]


AUDIT = textwrap.dedent('''
    import os, sys
    _root, _deps, _log = {root!r}, {deps!r}, {log!r}
    def _hook(event, args):
        if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes, os.PathLike)):
            p = os.path.abspath(os.fsdecode(args[0]))
            if (p == _root or p.startswith(_root + os.sep)) and not p.startswith(_deps):
                with open(_log, "a") as f: f.write(p + "\\n")
    sys.addaudithook(_hook)
''')


@pytest.fixture(scope="module")
def env(dist, tmp_path_factory):
    "A new virtual environment outside the repository with the wheel installed, and an audit log of repository reads."
    tmp = tmp_path_factory.mktemp("fresh")
    venv = tmp / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], check=True, timeout=300)
    site = Path(subprocess.run([str(venv / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_twgrpo_test_deps.pth").write_text(str(DEPS) + "\n")
    wheel, = dist.glob("twgrpo-*.whl")
    r = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                        "--force-reinstall", str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    log = tmp / "repo_reads.log"
    (site / "sitecustomize.py").write_text(AUDIT.format(root=str(ROOT), deps=str(DEPS), log=str(log)))
    work = tmp / "work"
    work.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "TWGRPO"))}
    e.update(HOME=str(tmp / "home"), TWGRPO_CACHE=str(tmp / "cache"), HF_HOME=str(tmp / "hf"), HF_HUB_OFFLINE="1",
             PATH=f"{venv / 'bin'}{os.pathsep}{e.get('PATH', '')}", OMP_NUM_THREADS="1")
    return dict(venv=venv, site=site, work=work, env=e, log=log)


def run(env, *cmd, timeout=600):
    r = subprocess.run(list(cmd), cwd=env["work"], env=env["env"], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd}: {r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def test_installed_wheel_works_outside_the_repository(env):
    py, twgrpo = str(env["venv"] / "bin/python"), str(env["venv"] / "bin/twgrpo")
    run(env, py, "-c", f"open({str(ROOT / 'pyproject.toml')!r}).read()")  # the audit itself works:
    assert env["log"].read_text().splitlines() == [str(ROOT / "pyproject.toml")]
    env["log"].unlink()
    where = json.loads(run(env, py, "-c", "import json, twgrpo, twgrpo.cli; print(json.dumps([twgrpo.__file__, twgrpo.__version__]))"))
    assert Path(where[0]).is_relative_to(env["site"]), where
    assert run(env, twgrpo, "--version").strip() == f"twgrpo {where[1]}"
    assert "train" in run(env, twgrpo, "--help")
    assert Path(run(env, twgrpo, "configs", "tiny_cpu").strip()).is_relative_to(env["site"])
    run(env, py, "-c", "from twgrpo.synthetic import make_clevrer_like; "
                       "make_clevrer_like('set', 2, seed=0, duration=2.0, size=(240, 160))")
    assert "counterfactual" in run(env, twgrpo, "data", "stats", "set/train.json")
    run(env, twgrpo, "train", "--config", "tiny_cpu", "--max_steps", "2", "--output_dir", "run", "--disable_tqdm", "true")
    assert (env["work"] / "run" / "model.safetensors").exists()
    reads = env["log"].read_text().splitlines() if env["log"].exists() else []
    assert reads == [], f"the installed package read files of the repository: {sorted(set(reads))[:10]}"


def test_importing_twgrpo_pulls_no_optional_backend(env):
    "Importing every twgrpo module loads neither deepspeed nor vllm."
    code = ("import importlib, json, pkgutil, sys, twgrpo\n"
            "for m in pkgutil.iter_modules(twgrpo.__path__): importlib.import_module('twgrpo.' + m.name)\n"
            "print(json.dumps([m for m in ('deepspeed', 'vllm') if m in sys.modules]))")
    assert json.loads(run(env, str(env["venv"] / "bin/python"), "-c", code)) == []

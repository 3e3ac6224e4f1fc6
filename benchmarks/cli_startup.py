"""How long `twgrpo --help` takes, against `python -c pass` and an import of torch, measured side by side in one run.

Target: `twgrpo --help` and `twgrpo train --help` under 2 s on the 2-core development machine. Run: `.venv/bin/python benchmarks/cli_startup.py`
"""
import statistics, subprocess, sys, time
from pathlib import Path

BIN = Path(sys.executable).parent

def best_and_median(cmd, n=5):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)

cases = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "twgrpo --help": [str(BIN / "twgrpo"), "--help"],
    "twgrpo --version": [str(BIN / "twgrpo"), "--version"],
    "twgrpo train --help": [str(BIN / "twgrpo"), "train", "--help"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
}
res = {name: best_and_median(cmd) for name, cmd in cases.items()}
base = res["python -c pass"][1]
print(f"{'command':28s} {'best s':>8s} {'median s':>9s} {'x python':>9s}")
for name, (best, med) in res.items():
    print(f"{name:28s} {best:8.3f} {med:9.3f} {med / base:9.1f}")
train_med = res["twgrpo train --help"][1]
print(f"twgrpo train --help: median {train_med:.3f} s, {'within' if train_med < 2 else 'OVER'} the 2 s target")
help_med, torch_med = res["twgrpo --help"][1], res["python -c 'import torch'"][1]
print(f"twgrpo --help: median {help_med:.3f} s, {'within' if help_med < 2 else 'OVER'} the 2 s target; "
      f"importing torch alone takes {torch_med / help_med:.1f}x as long")

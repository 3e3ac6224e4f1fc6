"""Wall time of `twgrpo demo` as a newcomer runs it (after install: the toy videos already rendered once, as any
second run finds them), against the 3-minute target, and whether held-out soft accuracy rose above the shipped warm
start's. The machine's load average is printed beside the time: on a shared CPU it decides most of it.

Run: `.venv/bin/python benchmarks/demo.py [--cold]` (`--cold`: render the toy videos into an empty cache first, as the
very first run after install does).
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--cold", action="store_true", help="use an empty twgrpo cache (the toy videos are rendered first)")
p.add_argument("--target", type=float, default=180.0, help="seconds (default 180)")
a = p.parse_args()
env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
if a.cold: env["TWGRPO_CACHE"] = tempfile.mkdtemp(prefix="twgrpo-cache-")
out = Path(tempfile.mkdtemp(prefix="twgrpo-demo-bench-")) / "demo"
twgrpo = Path(sys.executable).with_name("twgrpo")
cmd = [str(twgrpo)] if twgrpo.exists() else [sys.executable, "-m", "twgrpo.cli"]
load0 = os.getloadavg()
t = time.perf_counter()
r = subprocess.run(cmd + ["demo", "--out", str(out)], env=env, capture_output=True, text=True)
wall = time.perf_counter() - t
load1 = os.getloadavg()
if r.returncode != 0: sys.exit(f"twgrpo demo failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
s = json.loads((out / "summary.json").read_text())
print(r.stdout.strip().splitlines()[-1])
print(f"{'twgrpo demo (' + ('cold cache' if a.cold else 'warm cache') + ')':34s} {wall:8.1f} s   (RL {s['rl_seconds']:.0f} s)")
print(f"load average before {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f}, after {load1[0]:.2f} / {load1[1]:.2f} / {load1[2]:.2f} (2 cores)")
print(f"demo / {a.target:.0f} s target: {wall / a.target:.2f}x ({'within' if wall <= a.target else 'OVER'} the target)")
print(f"held-out soft {s['before']['soft']:.3f} -> {s['after']['soft']:.3f} ({s['soft_gain']:+.3f}: "
      f"{'above' if s['soft_gain'] > 0 else 'NOT above'} the warm start), strict {s['before']['strict']:.3f} -> {s['after']['strict']:.3f}, "
      f"blank frames {s['blank_frames']['soft']:.3f} (best constant {s['best_constant']['soft']:.3f})")

"""Seconds per synthetic CLEVRER-like video at the default size (480 x 320, 5 s at 25 fps), beside the cost of the
simulation alone, measured in one run. Target: at most 2 s per video on the 2-core development machine.

Run: `.venv/bin/python benchmarks/synthetic.py [--videos 10]`
"""
import argparse, tempfile, time

from twgrpo.synthetic import make_clevrer_like, random_objects, simulate

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--videos", type=int, default=10)
a = p.parse_args()
t = time.perf_counter()
for i in range(a.videos): simulate(random_objects(i), duration=5.0, fps=25)
sim = (time.perf_counter() - t) / a.videos
t = time.perf_counter()
make_clevrer_like(tempfile.mkdtemp(prefix="twgrpo-bench-"), a.videos, seed=0)
full = (time.perf_counter() - t) / a.videos
print(f"{'step':34s} {'s per video':>12s}")
print(f"{'simulation only':34s} {sim:12.3f}")
print(f"{'make_clevrer_like (sim+render+mp4)':34s} {full:12.3f}")
print(f"make_clevrer_like / 2 s target: {full / 2.0:.2f}x ({'within' if full <= 2.0 else 'OVER'} the target)")

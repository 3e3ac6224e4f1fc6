"""Rewards on enormous completions (a policy that never emits EOS): time at 1 MB and 2 MB side by side.

Linear growth gives a ratio of about 2, quadratic backtracking about 4. Target: every ratio <= 3 and every time at
1 MB under 1 s. Run: `.venv/bin/python benchmarks/rewards.py`.
"""
import time
from twgrpo.rewards import format_reward, soft_accuracy

GOLD = "<answer>B,D</answer>"
INPUTS = {  # name -> text of about n bytes
    "no tags": lambda n: "B " * (n // 2), "many <answer>": lambda n: "<answer>" * (n // 8),
    "many </think>": lambda n: "<think>" + "</think> " * (n // 9),
    "many </answer>": lambda n: "<think>x</think><answer>" + "</answer>!x" * (n // 11),
    "letters, lenient": lambda n: "a " * (n // 2), "answer is, lenient": lambda n: "the answer is " * (n // 14)}
FUNCS = {"soft": lambda c: soft_accuracy(c, GOLD), "lenient": lambda c: soft_accuracy(c, GOLD, lenient=True),
         "format": format_reward}

def best_of(f, s, k=3):
    ts = []
    for _ in range(k):
        t = time.perf_counter(); f(s); ts.append(time.perf_counter() - t)
    return min(ts)

if __name__ == "__main__":
    MB, worst_ratio, worst_time = 1_000_000, 0.0, 0.0
    print(f"{'input':20s} {'reward':8s} {'1 MB s':>8s} {'2 MB s':>8s} {'ratio':>6s}")
    for name, make in INPUTS.items():
        one, two = make(MB), make(2 * MB)
        for fname, f in FUNCS.items():
            t1, t2 = best_of(f, one), best_of(f, two)
            ratio = t2 / t1 if t1 > 1e-4 else float("nan")
            if t1 > 1e-3: worst_ratio = max(worst_ratio, ratio)
            worst_time = max(worst_time, t1)
            print(f"{name:20s} {fname:8s} {t1:8.3f} {t2:8.3f} {ratio:6.2f}")
    print(f"worst 2 MB / 1 MB ratio {worst_ratio:.2f} (target <= 3), slowest at 1 MB {worst_time:.3f} s (target < 1)")

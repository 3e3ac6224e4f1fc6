"""Token-weight evaluators side by side: the materialised formula vs the chunked and online evaluators.

    .venv/bin/python benchmarks/weights.py            # G = 8, L = 256, V = 151,936, H = 1,024, float32, CPU

Each method runs in a fresh subprocess on the same seeded inputs (final hidden states (G, L, H), an LM head
(V, H), a completion mask with unequal member lengths). Memory is what the computation adds ABOVE its inputs:
peak RSS after the computation minus peak RSS once the inputs are built (`resource.getrusage(...).ru_maxrss`,
exact peaks, no sampling). Time is the wall time of the computation alone. Methods:

- materialised: logits = h @ W.T -> log_softmax -> `token_weights` (the reference), under no_grad;
- chunked: `chunked_token_weights(h, W, mask, G, chunk_size=...)` (with_grad=False);
- online: `OnlineTokenWeights.update` fed one (G, V) step at a time. During generation the sampler already
  holds each step's logits, so their cost is not counted here: they are drawn at random into one reused buffer
  (built before the memory baseline), outside the timer.

The parent prints each method's figures, the ratios to the materialised formula, and the largest difference
between the chunked and the materialised weights (same inputs; the online run sees other logits), all from this
one run.
The materialised formula needs about 5-7 GB: run this on a quiet machine.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

def rss_peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

def build_inputs(G, L, V, H, seed):
    import torch
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(G, L, H, generator=g)
    W = torch.randn(V, H, generator=g).mul_(H ** -0.5 * 3)     # logits with std ~3, peaked like a real LM's
    lengths = torch.randint(L // 4, L + 1, (G,), generator=g)
    lengths[0] = L                                              # the padded length is the longest member's
    mask = (torch.arange(L)[None] < lengths[:, None]).long()
    return h, W, mask

def worker(a):
    import torch
    from twgrpo.weighting import token_weights, chunked_token_weights, OnlineTokenWeights
    h, W, mask = build_inputs(a.G, a.L, a.V, a.H, a.seed)
    torch.mm(h[0, :2], W[:2].T)                                 # load the BLAS kernels before the baseline
    logits = torch.empty(a.G, a.V) if a.worker == "online" else None
    base = rss_peak_mb()
    if a.worker == "materialised":
        t0 = time.perf_counter()
        with torch.no_grad(): w = token_weights(torch.log_softmax(h @ W.T, -1), mask, a.G)
        secs = time.perf_counter() - t0
    elif a.worker == "chunked":
        t0 = time.perf_counter()
        w = chunked_token_weights(h, W, mask, a.G, chunk_size=a.chunk_size)
        secs = time.perf_counter() - t0
    else:
        acc, g, secs = OnlineTokenWeights(a.G), torch.Generator().manual_seed(a.seed + 1), 0.0
        for t in range(a.L):
            torch.randn(a.G, a.V, generator=g, out=logits).mul_(3)  # one step's logits: the sampler's memory (not timed)
            t0 = time.perf_counter(); acc.update(logits, mask[:, t].bool()); secs += time.perf_counter() - t0
        t0 = time.perf_counter(); w = acc.weights(mask); secs += time.perf_counter() - t0
    torch.save(w, a.out)
    print(json.dumps({"method": a.worker, "seconds": secs, "peak_above_inputs_mb": rss_peak_mb() - base,
                      "inputs_peak_mb": base}))

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--G", type=int, default=8); p.add_argument("--L", type=int, default=256)
    p.add_argument("--V", type=int, default=151_936); p.add_argument("--H", type=int, default=1024)
    p.add_argument("--chunk-size", type=int, default=16); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="materialised,chunked,online")
    p.add_argument("--worker"); p.add_argument("--out")
    a = p.parse_args()
    if a.worker: return worker(a)
    import torch
    print(f"G={a.G} L={a.L} V={a.V:,} H={a.H} float32, chunk_size={a.chunk_size}, torch threads={torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs")
    res, ws = {}, {}
    with tempfile.TemporaryDirectory() as d:
        for m in a.methods.split(","):
            out = str(Path(d) / f"{m}.pt")
            r = subprocess.run([sys.executable, __file__, "--worker", m, "--out", out, "--G", str(a.G), "--L", str(a.L),
                                "--V", str(a.V), "--H", str(a.H), "--chunk-size", str(a.chunk_size), "--seed", str(a.seed)],
                               capture_output=True, text=True)
            if r.returncode: sys.exit(f"{m} failed:\n{r.stderr}")
            res[m] = json.loads(r.stdout.strip().splitlines()[-1])
            ws[m] = torch.load(out, weights_only=True)
    ref = res.get("materialised")
    print(f"{'method':<13}{'seconds':>9}{'peak MB above inputs':>22}{'time ratio':>12}{'memory ratio':>14}{'max |dw|':>11}")
    for m, r in res.items():
        tr = f"{r['seconds'] / ref['seconds']:.3f}" if ref else "-"
        mr = f"{r['peak_above_inputs_mb'] / ref['peak_above_inputs_mb']:.3f}" if ref else "-"
        dw = f"{(ws[m] - ws['materialised']).abs().max().item():.1e}" if ref and m != "online" else "-"
        print(f"{m:<13}{r['seconds']:>9.2f}{r['peak_above_inputs_mb']:>22.0f}{tr:>12}{mr:>14}{dw:>11}")

if __name__ == "__main__": main()

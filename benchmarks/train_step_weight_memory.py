"""Extra memory of the token weights WITH their gradient (paper_clevrer_7b's weight_grad), at Qwen2.5-VL-7B's sizes.

`paper_clevrer_7b` computes the weights inside the training forward from the final hidden states and the LM head,
chunk by chunk of completion positions, each chunk checkpointed (recomputed in backward). This measures what that adds
above its inputs at the paper's sizes: G = 8 rows, vocabulary V = 152,064, hidden H = 3,584, float32 (the chunks
compute in float32 whatever the model's dtype), `weight_chunk_size` 16. Forward and backward (gradient to the hidden
states) run in a fresh subprocess per completion length C; memory is peak RSS after minus peak RSS once the inputs
(hidden states, LM head) exist (`resource.getrusage`, exact peaks). If the figure does not grow with C, then at the
paper's 4,096 positions it is the same (the weights themselves, 8 x 4,096 floats, are negligible): that step is
arithmetic, the figures at the lengths below are measured. CPU only here; a GPU allocator's peak was not measured.

    python benchmarks/train_step_weight_memory.py              # C = 16, 32, 64 (a few minutes on 2 cores)
"""
import argparse, json, resource, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(a):
    import torch
    sys.path.insert(0, str(ROOT))
    from twgrpo.weighting import chunked_token_weights
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    h = torch.randn(a.G, a.C, a.H, generator=g).requires_grad_(True)
    W = torch.randn(a.V, a.H, generator=g).mul_(a.H ** -0.5 * 3)
    lengths = torch.randint(1, a.C + 1, (a.G,), generator=g); lengths[0] = a.C
    mask = (torch.arange(a.C)[None] < lengths[:, None]).long()
    torch.mm(h[0, :2].detach(), W[:2].T)  # BLAS kernels loaded before the baseline
    base, t0 = rss_mb(), time.perf_counter()
    w = chunked_token_weights(h, W, mask, a.G, alpha=1.7, chunk_size=a.chunk, with_grad=True)
    (w * torch.randn(w.shape, generator=g)).sum().backward()
    print(json.dumps(dict(C=a.C, seconds=time.perf_counter() - t0, extra_mb=rss_mb() - base, inputs_mb=base,
                          grad_finite=bool(torch.isfinite(h.grad).all()))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lengths", default="16,32,64")
    p.add_argument("--G", type=int, default=8); p.add_argument("--V", type=int, default=152064)
    p.add_argument("--H", type=int, default=3584); p.add_argument("--chunk", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--worker", action="store_true"); p.add_argument("--C", type=int)
    a = p.parse_args()
    if a.worker: return worker(a)
    for C in map(int, a.lengths.split(",")):
        r = subprocess.run([sys.executable, __file__, "--worker", "--C", str(C), "--G", str(a.G), "--V", str(a.V), "--H", str(a.H),
                            "--chunk", str(a.chunk), "--threads", str(a.threads)], capture_output=True, text=True, check=True)
        m = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"G={a.G} V={a.V} H={a.H} chunk={a.chunk} C={C}: {m['extra_mb']:.0f} MB above the inputs "
              f"({m['inputs_mb']:.0f} MB), forward + backward {m['seconds']:.1f} s, gradient finite: {m['grad_finite']}")


if __name__ == "__main__":
    main()

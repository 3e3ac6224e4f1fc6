"""TW-GRPO training step vs the same trainer with weighting off, on this CPU, in one run.

A small Qwen2.5-VL (random weights) whose vocabulary is 32,768 entries, so that the LM head and everything of
size V (the online weights' per-step reduction) carry their real weight in the step; video prompts (4 frames);
G = 8 completions of 64 tokens per step. Videos are mp4 files, as in real runs (decoded by the trainer). Each configuration runs in its own process (peak RSS is per process),
alternating, repeated; the script prints the median step time and peak memory of each and their ratios.

    python benchmarks/train_step.py                 # defaults: 2 repeats x (2 warm-up + 6 timed steps)
    python benchmarks/train_step.py --repeats 3 --steps 8 --hidden 512
"""
import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path

MODES = {"off": dict(weighting_scheme="none"), "twgrpo": dict(weighting_scheme="faithful", weight_mode="online")}


def build_model(out_dir, vocab, hidden, layers):
    "A random Qwen2.5-VL with a `vocab`-entry LM head around the tiny tokenizer (ids past the tokenizer decode to '')."
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration
    from twgrpo.tiny_model import build_tiny_processor, tiny_config, train_tiny_tokenizer
    tok = train_tiny_tokenizer()
    cfg = tiny_config(tok, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2)
    cfg.text_config.vocab_size = vocab
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(cfg)
    gc = model.generation_config
    gc.eos_token_id, gc.pad_token_id, gc.bos_token_id = tok.eos_token_id, tok.pad_token_id, tok.pad_token_id
    model.save_pretrained(out_dir)
    build_tiny_processor(tok).save_pretrained(out_dir)
    return sum(p.numel() for p in model.parameters())


def worker(args):
    "Train `warmup + steps` steps in this process; print one JSON line with the step times and memory."
    import numpy as np, torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from twgrpo.config import TWGRPOConfig
    from twgrpo.trainer import TWGRPOTrainer
    torch.set_num_threads(args.threads)
    from twgrpo.video import write_video
    rng, videos = np.random.default_rng(0), Path(args.model) / "videos"
    rows = []
    for i in range(args.warmup + args.steps):  # one prompt (one group) per step, each with its own 2 s video
        path = write_video(videos / f"v{i}.mp4", rng.integers(0, 255, (4, 56, 56, 3), dtype=np.uint8), fps=2.0)
        rows.append({"prompt": [{"role": "user", "content": [{"type": "video", "video": str(path)},
                     {"type": "text", "text": "Which colours appear? A. red B. green C. blue D. yellow"}]}],
                     "solution": "<answer>A</answer>"})

    def noise(completions, **kw):  # deterministic in the text, varied between completions: non-zero advantages
        return [(hash(c[0]["content"]) % 1000) / 1000 for c in completions]

    times = []
    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k): self.t = time.perf_counter()
        def on_step_end(self, *a, **k): times.append(time.perf_counter() - self.t)

    cfg = TWGRPOConfig(output_dir=tempfile.mkdtemp(), use_cpu=True, bf16=False, activation_checkpointing=False,
                       report_to=[], save_strategy="no", logging_steps=1, per_device_train_batch_size=args.G,
                       num_generations=args.G, max_completion_length=args.length, max_steps=args.warmup + args.steps,
                       learning_rate=1e-5, freeze_vision=True, seed=0, weights_log_steps=0,
                       video_nframes=4, video_min_pixels=56 * 56, video_max_pixels=56 * 56, **MODES[args.worker])
    trainer = TWGRPOTrainer(args.model, [noise], cfg, train_dataset=Dataset.from_list(rows), callbacks=[Clock()])
    ready_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    trainer.train()
    logs = [h for h in trainer.state.log_history if "completions/mean_length" in h]
    print(json.dumps(dict(mode=args.worker, step_s=times[args.warmup:], ready_mb=ready_kb / 1024,
                          peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          mean_length=statistics.mean(h["completions/mean_length"] for h in logs),
                          mean_weight=statistics.mean(h.get("weights/mean", 1.0) for h in logs))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--vocab", type=int, default=32768, help="LM head size (>= 32k so it matters)")
    p.add_argument("--hidden", type=int, default=256, help="text hidden size")
    p.add_argument("--layers", type=int, default=2, help="text decoder layers")
    p.add_argument("--G", type=int, default=8, help="num_generations (one prompt per step)")
    p.add_argument("--length", type=int, default=64, help="completion tokens (the random model never stops early)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per process")
    p.add_argument("--steps", type=int, default=6, help="timed steps per process")
    p.add_argument("--repeats", type=int, default=2, help="processes per configuration, alternating")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    args = p.parse_args()
    if args.worker: return worker(args)

    model_dir = tempfile.mkdtemp(prefix="twgrpo-bench-")
    n_params = build_model(model_dir, args.vocab, args.hidden, args.layers)
    print(f"model: Qwen2.5-VL (random), vocab {args.vocab}, hidden {args.hidden}, {args.layers} layers, "
          f"{n_params / 1e6:.1f}M parameters; G={args.G}, {args.length} completion tokens, 4-frame videos; "
          f"{args.threads} thread(s); {args.repeats} x {args.steps} timed steps per configuration", flush=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "false"}
    results = {m: [] for m in MODES}
    for r in range(args.repeats):
        for mode in MODES:
            cmd = [sys.executable, __file__, "--worker", mode, "--model", model_dir, *sys.argv[1:]]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode: sys.exit(f"{mode} run failed:\n{out.stderr[-4000:]}")
            res = json.loads(out.stdout.strip().splitlines()[-1])
            results[mode].append(res)
            print(f"  run {r + 1} {mode:7s}: median step {statistics.median(res['step_s']):.3f} s, "
                  f"peak RSS {res['peak_mb']:.0f} MB (after setup {res['ready_mb']:.0f} MB), "
                  f"mean completion {res['mean_length']:.0f} tokens, mean token weight {res['mean_weight']:.3f}", flush=True)
    summary = {}
    for mode, runs in results.items():
        summary[mode] = dict(step_s=statistics.median([t for r in runs for t in r["step_s"]]),
                             peak_mb=max(r["peak_mb"] for r in runs),
                             train_mb=max(r["peak_mb"] - r["ready_mb"] for r in runs))
    off, tw = summary["off"], summary["twgrpo"]
    print(f"\nweighting off : median step {off['step_s']:.3f} s, peak RSS {off['peak_mb']:.0f} MB "
          f"(+{off['train_mb']:.0f} MB during training)")
    print(f"TW-GRPO online: median step {tw['step_s']:.3f} s, peak RSS {tw['peak_mb']:.0f} MB "
          f"(+{tw['train_mb']:.0f} MB during training)")
    print(f"ratio TW-GRPO / off: time {tw['step_s'] / off['step_s']:.3f}x (target <= 1.10), "
          f"peak memory {tw['peak_mb'] / off['peak_mb']:.3f}x (target <= 1.05)")


if __name__ == "__main__":
    main()

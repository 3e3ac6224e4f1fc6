"""TW-GRPO training step vs weighting off on one CUDA GPU, with a randomly initialised Qwen2.5-VL of the 7B shape.

No weights are downloaded: the model is built from a config of Qwen2.5-VL-7B-Instruct's dimensions (text: hidden
3584, 28 layers, 28 heads, 4 KV heads, MLP 18944, vocabulary 152,064; vision: 32 blocks of width 1280) with
random weights, in bf16, around the tiny offline tokenizer (sampled ids past it decode to ''). Prompts carry a
video (16 frames of 476 x 308 by default, the paper's CLEVRER setting: ~1.5k video tokens). The random policy
never stops early, so every completion is `--length` tokens. Each configuration runs in its own process (peak
memory is per process), alternating; the script prints completion tokens per second, median step time and peak
GPU memory of each, and the ratios.

    python benchmarks/train_step_cuda.py                       # full 7B shape: needs an 80 GB GPU
    python benchmarks/train_step_cuda.py --layers 8            # fewer text layers (same vocabulary and width)
    python benchmarks/train_step_cuda.py --modes off,twgrpo,twgrpo_grad   # also the non-detached (chunked) weights
    python benchmarks/train_step_cuda.py --smoke               # tiny dimensions on CPU: checks the script runs

Without a CUDA device (and without --smoke) it prints why and exits 0.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

MODES = {"off": dict(weighting_scheme="none"),
         "twgrpo": dict(weighting_scheme="faithful", weight_mode="online"),
         "twgrpo_grad": dict(weighting_scheme="faithful", weight_grad=True)}
SHAPE_7B = dict(hidden=3584, intermediate=18944, layers=28, heads=28, kv_heads=4, vocab=152064,
                vision_depth=32, vision_hidden=1280, vision_intermediate=3420, vision_heads=16)
SHAPE_SMOKE = dict(hidden=64, intermediate=128, layers=1, heads=4, kv_heads=2, vocab=32768,
                   vision_depth=1, vision_hidden=32, vision_intermediate=64, vision_heads=2)


def qwen25_vl_config(tok, s):
    "A Qwen2_5_VLConfig of shape `s`, wired to the special tokens of `tok`."
    from transformers import Qwen2_5_VLConfig
    from twgrpo.tiny_model import QWEN_SPECIAL_TOKENS
    ids = {t: tok.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    half = s["hidden"] // s["heads"] // 2  # 64 for the 7B: mrope_section [16, 24, 24]
    section = [half - 2 * (3 * half // 8), 3 * half // 8, 3 * half // 8]
    depth = s["vision_depth"]
    return Qwen2_5_VLConfig(
        text_config=dict(vocab_size=s["vocab"], hidden_size=s["hidden"], intermediate_size=s["intermediate"],
                         num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
                         num_key_value_heads=s["kv_heads"], max_position_embeddings=128000, rms_norm_eps=1e-6,
                         rope_parameters=dict(rope_type="default", rope_theta=1000000.0, mrope_section=section),
                         bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                         pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=False),
        vision_config=dict(depth=depth, hidden_size=s["vision_hidden"], intermediate_size=s["vision_intermediate"],
                           num_heads=s["vision_heads"], out_hidden_size=s["hidden"], patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                           fullatt_block_indexes=[i for i in (7, 15, 23, 31) if i < depth] or [depth - 1]),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False)


def worker(args):
    import numpy as np, torch
    from datasets import Dataset
    from transformers import Qwen2_5_VLForConditionalGeneration, TrainerCallback
    from twgrpo.config import TWGRPOConfig
    from twgrpo.tiny_model import build_tiny_processor, train_tiny_tokenizer
    from twgrpo.trainer import TWGRPOTrainer
    cuda = not args.smoke
    shape = dict(SHAPE_SMOKE if args.smoke else SHAPE_7B)
    if args.layers: shape["layers"] = args.layers
    tok = train_tiny_tokenizer()
    processor = build_tiny_processor(tok, min_pixels=28 * 28 * 4, max_pixels=args.width * args.height)
    cfg = qwen25_vl_config(tok, shape)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if cuda else torch.float32
    with torch.device("cuda" if cuda else "cpu"):
        model = Qwen2_5_VLForConditionalGeneration._from_config(cfg, dtype=dtype, attn_implementation="sdpa")
    gc = model.generation_config
    gc.eos_token_id, gc.pad_token_id, gc.bos_token_id = tok.eos_token_id, tok.pad_token_id, tok.pad_token_id
    n_params = sum(p.numel() for p in model.parameters())

    from twgrpo.video import write_video
    rng, videos = np.random.default_rng(0), Path(args.workdir) / "videos"
    rows = []
    for i in range(args.warmup + args.steps):  # one prompt (one group) per step, each with its own video
        path = videos / f"v{i}.mp4"
        if not path.exists():
            write_video(path, rng.integers(0, 255, (args.frames, args.height, args.width, 3), dtype=np.uint8), fps=2.0)
        rows.append({"prompt": [{"role": "user", "content": [{"type": "video", "video": str(path)},
                     {"type": "text", "text": "Which of the following will happen if the red cube is removed?"}]}],
                     "solution": "<answer>A</answer>"})

    def noise(completions, **kw):
        return [(hash(c[0]["content"]) % 1000) / 1000 for c in completions]

    times = []
    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            if cuda: torch.cuda.synchronize()
            self.t = time.perf_counter()
        def on_step_end(self, *a, **k):
            if cuda: torch.cuda.synchronize()
            times.append(time.perf_counter() - self.t)

    targs = TWGRPOConfig(output_dir=tempfile.mkdtemp(), use_cpu=not cuda, bf16=cuda, report_to=[], save_strategy="no",
                         logging_steps=1, per_device_train_batch_size=args.G, num_generations=args.G,
                         max_completion_length=args.length, max_steps=args.warmup + args.steps, learning_rate=1e-6,
                         activation_checkpointing=True, freeze_vision=True, seed=0, weights_log_steps=0,
                         video_nframes=args.frames, video_min_pixels=28 * 28 * 4, video_max_pixels=args.width * args.height,
                         frame_cache_dir=str(Path(args.workdir) / "frames"),
                         optim=args.optim, **MODES[args.worker])
    trainer = TWGRPOTrainer(model, [noise], targs, train_dataset=Dataset.from_list(rows), processing_class=processor,
                            callbacks=[Clock()])
    if cuda: torch.cuda.reset_peak_memory_stats()
    trainer.train()
    logs = [h for h in trainer.state.log_history if "completions/mean_length" in h]
    print(json.dumps(dict(mode=args.worker, params=n_params, shape=shape, step_s=times[args.warmup:],
                          completion_tokens=args.G * statistics.mean(h["completions/mean_length"] for h in logs[args.warmup:]),
                          peak_gb=torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan"),
                          device=torch.cuda.get_device_name() if cuda else "cpu (smoke)")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--modes", default="off,twgrpo", help="comma-separated, among " + ", ".join(MODES))
    p.add_argument("--layers", type=int, default=None, help="text decoder layers (default: the 7B's 28)")
    p.add_argument("--G", type=int, default=8, help="num_generations (one prompt per step, as in the paper)")
    p.add_argument("--length", type=int, default=256, help="completion tokens")
    p.add_argument("--frames", type=int, default=16, help="video frames")
    p.add_argument("--width", type=int, default=476, help="frame width (multiple of 28)")
    p.add_argument("--height", type=int, default=308, help="frame height (multiple of 28)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per process")
    p.add_argument("--steps", type=int, default=3, help="timed steps per process")
    p.add_argument("--repeats", type=int, default=1, help="processes per configuration, alternating")
    p.add_argument("--optim", default="adamw_torch", help="TrainingArguments.optim (e.g. adafactor to save memory)")
    p.add_argument("--smoke", action="store_true", help="tiny dimensions on CPU, to check the script")
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker: return worker(args)
    if not args.smoke:
        import torch
        if not torch.cuda.is_available():
            print("train_step_cuda.py: no CUDA device here, skipped (run it on a GPU machine, or with --smoke on CPU).")
            return
    modes = args.modes.split(",")
    if unknown := set(modes) - set(MODES): sys.exit(f"unknown mode(s) {sorted(unknown)}; choose among {list(MODES)}")
    if args.smoke: args.frames, args.width, args.height, args.length, args.steps = 4, 56, 56, 16, 2
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    workdir = tempfile.mkdtemp(prefix="twgrpo-bench-cuda-")
    passed = [f"--{k}={v}" for k, v in vars(args).items() if k not in ("worker", "modes", "smoke", "workdir") and v is not None]
    results = {m: [] for m in modes}
    for r in range(args.repeats):
        for mode in modes:
            cmd = [sys.executable, __file__, "--worker", mode, f"--workdir={workdir}", *passed, *(["--smoke"] if args.smoke else [])]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode: sys.exit(f"{mode} run failed:\n{out.stderr[-4000:]}")
            res = json.loads(out.stdout.strip().splitlines()[-1])
            results[mode].append(res)
            if r == 0 and mode == modes[0]:
                print(f"device: {res['device']}; Qwen2.5-VL random weights, {res['params'] / 1e6:,.0f}M parameters, "
                      f"shape {res['shape']}; G={args.G}, {args.length} completion tokens, {args.frames} frames of "
                      f"{args.width} x {args.height}", flush=True)
            print(f"  run {r + 1} {mode:12s}: median step {statistics.median(res['step_s']):.2f} s, "
                  f"peak GPU memory {res['peak_gb']:.1f} GiB", flush=True)
    summary = {}
    for mode, runs in results.items():
        step = statistics.median([t for r in runs for t in r["step_s"]])
        summary[mode] = dict(step=step, tok_s=statistics.mean(r["completion_tokens"] for r in runs) / step,
                             peak=max(r["peak_gb"] for r in runs))
        print(f"{mode:12s}: {summary[mode]['tok_s']:.1f} completion tokens/s, median step {step:.2f} s, "
              f"peak GPU memory {summary[mode]['peak']:.1f} GiB")
    if "off" in summary:
        for mode in summary:
            if mode == "off": continue
            print(f"ratio {mode} / off: time {summary[mode]['step'] / summary['off']['step']:.3f}x (target <= 1.10), "
                  f"peak memory {summary[mode]['peak'] / summary['off']['peak']:.3f}x (target <= 1.05)")


if __name__ == "__main__":
    main()

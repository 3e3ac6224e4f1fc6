"""Our own transcription of the reference's loss, for tests only (it is not part of the package).

Transcribed from the paper's public code, `longmalongma/TW-GRPO`, file `src/open_r1/trainer/grpo_trainer.py`:
`Qwen2VLGRPOTrainer.compute_loss` (one device's batch: one prompt, its G completions as `generate` returned them) and
`compute_token_importance_kl_logs_uniform` (the token weights). Written from reading that code, step by step:

- log-probs: one forward of prompt + completion with the video tensors and NO attention mask, full-vocabulary
  `log_softmax` of every position's logits, the completion part kept (`per_logps`, with gradient);
- old log-probs = the current ones detached (ratio 1 in value), beta = 0;
- advantages: rewards summed over functions, (r - group mean) / (group std, unbiased, + 1e-4);
- per-token loss: -min(rho A, clamp(rho, 1 - 0.2, 1 + 0.28) A);
- mask: 1 up to and including the first `processing_class.eos_token_id` (the tokenizer's EOS) of each completion,
  all ones when there is none;
- `loss_type tw_grpo`: weights from the group's log-probs (uniform -log V where the mask is 0, group mean, clamped
  log-ratio, k3 summed over the vocabulary, mean over the group, min-max over all padded positions,
  w = 1 + (alpha - 1) * Dhat, times the mask), loss = sum(L w m) / sum(m);
- `loss_type grpo`: loss = mean over completions of sum_t(L m) / sum_t(m).

`main()` is what `tests/test_trainer.py` launches with `accelerate launch --multi_gpu --num_processes 2` (gloo): one
training step per loss setting, saving each rank's scored batch and the gradients the optimiser would apply.
"""
import json, math, os, sys, tempfile
from pathlib import Path

import torch

# the settings of a preset that decide its loss and its sampling (the rest is data, model size, schedule, launch)
LOSS_SETTINGS = ("alpha", "allow_inverse_weights", "inverse_reading", "weighting_scheme", "weight_grad", "weight_mode",
                 "aggregation", "completion_mask_eos", "freeze_vision", "top_k", "top_p", "temperature", "epsilon",
                 "epsilon_high", "beta", "scale_rewards", "num_iterations")


def reference_token_weights(per_logps, completion_mask, num_generations, max_weight):
    "compute_token_importance_kl_logs_uniform, transcribed."
    total, length, vocab = per_logps.shape
    if total % num_generations: return torch.ones_like(per_logps[..., 0])
    grouped = per_logps.view(total // num_generations, num_generations, length, vocab)
    masks = completion_mask.view(total // num_generations, num_generations, length).unsqueeze(-1)
    uniform = torch.full_like(grouped, -math.log(vocab))
    masked = torch.where(masks == 1, grouped, uniform)
    mean = masked.mean(dim=1, keepdim=True)
    diff = torch.clamp(mean - masked, min=-11.0, max=11.0)
    token_kl = (torch.exp(diff) - diff - 1).sum(dim=-1).mean(dim=1)
    lo, hi = token_kl.min(dim=1, keepdim=True)[0], token_kl.max(dim=1, keepdim=True)[0]
    weights = 1.0 + (max_weight - 1.0) * (token_kl - lo) / (hi - lo + 1e-8)
    return weights.repeat_interleave(num_generations, dim=0) * completion_mask


def reference_loss(model, batch:dict, rewards:torch.Tensor, num_generations:int, loss_type:str, alpha:float,
                   eos_token_id:int, video_token_id:int, detach_weights:bool=False):
    """The reference's loss of one device's batch (its gradient flows into `model`). `batch`: the kit's scored batch
    (prompt_ids, completion_ids as generated and padded with the pad id, per-row video tensors); `rewards` (B, F)."""
    prompt_ids, completion_ids = batch["prompt_ids"], batch["completion_ids"]
    assert (batch["prompt_mask"] == 1).all(), "one prompt per device: no prompt padding"
    ids = torch.cat([prompt_ids, completion_ids], 1)
    video = dict(pixel_values_videos=torch.cat(list(batch["pixel_values_videos"])),
                 video_grid_thw=torch.cat(list(batch["video_grid_thw"])),
                 second_per_grid_ts=torch.cat(list(batch["second_per_grid_ts"])),
                 mm_token_type_ids=(ids == video_token_id).long() * 2)  # transformers 5 needs it for the 3-D positions
    logits = model(input_ids=ids, **video).logits[:, :-1].float()
    per_logps = logits.log_softmax(-1)
    per_token_logps = torch.gather(per_logps, 2, ids[:, 1:, None]).squeeze(2)
    P = prompt_ids.size(1)
    per_token_logps, per_logps = per_token_logps[:, P - 1:], per_logps[:, P - 1:]
    r = rewards.sum(1)
    mean = r.view(-1, num_generations).mean(1).repeat_interleave(num_generations)
    std = r.view(-1, num_generations).std(1).repeat_interleave(num_generations)
    advantages = (r - mean) / (std + 1e-4)
    coef_1 = torch.exp(per_token_logps - per_token_logps.detach())
    coef_2 = torch.clamp(coef_1, 1 - 0.2, 1 + 0.28)
    per_token_loss = -torch.min(coef_1 * advantages[:, None], coef_2 * advantages[:, None])
    is_eos = completion_ids == eos_token_id
    eos_idx = torch.full((is_eos.size(0),), is_eos.size(1), dtype=torch.long)
    eos_idx[is_eos.any(1)] = is_eos.int().argmax(1)[is_eos.any(1)]
    mask = (torch.arange(is_eos.size(1)).expand(is_eos.size(0), -1) <= eos_idx[:, None]).int()
    if loss_type == "grpo":
        return ((per_token_loss * mask).sum(1) / mask.sum(1)).mean(), advantages, mask
    w = reference_token_weights(per_logps, mask, num_generations, alpha)
    if detach_weights: w = w.detach()
    return (per_token_loss * w * mask).sum() / mask.sum(), advantages, mask


def eos_model(path):
    """The tiny model with its two EOS logits raised, so that completions end at different lengths, some at the
    tokenizer's EOS (<|im_end|>) and some at <|endoftext|>, which generation also stops at (as Qwen2.5-VL's
    generation config says: eos_token_id [<|im_end|>, <|endoftext|>]); saved to `path`."""
    from twgrpo.tiny_model import load_tiny
    model, processor = load_tiny()
    tok = processor.tokenizer
    frames = torch.randint(0, 255, (4, 56, 56, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)).numpy()
    text = processor.apply_chat_template([{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Which?"}]}],
                                         add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], videos=[frames], return_tensors="pt", videos_kwargs=dict(fps=2.0, do_sample_frames=False))
    end_of_text = tok.convert_tokens_to_ids("<|endoftext|>")
    with torch.no_grad():
        h = model.model(**inputs).last_hidden_state[0].mean(0)
        model.lm_head.weight[tok.eos_token_id] = h * 7.0 / h.norm() ** 2
        model.lm_head.weight[end_of_text] = h * 6.0 / h.norm() ** 2
    model.generation_config.eos_token_id = [tok.eos_token_id, end_of_text]
    model.save_pretrained(path); processor.save_pretrained(path)
    return path


def variety(completions, **kw):
    "A reward that differs between completions of a random model (non-zero advantages, hence gradients)."
    return [len(set(c[0]["content"])) / 10 for c in completions]


def preset_loss_settings(name:str) -> dict:
    "The loss and sampling settings of preset `name`, as `parse_train_args` resolves them."
    from twgrpo.config import parse_train_args
    _, cfg, _ = parse_train_args(["--config", name, "--use_cpu", "true", "--output_dir", tempfile.mkdtemp()])
    return {k: getattr(cfg, k) for k in LOSS_SETTINGS}


def tiny_dataset():
    from twgrpo.config import TWGRPOScriptArguments
    from twgrpo.train import build_train_dataset, load_train_records
    from twgrpo.video import TINY
    records, root = load_train_records(TWGRPOScriptArguments(dataset="synthetic:clevrer", synthetic_videos=4,
                                                             categories=["counterfactual"]))
    return build_train_dataset(records, TINY, "paper", root)


def tiny_trainer(model_dir, dataset, settings:dict, **kw):
    "A TWGRPOTrainer on the saved tiny model with a preset's loss settings: one group of 4 per process and micro-batch."
    from twgrpo.config import TWGRPOConfig
    from twgrpo.trainer import TWGRPOTrainer
    from twgrpo.video import TINY
    cfg = dict(output_dir=tempfile.mkdtemp(), use_cpu=True, bf16=False, activation_checkpointing=False, report_to=[],
               save_strategy="no", per_device_train_batch_size=4, num_generations=4, max_completion_length=12,
               max_steps=1, logging_steps=1, learning_rate=1e-3, seed=0, video_nframes=4, max_grad_norm=0.0,
               video_min_pixels=TINY.min_pixels, video_max_pixels=TINY.max_pixels, disable_tqdm=True, weights_log_steps=0)
    return TWGRPOTrainer(str(model_dir), [variety, "format"], TWGRPOConfig(**{**cfg, **settings, **kw}), train_dataset=dataset)


def reference_of(settings:dict) -> dict:
    "How the reference computes the loss of these settings: loss type, alpha, whether its weights are detached."
    return dict(loss_type="grpo" if settings["aggregation"] == "sequence_mean" else "tw_grpo", alpha=settings["alpha"],
                detach_weights=not settings["weight_grad"])


def main(model_dir, out_dir, *names):
    "One step per preset's loss settings under accelerate; each rank saves its batch, its rewards, the applied gradient."
    from transformers import TrainerCallback
    from twgrpo.trainer import TWGRPOTrainer
    dataset, rank = tiny_dataset(), int(os.environ.get("RANK", "0"))
    for name in names:
        tr = tiny_trainer(model_dir, dataset, preset_loss_settings(name))
        seen = {}
        generate = tr._generate_and_score_completions
        def spy(inputs, generate=generate, seen=seen):
            out = generate(inputs)
            n = out["completion_ids"].size(0)
            seen["batch"] = {k: v for k, v in out.items() if isinstance(v, (torch.Tensor, list))}
            seen["rewards"] = tr._rollout["rewards_per_func"][rank * n:(rank + 1) * n].clone()
            return out
        tr._generate_and_score_completions = spy
        class Grads(TrainerCallback):
            def on_pre_optimizer_step(self, args, state, control, **kw):
                seen["grads"] = {n: p.grad.detach().clone() for n, p in tr.model.named_parameters() if p.grad is not None}
        tr.add_callback(Grads())
        tr.train()
        torch.save(seen, Path(out_dir) / f"{name}.rank{rank}.pt")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main(*sys.argv[1:])

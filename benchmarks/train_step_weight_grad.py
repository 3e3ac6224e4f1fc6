"""How much of the reference's gradient detached token weights drop (paper_clevrer_7b vs paper_clevrer_7b_detached).

The reference never detaches its token weights: they are built from the policy's own log-probs, so its gradient has a
term through them. `paper_clevrer_7b` keeps it (`weight_grad: true`); `paper_clevrer_7b_detached` drops it. This
measures the size of the dropped term, on the tiny Qwen2.5-VL whose two EOS logits are raised (completions of unequal
length, some ended at <|endoftext|>: the term is zero only when all members of a group have the same length), with
the presets' own loss settings: for each seed, one scored batch (one group of G = 8, as the paper), then the gradient of one step both
ways on the same batch, and their relative difference ||g_reference - g_detached|| / ||g_reference||. The figure is
the tiny model's: on Qwen2.5-VL-7B it was not measured (no GPU here).

    python benchmarks/train_step_weight_grad.py            # 12 seeds, G = 8
    python benchmarks/train_step_weight_grad.py --seeds 24 --group 4
"""
import argparse, statistics, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=12)
    p.add_argument("--group", type=int, default=8, help="G: completions per prompt (the paper: 8)")
    a = p.parse_args()
    import torch, transformers
    transformers.utils.logging.set_verbosity_error()
    torch.set_num_threads(1)
    import reference_loss as R
    model_dir, dataset = R.eos_model(tempfile.mkdtemp()), R.tiny_dataset()
    settings = R.preset_loss_settings("paper_clevrer_7b")
    rel, lengths = [], []
    for seed in range(a.seeds):
        tr = R.tiny_trainer(model_dir, dataset, settings, seed=seed, num_generations=a.group, per_device_train_batch_size=a.group)
        tr.model.train()
        out = tr._generate_and_score_completions(next(iter(tr.get_train_dataloader())))
        tr.current_gradient_accumulation_steps = 1
        params = [q for q in tr.model.parameters() if q.requires_grad]
        def grad(batch, live):
            tr.args.weight_grad = live
            tr.model.zero_grad()
            tr._compute_loss(tr.model, batch).backward()
            return torch.cat([(q.grad if q.grad is not None else torch.zeros_like(q)).flatten() for q in params])
        g_ref = grad(out, True)
        g_det = grad({**out, "token_weights": tr.rollout_token_weights(out, "chunked")}, False)
        lens = out["completion_mask"].sum(1).tolist()
        if g_ref.norm() == 0:
            print(f"seed {seed}: completion lengths {lens}, every reward equal: no gradient (skipped)")
            continue
        rel.append(float((g_ref - g_det).norm() / g_ref.norm()))
        print(f"seed {seed}: completion lengths {lens}, dropped term {rel[-1]:.1%} of the gradient norm")
    print(f"G = {a.group}, {len(rel)} of {a.seeds} seeds with a gradient: dropped term mean {statistics.mean(rel):.1%}, "
          f"median {statistics.median(rel):.1%}, min {min(rel):.1%}, max {max(rel):.1%} of the reference's gradient norm")


if __name__ == "__main__":
    main()

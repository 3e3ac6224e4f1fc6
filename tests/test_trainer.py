"""TWGRPOTrainer end to end on this CPU: video through the training forward, token weights (online = chunked =
reference, 1 process = 2 processes), the TW-GRPO loss, LoRA, beta > 0, and one step of every preset's loss settings
against our transcription of the reference's loss (1 and 2 processes). Runs and the command: tests/test_train.py;
presets and configs: tests/test_config.py."""
import json, os, shutil, subprocess, sys, tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from twgrpo.config import PRESETS, TWGRPOConfig, TWGRPOScriptArguments
from twgrpo.tiny_model import load_tiny, tiny_model_path
from twgrpo.train import build_train_dataset, load_train_records
from twgrpo.trainer import VIDEO_KEYS, TWGRPOTrainer, twgrpo_loss
from twgrpo.video import TINY

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_loss as R

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def variety(completions, **kw):
    "A reward that differs between completions of a random model (non-zero advantages, hence gradients)."
    return [len(set(c[0]["content"])) / 10 for c in completions]


@pytest.fixture(scope="module")
def data():
    records, root = load_train_records(TWGRPOScriptArguments(dataset="synthetic:clevrer", synthetic_videos=4,
                                                             categories=["counterfactual"]))
    return records, root, build_train_dataset(records, TINY, "paper", root)


@pytest.fixture(scope="module")
def eos_model_dir(tmp_path_factory):
    "The tiny model with its EOS logit raised, so that completions end at different lengths; saved (for CLI runs)."
    model, processor = load_tiny()
    frames = torch.randint(0, 255, (4, 56, 56, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)).numpy()
    text = processor.apply_chat_template([{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Which?"}]}],
                                         add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], videos=[frames], return_tensors="pt", videos_kwargs=dict(fps=2.0, do_sample_frames=False))
    with torch.no_grad():
        h = model.model(**inputs).last_hidden_state[0].mean(0)
        model.lm_head.weight[processor.tokenizer.eos_token_id] = h * 8.0 / h.norm() ** 2  # EOS becomes likely: lengths 1-16
    path = tmp_path_factory.mktemp("tiny-eos")
    model.save_pretrained(path); processor.save_pretrained(path)
    return path


def trainer_for(data, model=None, reward_funcs=None, **kw):
    _, _, dataset = data
    cfg = dict(output_dir=tempfile.mkdtemp(), use_cpu=True, bf16=False, activation_checkpointing=False, report_to=[],
               save_strategy="no", per_device_train_batch_size=4, num_generations=4, max_completion_length=12,
               max_steps=1, logging_steps=1, learning_rate=1e-3, freeze_vision=False, seed=0, video_nframes=4,
               video_min_pixels=TINY.min_pixels, video_max_pixels=TINY.max_pixels)
    peft = kw.pop("peft", None)
    model = load_tiny()[0] if model is None else model
    processor = None if isinstance(model, str) else load_tiny()[1]
    return TWGRPOTrainer(model, reward_funcs or [variety, "format"], TWGRPOConfig(**{**cfg, **kw}),
                         train_dataset=dataset, processing_class=processor, peft_config=peft)


def scored_batch(trainer):
    trainer.model.train()
    return trainer._generate_and_score_completions(next(iter(trainer.get_train_dataloader())))


def vision_params(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if "visual." in n}


# ---- the video reaches the training forward

def test_vision_tower_trains_when_trainable(data):
    tr = trainer_for(data, max_steps=2)
    before = vision_params(tr.model)
    tr.train()
    after = vision_params(tr.model)
    assert len(before) > 0 and all(not torch.equal(before[n], after[n]) for n in before)


def test_vision_tower_frozen_by_default_name(data):
    tr = trainer_for(data, freeze_vision=True)
    before = vision_params(tr.model)
    assert not any(p.requires_grad for n, p in tr.model.named_parameters() if "visual." in n)
    tr.train()
    assert all(torch.equal(before[n], p) for n, p in vision_params(tr.model).items())


def test_loss_changes_when_the_video_pixels_change(data):
    tr = trainer_for(data)
    out = scored_batch(tr)
    out["old_per_token_logps"] = torch.full(out["completion_mask"].shape, -6.0)  # rho != 1, so the loss reads log-probs
    with torch.no_grad():
        loss = tr._compute_loss(tr.model, out)
        other = tr._compute_loss(tr.model, {**out, "pixel_values_videos": [p.flip(0) * 0.5 for p in out["pixel_values_videos"]]})
        again = tr._compute_loss(tr.model, out)
    assert torch.isfinite(loss) and abs(loss.item() - other.item()) > 1e-6
    assert loss.item() == again.item()


# ---- token weights

def test_online_weights_equal_chunked_and_reference(data, family_eos_dir):
    "Each family: the weights computed while sampling = the chunked evaluator's = the materialised reference's."
    tr = trainer_for(data, model=str(family_eos_dir), per_device_train_batch_size=8)
    out = scored_batch(tr)
    lengths = out["completion_mask"].sum(1)
    assert len(set(lengths.tolist())) > 1, "completions should end at different lengths for a meaningful check"
    w = out["token_weights"]
    torch.testing.assert_close(w, tr.rollout_token_weights(out, "chunked"), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(w, tr.rollout_token_weights(out, "reference"), atol=1e-4, rtol=1e-4)
    assert float(w.max()) <= 1.7 + 1e-5 and float(w[out["completion_mask"].bool()].min()) >= 1 - 1e-5
    for g in range(2):  # one weight per position, shared by the group
        rows = w[4 * g:4 * g + 4] * out["completion_mask"][4 * g:4 * g + 4]
        assert torch.allclose(rows.max(0).values * (rows > 0), rows)


# ---- each family: Qwen2.5-VL, Qwen3-VL, Qwen2-VL through the same trainer

EOS_SCALE = {"tiny": 8.0, "tiny-qwen3-vl": 8.0, "tiny-qwen2-vl": 16.0}  # found by trying: lengths 1-12 on each family's random weights

@pytest.fixture(scope="module", params=list(EOS_SCALE))
def family_eos_dir(request, tmp_path_factory):
    "Each family's tiny model with its EOS logit raised (completions end at different lengths), saved."
    from twgrpo.families import family_of, load_model, load_processor, processor_video_kwargs, resolve_model_path
    path = resolve_model_path(request.param)
    f, model, processor = family_of(path), load_model(path), load_processor(path)
    F = f.resize_factor
    frames = torch.randint(0, 255, (4, 2 * F, 2 * F, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)).numpy()
    text = processor.apply_chat_template([{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Which?"}]}],
                                         add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], return_tensors="pt", **processor_video_kwargs(f, frames, fps=2.0))
    with torch.no_grad():
        h = model.model(**inputs).last_hidden_state[0].mean(0)
        model.lm_head.weight[processor.tokenizer.eos_token_id] = h * EOS_SCALE[request.param] / h.norm() ** 2
    out = tmp_path_factory.mktemp(f"eos-{request.param}")
    model.save_pretrained(out); processor.save_pretrained(out)
    return out


def _unreachable(name, model):
    "Qwen3-VL's deepstack feature k is added after decoder layer k: the last layer's reaches only the video positions' own logits."
    import re
    m = re.search(r"deepstack_merger_list\.(\d+)\.", name)
    return m is not None and int(m.group(1)) >= model.config.text_config.num_hidden_layers - 1


def test_decoded_frames_in_a_prompt_are_sized_and_timed_like_a_file(data, family_eos_dir):
    "A video item holding frames (not a path) goes through the same resizing and the same processor call as a file's clip."
    from twgrpo.video import read_video
    tr = trainer_for(data, model=str(family_eos_dir))
    records, root, _ = data
    path = str(root / records[0]["video"])
    clip = read_video(path, tr.item_settings({}))
    frames = np.repeat(np.repeat(clip.frames, 2, axis=1), 2, axis=2)  # the same frames at twice the size: resized back
    ask = lambda video, **kw: tr.process_prompt([{"role": "user", "content": [{"type": "video", "video": video, **kw},
                                                                            {"type": "text", "text": "Which?"}]}])
    a, b = ask(path), ask(frames, fps=clip.fps)
    assert torch.equal(a["video_grid_thw"], b["video_grid_thw"]) and a.keys() == b.keys() and set(tr.video_keys) <= set(a)
    pad = tr._video_pad_token_id
    assert a["input_ids"].count(pad) == b["input_ids"].count(pad) > 0
    if tr.family.timing != "text_timestamps":  # Qwen3-VL writes times into the text: the file's source times, the frames' own
        assert a["input_ids"] == b["input_ids"]


def test_each_family_samples_with_video_and_vision_gradients(data, family_eos_dir):
    """One scored batch per family: the family's class and video tensors, per-row video in generation, no suppressed
    token sampled, vision-tower gradients non-zero when trainable and none when frozen (the weights themselves:
    `test_online_weights_equal_chunked_and_reference`)."""
    from twgrpo.families import family_of, is_vision_parameter
    tr = trainer_for(data, model=str(family_eos_dir), per_device_train_batch_size=8)
    fam = family_of(family_eos_dir)
    assert tr.family == fam and type(tr._base_model()).__name__ == fam.model_class and tr.video_keys == fam.video_keys
    out = scored_batch(tr)
    assert set(fam.video_keys) <= set(out) and len(out["video_grid_thw"]) == 8 and set(VIDEO_KEYS) - set(fam.video_keys) <= \
        set(VIDEO_KEYS) - set(out)
    assert not set(out["completion_ids"][out["completion_mask"].bool()].tolist()) & set(tr.suppress_token_ids)
    assert len(set(out["completion_mask"].sum(1).tolist())) > 1, "completions should end at different lengths"
    tr.current_gradient_accumulation_steps = 1
    tr._compute_loss(tr.model, out).backward()
    vision = {n: p for n, p in tr.model.named_parameters() if is_vision_parameter(n, fam)}
    reached = {n: p for n, p in vision.items() if not _unreachable(n, tr.model)}
    assert len(reached) > 10 and all(p.grad is not None and p.grad.abs().sum() > 0 for p in reached.values()), \
        [n for n, p in reached.items() if p.grad is None or p.grad.abs().sum() == 0]
    tr.model.zero_grad(set_to_none=True)
    assert tr.freeze_vision() == len(vision)
    tr._compute_loss(tr.model, out).backward()
    assert all(p.grad is None and not p.requires_grad for p in vision.values()) and tr.model.lm_head.weight.grad.abs().sum() > 0


def test_twgrpo_loss_by_hand():
    logps = torch.tensor([[-1.0, -2.0, -0.5], [-0.3, -0.7, 0.0]])
    old = logps.clone()
    old[0, 1] -= torch.log(torch.tensor(1.5))   # rho = 1.5, clipped at 1.28 for A > 0
    old[1, 0] -= torch.log(torch.tensor(0.5))   # rho = 0.5, clipped at 0.8 for A < 0
    A, mask = torch.tensor([1.0, -1.0]), torch.tensor([[1, 1, 1], [1, 1, 0]])
    w = torch.tensor([[1.0, 1.7, 1.2], [1.0, 1.5, 9.0]])  # the 9 is on padding: ignored
    loss, _ = twgrpo_loss(logps, A, mask, w, old, 0.2, 0.28)
    assert abs(loss.item() - (1 * -1 + 1.7 * -1.28 + 1.2 * -1 + 1 * 0.8 + 1.5 * 1) / 5) < 1e-6
    ref = logps - 0.1
    kl = torch.exp(ref - logps) - (ref - logps) - 1
    loss_b, _ = twgrpo_loss(logps, A, mask, w, old, 0.2, 0.28, beta=0.5, ref_per_token_logps=ref)
    assert abs(loss_b.item() - loss.item() - 0.5 * (w * mask * kl).sum().item() / 5) < 1e-6


def test_trl_aggregation_bnpo_equals_twgrpo(data):
    tr = trainer_for(data, loss_type="bnpo")
    out = scored_batch(tr)
    out["old_per_token_logps"] = torch.full(out["completion_mask"].shape, -6.0)
    tr.current_gradient_accumulation_steps = 1
    with torch.no_grad():
        ours = tr._compute_loss(tr.model, out)
        tr.args.aggregation = "trl"
        theirs = tr._compute_loss(tr.model, out)
    assert abs(ours.item() - theirs.item()) < 1e-5


def test_weight_gradient_only_adds_a_gradient(data, eos_model_dir):
    "weight_grad keeps the loss value and changes the gradient (members of unequal length)."
    tr = trainer_for(data, model=str(eos_model_dir), per_device_train_batch_size=8, weight_grad=True)
    assert tr.args.weight_mode == "chunked"
    out = scored_batch(tr)
    assert "token_weights" not in out and out["advantages"].abs().sum() > 0
    head = tr.model.lm_head.weight
    def loss_and_grad(batch, live):
        tr.args.weight_grad = live
        tr.model.zero_grad()
        loss = tr._compute_loss(tr.model, batch)
        loss.backward()
        return loss.item(), head.grad.clone()
    l_live, g_live = loss_and_grad(out, True)
    l_det, g_det = loss_and_grad({**out, "token_weights": tr.rollout_token_weights(out, "chunked")}, False)
    assert abs(l_live - l_det) < 1e-5
    assert (g_live - g_det).abs().max() > 1e-7
    tr.args.weight_grad = True
    tr.train()  # and a whole step runs (groups kept whole in the micro-batch)
    assert "weights/mean" in tr.state.log_history[0]


# ---- distribution: 2 processes give the 1-process weights

def _weights(out_dir):
    lines = [json.loads(l) for p in sorted(Path(out_dir).glob("token_weights.rank*.jsonl")) for l in open(p)]
    return {(l["group"], l["member"]): l for l in lines if l["round"] == 0}


def test_two_processes_match_one_process(family_eos_dir, tmp_path, free_port):
    "Each family: the token weights of 2 gloo processes (4 completions each) equal one process's (8), member by member."
    common = ["train", "--config", "tiny_cpu", "--model_name_or_path", str(family_eos_dir), "--synthetic_videos", "4",
              "--max_steps", "1", "--group_seeded_generation", "true", "--weights_log_groups", "-1"]
    one = subprocess.run([str(BIN / "twgrpo"), *common, "--output_dir", str(tmp_path / "one"),
                          "--per_device_train_batch_size", "8"], capture_output=True, text=True, timeout=300, env=ENV)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                          "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port),
                          str(BIN / "twgrpo"), *common, "--output_dir", str(tmp_path / "two"),
                          "--per_device_train_batch_size", "4"], capture_output=True, text=True, timeout=300, env=ENV)
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert sorted(a) == sorted(b) and len(a) == 8  # 2 groups x 4 members
    assert {l["process"] for l in b.values()} == {0, 1}
    assert len({len(l["token_ids"]) for l in a.values()}) > 1  # unequal lengths: the weights are not trivial
    for key in a:
        assert a[key]["token_ids"] == b[key]["token_ids"], key
        assert a[key]["id"] == b[key]["id"]
        torch.testing.assert_close(torch.tensor(a[key]["weights"]), torch.tensor(b[key]["weights"]), atol=1e-4, rtol=1e-4)


# ---- LoRA, reference model, resume

def test_lora_with_reference_kl(data):
    from peft import LoraConfig
    tr = trainer_for(data, model=str(tiny_model_path()), beta=0.1,
                     peft=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    lora = {n: p.detach().clone() for n, p in tr.model.named_parameters() if "lora_" in n and p.requires_grad}
    tr.train()
    assert lora and any(not torch.equal(lora[n], p) for n, p in tr.model.named_parameters() if n in lora)
    assert "kl" in tr.state.log_history[0]


def test_beta_with_reference_model_from_path(data):
    tr = trainer_for(data, model=str(tiny_model_path()), beta=0.1)
    assert tr.ref_model is not None
    tr.train()
    assert "kl" in tr.state.log_history[0]


# ---- one step of each preset's loss settings equals our transcription of the reference's loss (tests/reference_loss.py)

def _loss_setting_groups():
    "Presets grouped by their loss and sampling settings (presets that differ only in data or rewards share a step)."
    groups = {}
    for name in PRESETS:
        if name == "tiny_cpu": continue
        groups.setdefault(tuple(sorted(R.preset_loss_settings(name).items())), []).append(name)
    return groups


@pytest.fixture(scope="module")
def two_eos_model_dir(tmp_path_factory):
    return R.eos_model(tmp_path_factory.mktemp("tiny-two-eos"))


def _flat_grads(params):
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for _, p in params])


def _rel(a, b):
    return float((a - b).norm() / b.norm())


def test_preset_steps_equal_the_reference_loss(data, two_eos_model_dir):
    "Loss AND parameter gradients of one step, 1 process, every distinct loss setting of the paper and ablation presets."
    groups = _loss_setting_groups()
    assert {n for names in groups.values() for n in names} == set(PRESETS) - {"tiny_cpu"}
    for key, names in groups.items():
        settings = dict(key)
        tr = R.tiny_trainer(two_eos_model_dir, data[2], settings)
        out = scored_batch(tr)
        ids, mask = out["completion_ids"], out["completion_mask"]
        ended_at = [int(r[m.bool()][-1]) for r, m in zip(ids, mask)]
        assert tr._tokenizer.pad_token_id in ended_at and len(set(mask.sum(1).tolist())) > 1, ended_at  # the mask rule at work
        tr.current_gradient_accumulation_steps = 1
        params = [(n, p) for n, p in tr.model.named_parameters() if p.requires_grad]
        assert any("visual." in n for n, _ in params) != settings["freeze_vision"]
        ref = R.reference_of(settings)
        vid = tr._tokenizer.convert_tokens_to_ids("<|video_pad|>")
        tr.model.zero_grad(); ours = tr._compute_loss(tr.model, out); ours.backward(); g_ours = _flat_grads(params)
        tr.model.zero_grad()
        theirs, adv, ref_mask = R.reference_loss(tr.model, out, tr._rollout["rewards_per_func"], 4, ref["loss_type"], ref["alpha"],
                                                 tr._tokenizer.eos_token_id, vid, ref["detach_weights"])
        theirs.backward(); g_theirs = _flat_grads(params)
        assert torch.equal(ref_mask, mask.int()) and torch.allclose(adv, out["advantages"], atol=1e-6)
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7, msg=str(names))
        assert g_theirs.norm() > 0 and _rel(g_ours, g_theirs) < 1e-5, (names, _rel(g_ours, g_theirs))


def test_two_processes_equal_the_reference_loss(data, two_eos_model_dir, tmp_path, free_port):
    "The same under `accelerate launch --multi_gpu --num_processes 2` (gloo): the averaged gradient of the two ranks' groups."
    names = ["paper_clevrer_7b", "paper_clevrer_7b_detached", "paper_grpo_7b"]
    r = subprocess.run([str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port),
                        str(Path(__file__).parent / "reference_loss.py"), str(two_eos_model_dir), str(tmp_path), *names],
                       capture_output=True, text=True, timeout=600, env={**ENV, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr[-3000:]
    from transformers import AutoModelForImageTextToText
    for name in names:
        settings, ref = R.preset_loss_settings(name), None
        ref = R.reference_of(settings)
        ranks = [torch.load(tmp_path / f"{name}.rank{i}.pt", weights_only=False) for i in (0, 1)]
        assert not torch.equal(ranks[0]["batch"]["completion_ids"], ranks[1]["batch"]["completion_ids"])  # two groups
        model = AutoModelForImageTextToText.from_pretrained(two_eos_model_dir)  # the weights both ranks started from
        if settings["freeze_vision"]:
            for n, p in model.named_parameters(): p.requires_grad_("visual." not in n)
        from transformers import AutoTokenizer
        tok_eos, vid = AutoTokenizer.from_pretrained(two_eos_model_dir).eos_token_id, model.config.video_token_id
        model.zero_grad()
        for rank in ranks:  # DDP averages the ranks' gradients: the reference's 2 GPUs did the same
            loss, _, _ = R.reference_loss(model, rank["batch"], rank["rewards"], 4, ref["loss_type"], ref["alpha"], tok_eos, vid,
                                          ref["detach_weights"])
            (loss / 2).backward()
        want = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
        got = ranks[0]["grads"]
        assert set(got) == set(want), name
        g, w = torch.cat([got[n].flatten() for n in sorted(want)]), torch.cat([want[n].flatten() for n in sorted(want)])
        assert _rel(g, w) < 1e-5, (name, _rel(g, w))
        assert all(torch.equal(got[n], ranks[1]["grads"][n]) for n in got)  # both ranks apply the same averaged gradient

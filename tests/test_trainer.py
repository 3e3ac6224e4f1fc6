"""TWGRPOTrainer end to end on this CPU: video through the training forward, token weights (online = chunked =
reference, 1 process = 2 processes), the TW-GRPO loss, LoRA, beta > 0, resume, bad input, presets and configs."""
import json, os, shutil, socket, subprocess, sys, tempfile
from pathlib import Path

import pytest
import torch
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from twgrpo.config import PRESETS, TWGRPOConfig, TWGRPOScriptArguments, parse_train_args, preset_yaml
from twgrpo.tiny_model import load_tiny, tiny_model_path
from twgrpo.train import build_train_dataset, load_train_records, train_main
from twgrpo.trainer import VIDEO_KEYS, TWGRPOTrainer, twgrpo_loss
from twgrpo.video import TINY

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
    cfg = dict(output_dir=tempfile.mkdtemp(), use_cpu=True, bf16=False, gradient_checkpointing=False, report_to=[],
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

def test_online_weights_equal_chunked_and_reference(data, eos_model_dir):
    tr = trainer_for(data, model=str(eos_model_dir), per_device_train_batch_size=8)
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

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _weights(out_dir):
    lines = [json.loads(l) for p in sorted(Path(out_dir).glob("token_weights.rank*.jsonl")) for l in open(p)]
    return {(l["group"], l["member"]): l for l in lines if l["round"] == 0}


def test_two_processes_match_one_process(eos_model_dir, tmp_path):
    common = ["train", "--config", "tiny_cpu", "--model_name_or_path", str(eos_model_dir), "--synthetic_videos", "4",
              "--max_steps", "1", "--group_seeded_generation", "true", "--weights_log_groups", "-1"]
    one = subprocess.run([str(BIN / "twgrpo"), *common, "--output_dir", str(tmp_path / "one"),
                          "--per_device_train_batch_size", "8"], capture_output=True, text=True, timeout=300, env=ENV)
    assert one.returncode == 0, one.stderr[-3000:]
    two = subprocess.run([str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                          "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
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


def test_resume_continues_at_the_saved_step(data, tmp_path):
    tr = trainer_for(data, output_dir=str(tmp_path), max_steps=2, save_strategy="steps", save_steps=1)
    tr.train()
    assert (tmp_path / "checkpoint-2").is_dir()
    shutil.rmtree(tmp_path / "checkpoint-2")
    tr2 = trainer_for(data, output_dir=str(tmp_path), max_steps=3, save_strategy="no")
    tr2.train(resume_from_checkpoint=str(tmp_path / "checkpoint-1"))
    steps = [h["step"] for h in tr2.state.log_history if "loss" in h]
    assert tr2.state.global_step == 3 and steps[-2:] == [2, 3] and steps.count(2) == 1


# ---- bad input stops before training, saying what to change

@pytest.mark.parametrize("args, message", [
    (["--per_device_train_batch_size", "6"], "(6) x steps_per_generation (1) = 6 completions, not a multiple of num_generations (4)"),
    (["--per_device_train_batch_size", "3", "--gradient_accumulation_steps", "2"], "= 6 completions, not a multiple of num_generations (4)"),
    (["--alpha", "0.5"], "allow_inverse_weights=True"),
    (["--weight_grad", "true", "--per_device_train_batch_size", "2", "--steps_per_generation", "2"], "per_device_train_batch_size (2) to a multiple"),
])
def test_bad_config_stops_before_training(args, message, tmp_path, capsys):
    assert train_main(["--config", "tiny_cpu", "--output_dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_missing_video_stops_naming_the_record(tmp_path):
    from twgrpo.train import synthetic_dataset
    qfile, root, _ = synthetic_dataset("clevrer", 4)
    shutil.copytree(root, tmp_path / "data")
    victim = next((tmp_path / "data").rglob("video_00002.mp4"))
    victim.unlink()
    r = subprocess.run([str(BIN / "twgrpo"), "train", "--config", "tiny_cpu", "--dataset", str(tmp_path / "data/CLEVRER/train.json"),
                        "--video_root", str(tmp_path / "data"), "--output_dir", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=120, env=ENV)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "record '2_" in r.stderr and "video_00002.mp4" in r.stderr and "video_root" in r.stderr
    assert not (tmp_path / "out").exists()


# ---- the tiny run through the CLI, presets, configs

def test_tiny_cpu_preset_trains_and_logs(tmp_path):
    assert train_main(["--config", "tiny_cpu", "--output_dir", str(tmp_path), "--max_steps", "2", "--synthetic_videos", "4"]) == 0
    sample = [json.loads(l) for l in open(tmp_path / "token_weights.rank0.jsonl")]
    assert len(sample) == 2 * 4 and {"tokens", "weights", "rewards", "advantage", "completion"} <= set(sample[0])
    assert set(sample[0]["rewards"]) == {"soft_accuracy", "format"} and len(sample[0]["weights"]) == len(sample[0]["tokens"])
    assert (tmp_path / "model.safetensors").exists()


def test_preset_files_are_rendered_from_presets():
    for name in PRESETS:
        assert (ROOT / "configs" / f"{name}.yaml").read_text() == preset_yaml(name), f"regenerate configs/{name}.yaml"


def test_paper_preset_is_method_section_5():
    script, cfg, model = parse_train_args(["--config", str(ROOT / "configs/paper_clevrer_7b.yaml"), "--use_cpu", "true",
                                           "--output_dir", tempfile.mkdtemp()])
    assert (model.model_name_or_path, model.dtype) == ("Qwen/Qwen2.5-VL-7B-Instruct", "bfloat16")
    assert (cfg.num_generations, cfg.per_device_train_batch_size, cfg.max_steps, cfg.temperature) == (8, 8, 500, 1.0)
    assert (cfg.max_completion_length, cfg.learning_rate, cfg.weight_decay, cfg.warmup_steps, cfg.max_grad_norm) == (4096, 1e-6, 0.0, 0, 20.0)
    assert cfg.lr_scheduler_type.value == "linear" and cfg.beta == 0.0 and cfg.alpha == 1.7 and not cfg.use_vllm
    assert (cfg.epsilon, cfg.epsilon_high, cfg.freeze_vision, cfg.video_fps, cfg.video_max_frames) == (0.2, 0.28, True, 2.0, 16)
    assert cfg.video_max_pixels == 196 * 28 * 28 and script.reward_funcs == ["soft_accuracy", "format"]
    assert (script.categories, script.shuffle_seed, script.max_records) == (["counterfactual"], 42, 2000)


def test_accelerate_configs():
    cfgs = {p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / "configs/accelerate").glob("*.yaml")}
    assert {"single_gpu", "ddp", "zero2", "zero3_offload", "multinode"} <= set(cfgs)
    assert cfgs["zero3_offload"]["deepspeed_config"]["zero_stage"] == 3
    assert cfgs["zero3_offload"]["deepspeed_config"]["offload_optimizer_device"] == "cpu"
    assert cfgs["zero2"]["deepspeed_config"]["zero_stage"] == 2
    assert cfgs["multinode"]["num_machines"] == 2 and cfgs["ddp"]["distributed_type"] == "MULTI_GPU"
    for name, c in cfgs.items():
        assert c["num_processes"] >= 1 and "distributed_type" in c, name

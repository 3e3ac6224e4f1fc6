"""Presets and configs: rendered files, one YAML per arm listed by `twgrpo configs`, the paper's values, the schedule at
the paper's numbers, the launch configs each preset names, the generated table against the reference's runs."""
import re, subprocess, sys, tempfile, time
from pathlib import Path

import pytest
import yaml

from twgrpo.config import (PAPER_PRESETS, PRESET_NOTES, PRESETS, REFERENCE_ALSO, parse_train_args, preset_yaml,
                           reference_table)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ARMS = ["paper_clevrer_7b", "paper_clevrer_7b_detached", "paper_grpo_7b", "ablation_grpo_weights", "ablation_grpo_soft",
        "ablation_alpha0", "ablation_single_answer"]


def parse(name, *extra):
    return parse_train_args(["--config", name, "--use_cpu", "true", "--output_dir", tempfile.mkdtemp(), *extra])


def test_preset_files_are_rendered_from_presets():
    for name in PRESETS:
        assert (ROOT / "configs" / f"{name}.yaml").read_text() == preset_yaml(name), f"regenerate configs/{name}.yaml"


def test_every_arm_is_its_own_listed_yaml_and_parses():
    from twgrpo.cli import config_files
    listed = config_files()
    assert set(ARMS) <= set(PRESETS) and set(ARMS) <= set(listed) and set(PAPER_PRESETS) == set(ARMS)
    for name in ARMS:
        script, cfg, model = parse(name)                                  # by name (the rendering of PRESETS) ...
        from_file = parse(str(listed[name]))                              # ... and from the shipped file: the same run
        assert (vars(script), model.model_name_or_path, cfg.alpha) == (vars(from_file[0]), from_file[2].model_name_or_path,
                                                                      from_file[1].alpha), name


def test_paper_preset_values():
    script, cfg, model = parse("paper_clevrer_7b")
    assert (model.model_name_or_path, model.dtype) == ("Qwen/Qwen2.5-VL-7B-Instruct", "bfloat16")
    assert (cfg.num_generations, cfg.per_device_train_batch_size, cfg.max_steps, cfg.stop_after_steps) == (8, 8, 1000, 500)
    assert (cfg.temperature, cfg.top_k, cfg.top_p, cfg.completion_mask_eos) == (1.0, 50, 1.0, "tokenizer")
    assert (cfg.max_completion_length, cfg.learning_rate, cfg.weight_decay, cfg.warmup_steps, cfg.max_grad_norm) == (4096, 1e-6, 0.0, 0, 20.0)
    assert cfg.lr_scheduler_type.value == "linear" and cfg.beta == 0.0 and cfg.alpha == 1.7 and not cfg.use_vllm
    assert (cfg.weight_grad, cfg.weight_mode, cfg.aggregation, cfg.freeze_vision) == (True, "chunked", "twgrpo", True)
    assert (cfg.epsilon, cfg.epsilon_high, cfg.video_fps, cfg.video_max_frames, cfg.video_max_pixels) == (0.2, 0.28, 2.0, 16, 196 * 28 * 28)
    assert (script.dataset, script.dataset_format) == ("data/CLEVRER/clevrer_counterfactual_train.json", "open_r1_video")
    assert (script.shuffle_order, script.shuffle_seed, script.max_records, script.answer_count) == ("datasets", 42, 2000, "all")
    assert script.reward_funcs == ["soft_accuracy", "format"] and cfg.activation_checkpointing is True


def test_arms_differ_from_the_paper_run_where_the_paper_says():
    diff = lambda a, b: {k for k in PRESETS[a].keys() | PRESETS[b].keys() if PRESETS[a].get(k) != PRESETS[b].get(k)} - {"output_dir"}
    assert diff("paper_grpo_7b", "paper_clevrer_7b") == {"reward_funcs", "alpha", "weighting_scheme", "weight_grad",
                                                          "weight_mode", "aggregation", "freeze_vision"}
    assert PRESETS["paper_grpo_7b"]["aggregation"] == "sequence_mean" and PRESETS["paper_grpo_7b"]["reward_funcs"][0] == "strict_accuracy"
    assert diff("paper_clevrer_7b_detached", "paper_clevrer_7b") == {"weight_grad", "weight_mode"}
    assert diff("ablation_grpo_weights", "paper_grpo_7b") == {"alpha", "weighting_scheme", "weight_grad", "weight_mode", "aggregation"}
    assert diff("ablation_grpo_soft", "paper_grpo_7b") == {"reward_funcs"}
    assert diff("ablation_alpha0", "paper_clevrer_7b") == {"alpha", "allow_inverse_weights"} and PRESETS["ablation_alpha0"]["alpha"] == 0.0
    assert diff("ablation_single_answer", "paper_clevrer_7b") == {"answer_count", "prompt_kind"}


def test_qwen3vl_preset_is_the_paper_recipe_in_qwen3_vl_units():
    "qwen3vl_8b_clevrer: paper_clevrer_7b on Qwen3-VL-8B, the paper's 128-196 tokens per 2 frames at 32-pixel tokens, sampling explicit."
    from twgrpo.cli import config_files
    from twgrpo.video import resize_hw
    name = "qwen3vl_8b_clevrer"
    diff = {k for k in PRESETS[name].keys() | PRESETS["paper_clevrer_7b"].keys()
            if PRESETS[name].get(k) != PRESETS["paper_clevrer_7b"].get(k)} - {"output_dir"}
    assert diff == {"model_name_or_path", "video_min_pixels", "video_max_pixels", "top_k"}
    script, cfg, model = parse(name)
    listed = parse(str(config_files()[name]))  # the shipped file: the same run
    assert (vars(script), model.model_name_or_path) == (vars(listed[0]), listed[2].model_name_or_path) == \
        (vars(parse("paper_clevrer_7b")[0]), "Qwen/Qwen3-VL-8B-Instruct")
    assert (cfg.video_fps, cfg.video_min_frames, cfg.video_max_frames, cfg.top_k, cfg.top_p) == (2.0, 4, 16, 0, 1.0)
    assert (cfg.video_min_pixels, cfg.video_max_pixels) == (128 * 32 * 32, 196 * 32 * 32)
    paper = parse("paper_clevrer_7b")[1].video_settings().for_family("qwen2_5_vl")
    ours = cfg.video_settings().for_family("qwen3_vl")
    for s, unit in ((paper, 28), (ours, 32)):  # merged tokens per 2 frames: the same bounds, 128 to 196
        assert (s.min_pixels // unit ** 2, s.max_pixels // unit ** 2) == (128, 196)
    assert resize_hw(320, 480, paper, 10) == (308, 476) and resize_hw(320, 480, ours, 10) == (320, 480)  # CLEVRER: 187 and 150 tokens
    assert "accelerate/zero2_offload" in PRESET_NOTES[name]["_launch"]  # weight_grad: ZeRO-2, as the paper preset
    assert "128*32*32" in (ROOT / "configs" / f"{name}.yaml").read_text()


def test_learning_rate_at_step_500_is_the_references():
    "The scheduler the Trainer builds from the paper preset: linear over 1,000 steps, so step 500 trains at 5.0e-7 (+-1%)."
    import torch
    from transformers import get_scheduler
    _, cfg, _ = parse("paper_clevrer_7b")
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.learning_rate)
    sched = get_scheduler(cfg.lr_scheduler_type, opt, cfg.get_warmup_steps(cfg.max_steps), cfg.max_steps)
    lrs = []
    for _ in range(cfg.stop_after_steps):  # the Trainer logs the rate a step used, then steps the scheduler
        lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    assert abs(lrs[-1] - 5.0e-7) / 5.0e-7 < 0.01 and lrs[0] == 1e-6, lrs[-1]
    assert abs(lrs[-1] - 1e-6 * (1000 - 499) / 1000) < 1e-15


def test_each_preset_names_a_shipped_launch_config():
    from twgrpo.cli import config_files
    shipped = config_files()
    for name in ARMS:
        launch = PRESET_NOTES[name]["_launch"]
        cfg = re.search(r"twgrpo configs (accelerate/\w+)", launch).group(1)
        assert cfg in shipped and f"--config {name}" in launch, (name, launch)
        accel = yaml.safe_load(shipped[cfg].read_text())
        stage = accel["deepspeed_config"]["zero_stage"]
        assert stage == (2 if PRESETS[name]["weight_grad"] else 3), (name, stage)  # weight_grad cannot run on ZeRO-3
        assert accel["deepspeed_config"]["offload_optimizer_device"] == "cpu"


def test_accelerate_configs():
    cfgs = {p.stem: yaml.safe_load(p.read_text()) for p in (ROOT / "configs/accelerate").glob("*.yaml")}
    assert {"single_gpu", "ddp", "zero2", "zero2_offload", "zero3_offload", "multinode"} <= set(cfgs)
    assert cfgs["zero3_offload"]["deepspeed_config"]["zero_stage"] == 3
    assert cfgs["zero3_offload"]["deepspeed_config"]["offload_optimizer_device"] == "cpu"
    assert cfgs["zero2"]["deepspeed_config"]["zero_stage"] == 2
    z = cfgs["zero2_offload"]["deepspeed_config"]
    assert (z["zero_stage"], z["offload_optimizer_device"], z["offload_param_device"]) == (2, "cpu", "none")
    assert cfgs["multinode"]["num_machines"] == 2 and cfgs["ddp"]["distributed_type"] == "MULTI_GPU"
    for name, c in cfgs.items():
        assert c["num_processes"] >= 1 and "distributed_type" in c, name


def test_weight_grad_refuses_zero3():
    from accelerate.utils import DeepSpeedPlugin
    from twgrpo.config import TWGRPOConfig
    cfg = dict(output_dir=tempfile.mkdtemp(), use_cpu=True, report_to=[], num_generations=4, per_device_train_batch_size=4)
    c = TWGRPOConfig(**cfg, weight_grad=True)
    c.deepspeed_plugin = DeepSpeedPlugin(zero_stage=3)
    with pytest.raises(ValueError, match="not supported with DeepSpeed ZeRO-3"): c.check_weights()


def test_reference_table_is_complete():
    "The docs' table (generated from PRESETS and REFERENCE_RUNS): a row per setting, a reason per difference."
    for name in ARMS:
        rows = reference_table(name)
        assert [r["setting"] for r in rows] == list(PRESETS[name])
        assert not [r["setting"] for r in rows if not r["same"] and not r["note"]], name
        assert all(r["source"] for r in rows if r["reference"] != "-"), name
    assert {r["setting"] for r in reference_table("paper_clevrer_7b") if not r["same"]} == {"weight_mode", "ddp_find_unused_parameters",
                                                                                           "output_dir", "report_to"}
    assert {k for k, _ in REFERENCE_ALSO} >= {"distribution", "log-probs", "prompt order", "special tokens"}


def test_short_help_is_short_fast_and_light():
    "`twgrpo train --help` names --config and the presets, fits two screens, and imports neither torch nor TRL."
    r = subprocess.run([str(BIN / "twgrpo"), "train", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--config" in r.stdout and all(f"  {n} " in r.stdout for n in ARMS)
    assert len(r.stdout.splitlines()) < 100 and "--help-all" in r.stdout
    # the time itself (< 2 s) is measured by benchmarks/cli_startup.py; what keeps it short is tested here:
    code = "import sys; from twgrpo.train import train_main; train_main(['--help']); print(sorted(m for m in ('torch', 'trl', 'transformers') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().endswith("[]"), r.stdout[-200:]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_parses_as_given_on_any_machine(name):
    "`parse_train_args(['--config', NAME])` with nothing added: a GPU preset can be read on a laptop; running it is checked apart."
    from twgrpo.config import check_device
    _, cfg, model = parse_train_args(["--config", name])
    assert model.model_name_or_path and cfg.max_steps > 0
    import torch
    if cfg.bf16 and not cfg.use_cpu and not torch.cuda.is_available():
        with pytest.raises(ValueError, match="needs a GPU with bfloat16.*--use_cpu true"): check_device(cfg)
    else: check_device(cfg)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="the message is for a machine without a GPU")
def test_a_gpu_preset_on_a_cpu_machine_stops_in_one_line(capsys):
    from twgrpo.train import train_main
    assert train_main(["--config", "paper_clevrer_7b"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bf16=true needs a GPU" in err and "Traceback" not in err

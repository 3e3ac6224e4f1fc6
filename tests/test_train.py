"""Runs and the command (`twgrpo.train`): the schedule stops where asked, a resumed run ends with the uninterrupted
run's weights, two runs give identical weights, the command's output and files, bad input stopped before training."""
import json, os, shutil, subprocess, sys, tempfile
from pathlib import Path

import pytest
import torch

from twgrpo.config import TWGRPOScriptArguments
from twgrpo.train import build_train_dataset, load_train_records, lock_output_dir, train_main
from twgrpo.video import TINY

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_loss as R

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def dataset():
    return R.tiny_dataset()


def trainer(dataset, out, **kw):
    from twgrpo.tiny_model import tiny_model_path
    return R.tiny_trainer(tiny_model_path(), dataset, {"freeze_vision": False}, output_dir=str(out), **kw)


def weights(tr):
    return {n: p.detach().clone() for n, p in tr.model.named_parameters()}


def test_stop_after_steps_keeps_the_max_steps_schedule(dataset, tmp_path):
    "Scheduled for 4 steps, stopped at 2 with a checkpoint: step 2 trains at lr * (4 - 1) / 4, as on the 4-step schedule."
    tr = trainer(dataset, tmp_path, max_steps=4, stop_after_steps=2)
    tr.train()
    lrs = [h["learning_rate"] for h in tr.state.log_history if "learning_rate" in h]
    assert tr.state.global_step == 2 and tr.state.max_steps == 4 and (tmp_path / "checkpoint-2" / "trainer_state.json").is_file()
    assert lrs == pytest.approx([1e-3, 1e-3 * 3 / 4])


def test_resume_reproduces_and_runs_are_deterministic(dataset, tmp_path):
    """An uninterrupted 3-step run; the same run again (identical weights: deterministic algorithms, every seed fixed);
    and a run 'killed' after checkpoint-1 and resumed from it in a fresh trainer: the uninterrupted run's final weights.
    The reward varies between completions, so every step has a non-zero gradient."""
    kw = dict(max_steps=3, save_strategy="steps", save_steps=1, full_determinism=True)
    try:
        a = trainer(dataset, tmp_path / "a", **kw)
        start = weights(a)
        a.train()
        final = weights(a)
        assert all(h["grad_norm"] > 0 for h in a.state.log_history if "grad_norm" in h)
        again = trainer(dataset, tmp_path / "again", **kw)
        again.train()
        assert all(torch.equal(final[n], p) for n, p in weights(again).items())  # identical, not merely close
        shutil.copytree(tmp_path / "a" / "checkpoint-1", tmp_path / "b" / "checkpoint-1")
        b = trainer(dataset, tmp_path / "b", **kw)
        b.train(resume_from_checkpoint=str(tmp_path / "b" / "checkpoint-1"))
    finally:
        torch.use_deterministic_algorithms(False)
    resumed = weights(b)
    assert [h["step"] for h in b.state.log_history if "loss" in h] == [1, 2, 3] and b.state.global_step == 3
    assert max((final[n] - p).abs().max().item() for n, p in resumed.items()) < 1e-6
    assert max((final[n] - start[n]).abs().max().item() for n in final) > 1e-4  # it trained
    lines = [json.loads(l) for l in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [l["step"] for l in lines if "loss" in l] == [2, 3]


def test_the_command(tmp_path):
    """`twgrpo train --config tiny_cpu`: a progress bar, not dict-of-strings logs; no warning the kit could prevent; a
    closing line with the output folder and how to evaluate it; run.json with the seeds; metrics.jsonl and the weight
    samples. A second run into the same folder moves the first one's metrics aside."""
    out = tmp_path / "run"
    r = subprocess.run([str(BIN / "twgrpo"), "train", "--config", "tiny_cpu", "--output_dir", str(out), "--max_steps", "2"],
                       capture_output=True, text=True, timeout=300, env=ENV)
    assert r.returncode == 0, r.stderr[-3000:]
    text = r.stdout + r.stderr
    assert "{'loss'" not in text and "Warning" not in text and "Loading weights" not in text, text[-3000:]
    assert "twgrpo train" in r.stderr and "reward=" in r.stderr
    assert f"model saved to {out.resolve()}" in r.stderr and f"twgrpo eval run --model {out.resolve()}" in r.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["seeds"]["seed"] == 0 and run["seeds"]["shuffle_seed"] == 42 and run["full_determinism"] is True
    assert run["torch_threads"] >= 1 and run["command"][:3] == ["twgrpo", "train", "--config"]
    steps = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps if "loss" in s] == [1, 2]
    sample = [json.loads(l) for l in open(out / "token_weights.rank0.jsonl")]
    assert len(sample) == 2 * 4 and {"tokens", "weights", "rewards", "advantage", "completion"} <= set(sample[0])
    assert set(sample[0]["rewards"]) == {"soft_accuracy", "format"} and (out / "model.safetensors").exists()
    assert train_main(["--config", "tiny_cpu", "--output_dir", str(out), "--max_steps", "1", "--disable_tqdm", "true"]) == 0
    second = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [s["step"] for s in second if "loss" in s] == [1] and "train_runtime" in second[-1]
    assert (out / "metrics.prev-1.jsonl").read_text().splitlines() == [json.dumps(s) for s in steps]


@pytest.mark.parametrize("model,model_type", [("tiny-qwen3-vl", "qwen3_vl"), ("tiny-qwen2-vl", "qwen2_vl")])
def test_the_command_with_another_family(model, model_type, tmp_path):
    "`twgrpo train --config tiny_cpu --model_name_or_path tiny-qwen3-vl` (and Qwen2-VL), in-process: 2 steps, a checkpoint, the model."
    out = tmp_path / "run"
    assert train_main(["--config", "tiny_cpu", "--model_name_or_path", model, "--max_steps", "2", "--output_dir", str(out),
                       "--save_strategy", "steps", "--save_steps", "2", "--disable_tqdm", "true"]) == 0
    assert (out / "checkpoint-2" / "trainer_state.json").is_file() and (out / "model.safetensors").is_file()
    assert json.loads((out / "config.json").read_text())["model_type"] == model_type
    steps = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps if "loss" in s] == [1, 2]


def test_one_run_at_a_time_per_output_dir(tmp_path):
    held = lock_output_dir(tmp_path)
    with pytest.raises(ValueError, match=f"output_dir={tmp_path} is in use by another twgrpo train run \\(pid {os.getpid()}\\)"):
        lock_output_dir(tmp_path)
    held.close()
    lock_output_dir(tmp_path).close()


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


def test_missing_video_stops_naming_the_record(tmp_path, capsys):
    from twgrpo.train import synthetic_dataset
    qfile, root, _ = synthetic_dataset("clevrer", 4)
    shutil.copytree(root, tmp_path / "data")
    next((tmp_path / "data").rglob("video_00002.mp4")).unlink()
    assert train_main(["--config", "tiny_cpu", "--dataset", str(tmp_path / "data/CLEVRER/train.json"),
                       "--video_root", str(tmp_path / "data"), "--output_dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "record '2_" in err and "video_00002.mp4" in err and "video_root" in err
    assert not (tmp_path / "out").exists()


def test_record_selection_follows_datasets():
    "shuffle_order='datasets' keeps the records datasets' shuffle(seed).select(range(k)) keeps, after the answer filter."
    from datasets import Dataset
    from twgrpo.train import filter_answer_count, select_records
    recs = [{"id": str(i), "answer": "A" if i % 4 else "B,C"} for i in range(3001)]
    for seed, k in [(42, 2000), (7, 10)]:
        assert [r["id"] for r in select_records(recs, seed, k, "datasets")] == Dataset.from_list(recs).shuffle(seed=seed).select(range(k))["id"]
    multi = filter_answer_count(recs, "multiple")
    assert [r["id"] for r in select_records(multi, 42, 500, "datasets")] == \
        Dataset.from_list(recs).filter(lambda r: "," in r["answer"]).shuffle(seed=42).select(range(500))["id"]

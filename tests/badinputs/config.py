"""Bad training configs: `twgrpo train` must stop before any model loads, exit code 2, one line naming the setting,
the file and line, or the folder. Run: `.venv/bin/python -m pytest -q tests/test_bad_inputs.py -k config`."""
from __future__ import annotations
from badinputs import Case

BASE = ["train", "--config", "tiny_cpu", "--output_dir", "{tmp}/out"]


def tiny_yaml(extra: str):
    "A file: the tiny_cpu preset's YAML with `extra` lines appended (a later key wins in YAML)."
    def write(path):
        from twgrpo.config import preset_yaml
        path.write_text(preset_yaml("tiny_cpu") + "\n" + extra + "\n")
    return write


def cli(id, args, *names, **kw):
    return Case(id=f"config/{id}", argv=BASE + list(args), names=names or (args[0].lstrip("-"),), **kw)


def yaml_case(id, extra, *names):
    return Case(id=f"config/yaml-{id}", argv=["train", "--config", "{tmp}/run.yaml", "--output_dir", "{tmp}/out"],
                files={"run.yaml": tiny_yaml(extra)}, names=names)


CASES = [
    # numbers of the wrong kind or out of range: silent wrong results before (alpha nan trained a NaN model, max_steps 0 ran a step)
    cli("alpha-nan", ["--alpha", "nan"], "alpha=nan", "finite"),
    yaml_case("alpha-nan", "alpha: .nan", "alpha=nan"),
    cli("alpha-huge", ["--alpha", "1e6"], "alpha=1000000.0"),
    cli("alpha-negative", ["--alpha", "-1"], "alpha=-1.0"),
    cli("alpha-inverse-unasked", ["--alpha", "0.5"], "alpha=0.5", "allow_inverse_weights"),
    cli("max-steps-zero", ["--max_steps", "0"], "max_steps=0"),
    cli("max-steps-negative", ["--max_steps", "-2"], "max_steps=-2"),
    yaml_case("learning-rate-list", "learning_rate: [1.0e-6]", "learning_rate=[1e-06]", "a list"),
    cli("learning-rate-negative", ["--learning_rate=-1e-4"], "learning_rate=-0.0001"),
    cli("learning-rate-negative-spaced", ["--learning_rate", "-1e-4"], "learning_rate=-0.0001"),
    cli("max-steps-spaced-negative", ["--max_steps", "-5"], "max_steps=-5"),
    cli("learning-rate-zero", ["--learning_rate", "0"], "learning_rate=0.0"),
    yaml_case("learning-rate-text", "learning_rate: fast", "learning_rate", "fast"),
    cli("temperature-zero", ["--temperature", "0"], "temperature=0.0"),
    cli("temperature-negative", ["--temperature", "-1"], "temperature=-1.0"),
    cli("batch-zero", ["--per_device_train_batch_size", "0"], "per_device_train_batch_size=0"),
    cli("generations-zero", ["--num_generations", "0"], "num_generations=0"),
    cli("generations-one", ["--num_generations", "1"], "num_generations=1"),
    cli("completion-length-zero", ["--max_completion_length", "0"], "max_completion_length=0"),
    cli("completion-length-negative", ["--max_completion_length", "-5"], "max_completion_length=-5"),
    cli("accumulation-zero", ["--gradient_accumulation_steps", "0"], "gradient_accumulation_steps=0"),
    cli("iterations-zero", ["--num_iterations", "0"], "num_iterations=0"),
    cli("top-k-negative", ["--top_k", "-1"], "top_k=-1"),
    cli("top-p-zero", ["--top_p", "0"], "top_p=0.0"),
    cli("epsilon-negative", ["--epsilon", "-0.1"], "epsilon=-0.1"),
    cli("beta-negative", ["--beta", "-1"], "beta=-1.0"),
    cli("grad-norm-negative", ["--max_grad_norm", "-1"], "max_grad_norm=-1.0"),
    cli("weight-decay-negative", ["--weight_decay", "-0.1"], "weight_decay=-0.1"),
    cli("warmup-negative", ["--warmup_steps", "-1"], "warmup_steps=-1"),
    cli("seed-negative", ["--seed", "-1"], "seed=-1"),
    cli("logging-steps-zero", ["--logging_steps", "0"], "logging_steps=0"),
    cli("epochs-zero", ["--max_steps", "-1", "--num_train_epochs", "0"], "num_train_epochs=0.0"),
    cli("stop-after-last-step", ["--max_steps", "2", "--stop_after_steps", "5"], "stop_after_steps=5", "max_steps=2"),
    cli("stop-after-zero", ["--stop_after_steps", "0"], "stop_after_steps=0"),
    cli("chunk-size-zero", ["--weight_chunk_size", "0"], "weight_chunk_size=0"),
    cli("video-fps-zero", ["--video_fps", "0"], "video_fps=0.0"),
    cli("video-frames-crossed", ["--video_min_frames", "8", "--video_max_frames", "4"], "video_max_frames=4", "video_min_frames=8"),
    cli("video-pixels-zero", ["--video_max_pixels", "0"], "video_max_pixels=0"),
    # names of things that do not exist
    cli("scheme-typo", ["--weighting_scheme", "faithfull"], "weighting_scheme='faithfull'"),
    cli("weight-mode-bogus", ["--weight_mode", "fast"], "weight_mode='fast'"),
    cli("aggregation-bogus", ["--aggregation", "mean"], "aggregation='mean'"),
    cli("mask-eos-bogus", ["--completion_mask_eos", "both"], "completion_mask_eos='both'"),
    cli("dtype-unknown", ["--dtype", "float64"], "dtype", "float64"),
    yaml_case("dtype-unknown", "dtype: fp8", "dtype='fp8'"),
    cli("reward-typo", ["--reward_funcs", "soft_acuracy"], "reward_funcs", "soft_acuracy"),
    cli("reward-typo-second", ["--reward_funcs", "format", "strict_acc"], "reward_funcs", "strict_acc"),
    yaml_case("reward-number", "reward_funcs: 3", "reward_funcs=3", "a list"),
    cli("prompt-kind-unknown", ["--prompt_kind", "fancy"], "prompt_kind='fancy'"),
    cli("answer-count-bogus", ["--answer_count", "two"], "answer_count='two'"),
    cli("shuffle-order-bogus", ["--shuffle_order", "numpy"], "shuffle_order='numpy'"),
    cli("max-records-zero", ["--max_records", "0"], "max_records=0"),
    cli("synthetic-videos-zero", ["--synthetic_videos", "0"], "synthetic_videos=0"),
    cli("qai-p-above-one", ["--qai_p", "1.5"], "qai_p=1.5"),
    cli("shuffle-seed-negative", ["--shuffle_seed", "-1"], "shuffle_seed=-1"),
    cli("synthetic-unknown", ["--dataset", "synthetic:cats"], "dataset='synthetic:cats'"),
    # combinations
    cli("groups-split", ["--per_device_train_batch_size", "6"], "per_device_train_batch_size (6)", "num_generations (4)"),
    cli("weight-grad-online", ["--weight_grad", "true", "--weight_mode", "online"], "weight_mode='chunked'"),
    cli("weight-grad-split-groups", ["--weight_grad", "true", "--per_device_train_batch_size", "2", "--steps_per_generation", "2"],
        "per_device_train_batch_size (2)"),
    cli("weight-grad-trl-loss", ["--weight_grad", "true", "--aggregation", "trl"], "weight_grad=True", "aggregation"),
    cli("repetition-penalty-online", ["--repetition_penalty", "1.1"], "repetition_penalty=1.1"),
    # files and folders
    Case(id="config/config-no-value", argv=["train", "--config"], names=("--config needs a value",)),
    Case(id="config/config-then-flag", argv=["train", "--config", "--alpha", "1.7"], names=("--config needs a value",)),
    Case(id="config/config-missing-file", argv=["train", "--config", "{tmp}/nope.yaml"], names=("--config {tmp}/nope.yaml", "no such file")),
    Case(id="config/config-unknown-preset", argv=["train", "--config", "paper_clevrer_8b"], names=("paper_clevrer_8b", "not a preset")),
    Case(id="config/yaml-syntax", argv=["train", "--config", "{tmp}/run.yaml"], files={"run.yaml": "alpha: [1.7\nmax_steps: 2\n"},
         names=("config {tmp}/run.yaml line", "not valid YAML")),
    Case(id="config/yaml-tab", argv=["train", "--config", "{tmp}/run.yaml"], files={"run.yaml": "alpha: 1.7\nmax_steps:\t2\n"},
         names=("config {tmp}/run.yaml line 2", "tab")),
    Case(id="config/yaml-list", argv=["train", "--config", "{tmp}/run.yaml"], files={"run.yaml": "- alpha\n- 1.7\n"},
         names=("config {tmp}/run.yaml", "setting: value")),
    yaml_case("unknown-setting", "alphaa: 1.7", "unknown setting(s) alphaa"),
    yaml_case("env-not-mapping", "env: 3", "env"),
    cli("unknown-option", ["--alphaa", "1.7"], "--alphaa"),
    cli("model-missing-folder", ["--model_name_or_path", "{tmp}/no_model"], "model_name_or_path={tmp}/no_model", "no such folder"),
    Case(id="config/model-not-a-model", argv=BASE + ["--model_name_or_path", "{tmp}/m"], files={"m/notes.txt": "weights elsewhere"},
         names=("model_name_or_path={tmp}/m", "config.json")),
    cli("model-garbage-name", ["--model_name_or_path", "a model"], "model_name_or_path=a model"),
    cli("dataset-missing", ["--dataset", "{tmp}/missing.json"], "dataset={tmp}/missing.json", "data/README.md"),
    cli("video-root-missing", ["--video_root", "{tmp}/novideos"], "video_root={tmp}/novideos"),
    cli("resume-last-none", ["--resume_from_checkpoint", "last"], "resume_from_checkpoint=last", "no checkpoint"),
    cli("resume-true-none", ["--resume_from_checkpoint", "true"], "resume_from_checkpoint=true", "output_dir"),
    cli("resume-wrong-path", ["--resume_from_checkpoint", "{tmp}/nope"], "resume_from_checkpoint={tmp}/nope", "no such folder"),
    Case(id="config/resume-no-trainer-state", argv=BASE + ["--resume_from_checkpoint", "{tmp}/ck"], files={"ck/model.safetensors": b""},
         names=("resume_from_checkpoint={tmp}/ck", "trainer_state.json")),
    Case(id="config/train-video-undecodable", argv=BASE + ["--dataset", "{tmp}/r.jsonl"],
         files={"r.jsonl": '{"id": "q1", "video": "clip.mp4", "start": null, "end": null, "question": "Which colours appear?", "options": ["red", "green"], "answer": "A", "problem_type": "multiple choice", "source": "toy", "category": "counterfactual", "meta": {}}\n', "clip.mp4": b"not a video"}, names=("record 'q1'", "clip.mp4", "--skip_bad_videos"), slow=True),
    Case(id="config/train-video-empty-file", argv=BASE + ["--dataset", "{tmp}/r.jsonl"],
         files={"r.jsonl": '{"id": "q1", "video": "clip.mp4", "start": null, "end": null, "question": "Which colours appear?", "options": ["red", "green"], "answer": "A", "problem_type": "multiple choice", "source": "toy", "category": "counterfactual", "meta": {}}\n', "clip.mp4": b""}, names=("record 'q1'", "clip.mp4"), slow=True),
]

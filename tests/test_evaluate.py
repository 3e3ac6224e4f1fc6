"""Evaluation: the published numbers from the published logs, a SIGKILL mid-run and a resume, the tiny model end to
end on the synthetic CLEVRER-style set, every preset on a synthetic stand-in, lmms-eval's prompts, frames and decoding
read from the installed lmms-eval, bad videos, the command line and two processes under `accelerate launch`."""
import json, os, shutil, signal, string, subprocess, sys, time, warnings
from pathlib import Path
import pytest
from twgrpo.evaluate import evaluate, eval_main, load_model, read_log, rescore, score

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT / "tests/fixtures/upstream"  # the reference's published files, copied unchanged (see its README)
ENV = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
CLI = [sys.executable, "-c", "import sys; from twgrpo.cli import main; sys.exit(main())"]
VOLATILE = ("this_session", "date", "versions")  # the only fields allowed to differ between two runs


# ---- published numbers from the published outputs

def test_rescore_mmvu_gives_published_figure():
    m = rescore(UPSTREAM / "twgrpo-ckpt500_mmvu_predictions.jsonl")
    ref = json.loads((UPSTREAM / "twgrpo-ckpt500_mmvu_metrics.json").read_text())
    assert round(m["strict_accuracy"], 2) == 65.76
    assert m["strict_accuracy"] == pytest.approx(ref["strict_accuracy"], abs=1e-9)
    assert m["partial_accuracy"] == pytest.approx(ref["partial_accuracy"], abs=1e-9)
    assert m["n"] == ref["total_samples"] == 625 and m["dedup"]["duplicates"] == 0
    lo, hi = m["ci95"]["strict_accuracy"]
    assert lo < m["strict_accuracy"] < hi


def test_rescore_videomme_deduplicates_to_published_figure():
    m = rescore(UPSTREAM / "zeroshot_videomme_predictions.jsonl")
    ref = json.loads((UPSTREAM / "zeroshot_videomme_metrics.json").read_text())
    assert round(m["strict_accuracy"], 2) == 56.48
    assert m["strict_accuracy"] == pytest.approx(ref["strict_accuracy"], abs=1e-9)
    assert (m["n"], m["dedup"]["rows"], m["dedup"]["duplicates"]) == (2700, 2748, 48)
    assert m["dedup"]["key"] == "question_id" and m["dedup"]["conflicting"] == 0
    assert m["unparseable"] == 2  # bare letters parse under the faithful rule; two rows say '<answer></answer>' and 'E' (4 options)
    assert sum(b["n"] for b in m["by_category"].values()) == 2700


def test_rescore_cli(capsys, tmp_path):
    out = tmp_path / "m.json"
    assert eval_main(["rescore", str(UPSTREAM / "twgrpo-ckpt500_mmvu_predictions.jsonl"), "--n_boot", "50", "--out", str(out)]) == 0
    assert "65.76" in capsys.readouterr().out
    assert round(json.loads(out.read_text())["strict_accuracy"], 2) == 65.76


# ---- bad input

def test_unparseable_completion_scores_zero_and_is_counted():
    rows = [dict(id="a", completion="<think>x</think><answer>B</answer>", answer="B", options=["p", "q", "r"]),
            dict(id="b", completion="the blue one, I think", answer="B", options=["p", "q", "r"]),
            dict(id="c", completion="<answer>D</answer>", answer="B", options=["p", "q", "r"])]  # no option D
    m = score(rows, n_boot=0)
    assert m["unparseable"] == 2 and m["strict_accuracy"] == pytest.approx(100 / 3)


def test_corrupt_log_names_the_broken_line(tmp_path):
    log = tmp_path / "predictions.jsonl"
    log.write_text('{"id": "1", "completion": "A", "answer": "A"}\n{"id": "2", "compl\n{"id": "3", "completion": "B", "answer": "A"}\n')
    with pytest.raises(ValueError, match=r"predictions.jsonl, line 2"): rescore(log)


def test_torn_last_line_is_ignored_then_repaired(tmp_path):
    log = tmp_path / "predictions.jsonl"
    log.write_text('{"id": "1", "completion": "<answer>A</answer>", "answer": "A"}\n{"id": "2", "completion": "B", "ans')
    with pytest.warns(UserWarning, match="line 2"): m = rescore(log, n_boot=0)
    assert m["n"] == 1 and m["strict_accuracy"] == 100
    with pytest.warns(UserWarning): read_log(log, repair=True)
    assert log.read_text() == '{"id": "1", "completion": "<answer>A</answer>", "answer": "A"}\n'


def test_log_of_unknown_format_is_an_error(tmp_path):
    log = tmp_path / "p.jsonl"
    log.write_text('{"foo": 1}\n')
    with pytest.raises(ValueError, match="row 1"): rescore(log)


# ---- the tiny model end to end

@pytest.fixture(scope="module")
def clevrer(tmp_path_factory):
    "A small synthetic CLEVRER-style set (question file path) and its records."
    from twgrpo.synthetic import make_clevrer_like
    from twgrpo.data import load_benchmark
    root = tmp_path_factory.mktemp("data")  # the loader expects CLEVRER's videos under <root>/CLEVRER/
    qfile = make_clevrer_like(root / "CLEVRER", n_videos=2, seed=3, size=(160, 112), duration=2.0, fps=8)
    return qfile, root, load_benchmark(qfile, video_root=root)


@pytest.fixture(scope="module")
def tiny():
    return load_model(None)


def _eval(tiny, records, out, **kw):
    from twgrpo.video import TINY
    model, processor = tiny
    args = dict(settings=TINY, batch_size=3, max_new_tokens=12, n_boot=50, progress=False)
    return evaluate(model, processor, records, out, **{**args, **kw})


def test_tiny_model_end_to_end_metrics_complete(tiny, clevrer, tmp_path):
    qfile, root, records = clevrer
    m = _eval(tiny, qfile, tmp_path / "run", video_root=root)
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(m))
    rows = read_log(tmp_path / "run" / "predictions.jsonl")
    assert [r["id"] for r in rows] == [str(r["id"]) for r in records]
    assert m["n"] == m["n_records"] == len(records) and m["skipped"]["count"] == 0
    for k in ("strict_accuracy", "partial_accuracy", "format_rate", "unparseable", "ci95", "by_category", "truncated"):
        assert k in m, k
    p = m["protocol"]
    assert p["frames"]["max_frames"] is not None and p["prompt"] == "r1" and p["prompt_template"]
    assert p["decoding"]["temperature"] == 0.1 and p["decoding"]["top_p"] == 0.001 and p["decoding"]["max_new_tokens"] == 12
    assert p["records_file"] == str(qfile) and len(p["records_sha256"]) == 64 and p["model"]
    assert {"twgrpo", "transformers", "torch"} <= set(m["versions"]) and m["date"]
    assert all(r["second_per_grid_ts"] > 0 and len(r["video_grid_thw"]) == 3 for r in rows)
    again = rescore(tmp_path / "run", n_boot=50)  # the run folder names its protocol in run.json
    assert again["scoring"]["how"] == "recorded with the run (run.json)" and again["strict_accuracy"] == m["strict_accuracy"]
    # a rerun finds everything done, generates nothing, and scores the same
    m2 = _eval(tiny, qfile, tmp_path / "run", video_root=root)
    assert m2["this_session"]["generated"] == 0
    assert {k: v for k, v in m2.items() if k not in VOLATILE} == {k: v for k, v in m.items() if k not in VOLATILE}
    # another protocol in the same folder is refused
    with pytest.raises(ValueError, match="another protocol"):
        _eval(tiny, qfile, tmp_path / "run", video_root=root, max_new_tokens=5)


@pytest.mark.parametrize("model,factor", [("tiny-qwen3-vl", 32), ("tiny-qwen2-vl", 28)])
def test_eval_run_and_predict_with_another_family_then_resume(model, factor, clevrer, tmp_path, capsys):
    """`twgrpo eval run --model tiny-qwen3-vl` (and Qwen2-VL) on the synthetic set: frames on the family's factor, no
    second_per_grid_ts recorded (neither family has it); a run cut after its first prediction resumes with the rest,
    as the uninterrupted run; `twgrpo predict --model` the same family."""
    from twgrpo.evaluate import predict_main
    qfile, root, records = clevrer
    argv = ["run", "--model", model, "--records", str(qfile), "--video_root", str(root), "--settings", "tiny",
            "--max_new_tokens", "6", "--batch_size", "1", "--n_boot", "20", "--out_dir", str(tmp_path / "run")]
    assert eval_main(argv) == 0
    log = tmp_path / "run" / "predictions.jsonl"
    rows = read_log(log)
    assert [r["id"] for r in rows] == [str(r["id"]) for r in records] and len(rows) > 1
    assert all("second_per_grid_ts" not in r for r in rows)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["protocol"]["frames"]["image_factor"] == factor
    log.write_text(log.read_text().splitlines()[0] + "\n")  # as a run killed after its first prediction leaves it
    assert eval_main(argv) == 0
    again = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert again["this_session"]["generated"] == len(rows) - 1
    assert [r["completion"] for r in read_log(log)] == [r["completion"] for r in rows]
    capsys.readouterr()
    assert predict_main(["--video", str(records[0]["video"]), "--question", "Which?", "--options", "red", "blue",
                         "--model", model, "--settings", "tiny", "--max_new_tokens", "6", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_tokens"] <= 6


def test_missing_video_named_and_skipped_only_when_asked(tiny, clevrer, tmp_path):
    qfile, root, records = clevrer
    broken = [dict(records[0], id="lost-1", video="nowhere/lost.mp4"), *records[1:3]]
    with pytest.raises(FileNotFoundError, match="record lost-1"):
        _eval(tiny, broken, tmp_path / "a", video_root=root)
    assert not (tmp_path / "a" / "predictions.jsonl").exists()
    m = _eval(tiny, broken, tmp_path / "b", video_root=root, skip_missing=True)
    assert m["n"] == 2 and m["skipped"]["count"] == 1 and m["skipped"]["missing"][0]["id"] == "lost-1"


# ---- a run killed with SIGKILL, then resumed

def _run_cli(out, qfile, root, **extra):
    args = [*CLI, "eval", "run", "--records", str(qfile), "--video_root", str(root), "--out_dir", str(out),
            "--settings", "tiny", "--batch_size", "2", "--max_new_tokens", "40", "--n_boot", "50", "--no-progress"]
    return args + [f"--{k}={v}" for k, v in extra.items()]


def test_sigkill_then_resume_matches_uninterrupted_run(clevrer, tmp_path):
    qfile, root, records = clevrer
    full, killed = tmp_path / "full", tmp_path / "killed"
    subprocess.run(_run_cli(full, qfile, root), env=ENV, check=True, capture_output=True, timeout=300)
    log = killed / "predictions.jsonl"
    p = subprocess.Popen(_run_cli(killed, qfile, root), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while p.poll() is None:  # kill as soon as the first batch is on disk
            if log.exists() and log.read_bytes().count(b"\n") >= 2:
                os.kill(p.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
    finally:
        p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the run ended before it could be killed: make it longer"
    n_before = log.read_bytes().count(b"\n")
    assert 2 <= n_before < len(records) and not (killed / "metrics.json").exists()
    subprocess.run(_run_cli(killed, qfile, root), env=ENV, check=True, capture_output=True, timeout=300)
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (full, killed))
    assert b["this_session"]["generated"] == len(records) - n_before
    assert {k: v for k, v in a.items() if k not in VOLATILE} == {k: v for k, v in b.items() if k not in VOLATILE}
    ra, rb = (read_log(d / "predictions.jsonl") for d in (full, killed))
    ids = [r["id"] for r in rb]
    assert len(ids) == len(set(ids)) == len(records)  # no duplicate, none missing
    assert [(r["id"], r["completion"]) for r in ra] == [(r["id"], r["completion"]) for r in rb]


# ---- command line: predict, and two processes

def test_predict_cli_shows_answer_reasoning_and_raw_on_request(clevrer, capsys):
    "In-process (the tiny model loads in a second): progress on stderr, the answer and reasoning, --raw, --json."
    from twgrpo.evaluate import predict_main
    qfile, root, records = clevrer
    args = ["--video", str(records[0]["video"]), "--question", "Which will happen?", "--options", "red", "blue",
            "--settings", "tiny", "--max_new_tokens", "8"]
    assert predict_main(args) == 0
    out, err = capsys.readouterr()
    assert out.startswith("answer: ") and "reasoning" in out and "raw completion" not in out
    assert "loading the tiny offline model" in err and "reading" in err
    assert predict_main([*args, "--raw"]) == 0 and "raw completion:" in capsys.readouterr().out
    assert predict_main([*args, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {"answer", "reasoning", "text", "parsed"} <= set(res) and res["n_tokens"] <= 8
    assert predict_main(["--video", "no/such.mp4", "--question", "Q"]) == 2 and "no/such.mp4" in capsys.readouterr().err
    many = [f"o{i}" for i in range(27)]
    assert predict_main(["--video", str(records[0]["video"]), "--question", "Q", "--options", *many]) == 2
    assert "27 options" in capsys.readouterr().err


# ---- bad videos under --skip_missing

def test_undecodable_and_extreme_videos_are_skipped_and_named(tiny, clevrer, tmp_path):
    from twgrpo.video import VideoError, write_video
    import numpy as np
    qfile, root, records = clevrer
    (root / "junk.mp4").write_bytes(b"not a video at all" * 100)
    write_video(root / "thin.mp4", np.zeros((4, 8, 1602, 3), np.uint8), fps=4)  # aspect ratio 200.25
    bad = [dict(records[0], id="junk-1", video="junk.mp4"), dict(records[1], id="thin-1", video="thin.mp4"), records[2]]
    with pytest.raises(VideoError, match=r"junk.mp4: record junk-1: cannot read its video .*--skip_missing"):
        _eval(tiny, bad, tmp_path / "a", video_root=root)
    m = _eval(tiny, bad, tmp_path / "b", video_root=root, skip_missing=True)
    assert m["n"] == 1 and m["skipped"]["count"] == 2
    errs = {u["id"]: u for u in m["skipped"]["unreadable"]}
    assert "junk.mp4" in errs["junk-1"]["error"] and "record junk-1" in errs["junk-1"]["error"]
    assert "aspect ratio" in errs["thin-1"]["error"] and errs["thin-1"]["video"].endswith("thin.mp4")
    from twgrpo.evaluate import metrics_markdown
    assert "skipped: 2 record(s) not scored (0 missing video, 2 unreadable" in metrics_markdown(m)


# ---- one rule for video paths (train and eval)

def test_records_file_videos_resolve_against_its_folder_as_in_training(tiny, clevrer, tmp_path):
    "Relative video paths of a records file: the file's folder unless --video_root; the trainer's loader does the same."
    from twgrpo.config import TWGRPOScriptArguments
    from twgrpo.evaluate import _load_records
    from twgrpo.trainer import load_train_records
    qfile, root, records = clevrer
    rows = [dict(id=f"r{i}", video=str(Path(r["video"]).relative_to(root)), question=r["question"], options=r["options"],
                 answer=r["answer"], start=None, end=None, problem_type="multiple choice", source="clevrer",
                 category=r["category"], meta={}) for i, r in enumerate(records[:3])]
    f = root / "picked.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ev, source, vroot = _load_records(f)
    tr, troot = load_train_records(TWGRPOScriptArguments(dataset=str(f), shuffle_seed=None))
    assert Path(vroot) == Path(troot) == root and source["video_root"] == str(root)
    assert [r["video"] for r in ev] == [r["video"] for r in tr] == [str(root / r["video"]) for r in rows]
    other = tmp_path / "elsewhere"
    other.mkdir()
    with pytest.raises(FileNotFoundError, match="rerun with --skip_missing"):  # --video_root wins over the file's folder
        _eval(tiny, f, tmp_path / "run", video_root=other)


# ---- presets: listed, each one runs on a synthetic stand-in, lmms-eval's equal lmms-eval

PAPER_PRESETS = [f"eval/{b}" for b in ("clevrer", "nextgqa", "mmvu", "mvbench", "tempcompass", "videomme", "star")]
LMMS_PRESETS = [f"eval/lmms-eval/{b}" for b in ("mvbench", "videomme", "tempcompass", "nextqa", "mmvu")]


def test_eval_run_help_describes_every_option_and_names_the_protocol(capsys):
    from twgrpo.evaluate import _RUN_OPTIONS, eval_main
    with pytest.raises(SystemExit) as e: eval_main(["run", "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for k in _RUN_OPTIONS:
        opt = f"--{k} " if _RUN_OPTIONS[k][0] is not bool else f"--{k}, --no-{k}"
        assert opt in text, k
    assert text.count("(default:") == len(_RUN_OPTIONS) + 1  # every option and --config
    for phrase in ("paper's protocol", "16 frames", "4,096 new tokens", "--settings tiny --max_new_tokens 32",
                   "eval/mvbench", "eval/lmms-eval/"):
        assert phrase in text, phrase


def test_twgrpo_configs_lists_the_presets(capsys):
    from twgrpo.cli import configs_main
    assert configs_main([]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert set(PAPER_PRESETS + LMMS_PRESETS) <= listed
    import tomllib
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["twgrpo"]
    assert {"configs/eval/*.yaml", "configs/eval/lmms-eval/*.yaml"} <= set(globs)  # shipped in the wheel


@pytest.mark.parametrize("preset", PAPER_PRESETS + LMMS_PRESETS)
def test_preset_runs_on_a_synthetic_stand_in(preset, tmp_path, capsys):
    import yaml
    from twgrpo.evaluate import eval_main, preset_file, stand_in
    spec = yaml.safe_load(preset_file(preset).read_text())
    qfile = stand_in(preset, tmp_path / "data")
    assert qfile == tmp_path / "data" / spec["records"]
    out = tmp_path / "run"
    tiny = ["--model", "tiny", "--nframes", "4", "--min_pixels", "3136", "--max_pixels", "12544", "--max_new_tokens", "4",
            "--n_boot", "0", "--no-progress", "--batch_size", "2"]
    assert eval_main(["run", "--config", preset, "--data_root", str(tmp_path / "data"), "--out_dir", str(out), *tiny]) == 0, capsys.readouterr().err
    m = json.loads((out / "metrics.json").read_text())
    p = m["protocol"]
    from twgrpo.data import load_benchmark
    n = len(load_benchmark(qfile, spec.get("format")))
    assert m["n_records"] == n >= 2 and m["n"] + m.get("left_out", 0) == n and m["skipped"]["count"] == 0
    assert p["preset"]["name"] == preset and p["preset"]["about"] == spec["about"] and len(p["preset"]["sha256"]) == 64
    assert (p["prompt"], p["scoring"]["protocol"], m["scoring"]["protocol"]) == (spec["prompt"], spec["protocol"], spec["protocol"])
    assert p["benchmark"] == spec["benchmark"] and p["frames"]["nframes"] == 4 and p["decoding"]["max_new_tokens"] == 4
    assert p["decoding"]["do_sample"] == (spec["temperature"] > 0) and p["records_file"] == str(qfile)
    if spec["prompt"] == "lmms-eval":
        from twgrpo.evaluate import lmms_eval_text
        first = read_log(out / "predictions.jsonl")[0]
        assert lmms_eval_text(first, spec["benchmark"]) in p["first_prompt"]
    assert f"protocol: {spec['protocol']}" in capsys.readouterr().out


LMMS_TASK_YAML = {"mvbench": ("mvbench", "mvbench_action_antonym.yaml"), "videomme": ("videomme", "videomme.yaml"),
                  "tempcompass": ("tempcompass", "tempcompass_mc.yaml"), "nextqa": ("nextqa", "nextqa_mc_test.yaml"),
                  "mmvu": ("mmvu", "mmvu_val.yaml")}


@pytest.mark.parametrize("bench", LMMS_TASK_YAML)
def test_lmms_eval_preset_is_lmms_evals_frames_and_decoding(bench):
    "Read from the installed lmms-eval: the task YAML, the qwen2_5_vl model's defaults, qwen-vl-utils' caps."
    import yaml
    import lmms_oracle as oracle
    from twgrpo.evaluate import LMMS_EVAL_QWEN2_5_VL, LMMS_EVAL_TASKS, decoding_kwargs, frame_settings, preset_file
    from twgrpo.scoring import LMMS_REASONING_TAGS
    spec = yaml.safe_load(preset_file(f"eval/lmms-eval/{bench}").read_text())
    task = oracle.task_config(*LMMS_TASK_YAML[bench])
    gen = {**oracle.chat_generation_defaults(), **oracle.generation_kwargs(task)}  # what the chat model's generate_until uses
    sampled = gen["temperature"] > 0  # the model class: do_sample = temperature > 0, whatever the YAML says
    ours = decoding_kwargs(spec["max_new_tokens"], spec["temperature"], spec.get("top_p"))
    assert (ours["max_new_tokens"], ours["do_sample"], float(spec["temperature"])) == (gen["max_new_tokens"], sampled, gen["temperature"])
    if sampled: assert (ours["temperature"], ours["top_p"]) == (gen["temperature"], gen["top_p"])
    t = LMMS_EVAL_TASKS[bench]
    assert (t["max_new_tokens"], t["temperature"], t["do_sample"]) == (gen["max_new_tokens"], gen["temperature"], sampled)
    kw = oracle.specific_kwargs(task) or {}
    post = kw.get("post_prompt", "")
    post = post["multi-choice"] if isinstance(post, dict) else post
    assert t["post_prompt"] == post == spec["about"]["post_prompt"] and t["pre_prompt"] == kw.get("pre_prompt", "")
    md = oracle.model_defaults("simple")
    caps = oracle.qwen_vl_utils_caps(md["max_num_frames"])
    assert md["fps"] is None  # so the frame count is max_num_frames (or fewer, floored to even)
    assert (spec["nframes"], spec["min_pixels"], spec["max_pixels"], spec["total_pixels"]) == \
           (md["max_num_frames"], md["min_pixels"], min(md["max_pixels"], caps["frame_max"]), caps["total_pixels"])
    s = frame_settings(spec["settings"], **{k: spec.get(k) for k in ("nframes", "min_pixels", "max_pixels", "total_pixels")})
    assert s == frame_settings("lmms_eval_qwen2_5_vl")
    assert (LMMS_EVAL_QWEN2_5_VL["max_num_frames"], LMMS_EVAL_QWEN2_5_VL["min_pixels"], LMMS_EVAL_QWEN2_5_VL["max_pixels"]) == \
           (md["max_num_frames"], md["min_pixels"], md["max_pixels"])
    assert LMMS_EVAL_QWEN2_5_VL["default_max_new_tokens"] == oracle.chat_generation_defaults()["max_new_tokens"]
    assert [list(p) for p in LMMS_REASONING_TAGS] == LMMS_EVAL_QWEN2_5_VL["reasoning_tags"] == json.loads(oracle.cli_default("reasoning_tags"))


def test_lmms_eval_frame_count_is_the_models():
    "lmms-eval's qwen2_5_vl: nframes = min(max_num_frames, frames in the video), floored to even."
    from twgrpo.evaluate import frame_settings
    from twgrpo.video import frame_count
    s = frame_settings("lmms_eval_qwen2_5_vl")
    for total in (2, 7, 31, 32, 33, 500):
        assert frame_count(total, 25.0, s) == max(2, (min(32, total) // 2) * 2)


@pytest.mark.parametrize("bench", LMMS_TASK_YAML)
def test_lmms_eval_prompt_is_the_tasks_doc_to_text(bench):
    import lmms_oracle as oracle
    from twgrpo.evaluate import lmms_eval_prompt, lmms_eval_text
    mod = oracle.task_utils(bench)
    kw = oracle.specific_kwargs(oracle.task_config(*LMMS_TASK_YAML[bench]))
    L = string.ascii_uppercase
    for q, opts in [("What is the man doing?", ["dunking a ball", "dribbling a ball", "passing a ball", "nothing", "running"]),
                    ("  Why did the boy pick up the present ", ["share it", "unwrap it ", "give it away", "throw it", "hide it"]),
                    ("How many grams?", ["10.0", "5.0", "12.0", "15.0"])]:
        if bench in ("nextqa",) and len(opts) != 5: continue
        if bench == "videomme": opts = opts[:4]
        rec = dict(id="r", question=q, options=opts, source=bench, video="v.mp4", start=None, end=None, problem_type="multiple choice")
        if bench == "mvbench": doc = dict(question=q, candidates=opts); ref = mod.mvbench_doc_to_text(doc, kw)
        elif bench == "videomme": ref = mod.videomme_doc_to_text(dict(question=q, options=[f"{L[i]}. {o}" for i, o in enumerate(opts)]), kw)
        elif bench == "tempcompass":
            ref = mod.tempcompass_doc_to_text_multi_choice(dict(question=q + "\n" + "\n".join(f"{L[i]}. {o}" for i, o in enumerate(opts))), kw)
        elif bench == "nextqa": ref = mod.nextqa_doc_to_text_mc({"question": q, **{f"a{i}": o for i, o in enumerate(opts)}}, kw)
        else:
            ref = mod.mmvu_doc_to_text(dict(question_type="multiple-choice", question=q,
                                            choices=dict(zip("ABCDE", [*opts, *[""] * (5 - len(opts))]))), kw)
        assert lmms_eval_text(rec) == ref
        msgs = lmms_eval_prompt(rec)
        assert [m["role"] for m in msgs] == ["user"] and [c["type"] for c in msgs[0]["content"]] == ["video", "text"]


def test_saved_checkpoints_have_what_lmms_evals_qwen2_5_vl_loads():
    "The files a local folder needs for lmms-eval's `qwen2_5_vl` (from_pretrained of model, AutoProcessor, AutoTokenizer)."
    from twgrpo.evaluate import lmms_eval_files
    from twgrpo.tiny_model import tiny_model_path
    found = lmms_eval_files(tiny_model_path())
    assert None not in found.values(), found
    assert found["video processor"] == "processor_config.json (video_processor)"


def test_two_processes_shard_and_merge(clevrer, tmp_path, free_port):
    if shutil.which("accelerate", path=str(Path(sys.executable).parent)) is None: pytest.skip("accelerate CLI not installed")
    qfile, root, records = clevrer
    script = tmp_path / "run.py"
    script.write_text("import sys\nfrom twgrpo.cli import main\nsys.exit(main())\n")
    out = tmp_path / "dp"
    args = _run_cli(out, qfile, root)[3:]
    r = subprocess.run([str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
                        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port),
                        str(script), *args],
                       env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = read_log(out / "predictions.jsonl")
    assert [r["id"] for r in rows] == [str(r["id"]) for r in records]  # merged in record order, once each
    assert {r["rank"] for r in rows} == {0, 1} and not list(out.glob("predictions.rank*.jsonl"))
    assert json.loads((out / "metrics.json").read_text())["n"] == len(records)

"""Evaluation: the published numbers from the published logs, a SIGKILL mid-run and a resume, the tiny model end to
end on the synthetic CLEVRER-style set, bad input, the command line and two processes under `accelerate launch`."""
import json, os, shutil, signal, subprocess, sys, time, warnings
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
    log.write_text('{"id": "1", "completion": "A", "answer": "A"}\n{"id": "2", "completion": "B", "ans')
    with pytest.warns(UserWarning, match="line 2"): m = rescore(log, n_boot=0)
    assert m["n"] == 1 and m["strict_accuracy"] == 100
    with pytest.warns(UserWarning): read_log(log, repair=True)
    assert log.read_text() == '{"id": "1", "completion": "A", "answer": "A"}\n'


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
    # a rerun finds everything done, generates nothing, and scores the same
    m2 = _eval(tiny, qfile, tmp_path / "run", video_root=root)
    assert m2["this_session"]["generated"] == 0
    assert {k: v for k, v in m2.items() if k not in VOLATILE} == {k: v for k, v in m.items() if k not in VOLATILE}
    # another protocol in the same folder is refused
    with pytest.raises(ValueError, match="another protocol"):
        _eval(tiny, qfile, tmp_path / "run", video_root=root, max_new_tokens=5)


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

def test_predict_cli(clevrer):
    qfile, root, records = clevrer
    video = records[0]["video"]
    r = subprocess.run([*CLI, "predict", "--video", str(video), "--question", "Which will happen?", "--options", "red", "blue",
                        "--settings", "tiny", "--max_new_tokens", "8", "--json"], env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout[r.stdout.index("{"):])
    assert {"answer", "reasoning", "text", "parsed"} <= set(out) and out["n_tokens"] <= 8
    r = subprocess.run([*CLI, "predict", "--video", "no/such.mp4", "--question", "Q"], env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "no/such.mp4" in r.stderr


def test_two_processes_shard_and_merge(clevrer, tmp_path):
    if shutil.which("accelerate", path=str(Path(sys.executable).parent)) is None: pytest.skip("accelerate CLI not installed")
    qfile, root, records = clevrer
    script = tmp_path / "run.py"
    script.write_text("import sys\nfrom twgrpo.cli import main\nsys.exit(main())\n")
    out = tmp_path / "dp"
    args = _run_cli(out, qfile, root)[3:]
    r = subprocess.run([str(Path(sys.executable).parent / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2",
                        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", str(script), *args],
                       env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = read_log(out / "predictions.jsonl")
    assert [r["id"] for r in rows] == [str(r["id"]) for r in records]  # merged in record order, once each
    assert {r["rank"] for r in rows} == {0, 1} and not list(out.glob("predictions.rank*.jsonl"))
    assert json.loads((out / "metrics.json").read_text())["n"] == len(records)

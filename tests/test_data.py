"""Loaders on the real upstream files, malformed input, path safety and the `twgrpo data` CLI (subprocesses)."""
import csv, json, os, subprocess, sys
from collections import Counter
from pathlib import Path

import pytest

from twgrpo.data import (FORMATS, DataError, answer_letters, data_main, detect_format, load_benchmark, record_problem, record_solution,
                         r1_eval_prompt, train_prompt, video_root_for, video_settings, write_jsonl, zeroshot_prompt)

REPO = Path(__file__).resolve().parents[1]
FIX = REPO/"tests/fixtures"
UPSTREAM = REPO / "tests/fixtures/upstream"  # the reference's published files, copied unchanged (see its README)
REAL = FIX / "real"  # unchanged records of the benchmarks' public files (see tests/fixtures/README.md)
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}

# one sample per format (the same table as the notebook), with the reader options it needs
SAMPLES = {"clevrer": ("clevrer/validation_sample.json", {}), "r1": ("videor1/eval_mvbench_sample.json", {}),
           "nextqa": ("nextqa/val_sample.csv", {}), "nextgqa": ("nextgqa/val_sample.csv", {"spans": str(FIX/"nextgqa/gsub_val_sample.json")}),
           "nextgqa_json": ("nextgqa_json/nextgqa_val_mixed_head.json", {}), "star": ("star/STAR_val_sample.json", {}),
           "mvbench": ("mvbench/json/action_sequence.json", {}), "videomme": ("videomme/test-00000-of-00001.parquet", {}),
           "tempcompass": ("tempcompass/multi-choice.json", {}), "mmvu": ("mmvu/validation_sample.json", {}),
           "open_r1_video": ("open_r1_video/clevrer_counterfactual_train_sample.json", {})}


def run_cli(*args, via="module"):
    "`python -m twgrpo.data ARGS`, or (via='cli') the project command `twgrpo ARGS` through `twgrpo.cli.main`."
    cmd = ["-m", "twgrpo.data"] if via == "module" else ["-c", "import sys; from twgrpo.cli import main; sys.exit(main())"]
    return subprocess.run([sys.executable, *cmd, *map(str, args)], capture_output=True, text=True, env=ENV, cwd=REPO, timeout=120)


# ---------------------------------------------------------------- real files
def test_real_eval_mmvu():
    recs, rep = load_benchmark(UPSTREAM/"eval_mmvu.json", report=True)
    raw = json.loads((UPSTREAM/"eval_mmvu.json").read_text())
    assert len(recs) == len(raw) == 625 and rep.loaded == 625 and not rep.skipped and not rep.filtered
    assert {r["source"] for r in recs} == {"mmvu"} and all(len(r["options"]) == 5 for r in recs)
    assert [record_solution(r) for r in recs] == [o["solution"] for o in raw]
    assert len({r["category"] for r in recs}) == 27 and Counter(r["category"] for r in recs)["Biomedical Engineering"] == 47
    assert all(r["video"].startswith("MMVU/videos/") for r in recs)


@pytest.mark.parametrize("name,negated", [("nextgqa_val_raw.json", 0), ("nextgqa_val_mixed.json", 1668)])
def test_real_nextgqa_layout(name, negated):
    "The reference's own `problem` / `solution` strings are reproduced exactly from the records, on all 3,358 items."
    raw = json.loads((UPSTREAM/name).read_text())
    recs = load_benchmark(UPSTREAM/name)
    assert len(recs) == len(raw) == 3358
    assert [record_problem(r) for r in recs] == [o["problem"] for o in raw]
    assert [record_solution(r) for r in recs] == [o["solution"] for o in raw]
    assert sum(bool(r["meta"].get("is_negated")) for r in recs) == negated
    assert Counter(r["category"] for r in recs)["TP"] == 52


def test_real_videomme_records_in_predictions_log(tmp_path):
    "The `question` field of the reference's Video-MME log is a Video-R1 record: 2,748 lines, 2,700 unique questions."
    qs = [json.loads(l)["question"] for l in (UPSTREAM/"zeroshot_videomme_predictions.jsonl").open()]
    uniq = list({q["question_id"]: q for q in qs}.values())
    recs = load_benchmark(_dump(uniq, tmp_path/"vmme.json"))
    assert len(qs) == 2748 and len(recs) == 2700 and {r["source"] for r in recs} == {"videomme"}
    assert recs[0]["id"] == "001-1" and recs[0]["category"] == "Counting Problem" and recs[0]["video"] == "videoMME/data/fFjv93ACGo8.mp4"
    assert Counter(r["meta"]["duration"] for r in recs) == Counter(short=900, medium=900, long=900)
    with pytest.raises(DataError, match="duplicate id '001-1'"): load_benchmark(_dump(qs, tmp_path/"dups.json"))


def _dump(obj, path):
    Path(path).write_text(json.dumps(obj)); return path


# ---------------------------------------------------------------- every format
@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_every_format_detects_loads_and_round_trips(fmt, tmp_path):
    rel, opts = SAMPLES[fmt]
    assert detect_format(FIX/rel) == fmt
    recs = FORMATS[fmt](FIX/rel, **opts)
    assert recs and all(r["category"] and r["source"] for r in recs)
    write_jsonl(recs, tmp_path/"u.jsonl")
    assert load_benchmark(tmp_path/"u.jsonl") == recs  # unified JSON lines read back identically


def test_nextgqa_csv_and_json_agree():
    csv_recs = load_benchmark(FIX/"nextgqa/val_sample.csv", spans=FIX/"nextgqa/gsub_val_sample.json")
    json_recs = load_benchmark(FIX/"nextgqa_json/nextgqa_val_raw_head.json")[:4]
    key = lambda r: (r["id"], r["video"], r["question"], r["options"], r["answer"], r["category"], r["meta"]["spans"])
    assert [key(r) for r in csv_recs] == [key(r) for r in json_recs]


def test_clevrer_types_and_no_correct_choice():
    recs, rep = load_benchmark(FIX/"clevrer/validation_sample.json", report=True)
    assert [r["answer"] for r in recs] == ["A,C,D", "B", "B,C"] and rep.filtered["no correct choice"] == 1
    every = load_benchmark(FIX/"clevrer/validation_sample.json", question_types="descriptive,explanatory,predictive,counterfactual")
    assert Counter(r["category"] for r in every) == Counter(counterfactual=3, descriptive=1, explanatory=1, predictive=1)
    with pytest.raises(DataError, match="unknown CLEVRER question type"): load_benchmark(FIX/"clevrer/validation_sample.json", question_types="causal")


def test_tempcompass_formats():
    yn = load_benchmark(FIX/"tempcompass/yes_no.json", task_formats="yes_no")
    assert [(r["options"], r["answer"]) for r in yn] == [(["yes", "no"], "A"), (["yes", "no"], "B")]
    cm = load_benchmark(FIX/"tempcompass/caption_matching.json", task_formats=["caption_matching"])
    assert cm[1]["options"] == ["The man is dribbling a basketball.", "A man is dunking a basketball."] and cm[1]["answer"] == "B"
    _, rep = load_benchmark(FIX/"tempcompass/yes_no.json", report=True)  # default: multi-choice only
    assert rep.loaded == 0 and rep.filtered["task format yes_no"] == 2


# ---------------------------------------------------------------- malformed input
def test_truncated_json_names_file_and_position(tmp_path):
    for rel in ("videor1/eval_mmvu_head.json", "clevrer/validation_sample.json", "mmvu/validation_sample.json", "tempcompass/multi-choice.json"):
        p = tmp_path/Path(rel).name
        p.write_text((FIX/rel).read_text()[:700])
        with pytest.raises(DataError, match=rf"{p.name}: not valid JSON at line \d+, column \d+"):
            load_benchmark(p, {"videor1": "r1"}.get(rel.split("/")[0], rel.split("/")[0]), skip_bad=True)  # a broken document is never skipped


def test_csv_missing_column_and_bad_row(tmp_path):
    lines = (FIX/"nextqa/val_sample.csv").read_text().splitlines()
    (tmp_path/"no_a4.csv").write_text("\n".join(l.rsplit(",", 1)[0] for l in lines) + "\n")
    with pytest.raises(DataError, match=r"no_a4.csv: the csv header lacks column\(s\) \['a4'\]"): load_benchmark(tmp_path/"no_a4.csv", "nextqa")
    (tmp_path/"short.csv").write_text("\n".join([lines[0], lines[1], lines[2].rsplit(",", 2)[0], lines[3]]) + "\n")
    with pytest.raises(DataError, match=r"short.csv: line 3 \(id '\d+_\d+'\): wrong number of fields"): load_benchmark(tmp_path/"short.csv", "nextqa")
    recs, rep = load_benchmark(tmp_path/"short.csv", "nextqa", skip_bad=True, report=True)
    assert len(recs) == 2 and rep.skipped == Counter(malformed=1)
    rows = list(csv.DictReader(open(FIX/"nextqa/val_sample.csv")))
    rows[1]["answer"] = "7"
    with open(tmp_path/"idx.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    with pytest.raises(DataError, match=r"idx.csv: line 3 \(id .*\): answer index 7 outside 0-4"): load_benchmark(tmp_path/"idx.csv", "nextqa")


def test_answer_outside_options_and_no_correct_choice(tmp_path):
    raw = json.loads((FIX/"videor1/eval_mmvu_head.json").read_text())
    raw[2]["solution"] = "<answer>F</answer>"
    raw[4]["solution"] = "<answer></answer>"
    p = _dump(raw, tmp_path/"eval.json")
    with pytest.raises(DataError, match=r"eval.json: record 2 \(problem_id 3\): answer \['F'\] outside the options A-E") as e:
        load_benchmark(p)
    assert e.value.reason == "bad_answer"
    recs, rep = load_benchmark(p, skip_bad=True, report=True)
    assert len(recs) == len(raw) - 2 and rep.skipped == Counter(bad_answer=2)
    assert "record 4 (problem_id 5)" in rep.examples[1]
    with pytest.warns(UserWarning, match="skipped malformed records"): load_benchmark(p, skip_bad=True)  # skips are never silent

    mm = json.loads((FIX/"mmvu/validation_sample.json").read_text())
    mm[2]["answer"] = "E"  # the four-choice question has no E
    with pytest.raises(DataError, match=r"record 2 \(id 'validation_3'\): answer \['E'\] outside the options A-D"):
        load_benchmark(_dump(mm, tmp_path/"mmvu.json"), "mmvu")

    star = json.loads((FIX/"star/STAR_val_sample.json").read_text())
    star[0]["answer"] = "The sofa."
    with pytest.raises(DataError, match=r"record 0 \(question_id 'Interaction_T1_13'\): answer 'The sofa.' is not one of the options"):
        load_benchmark(_dump(star, tmp_path/"star.json"), "star")


def test_other_malformed_records(tmp_path):
    tc = json.loads((FIX/"tempcompass/multi-choice.json").read_text())
    tc["1034419625"]["action"][0]["answer"] = "B. dunking a basketball"
    with pytest.raises(DataError, match="video '1034419625' dimension 'action' item 0: answer 'B. dunking a basketball' does not match option B"):
        load_benchmark(_dump(tc, tmp_path/"tc.json"), "tempcompass")
    cl = json.loads((FIX/"clevrer/validation_sample.json").read_text())
    del cl[1]["questions"][1]["choices"][0]["choice"]
    with pytest.raises(DataError, match=r"scene 10001 question 1: missing field 'choice'"): load_benchmark(_dump(cl, tmp_path/"c.json"))
    recs, rep = load_benchmark(tmp_path/"c.json", skip_bad=True, report=True)
    assert len(recs) == 2 and rep.skipped == Counter(missing_field=1)
    ng = json.loads((FIX/"nextgqa_json/nextgqa_val_raw_head.json").read_text())
    ng[0]["solution"] = "<answer>A</answer>"
    with pytest.raises(DataError, match="and `solution` '<answer>A</answer>' disagree"): load_benchmark(_dump(ng, tmp_path/"n.json"))
    dup = json.loads((FIX/"videor1/eval_mmvu_head.json").read_text())
    with pytest.raises(DataError, match="duplicate id '1'"): load_benchmark(_dump(dup + dup[:1], tmp_path/"d.json"))
    (tmp_path/"bad.jsonl").write_text('{"problem": "Q?", "options": ["A. x", "B. y"], "solution": "<answer>B</answer>", "path": "a.mp4"}\n{"problem": \n')
    with pytest.raises(DataError, match="bad.jsonl: line 2: not valid JSON"): load_benchmark(tmp_path/"bad.jsonl", "r1")
    assert load_benchmark(tmp_path/"bad.jsonl", "r1", skip_bad=True, report=True)[1].skipped == Counter(bad_json=1)


def test_videomme_parquet_missing_column(tmp_path):
    import pandas as pd
    df = pd.read_parquet(FIX/"videomme/test-00000-of-00001.parquet")
    df.drop(columns=["answer"]).to_parquet(tmp_path/"vm.parquet")
    with pytest.raises(DataError, match=r"vm.parquet: the parquet lacks column\(s\) \['answer'\]"): load_benchmark(tmp_path/"vm.parquet")
    df.assign(answer=["C", "Z", "A", "B"]).to_parquet(tmp_path/"vm2.parquet")
    with pytest.raises(DataError, match=r"row 1 \(question_id '001-2'\): answer \['Z'\] outside the options A-D"): load_benchmark(tmp_path/"vm2.parquet")
    (tmp_path/"junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read it as parquet"): load_benchmark(tmp_path/"junk.parquet")


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"): load_benchmark(tmp_path/"nope.json")
    p = _dump([{"foo": 1}], tmp_path/"x.json")
    with pytest.raises(DataError, match="cannot tell the format"): load_benchmark(p)
    with pytest.raises(DataError, match="unknown format 'csv'"): load_benchmark(p, "csv")


# ---------------------------------------------------------------- videos and paths
def _root_with_videos(tmp_path):
    root = tmp_path/"root"
    for sub in ("Chemistry", "Thermodynamics"):
        (root/"MMVU/videos"/sub).mkdir(parents=True, exist_ok=True)
        (root/"MMVU/videos"/sub/"0.mp4").write_bytes(b"\0")
    return root


def test_missing_video_and_unsafe_paths(tmp_path):
    root = _root_with_videos(tmp_path)
    recs = load_benchmark(FIX/"mmvu/validation_sample.json", video_root=root, check_videos=True)
    assert [r["video"] for r in recs] == [str((root/"MMVU/videos/Chemistry/0.mp4").resolve()), str((root/"MMVU/videos/Thermodynamics/0.mp4").resolve())]
    with pytest.raises(DataError, match=r"record 0 \(problem_id 1\): video .*Chemistry/0.mp4 not found") as e:
        load_benchmark(FIX/"videor1/eval_mmvu_head.json", check_videos=True)  # no root: paths are taken relative to the cwd
    assert e.value.reason == "missing_video"
    head = json.loads((FIX/"videor1/eval_mmvu_head.json").read_text())
    present = [o for o in head if o["video"] in ("/MMVU/videos/Chemistry/0.mp4", "/MMVU/videos/Thermodynamics/0.mp4")]
    recs, rep = load_benchmark(FIX/"videor1/eval_mmvu_head.json", video_root=root, check_videos=True, skip_bad=True, report=True)
    assert 0 < len(present) < len(head) and len(recs) == len(present) and rep.skipped == Counter(missing_video=len(head) - len(present))

    outside = tmp_path/"outside.mp4"; outside.write_bytes(b"\0")
    (root/"MMVU/videos/link.mp4").symlink_to(outside)
    raw = json.loads((FIX/"videor1/eval_mmvu_head.json").read_text())[:4]
    raw[1]["video"] = "/MMVU/../../outside.mp4"
    raw[2]["video"] = "/MMVU/videos/link.mp4"
    raw[3].pop("video"); raw[3]["path"] = "./Evaluation/MMVU/videos/Thermodynamics/0.mp4"
    p = _dump(raw, tmp_path/"unsafe.json")
    with pytest.raises(DataError, match=r"record 1 \(problem_id 2\): record '2': video path 'MMVU/../../outside.mp4' leads to .* outside the data root"):
        load_benchmark(p, video_root=root)
    recs, rep = load_benchmark(p, video_root=root, skip_bad=True, report=True)
    assert [r["id"] for r in recs] == ["1", "4"] and rep.skipped == Counter(unsafe_path=2)
    assert "no symlink leading out" in rep.examples[1]
    assert load_benchmark(p)[1]["video"] == "MMVU/../../outside.mp4"  # without a root nothing is resolved; resolve_video refuses it later


# ---------------------------------------------------------------- the project's own synthetic data
def test_synthetic_sets_load_with_their_videos(tmp_path):
    synthetic = pytest.importorskip("twgrpo.synthetic")
    toy = synthetic.make_colour_toy(tmp_path/"toy", 3)
    recs = load_benchmark(toy, video_root=toy.parent, check_videos=True)
    assert len(recs) == 3 and all(Path(r["video"]).is_file() and r["options"] == ["red", "green", "blue", "yellow"] for r in recs)
    shipped = REPO/"data/clevrer_like/train.json"
    if shipped.is_file():
        cf = load_benchmark(shipped, video_root=shipped.parent, video_prefix="", check_videos=True)
        assert cf and all(r["category"] == "counterfactual" and r["answer"] for r in cf)


# ---------------------------------------------------------------- prompts with the real frame settings
def test_prompts_carry_video_settings():
    from twgrpo.video import PAPER_EVAL, PAPER_TRAIN, TINY
    rec = load_benchmark(FIX/"star/STAR_val_sample.json")[0]
    item = train_prompt(rec)[0]["content"][0]
    assert item["max_pixels"] == PAPER_TRAIN.max_pixels and item["fps"] == PAPER_TRAIN.fps and (item["start"], item["end"]) == (11.1, 19.6)
    assert r1_eval_prompt(rec)[0]["content"][0]["nframes"] == PAPER_EVAL.nframes
    assert zeroshot_prompt(rec, TINY)[0]["content"][0]["max_pixels"] == TINY.max_pixels
    assert video_settings(TINY) == {k: v for k, v in TINY.to_dict().items() if v is not None}
    text = train_prompt(rec)[0]["content"][1]["text"]
    assert text == record_problem(rec) + "  Output the thinking process in <think> </think> and final answer (letters separated by , if multiple) in <answer> </answer> tags."


# ---------------------------------------------------------------- CLI
def test_cli_convert_and_stats(tmp_path):
    out = tmp_path/"o/cf.jsonl"
    r = run_cli("convert", FIX/"clevrer/validation_sample.json", "--to", out, "--opt", "question_types=counterfactual,explanatory")
    assert r.returncode == 0, r.stderr
    assert "wrote 4 records" in r.stdout and "filtered 3" in r.stderr
    recs = load_benchmark(out)
    assert recs == load_benchmark(FIX/"clevrer/validation_sample.json", question_types=("counterfactual", "explanatory"))

    r = run_cli("data", "convert", FIX/"nextgqa/val_sample.csv", "--to", tmp_path/"g.jsonl", "--spans", FIX/"nextgqa/gsub_val_sample.json", via="cli")
    assert r.returncode == 0, r.stderr
    assert load_benchmark(tmp_path/"g.jsonl")[0]["meta"]["spans"] == [[13.8, 29.8]]

    r = run_cli("stats", FIX/"nextgqa_json/nextgqa_val_mixed_head.json")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "records: 12" and "nextgqa/CW" in r.stdout and "correct answers" in r.stdout
    section = lines[lines.index(next(l for l in lines if l.startswith("correct answers"))) + 2:]
    counts = Counter(len(answer_letters(x)) for x in load_benchmark(FIX/"nextgqa_json/nextgqa_val_mixed_head.json"))
    assert {int(l.split()[0]): int(l.split()[1]) for l in section if l.strip()} == counts


def test_cli_errors(tmp_path):
    bad = tmp_path/"trunc.json"; bad.write_text((FIX/"mmvu/validation_sample.json").read_text()[:300])
    r = run_cli("convert", bad, "--to", tmp_path/"x.jsonl")
    assert r.returncode == 2 and "trunc.json: not valid JSON at line" in r.stderr and not (tmp_path/"x.jsonl").exists()
    raw = json.loads((FIX/"videor1/eval_mmvu_head.json").read_text()); raw[0]["solution"] = "<answer>Q</answer>"
    r = run_cli("convert", _dump(raw, tmp_path/"e.json"), "--to", tmp_path/"y.jsonl", "--skip-bad")
    assert r.returncode == 0 and "wrote 11 records" in r.stdout and "skipped 1 (bad_answer: 1)" in r.stderr
    r = run_cli("stats", FIX/"clevrer/validation_sample.json", "--opt", "no_such_option=1")
    assert r.returncode == 2 and "no_such_option" in r.stderr
    r = run_cli("convert", FIX/"clevrer/validation_sample.json")  # --to missing
    assert r.returncode == 2 and "--to" in r.stderr


# ---------------------------------------------------------------- the benchmarks' real files (tests/fixtures/real)
def _cli(*args):
    "`twgrpo data ARGS` in-process: (exit code, stdout + stderr)."
    import contextlib, io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = data_main([str(a) for a in args])
    return code, out.getvalue() + err.getvalue()


def test_real_tempcompass_option_lines_however_padded(tmp_path):
    "The real multi-choice file writes one option as ' D. away from the screen': it loads, it is not taken for captioning."
    recs, rep = load_benchmark(REAL/"tempcompass_multi-choice.json", report=True)
    raw = json.loads((REAL/"tempcompass_multi-choice.json").read_text())
    assert len(recs) == sum(len(v) for d in raw.values() for v in d.values()) == 10 and not rep.filtered
    spin = next(r for r in recs if r["id"] == "1100319395_reverse/direction/multi-choice/2")
    assert spin["options"] == ["towards the screen", "anticlockwise", "clockwise", "away from the screen"] and spin["answer"] == "B"
    assert next(r for r in recs if r["id"] == "1083113449/speed/multi-choice/1")["options"][2] == "slow"  # 'C. slow ' stripped
    # a choice-looking item that cannot be parsed is an error naming the item, not a filter
    raw["1058907236"]["action"][0]["question"] = raw["1058907236"]["action"][0]["question"].replace("\nB.", "\nC.", 1)
    with pytest.raises(DataError, match=r"video '1058907236' dimension 'action' item 0: looks like a multi-choice question but its options are labelled"):
        load_benchmark(_dump(raw, tmp_path/"mc.json"))
    raw = json.loads((REAL/"tempcompass_multi-choice.json").read_text())
    raw["1058907236"]["action"][0]["question"] = raw["1058907236"]["action"][0]["question"].split("\n")[0]
    with pytest.raises(DataError, match=r"item 0: answer '[A-D]\. .*' names an option, but the question has no option lines"):
        load_benchmark(_dump(raw, tmp_path/"mc2.json"))
    for fmt, n in (("yes_no", 3), ("caption_matching", 3)):
        assert len(load_benchmark(REAL/f"tempcompass_{fmt}.json", task_formats=fmt)) == n
    assert load_benchmark(FIX/"tempcompass/captioning.json", report=True)[1].filtered == Counter({"task format captioning": 3})


def test_real_mvbench_single_option_items_and_tasks():
    "The paper's eval_mvbench.json: five counterfactual items with one option load; the category is the task from problem_id."
    recs = {r["id"]: r for r in load_benchmark(REAL/"eval_mvbench_excerpt.json")}
    assert [len(recs[i]["options"]) for i in ("1282", "1299", "1312", "1338", "1363")] == [1] * 5
    assert {recs[i]["category"] for i in ("1282", "1299", "1312", "1338", "1363")} == {"counterfactual_inference"}
    assert (recs["1"]["category"], recs["801"]["category"], recs["1601"]["category"]) == ("action_antonym", "action_sequence", "episodic_reasoning")
    # clip bounds: the paper's protocol reads whole videos (bounds kept in meta); MVBench's applies them
    assert (recs["801"]["start"], recs["801"]["meta"]["clip_start"], recs["801"]["meta"]["clip_end"]) == (None, 1.5, 17.1)
    bounded = {r["id"]: r for r in load_benchmark(REAL/"eval_mvbench_excerpt.json", clip_bounds=True)}
    assert (bounded["801"]["start"], bounded["801"]["end"]) == (1.5, 17.1) and bounded["1"]["start"] is None
    off = load_benchmark(REAL/"mvbench_json/counterfactual_inference.json")
    assert [r["id"] for r in off] == [f"counterfactual_inference_{i}" for i in range(5)] and {r["category"] for r in off} == {"counterfactual_inference"}
    assert [r["answer"] for r in off] == ["A"] * 5 and off[0]["video"] == "MVBench/video/clevrer/video_validation/video_10978.mp4"


def test_mvbench_official_ids_follow_the_position(tmp_path):
    raw = json.loads((REAL/"mvbench_json/episodic_reasoning.json").read_text())
    raw = [raw[0], {**raw[1], "answer": "nobody said that"}, raw[1], raw[0] | {"video": "another_clip"}]
    recs, rep = load_benchmark(_dump(raw, tmp_path/"episodic_reasoning.json"), skip_bad=True, report=True)
    assert [r["id"] for r in recs] == ["episodic_reasoning_0", "episodic_reasoning_2", "episodic_reasoning_3"] and rep.skipped == Counter(bad_answer=1)
    assert recs[0]["video"] == "MVBench/video/tvqa/frames_fps3_hq/castle_s07e04_seg02_clip_14" and recs[0]["meta"]["frames_folder"]
    assert (recs[0]["start"], recs[0]["end"]) == (0.0, 38.32)
    assert rep.notes["video is a folder of frames (not read by twgrpo.video: use Video-R1's mp4 copy)"] == 3


def test_ambiguous_answers_resolved_from_the_source_or_named():
    "NExT-GQA test has 'happy' as both D and E: a strict load leaves it out by name; NExT-QA's answer index settles it."
    recs, rep = load_benchmark(REAL/"nextgqa_test_excerpt.csv", spans=REAL/"nextgqa_gsub_test_excerpt.json", report=True)
    assert [r["id"] for r in recs] == ["2574374895_8", "3083302557_3"] and rep.filtered == Counter({"ambiguous answer": 1})
    assert rep.named["ambiguous answer"][0].startswith("line 4 (id '3842638015_4'): answer 'happy' is the text of options D and E")
    fixed = load_benchmark(REAL/"nextgqa_test_excerpt.csv", nextqa_csv=REAL/"nextqa_test_excerpt.csv")
    assert [(r["id"], r["answer"]) for r in fixed] == [("2574374895_8", "C"), ("3083302557_3", "B"), ("3842638015_4", "E")]
    nqa, rep = load_benchmark(REAL/"nextqa_test_excerpt.csv", report=True)
    assert {r["id"]: r["answer"] for r in nqa}["4794935391_1"] == "A" and rep.notes["same option text under several letters"] == 2
    with pytest.raises(DataError, match="no row with an answer index 0-4"):
        load_benchmark(REAL/"nextgqa_test_excerpt.csv", nextqa_csv=REAL/"nextgqa_test_excerpt.csv")
    code, text = _cli("convert", REAL/"nextgqa_test_excerpt.csv", "--to", "/dev/null")  # a strict convert of the official file succeeds
    assert code == 0 and "ambiguous answer: line 4 (id '3842638015_4')" in text


def test_star_per_choice_flags_and_ids(tmp_path):
    rec = json.loads((REAL/"star_val_record.json").read_text())[0]
    assert [(r["id"], r["answer"], r["category"], r["start"], r["end"]) for r in load_benchmark(REAL/"star_val_record.json")] == \
        [("Interaction_T1_3772", "A", "Interaction", 8.9, 15.5)]
    twice = {**rec, "choices": [dict(c) for c in rec["choices"]]}
    twice["choices"][3]["choice"] = rec["answer"]
    assert load_benchmark(_dump([twice], tmp_path/"s.json"), report=True)[1].filtered == Counter({"ambiguous answer": 1})
    for c, flag in zip(twice["choices"], ("wrong", "wrong", "wrong", "correct")): c["answer"] = flag
    assert load_benchmark(_dump([twice], tmp_path/"s.json"))[0]["answer"] == "D"
    with pytest.raises(DataError, match="2 choices are flagged correct"):
        twice["choices"][0]["answer"] = "correct"; load_benchmark(_dump([twice], tmp_path/"s.json"))
    by_id = {**rec, "answer_id": 2, "choices": [dict(c, choice=rec["answer"]) if c["choice_id"] == 2 else c for c in rec["choices"]]}
    assert load_benchmark(_dump([by_id], tmp_path/"s.json"))[0]["answer"] == "C"


def test_star_end_to_end_clips_the_span(tmp_path):
    "STAR's official record with a Charades video under the root: the prompt's video item carries the span, the reader honours it."
    from twgrpo.video import VideoSettings, barcode_frames, read_barcode, read_video, write_video
    write_video(tmp_path/"STAR/Charades_v1_480/WBS4I.mp4", barcode_frames(250, 56, 84), fps=10.0)  # 25 s
    settings = VideoSettings(fps=2.0, max_frames=16, min_pixels=56 * 84, max_pixels=56 * 84)  # the paper's sampling, frames kept as written
    rec = load_benchmark(REAL/"star_val_record.json", video_root=tmp_path, check_videos=True)[0]
    item = train_prompt(rec, settings)[0]["content"][0]
    assert (item["start"], item["end"]) == (8.9, 15.5)
    clip = read_video(item["video"], settings, start=item["start"], end=item["end"])
    assert clip.indices[0] == 89 and clip.indices[-1] == 155 and read_barcode(clip.frames).tolist() == clip.indices.tolist()


def test_video_paths_map_onto_the_layout(tmp_path):
    "The paper's nextgqa_val.json points at NExT-QA's numbered folders (1104/<id>.mp4): a template or a prefix maps them."
    raw = load_benchmark(REAL/"nextgqa_val_head.json")
    assert raw[0]["video"] == "1104/4882821564.mp4"
    flat = load_benchmark(REAL/"nextgqa_val_head.json", video_template="NExTQA/videos/{name}")
    assert [r["video"] for r in flat] == [f"NExTQA/videos/{r['id'].split('_')[0]}.mp4" for r in flat]
    ours = load_benchmark(UPSTREAM/"nextgqa_val_raw.json")[:6]  # the same questions in the paper's flat-path copy
    assert [(r["id"], r["video"], r["answer"], r["options"]) for r in flat] == [(r["id"], r["video"], r["answer"], r["options"]) for r in ours]
    assert load_benchmark(REAL/"nextgqa_val_head.json", video_prefix="NExTQA/NExTVideo")[0]["video"] == "NExTQA/NExTVideo/1104/4882821564.mp4"
    assert load_benchmark(FIX/"nextqa/val_sample.csv", video_prefix="videos/")[0]["video"].startswith("videos/")  # replaces NExTQA/videos/
    code, text = _cli("convert", REAL/"nextgqa_val_head.json", "--to", tmp_path/"a.jsonl", "--opt", "video_prefix=NExTQA/NExTVideo/")
    assert code == 0, text
    code, text = _cli("convert", REAL/"nextgqa_val_head.json", "--to", tmp_path/"b.jsonl", "--video-template", "NExTQA/videos/{name}")
    assert code == 0 and load_benchmark(tmp_path/"b.jsonl")[0]["video"] == "NExTQA/videos/4882821564.mp4"
    root = tmp_path/"root"; (root/"NExTQA/videos").mkdir(parents=True)
    for r in flat: (root/r["video"]).write_bytes(b"\0")
    assert len(load_benchmark(REAL/"nextgqa_val_head.json", video_template="NExTQA/videos/{name}", video_root=root, check_videos=True)) == 6


def test_one_rule_for_a_records_files_videos(tmp_path):
    assert video_root_for(tmp_path/"d/recs.jsonl") == tmp_path/"d" and video_root_for(tmp_path/"d/recs.jsonl", tmp_path/"r") == tmp_path/"r"
    (tmp_path/"d/videos").mkdir(parents=True); (tmp_path/"d/videos/a.mp4").write_bytes(b"\0")
    recs = load_benchmark(FIX/"videor1/eval_mmvu_head.json")[:1]
    write_jsonl([{**recs[0], "video": "videos/a.mp4"}], tmp_path/"d/recs.jsonl")
    got = load_benchmark(tmp_path/"d/recs.jsonl", video_root=video_root_for(tmp_path/"d/recs.jsonl"), check_videos=True)
    assert got[0]["video"] == str((tmp_path/"d/videos/a.mp4").resolve())


def test_detection_by_signature_fields(tmp_path):
    with pytest.raises(DataError, match=r"questions_by_scene.json: cannot tell the format .* looked for tempcompass: \{video_id: \{dimension"):
        detect_format(FIX/"clevrer/questions_by_scene.json")
    for extra in ([], ["--skip-bad"]):  # never "wrote 0 records" with exit 0
        code, text = _cli("convert", FIX/"clevrer/questions_by_scene.json", "--to", tmp_path/"x.jsonl", *extra)
        assert code == 2 and "looked for" in text and not (tmp_path/"x.jsonl").exists()
    assert detect_format(REAL/"star_val_record.json") == "star" and detect_format(REAL/"nextgqa_val_head.json") == "nextgqa_json"
    assert detect_format(REAL/"mvbench_json/episodic_reasoning.json") == "mvbench"


def test_zero_records_is_an_error_unless_asked_for(tmp_path):
    code, text = _cli("convert", REAL/"tempcompass_yes_no.json", "--to", tmp_path/"yn.jsonl")
    assert code == 2 and "no record kept: all 3 were left out (task format yes_no: 3); to load them: --opt task_formats=yes_no" in text
    assert not (tmp_path/"yn.jsonl").exists()
    code, text = _cli("convert", REAL/"tempcompass_yes_no.json", "--to", tmp_path/"mc.jsonl", "--opt", "task_formats=multi-choice")
    assert code == 0 and "no records" in text and load_benchmark(tmp_path/"mc.jsonl", "unified") == []  # the filter asked for
    code, text = _cli("stats", FIX/"tempcompass/captioning.json")
    assert code == 2 and "task format captioning: 3" in text


def test_open_r1_video_rows_are_the_references_rows(tmp_path):
    "The paper's trainer reads its file with `datasets.Dataset.from_json`: record k is row k, as a JSON list or JSON lines."
    from datasets import Dataset
    src = FIX/"open_r1_video/clevrer_counterfactual_train_sample.json"
    rows = json.loads(src.read_text())
    (tmp_path/"train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for path in (src, tmp_path/"train.jsonl"):
        assert detect_format(path) == "open_r1_video"
        recs, ds = load_benchmark(path), Dataset.from_json(str(path), cache_dir=str(tmp_path/"hf"))
        assert [r["id"] for r in recs] == [str(k) for k in range(len(ds))]
        assert [record_problem(r) for r in recs] == ds["problem"] and [record_solution(r) for r in recs] == ds["solution"]
        assert [r["video"] for r in recs] == ds["video"] and {r["source"] for r in recs} == {"clevrer"}
    bad = [rows[0], {**rows[1], "problem": "Which will happen?"}, rows[2]]
    recs, rep = load_benchmark(_dump(bad, tmp_path/"bad.json"), "open_r1_video", skip_bad=True, report=True)
    assert [r["id"] for r in recs] == ["0", "2"] and rep.skipped == Counter(bad_option=1)


def test_mmvu_subjects_official_and_paper_copy():
    off = {r["video"]: r["category"] for r in load_benchmark(REAL/"mmvu_validation_excerpt.json")}
    copy = {r["video"]: r["category"] for r in load_benchmark(REAL/"eval_mmvu_subjects.json")}
    assert (off["MMVU/videos/Dentistry/3.mp4"], copy["MMVU/videos/Dentistry/3.mp4"]) == ("Pharmacy", "Dentistry")
    assert (off["MMVU/videos/Management/2.mp4"], copy["MMVU/videos/Management/2.mp4"]) == ("Economics", "Management")
    folder = {r["video"]: r["category"] for r in load_benchmark(REAL/"mmvu_validation_excerpt.json", category="folder")}
    assert all(folder[v] == copy[v] for v in folder if v in copy)


def test_converted_files_follow_the_umask_and_json_standard(tmp_path):
    rec = load_benchmark(FIX/"star/STAR_val_sample.json")[0]
    old = os.umask(0o022)
    try:
        write_jsonl([rec], tmp_path/"a.jsonl"); os.umask(0o077); write_jsonl([rec], tmp_path/"b.jsonl")
    finally: os.umask(old)
    assert ((tmp_path/"a.jsonl").stat().st_mode & 0o777, (tmp_path/"b.jsonl").stat().st_mode & 0o777) == (0o644, 0o600)
    with pytest.raises(DataError, match="record 'Interaction_T1_13' is not standard JSON"): write_jsonl([{**rec, "end": float("inf")}], tmp_path/"c.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]  # no stray temporary file

"""Bad inputs of `twgrpo eval run`, `twgrpo eval rescore` and `twgrpo predict`: exit code 2 and one line naming the
setting, file or record. Most are caught while the config is read, before torch or a model loads; the few marked
`slow` load the tiny model (a second) or decode a video."""
import gzip, json

from badinputs import Case


def _rec(**kw):
    r = dict(id="q1", video="v.mp4", start=None, end=None, question="Which one?", options=["red", "blue"], answer="A",
             problem_type="multiple choice", source="test", category="c", meta={})
    return json.dumps({**r, **kw}) + "\n"


REC = _rec()
RECORDS = {"r.jsonl": REC}
VIDEO = {"v.mp4": b"\x00" * 64}  # exists (so `is_file` passes) but is no video
REF = dict(question=dict(problem="Q?", options=["A. a", "B. b", "C. c", "D. d"], problem_id=1, video="/MMVU/videos/Art/0.mp4",
                         problem_type="multiple choice"), ground_truth="<answer>A</answer>", model_output="<answer>A</answer>",
           extracted_answer="A", accuracy_score=1.0)
OURS = dict(id="q1", completion="<answer>A</answer>", answer="A", options=["a", "b", "c", "d"])
RUN = ["eval", "run", "--records", "{tmp}/r.jsonl", "--out_dir", "{tmp}/out"]


def _gz(obj_lines):
    return gzip.compress("".join(json.dumps(o) + "\n" for o in obj_lines).encode())


CASES = [
    # ---- eval run: settings, checked before any model loads
    Case("eval/run-prompt-nope", [*RUN, "--prompt", "nope"], files=RECORDS, names=("unknown prompt 'nope'",)),
    Case("eval/run-batch-size-0", [*RUN, "--batch_size", "0"], files=RECORDS, names=("batch_size=0", "at least 1")),
    Case("eval/run-batch-size-negative", [*RUN, "--batch_size", "-3"], files=RECORDS, names=("batch_size=-3",)),
    Case("eval/run-batch-size-text", [*RUN, "--batch_size", "four"], files=RECORDS, names=("`batch_size`", "integer", "four")),
    Case("eval/run-batch-size-fraction", [*RUN, "--batch_size", "2.5"], files=RECORDS, names=("`batch_size`", "integer")),
    Case("eval/run-max-new-tokens-0", [*RUN, "--max_new_tokens", "0"], files=RECORDS, names=("max_new_tokens=0",)),
    Case("eval/run-temperature-negative", [*RUN, "--temperature", "-1"], files=RECORDS, names=("temperature=-1",)),
    Case("eval/run-temperature-nan", [*RUN, "--temperature", "nan"], files=RECORDS, names=("temperature=nan",)),
    Case("eval/run-top-p-0", [*RUN, "--top_p", "0"], files=RECORDS, names=("top_p=0",)),
    Case("eval/run-top-p-above-1", [*RUN, "--top_p", "1.5"], files=RECORDS, names=("top_p=1.5",)),
    Case("eval/run-n-boot-negative", [*RUN, "--n_boot", "-1"], files=RECORDS, names=("n_boot=-1",)),
    Case("eval/run-protocol-nope", [*RUN, "--protocol", "nope"], files=RECORDS, names=("unknown scoring protocol 'nope'",)),
    Case("eval/run-lmms-eval-clevrer", [*RUN, "--protocol", "lmms-eval", "--benchmark", "clevrer"], files=RECORDS,
         names=("no lmms-eval task for benchmark 'clevrer'",)),
    Case("eval/run-settings-nope", [*RUN, "--settings", "nope"], files=RECORDS, names=("unknown frame settings preset 'nope'",)),
    Case("eval/run-nframes-1", [*RUN, "--nframes", "1"], files=RECORDS, names=("nframes=1",)),
    Case("eval/run-pixels-inverted", [*RUN, "--min_pixels", "9000", "--max_pixels", "100"], files=RECORDS,
         names=("min_pixels <= max_pixels",)),
    Case("eval/run-format-nope", [*RUN, "--format", "nope"], files=RECORDS, names=("unknown records format 'nope'",)),
    Case("eval/run-skip-missing-value", [*RUN, "--skip_missing=maybe"], files=RECORDS, names=("skip_missing",)),
    Case("eval/run-model-missing-path", [*RUN, "--model", "{tmp}/no_model"], files=RECORDS, names=("model {tmp}/no_model", "no such")),
    Case("eval/run-model-relative-missing", [*RUN, "--model", "./runs/paper"], files=RECORDS, names=("model ./runs/paper",)),
    Case("eval/run-model-is-file", [*RUN, "--model", "{tmp}/r.jsonl"], files=RECORDS, names=("model {tmp}/r.jsonl", "is a file")),
    Case("eval/run-model-no-config", [*RUN, "--model", "{tmp}/ckpt"], files={**RECORDS, "ckpt/weights.bin": b"x"},
         names=("model {tmp}/ckpt", "no config.json")),
    # ---- eval run: files and configs
    Case("eval/run-no-records", ["eval", "run", "--out_dir", "{tmp}/out"], names=("`records` is required",)),
    Case("eval/run-records-missing", ["eval", "run", "--records", "{tmp}/nope.json"], names=("records {tmp}/nope.json: no such file",)),
    Case("eval/run-data-root-missing", [*RUN, "--data_root", "{tmp}/nodata"], files=RECORDS, names=("data_root {tmp}/nodata",)),
    Case("eval/run-video-root-missing", [*RUN, "--video_root", "{tmp}/novideos"], files=RECORDS, names=("video_root {tmp}/novideos",)),
    Case("eval/run-config-missing", ["eval", "run", "--config", "{tmp}/nope.yaml"], names=("config {tmp}/nope.yaml", "no such file")),
    Case("eval/run-config-no-value", ["eval", "run", "--config"], names=("--config", "expected one argument")),
    Case("eval/run-preset-unknown", ["eval", "run", "--config", "eval/nope"], names=("config eval/nope", "no shipped preset")),
    Case("eval/run-preset-without-data-root", ["eval", "run", "--config", "eval/mvbench"],
         names=("records Evaluation/eval_mvbench.json: no such file", "--data_root")),
    Case("eval/run-config-yaml-syntax", ["eval", "run", "--config", "{tmp}/c.yaml"], files={"c.yaml": "records: [unclosed\n"},
         names=("{tmp}/c.yaml: not valid YAML",)),
    Case("eval/run-config-tab", ["eval", "run", "--config", "{tmp}/c.yaml"], files={"c.yaml": "records: r.jsonl\n\tbatch_size: 2\n"},
         names=("{tmp}/c.yaml: not valid YAML", "line 2")),
    Case("eval/run-config-list", ["eval", "run", "--config", "{tmp}/c.yaml"], files={"c.yaml": "- records\n- r.jsonl\n"},
         names=("{tmp}/c.yaml", "expected a mapping")),
    Case("eval/run-config-unknown-key", ["eval", "run", "--config", "{tmp}/c.yaml"], files={"c.yaml": "records: r.jsonl\nbatch: 8\n"},
         names=("{tmp}/c.yaml", "unknown key(s) ['batch']")),
    Case("eval/run-config-value-list", ["eval", "run", "--config", "{tmp}/c.yaml"], files={"c.yaml": "records: r.jsonl\nbatch_size: [1, 2]\n"},
         names=("`batch_size` must be a single int",)),
    Case("eval/run-config-latin1", ["eval", "run", "--config", "{tmp}/c.yaml"], files={"c.yaml": "records: caf\xe9.jsonl\n".encode("latin-1")},
         names=("{tmp}/c.yaml: not UTF-8",)),
    Case("eval/run-config-about-not-mapping", ["eval", "run", "--config", "{tmp}/c.yaml"], files={"c.yaml": "records: r.jsonl\nabout: 3\n"},
         names=("`about` must be a mapping",)),
    # ---- eval run: records and videos (these load the tiny model first)
    Case("eval/run-answer-outside-options", RUN, files={"r.jsonl": _rec(answer="C")}, names=("r.jsonl", "id 'q1'", "outside the options")),
    Case("eval/run-duplicate-id", RUN, files={"r.jsonl": REC + REC}, names=("r.jsonl", "duplicate id 'q1'")),
    Case("eval/run-unsafe-video-path", RUN, files={"r.jsonl": _rec(video="../../etc/passwd")}, names=("outside the data root",)),
    Case("eval/run-video-missing", [*RUN, "--settings", "tiny"], files=RECORDS, names=("record q1: video not found", "--skip_missing"), slow=True),
    Case("eval/run-video-undecodable", [*RUN, "--settings", "tiny"], files={**RECORDS, **VIDEO},
         names=("{tmp}/v.mp4", "record q1: cannot read its video", "--skip_missing"), slow=True),
    Case("eval/run-all-skipped", [*RUN, "--settings", "tiny", "--skip_missing"], files={**RECORDS, **VIDEO},
         names=("every record was skipped", "record q1"), slow=True),
    # ---- eval rescore
    Case("eval/rescore-missing", ["eval", "rescore", "{tmp}/nope.jsonl"], names=("{tmp}/nope.jsonl: no such predictions file",)),
    Case("eval/rescore-empty-log", ["eval", "rescore", "{tmp}/p.jsonl"], files={"p.jsonl": "\n"}, names=("{tmp}/p.jsonl", "no prediction rows")),
    Case("eval/rescore-folder-without-predictions", ["eval", "rescore", "{tmp}/run"], files={"run/metrics.json": "{}"},
         names=("{tmp}/run: no predictions*.jsonl",)),
    Case("eval/rescore-gold-outside-options", ["eval", "rescore", "{tmp}/p.jsonl"],
         files={"p.jsonl": json.dumps(dict(OURS, completion="<answer>E</answer>", answer="E")) + "\n"},
         names=("{tmp}/p.jsonl", "row 0 (id q1)", "gold answer 'E' lies outside its 4 options")),
    Case("eval/rescore-reference-gold-outside", ["eval", "rescore", "{tmp}/p.jsonl"],
         files={"p.jsonl": json.dumps(dict(REF, ground_truth="<answer>F</answer>")) + "\n"}, names=("{tmp}/p.jsonl", "gold answer 'F'")),
    Case("eval/rescore-no-gold", ["eval", "rescore", "{tmp}/p.jsonl"], files={"p.jsonl": json.dumps(dict(OURS, answer="")) + "\n"},
         names=("row 0 (id q1)", "no gold answer")),
    Case("eval/rescore-corrupt-line", ["eval", "rescore", "{tmp}/p.jsonl"], files={"p.jsonl": json.dumps(OURS) + "\n{oops\n" + json.dumps(OURS) + "\n"},
         names=("{tmp}/p.jsonl, line 2", "not valid JSON")),
    Case("eval/rescore-not-an-object", ["eval", "rescore", "{tmp}/p.jsonl"], files={"p.jsonl": "[1, 2]\n"},
         names=("{tmp}/p.jsonl, line 1", "expected a JSON object")),
    Case("eval/rescore-unknown-format", ["eval", "rescore", "{tmp}/p.jsonl"], files={"p.jsonl": '{"foo": 1}\n'},
         names=("{tmp}/p.jsonl, row 1", "neither this project's format")),
    Case("eval/rescore-mislabelled-options", ["eval", "rescore", "{tmp}/p.jsonl"],
         files={"p.jsonl": json.dumps({**REF, "question": dict(REF["question"], options=["B. a", "A. b"])}) + "\n"},
         names=("{tmp}/p.jsonl, row 1", "labelled 'B'")),
    Case("eval/rescore-bad-gzip", ["eval", "rescore", "{tmp}/p.jsonl.gz"], files={"p.jsonl.gz": b"not gzip"},
         names=("{tmp}/p.jsonl.gz", "not a readable gzip file")),
    Case("eval/rescore-protocol-nope", ["eval", "rescore", "{tmp}/p.jsonl", "--protocol", "nope"], files={"p.jsonl": json.dumps(OURS) + "\n"},
         names=("--protocol", "invalid choice: 'nope'")),
    Case("eval/rescore-lmms-eval-unknown-benchmark", ["eval", "rescore", "{tmp}/p.jsonl", "--protocol", "lmms-eval", "--benchmark", "star"],
         files={"p.jsonl": json.dumps(OURS) + "\n"}, names=("row 0 (id q1)", "no lmms-eval task for benchmark 'star'")),
    Case("eval/rescore-lmms-eval-gz-no-source", ["eval", "rescore", "{tmp}/p.jsonl.gz", "--protocol", "lmms-eval"],
         files={"p.jsonl.gz": _gz([{**REF, "question": dict(REF["question"], video="/Unknown/x.mp4")}])},
         names=("no lmms-eval task for benchmark ''",)),
    Case("eval/rescore-out-is-folder", ["eval", "rescore", "{tmp}/p.jsonl", "--out", "{tmp}", "--n_boot", "0"],
         files={"p.jsonl": json.dumps(OURS) + "\n"}, names=("--out {tmp}: is a folder",)),
    Case("eval/rescore-out-unwritable", ["eval", "rescore", "{tmp}/p.jsonl", "--out", "{tmp}/p.jsonl/m.json", "--n_boot", "0"],
         files={"p.jsonl": json.dumps(OURS) + "\n"}, names=("--out {tmp}/p.jsonl/m.json", "cannot write it")),
    Case("eval/rescore-n-boot-negative", ["eval", "rescore", "{tmp}/p.jsonl", "--n_boot", "-5"], files={"p.jsonl": json.dumps(OURS) + "\n"},
         names=("--n_boot -5",)),
    # ---- predict
    Case("predict/video-missing", ["predict", "--video", "{tmp}/nope.mp4", "--question", "Q?"], names=("video not found: {tmp}/nope.mp4",)),
    Case("predict/27-options", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--options", *[f"o{i}" for i in range(27)]],
         files=VIDEO, names=("27 options", "at most 26")),
    Case("predict/empty-option", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--options", "red", " "], files=VIDEO,
         names=("option(s) B have no text",)),
    Case("predict/prompt-nope", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--prompt", "nope"], files=VIDEO,
         names=("unknown prompt 'nope'",)),
    Case("predict/prompt-lmms-eval", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--prompt", "lmms-eval"], files=VIDEO,
         names=("--prompt lmms-eval", "twgrpo eval run")),
    Case("predict/protocol-nope", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--protocol", "nope"], files=VIDEO,
         names=("unknown scoring protocol 'nope'",)),
    Case("predict/max-new-tokens-0", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--max_new_tokens", "0"], files=VIDEO,
         names=("--max_new_tokens 0",)),
    Case("predict/temperature-negative", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--temperature", "-0.5"], files=VIDEO,
         names=("--temperature -0.5",)),
    Case("predict/settings-nope", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--settings", "nope"], files=VIDEO,
         names=("unknown frame settings preset 'nope'",)),
    Case("predict/nframes-1", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--nframes", "1"], files=VIDEO, names=("nframes=1",)),
    Case("predict/model-missing", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--model", "{tmp}/no_model"], files=VIDEO,
         names=("model {tmp}/no_model",)),
    Case("predict/no-question", ["predict", "--video", "{tmp}/v.mp4"], files=VIDEO, names=("--question",)),
    Case("predict/video-undecodable", ["predict", "--video", "{tmp}/v.mp4", "--question", "Q?", "--settings", "tiny"], files=VIDEO,
         names=("{tmp}/v.mp4",), slow=True),
]

"""Bad inputs to `twgrpo data convert | stats`: each exits 2 with one line naming the file, record or option."""
import json

from badinputs import Case

REC = dict(id="q1", video="videos/a.mp4", start=None, end=None, question="Which one?", options=["x", "y"], answer="B",
           problem_type="multiple choice", source="demo", category="c", meta={})
NEXT_HEAD = "video,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4\n"
NEXT_ROW = "4882821564,2697,640,480,why did the boy pick up one present,2,1,CW,share with the girl,approach lady,unwrap it,playing with toy train,gesture something\n"
R1 = dict(problem_id=1, problem="Which process is shown?", data_type="video", problem_type="multiple choice",
          options=["A. Isothermal compression", "B. Adiabatic compression"], solution="<answer>B</answer>", video="/MMVU/videos/Chemistry/0.mp4")
TC_ITEM = {"question": "What is the man doing?\nA. dunking\nB. dribbling", "answer": "A. dunking"}
STAR = dict(question_id="Interaction_T1_1", question="Which object was closed?", video_id="WBS4I", start=8.9, end=15.5,
            answer="The door.", choices=[dict(choice_id=0, choice="The window."), dict(choice_id=1, choice="The door.")])
ORV = dict(problem="Which will happen?\nA The cube collides\nB The sphere moves", solution="<answer>A,B</answer>", video="v/video_00012.mp4")


def jl(*recs) -> str: return "".join(json.dumps(r, allow_nan=True) + "\n" for r in recs)
def js(obj) -> str: return json.dumps(obj, allow_nan=True)
def conv(src, *extra, to="{tmp}/out.jsonl"): return ["data", "convert", f"{{tmp}}/{src}", "--to", to, *extra]


def _bom_csv(p): p.write_bytes(b"\xef\xbb\xbf" + (NEXT_HEAD + NEXT_ROW).encode())
def _latin1_csv(p): p.write_bytes((NEXT_HEAD + NEXT_ROW.replace("unwrap it", "d\xe9baller")).encode("latin-1"))
def _parquet_junk(p): p.write_bytes(b"PAR1 but not really")


CASES = [
    # values a record must not carry
    Case("data/nan-start", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "start": float("nan")})}, names=("r.jsonl", "line 1", "`start`", "nan")),
    Case("data/inf-end", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "end": float("inf")})}, names=("r.jsonl", "line 1", "`end`")),
    Case("data/negative-start", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "start": -2})}, names=("r.jsonl", "`start`", "-2")),
    Case("data/end-before-start", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "start": 5.0, "end": 2.0})}, names=("r.jsonl", "not after its start")),
    Case("data/options-dict", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "options": {"A": "x", "B": "y"}})}, names=("r.jsonl", "line 1", "`options`", "dict")),
    Case("data/options-empty", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "options": [], "answer": "A"})}, names=("r.jsonl", "1 to 26 options")),
    Case("data/answer-outside", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "answer": "D"})}, names=("r.jsonl", "line 1", "outside the options")),
    Case("data/answer-unsorted", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "answer": "B,A"})}, names=("r.jsonl", "sorted unique letters")),
    Case("data/unknown-problem-type", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "problem_type": "essay"})}, names=("r.jsonl", "problem_type", "essay")),
    Case("data/unknown-field", conv("r.jsonl"), files={"r.jsonl": jl({**REC, "extra": 1})}, names=("r.jsonl", "unknown field(s) ['extra']")),
    Case("data/duplicate-id", conv("r.jsonl"), files={"r.jsonl": jl(REC, REC)}, names=("r.jsonl", "line 2", "duplicate id 'q1'")),
    Case("data/record-not-object", conv("r.jsonl", "--format", "unified"), files={"r.jsonl": jl(REC) + "[1, 2]\n"}, names=("r.jsonl", "line 2", "JSON object")),
    Case("data/bad-json-line", conv("r.jsonl"), files={"r.jsonl": jl(REC) + '{"id": \n'}, names=("r.jsonl", "line 2", "not valid JSON")),
    # encodings and broken files
    Case("data/latin1-csv", conv("val.csv"), files={"val.csv": _latin1_csv}, names=("val.csv", "not UTF-8", "iconv")),
    Case("data/latin1-json", conv("e.json"), files={"e.json": js([R1]).replace("Isothermal", "Isoth\xe9rmal").encode("latin-1")}, names=("e.json", "not UTF-8")),
    Case("data/bom-csv-loads", conv("val.csv"), files={"val.csv": _bom_csv}, names=("wrote 1 records",), code=0),
    Case("data/bom-json-loads", conv("e.json"), files={"e.json": b"\xef\xbb\xbf" + js([R1]).encode()}, names=("wrote 1 records",), code=0),
    Case("data/empty-file", conv("e.json"), files={"e.json": ""}, names=("e.json", "not valid JSON")),
    Case("data/truncated-json", conv("e.json"), files={"e.json": js([R1, R1])[:120]}, names=("e.json", "not valid JSON at line", "truncated")),
    Case("data/empty-list", conv("e.json"), files={"e.json": "[]"}, names=("e.json", "an empty list")),
    Case("data/json-string", conv("e.json"), files={"e.json": '"hello"'}, names=("e.json", "a json str")),
    Case("data/parquet-junk", conv("vm.parquet"), files={"vm.parquet": _parquet_junk}, names=("vm.parquet", "cannot read it as parquet")),
    Case("data/csv-header-only", conv("val.csv"), files={"val.csv": NEXT_HEAD}, names=("val.csv", "empty csv")),
    Case("data/csv-missing-column", conv("val.csv", "--format", "nextqa"), files={"val.csv": NEXT_HEAD.replace(",a4", "") + NEXT_ROW.rsplit(",", 1)[0] + "\n"}, names=("val.csv", "lacks column(s) ['a4']")),
    Case("data/csv-unknown-columns", conv("x.csv"), files={"x.csv": "a,b\n1,2\n"}, names=("x.csv", "cannot tell the format of this csv", "looked for")),
    Case("data/csv-short-row", conv("val.csv"), files={"val.csv": NEXT_HEAD + NEXT_ROW + NEXT_ROW.rsplit(",", 2)[0] + "\n"}, names=("val.csv", "line 3", "wrong number of fields")),
    Case("data/csv-index-outside", conv("val.csv"), files={"val.csv": NEXT_HEAD + NEXT_ROW.replace(",2,1,CW", ",7,1,CW")}, names=("val.csv", "line 2", "answer index 7 outside 0-4")),
    Case("data/csv-answer-not-an-option", conv("val.csv", "--format", "nextgqa"), files={"val.csv": NEXT_HEAD + NEXT_ROW.replace(",2,1,CW", ",dance,1,CW")}, names=("val.csv", "line 2", "'dance' is not one of the options")),
    # format detection and empty output
    Case("data/unknown-format", conv("e.json"), files={"e.json": js([{"foo": 1}])}, names=("e.json", "cannot tell the format", "looked for", "--format")),
    Case("data/clevrer-by-scene", conv("q.json"), files={"q.json": js({"10000": {"questions": [{"question": "?", "answer": "a"}]}})}, names=("q.json", "first entry '10000'", "looked for tempcompass")),
    Case("data/clevrer-by-scene-skip-bad", conv("q.json", "--skip-bad"), files={"q.json": js({"10000": {"questions": [{"question": "?", "answer": "a"}]}})}, names=("q.json", "looked for")),
    Case("data/gsub-as-source", conv("gsub_val.json"), files={"gsub_val.json": js({"4882821564": {"duration": 90, "fps": 30, "location": {"1": [[1, 2]]}}})}, names=("gsub_val.json", "spans=")),
    Case("data/yes-no-without-task-formats", conv("yes_no.json"), files={"yes_no.json": js({"v1": {"action": [{"question": "Is he dunking?", "answer": "yes"}]}})}, names=("yes_no.json", "no record kept", "--opt task_formats=yes_no")),
    Case("data/captioning-only", conv("captioning.json"), files={"captioning.json": js({"v1": {"action": [{"question": "Describe it.\nInformation A: {'action': 'x'}\nGenerated Caption:", "answer": "A. x"}]}})}, names=("captioning.json", "no record kept", "task format captioning")),
    Case("data/all-skipped", conv("r.jsonl", "--skip-bad"), files={"r.jsonl": jl({**REC, "answer": "Q"}, {**REC, "id": "q2", "answer": "Z"})}, names=("r.jsonl", "every record was skipped as malformed")),
    Case("data/stats-empty-file", ["data", "stats", "{tmp}/e.jsonl"], files={"e.jsonl": "\n"}, names=("e.jsonl", "empty file")),
    Case("data/tempcompass-stray-line", conv("mc.json"), files={"mc.json": js({"v1": {"speed": [{**TC_ITEM, "question": TC_ITEM["question"] + "\nAnswer with a letter."}]}})}, names=("mc.json", "video 'v1' dimension 'speed' item 0", "not an option line")),
    Case("data/tempcompass-letters-out-of-order", conv("mc.json"), files={"mc.json": js({"v1": {"speed": [{**TC_ITEM, "question": "What?\nA. x\nC. y"}]}})}, names=("mc.json", "item 0", "labelled ['A', 'C']")),
    Case("data/tempcompass-answer-no-option", conv("mc.json"), files={"mc.json": js({"v1": {"speed": [{**TC_ITEM, "answer": "C. walking"}]}})}, names=("mc.json", "item 0", "does not match option C")),
    # records of each format
    Case("data/r1-answer-outside", conv("e.json"), files={"e.json": js([{**R1, "solution": "<answer>F</answer>"}])}, names=("e.json", "record 0 (problem_id 1)", "outside the options")),
    Case("data/r1-no-video", conv("e.json"), files={"e.json": js([{k: v for k, v in R1.items() if k != "video"}])}, names=("e.json", "record 0", "no video path")),
    Case("data/r1-options-string", conv("e.json"), files={"e.json": js([{**R1, "options": "A. x B. y"}])}, names=("e.json", "record 0", "options must be a list")),
    Case("data/r1-label-mismatch", conv("e.json"), files={"e.json": js([{**R1, "options": ["A. x", "C. y"]}])}, names=("e.json", "record 0", "labelled 'C'")),
    Case("data/open-r1-no-options", conv("t.json"), files={"t.json": js([{**ORV, "problem": "Which will happen?"}])}, names=("t.json", "record 0", "no option lines")),
    Case("data/open-r1-bad-solution", conv("t.json"), files={"t.json": js([{**ORV, "solution": "<answer>yes</answer>"}])}, names=("t.json", "record 0", "not a list of option letters")),
    Case("data/star-two-flags", conv("s.json"), files={"s.json": js([{**STAR, "choices": [dict(c, correct=True) for c in STAR["choices"]]}])}, names=("s.json", "Interaction_T1_1", "2 choices are flagged correct")),
    Case("data/star-answer-not-a-choice", conv("s.json"), files={"s.json": js([{**STAR, "answer": "The sofa."}])}, names=("s.json", "Interaction_T1_1", "'The sofa.' is not one of the options")),
    Case("data/mvbench-unknown-task", conv("my_task.json"), files={"my_task.json": js([{"video": "a.mp4", "question": "?", "candidates": ["x"], "answer": "x"}])}, names=("my_task.json", "'my_task' is not an MVBench task")),
    Case("data/mmvu-choices-list", conv("m.json"), files={"m.json": js([{"id": "v1", "video": "https://x/videos/Art/0.mp4", "question_type": "multiple-choice", "metadata": {"subject": "Art"}, "question": "?", "choices": ["x", "y"], "answer": "A"}])}, names=("m.json", "id 'v1'", "`choices` must be a dict")),
    # paths
    Case("data/unsafe-path", conv("r.jsonl", "--video-root", "{tmp}/root"), files={"r.jsonl": jl({**REC, "video": "../../etc/passwd"}), "root/x": ""}, names=("r.jsonl", "line 1", "outside the data root")),
    Case("data/check-videos-missing", conv("r.jsonl", "--video-root", "{tmp}", "--check-videos"), files={"r.jsonl": jl(REC)}, names=("r.jsonl", "line 1", "not found")),
    Case("data/check-videos-folder", conv("r.jsonl", "--video-root", "{tmp}", "--check-videos"), files={"r.jsonl": jl({**REC, "video": "videos"}), "videos/x": ""}, names=("r.jsonl", "is a folder, not a video file")),
    # options of the command
    Case("data/opt-no-equals", conv("r.jsonl", "--opt", "clip_bounds"), files={"r.jsonl": jl(REC)}, names=("--opt 'clip_bounds'", "KEY=VALUE")),
    Case("data/opt-unknown", conv("r.jsonl", "--opt", "nope=1"), files={"r.jsonl": jl(REC)}, names=("r.jsonl", "nope is not an option of the 'unified' format")),
    Case("data/opt-video-prefix-number", conv("e.json", "--opt", "video_prefix=5"), files={"e.json": js([R1])}, names=("video_prefix must be text", "5")),
    Case("data/video-template-placeholder", conv("e.json", "--video-template", "{root}/{name}"), files={"e.json": js([R1])}, names=("video_template", "unknown placeholder(s) ['root']")),
    Case("data/video-template-syntax", conv("e.json", "--video-template", "videos/{name"), files={"e.json": js([R1])}, names=("video_template", "videos/{name")),
    Case("data/question-types-unknown", conv("c.json", "--opt", "question_types=causal"), files={"c.json": js([{"scene_index": 0, "video_filename": "video_00000.mp4", "questions": []}])}, names=("unknown CLEVRER question type(s) ['causal']",)),
    Case("data/question-types-number", conv("c.json", "--opt", "question_types=5"), files={"c.json": js([{"scene_index": 0, "video_filename": "video_00000.mp4", "questions": []}])}, names=("question_types must be", "5")),
    Case("data/task-formats-captioning", conv("mc.json", "--opt", "task_formats=captioning"), files={"mc.json": js({"v1": {"speed": [TC_ITEM]}})}, names=("unsupported TempCompass task format(s) ['captioning']",)),
    Case("data/clip-bounds-not-a-flag", conv("e.json", "--opt", "clip_bounds=maybe"), files={"e.json": js([R1])}, names=("clip_bounds must be true or false", "maybe")),
    Case("data/spans-on-another-format", conv("e.json", "--spans", "{tmp}/g.json"), files={"e.json": js([R1]), "g.json": "{}"}, names=("e.json", "spans is not an option of the 'r1' format")),
    Case("data/spans-not-a-dict", conv("val.csv", "--spans", "{tmp}/g.json", "--format", "nextgqa"), files={"val.csv": NEXT_HEAD + NEXT_ROW.replace(",2,1,CW", ",unwrap it,1,CW"), "g.json": "[]"}, names=("g.json", "expected {video_id")),
    Case("data/spans-missing", conv("val.csv", "--spans", "{tmp}/nope.json", "--format", "nextgqa"), files={"val.csv": NEXT_HEAD + NEXT_ROW.replace(",2,1,CW", ",unwrap it,1,CW")}, names=("nope.json", "cannot read it")),
    Case("data/nextqa-csv-with-text-answers", conv("val.csv", "--format", "nextgqa", "--opt", "nextqa_csv={tmp}/val.csv"), files={"val.csv": NEXT_HEAD + NEXT_ROW.replace(",2,1,CW", ",unwrap it,1,CW")}, names=("val.csv", "no row with an answer index 0-4")),
    Case("data/format-unknown-name", conv("r.jsonl", "--format", "csv"), files={"r.jsonl": jl(REC)}, names=("--format", "invalid choice: 'csv'")),
    Case("data/no-to", ["data", "convert", "{tmp}/r.jsonl"], files={"r.jsonl": jl(REC)}, names=("--to",)),
    Case("data/no-subcommand", ["data"], names=("convert,stats",)),
    Case("data/missing-source", conv("nope.json"), names=("{tmp}/nope.json", "no such file")),
    Case("data/source-is-a-folder", ["data", "stats", "{tmp}/sub"], files={"sub/x": ""}, names=("{tmp}/sub", "is a folder, not a benchmark file")),
    # where the output goes
    Case("data/to-a-folder", conv("r.jsonl", to="{tmp}/outdir"), files={"r.jsonl": jl(REC), "outdir/keep": ""}, names=("--to {tmp}/outdir", "is a folder")),
    Case("data/to-under-a-file", conv("r.jsonl", to="{tmp}/file.txt/out.jsonl"), files={"r.jsonl": jl(REC), "file.txt": "x"}, names=("{tmp}/file.txt/out.jsonl", "cannot create its folder")),
    Case("data/to-dev-null-folder", conv("r.jsonl", to="/dev/null/out.jsonl"), files={"r.jsonl": jl(REC)}, names=("/dev/null/out.jsonl", "cannot")),
    Case("data/to-the-source", conv("r.jsonl", to="{tmp}/r.jsonl"), files={"r.jsonl": jl(REC)}, names=("--to {tmp}/r.jsonl", "the source file")),
]

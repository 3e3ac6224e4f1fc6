"""The papermill experiment notebooks of `nbs/runs/` run headlessly with tiny parameters: training and evaluation
happen in subprocesses (`check=True`), the notebooks read what those wrote, and a failing run fails the notebook."""
import json, os, re, subprocess, sys, tempfile
from pathlib import Path

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

RUNS = Path(__file__).resolve().parents[1] / "nbs" / "runs"
STEP_KEYS = {"loss", "reward", "group_reward_std", "format_rate", "weights/mean", "weights/max", "weights/frac_above_1.05",
             "completions/mean_length"}


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A `python3` kernelspec running this interpreter (where twgrpo is installed), found first through JUPYTER_PATH:
    a fresh machine may have no kernelspec at all, or one that runs another Python."""
    prefix = tmp_path_factory.mktemp("jupyter")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", "python3"],
                   check=True, capture_output=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", os.pathsep.join(p for p in [str(prefix / "share" / "jupyter"), os.environ.get("JUPYTER_PATH")] if p))
        for k, v in dict(HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false").items(): mp.setenv(k, v)
        yield "python3"


def run_notebook(name, tmp_path, kernel, cwd=None, **parameters):
    "Execute `nbs/runs/NAME.ipynb` with papermill (in `cwd`, tmp_path by default); returns the executed notebook."
    out = tmp_path / f"{name}.out.ipynb"
    papermill.execute_notebook(str(RUNS / f"{name}.ipynb"), str(out), parameters=parameters, kernel_name=kernel,
                               cwd=str(cwd or tmp_path), progress_bar=False, log_output=False)
    return nbformat.read(out, as_version=4)


def outputs(nb, kind):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == kind]


def images(nb):
    return [o for kind in ("display_data", "execute_result") for o in outputs(nb, kind) if "image/png" in o.get("data", {})]


def read_jsonl(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines()]


def test_train_notebook(tmp_path, kernel):
    nb = run_notebook("train", tmp_path, kernel, output_dir=str(tmp_path / "run"), max_steps=2)
    assert outputs(nb, "error") == []
    assert len(images(nb)) == 2  # the per-step curves and the token-weight heat map
    logs = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    steps = [l for l in logs if "loss" in l]
    assert [l["step"] for l in steps] == [1, 2]
    assert all(STEP_KEYS <= set(l) for l in steps), STEP_KEYS - set(steps[0])
    assert all(1.0 <= l["weights/mean"] <= l["weights/max"] <= 1.7 + 1e-6 for l in steps)
    assert "train_runtime" in logs[-1]
    sample = read_jsonl(tmp_path / "run" / "token_weights.rank0.jsonl")
    assert {"step", "group", "member", "tokens", "weights", "advantage", "rewards"} <= set(sample[0])
    assert all(len(s["tokens"]) == len(s["weights"]) for s in sample)
    assert [o.get("text", "")[:200] for o in outputs(nb, "stream") if o.get("name") == "stderr"] == []  # no kernel warnings
    assert f"run folder: {tmp_path / 'run'}" in "".join(o.get("text", "") for o in outputs(nb, "stream"))


def test_train_notebook_parameters_have_types():
    "papermill shows each parameter's type (an annotation in the parameters cell), not 'Unknown type'."
    params = papermill.inspect_notebook(str(RUNS / "train.ipynb"))
    assert set(params) == {"config", "output_dir", "max_steps", "num_processes", "accelerate_config", "overrides"}
    assert all(p["inferred_type_name"] not in ("None", "Unknown type", "") for p in params.values()), params


def test_train_notebook_two_processes(tmp_path, kernel, monkeypatch):
    """num_processes=2 goes through `accelerate launch --multi_gpu`: two gloo processes on a machine without CUDA. No
    output_dir: the notebook prints the temporary folder it used, and removes it at the end."""
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    nb = run_notebook("train", tmp_path, kernel, max_steps=1, num_processes=2)
    assert outputs(nb, "error") == []
    text = "".join(o.get("text", "") for o in outputs(nb, "stream"))
    assert "accelerate.commands.launch --num_processes 2 --multi_gpu" in text and "$OUTPUT_DIR" not in text
    used = Path(re.search(r"run folder: (\S+)", text).group(1))
    assert used.parent == tmp_path / "tmp" and not used.exists() and not list((tmp_path / "tmp").glob("twgrpo-*"))
    assert f"--output_dir {used}" in text


def test_failed_training_fails_the_notebook(tmp_path, kernel):
    "`check=True`: a run that exits non-zero (here: alpha < 1 without allow_inverse_weights) stops the notebook."
    with pytest.raises(PapermillExecutionError) as e:
        run_notebook("train", tmp_path, kernel, output_dir=str(tmp_path / "run"), overrides="--alpha 0.5")
    assert e.value.ename == "CalledProcessError"
    nb = nbformat.read(tmp_path / "train.out.ipynb", as_version=4)
    assert "allow_inverse_weights" in "".join(o.get("text", "") for o in outputs(nb, "stream"))  # the log's tail
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


def test_evaluate_notebook(tmp_path, kernel):
    run = tmp_path / "eval"
    nb = run_notebook("evaluate", tmp_path, kernel, cwd=RUNS.parents[1], output_dir=str(run), max_new_tokens=8)
    assert outputs(nb, "error") == []
    m = json.loads((run / "metrics.json").read_text())
    preds = read_jsonl(run / "predictions.jsonl")
    assert m["n"] == m["n_records"] == len(preds) > 0 and m["skipped"]["count"] == 0
    assert {"strict_accuracy", "partial_accuracy", "format_rate", "unparseable", "ci95", "by_category", "protocol",
            "versions"} <= set(m)
    assert set(m["by_answer_count"]) == {"single", "multi", "overall"}  # the synthetic set has both kinds
    assert m["protocol"]["frames"]["nframes"] == 4 and m["protocol"]["decoding"]["max_new_tokens"] == 8
    assert all(p["n_tokens"] <= 8 for p in preds)
    # the same output_dir again: resumed, nothing left to generate, the same scores
    run_notebook("evaluate", tmp_path, kernel, output_dir=str(run), max_new_tokens=8)
    again = json.loads((run / "metrics.json").read_text())
    assert again["this_session"]["generated"] == 0 and again["strict_accuracy"] == m["strict_accuracy"]


def test_reproduce_notebook(tmp_path, kernel):
    "From the repository root: train, then evaluate the trained policy with the CLEVRER preset on its stand-in, tabulate."
    run = tmp_path / "repro"
    nb = run_notebook("reproduce", tmp_path, kernel, cwd=RUNS.parents[1], output_dir=str(run), max_steps=1, max_new_tokens=8)
    assert outputs(nb, "error") == []
    assert [l["step"] for l in read_jsonl(run / "train" / "metrics.jsonl") if "loss" in l] == [1]
    m = json.loads((run / "eval" / "trained" / "paper" / "clevrer" / "metrics.json").read_text())
    assert m["protocol"]["model"] == str(run / "train") and m["n"] > 0 and m["protocol"]["preset"]["name"] == "eval/clevrer"
    assert (run / "train.ipynb").exists() and (run / "evaluate-trained-paper-clevrer.ipynb").exists()
    assert "clevrer" in "".join(o["data"].get("text/plain", "") for o in outputs(nb, "execute_result"))
    from twgrpo.evaluate import lmms_eval_files
    assert None not in lmms_eval_files(run / "train").values()  # what TWGRPOTrainer.save_model wrote loads in lmms-eval


def test_reproduce_side_by_side_without_training(tmp_path, kernel):
    "From nbs/runs, without output_dir: a named checkpoint (here the tiny one) under both protocols, nothing left behind."
    mine = lambda: {p for pat in ("twgrpo-reproduce-*", "twgrpo-eval-*") for p in Path(tempfile.gettempdir()).glob(pat)}
    before = mine()
    nb = run_notebook("reproduce", tmp_path, kernel, cwd=RUNS, models="tiny", protocols="paper,lmms-eval",
                      benchmarks="mvbench", max_new_tokens=4)
    assert outputs(nb, "error") == []
    text = "".join(o["data"].get("text/plain", "") for o in outputs(nb, "execute_result"))
    assert "lmms-eval" in text and "paper" in text and "mvbench" in text
    tables = [o["data"]["text/plain"] for o in outputs(nb, "execute_result") if "scoring" in o["data"].get("text/plain", "")]
    assert any("lmms-eval" in t and "paper" in t for t in tables)
    assert mine() == before  # the notebooks' temporary run folders are removed


def test_reproduce_refuses_unknown_benchmarks(tmp_path, kernel):
    with pytest.raises(PapermillExecutionError, match="unknown"):
        run_notebook("reproduce", tmp_path, kernel, output_dir=str(tmp_path / "repro"), notebooks=str(RUNS),
                     benchmarks="clevrer,mmvuu", models="tw-grpo")
    assert not (tmp_path / "repro" / "train").exists()


@pytest.mark.parametrize("name", ["evaluate", "reproduce"])
def test_parameters_are_typed_and_stored_outputs_quiet(name):
    "papermill shows every parameter's type (no 'Unknown type'), and the stored outputs hold no warning on stderr."
    params = papermill.inspect_notebook(str(RUNS / f"{name}.ipynb"))
    assert params and all(p["inferred_type_name"] not in (None, "None") for p in params.values()), params
    nb = nbformat.read(RUNS / f"{name}.ipynb", as_version=4)
    assert [o for o in outputs(nb, "stream") if o.get("name") == "stderr"] == []

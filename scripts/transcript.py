"""A newcomer's transcript: the README's commands run in a fresh clone of the committed HEAD, their output kept, then
checked for what a newcomer should not see (warnings the kit could prevent, tracebacks, progress bars of tiny models)
and for files the commands leave in the clone (`git status` must stay clean).

    .venv/bin/python scripts/transcript.py                  # quick commands, in a fresh clone of HEAD
    .venv/bin/python scripts/transcript.py --demo           # + `twgrpo demo` (about 2 minutes on 2 cores)
    .venv/bin/python scripts/transcript.py --keep DIR       # keep the clone and the transcript in DIR

The clone runs on this checkout's `.venv` with `PYTHONPATH` set to the clone (no second install), offline, with the
Makefile's environment. The transcript is written to `transcript.txt` in the work folder; exit status 1 when a
command failed, printed a line the checks flag, or left the clone dirty.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLAGS = [  # what a newcomer should not see; each pattern with why
    (r"\bTraceback \(most recent call last\)", "a traceback"),
    (r"Warning\b|\bwarn(ing)?:", "a warning"),
    (r"\bdeprecated\b", "a deprecation notice"),
    (r"Loading weights|Writing model shards|Loading checkpoint shards", "a progress bar of a tiny model's files"),
    (r"\[(mov|h264|mpeg4|hevc|vp9|matroska)[^\]]*@ 0x", "a native decoder line"),
]


def commands(py: str, clone: Path, demo: bool) -> list[tuple[str, list[str]]]:
    "The README's commands, made concrete on the synthetic set (no real data here); outputs go to the ignored runs/."
    tw = [py, "-m", "twgrpo.cli"]
    out = "runs/transcript"
    syn = subprocess.run([py, "-c", "from twgrpo.train import synthetic_dataset; q, root, _ = synthetic_dataset('clevrer', 4); "
                          "print(q); print(root)"], cwd=clone, env=ENV, capture_output=True, text=True, check=True)
    qfile, root = syn.stdout.split()[-2:]
    video = str(next(Path(root).rglob("*.mp4")))
    cmds = [
        ("twgrpo", tw + ["--help"]),
        ("twgrpo configs", tw + ["configs"]),
        ("twgrpo train --help", tw + ["train", "--help"]),
        ("twgrpo data convert", tw + ["data", "convert", qfile, "--to", f"{out}/records.jsonl", "--video-root", root]),
        ("twgrpo data stats", tw + ["data", "stats", f"{out}/records.jsonl"]),
        ("twgrpo train --config tiny_cpu", tw + ["train", "--config", "tiny_cpu", "--max_steps", "2",
                                                  "--output_dir", f"{out}/train"]),
        ("twgrpo eval run", tw + ["eval", "run", "--model", f"{out}/train", "--records", f"{out}/records.jsonl",
                                  "--video_root", root, "--settings", "tiny", "--max_new_tokens", "16",
                                  "--out_dir", f"{out}/eval"]),
        ("twgrpo eval rescore", tw + ["eval", "rescore", f"{out}/eval/predictions.jsonl"]),
        ("twgrpo predict", tw + ["predict", "--video", video, "--question", "Which objects move?", "--settings", "tiny",
                                 "--max_new_tokens", "16", "--options", "the cube", "the sphere"]),
    ]
    if demo: cmds.append(("twgrpo demo", tw + ["demo"]))
    return cmds


ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--demo", action="store_true", help="also run `twgrpo demo`")
    p.add_argument("--keep", default=None, help="work folder to keep (default: a temporary one, removed)")
    a = p.parse_args()
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="twgrpo-transcript-"))
    work.mkdir(parents=True, exist_ok=True)
    clone = work / "project"
    if clone.exists(): shutil.rmtree(clone)
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    py = str(REPO / ".venv/bin/python")
    ENV["PYTHONPATH"] = str(clone)
    lines, problems = [], []
    for name, cmd in commands(py, clone, a.demo):
        r = subprocess.run(cmd, cwd=clone, env=ENV, capture_output=True, text=True)
        lines += [f"$ {name}   (exit {r.returncode})", r.stdout.rstrip(), r.stderr.rstrip()]
        if r.returncode != 0: problems.append(f"{name}: exit {r.returncode}: {r.stderr.strip().splitlines()[-1:]}")
        for line in (r.stdout + "\n" + r.stderr).splitlines():
            for pat, why in FLAGS:
                if re.search(pat, line): problems.append(f"{name}: {why}: {line.strip()[:160]}")
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True).stdout.strip()
    if dirty: problems.append(f"git status in the clone is not clean:\n{dirty}")
    (work / "transcript.txt").write_text("\n".join(lines) + "\n")
    print(f"transcript: {work / 'transcript.txt'} ({len(lines) // 3} commands)")
    print("\n".join(problems) if problems else "nothing flagged; git status clean")
    if not a.keep: shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Bad inputs of `twgrpo demo` and `twgrpo experiment`: each is refused before a model loads, exit code 2, one line
naming the option, file or arm."""
import json

from . import Case

_FILE = {"afile": "not a folder\n"}
_RESULT = {"grid/results/grpo/seed0.json": json.dumps(dict(arm="grpo", seed=0, soft=0.5, strict=0.4, format=1.0, key="x"))}

CASES = [
    # twgrpo demo
    Case("demo/videos-0", ["demo", "--videos", "0", "--out", "{tmp}/d"], names=("--videos", "0")),
    Case("demo/videos-negative", ["demo", "--videos", "-3", "--out", "{tmp}/d"], names=("--videos", "-3")),
    Case("demo/videos-not-int", ["demo", "--videos", "many"], names=("--videos", "many")),
    Case("demo/steps-0", ["demo", "--steps", "0", "--out", "{tmp}/d"], names=("--steps",)),
    Case("demo/threads-0", ["demo", "--threads", "0", "--out", "{tmp}/d"], names=("--threads",)),
    Case("demo/out-is-a-file", ["demo", "--out", "{tmp}/afile"], files=_FILE, names=("--out", "{tmp}/afile")),
    Case("demo/out-under-a-file", ["demo", "--out", "{tmp}/afile/sub"], files=_FILE, names=("--out", "{tmp}/afile/sub")),
    Case("demo/out-unwritable", ["demo", "--out", "/proc/twgrpo-demo"], names=("--out", "/proc/twgrpo-demo")),
    # twgrpo experiment
    Case("experiment/no-subcommand", ["experiment"], names=("required",)),
    Case("experiment/seeds-0", ["experiment", "run", "--out", "{tmp}/g", "--seeds", "0"], names=("--seeds",)),
    Case("experiment/steps-0", ["experiment", "run", "--out", "{tmp}/g", "--steps", "0"], names=("--steps",)),
    Case("experiment/n-test-0", ["experiment", "run", "--out", "{tmp}/g", "--n-test", "0"], names=("--n-test",)),
    Case("experiment/n-train-too-small", ["experiment", "run", "--out", "{tmp}/g", "--n-train", "4"], names=("--n-train", "4")),
    Case("experiment/unknown-arm", ["experiment", "run", "--out", "{tmp}/g", "--arms", "grpo,nope"], names=("--arms", "nope")),
    Case("experiment/arms-and-arms-file", ["experiment", "run", "--out", "{tmp}/g", "--arms", "grpo", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "x: {}\n"}, names=("--arms", "--arms-file")),
    Case("experiment/baseline-not-run", ["experiment", "run", "--out", "{tmp}/g", "--arms", "grpo", "--baseline", "twgrpo"],
         names=("--baseline", "twgrpo")),
    Case("experiment/warm-start-missing", ["experiment", "run", "--out", "{tmp}/g", "--warm-start", "{tmp}/nowhere"],
         names=("--warm-start", "{tmp}/nowhere")),
    Case("experiment/out-under-a-file", ["experiment", "run", "--out", "{tmp}/afile/g", "--arms", "grpo"], files=_FILE,
         names=("--out", "{tmp}/afile/g")),
    Case("experiment/arms-file-missing", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/none.yaml"],
         names=("--arms-file", "{tmp}/none.yaml")),
    Case("experiment/arms-file-tab", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "x:\n\talpha: 2\n"}, names=("--arms-file", "{tmp}/a.yaml", "YAML")),
    Case("experiment/arms-file-list", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "- grpo\n- twgrpo\n"}, names=("--arms-file", "{tmp}/a.yaml", "mapping")),
    Case("experiment/arms-file-unknown-field", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "mine:\n  alpah: 2.0\n"}, names=("arm 'mine'", "alpah")),
    Case("experiment/arms-file-runner-field", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "mine:\n  output_dir: /tmp/x\n"}, names=("arm 'mine'", "output_dir")),
    Case("experiment/arms-file-inverse-alpha", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "mine:\n  alpha: 0.5\n"}, names=("arm 'mine'", "allow_inverse_weights")),
    Case("experiment/arms-file-unknown-reward", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "mine:\n  reward_funcs: [soft_acc]\n"}, names=("arm 'mine'", "soft_acc")),
    Case("experiment/arms-file-bad-name", ["experiment", "run", "--out", "{tmp}/g", "--arms-file", "{tmp}/a.yaml"],
         files={"a.yaml": "a/b:\n  alpha: 2.0\n"}, names=("arm name", "a/b")),
    Case("experiment/grid-made-with-other-settings", ["experiment", "run", "--out", "{tmp}/grid", "--arms", "grpo", "--seeds", "1"],
         files=_RESULT, names=("{tmp}/grid/results/grpo/seed0.json", "other settings")),
    Case("experiment/table-no-folder", ["experiment", "table", "{tmp}/none"], names=("{tmp}/none",)),
    Case("experiment/table-no-results", ["experiment", "table", "{tmp}"], names=("{tmp}", "no result files")),
    Case("experiment/table-unknown-baseline", ["experiment", "table", "{tmp}/grid", "--baseline", "nope"], files=_RESULT,
         names=("--baseline", "nope")),
    Case("experiment/table-unknown-metric", ["experiment", "table", "{tmp}/grid", "--metric", "accuracy"], files=_RESULT,
         names=("--metric", "accuracy")),
    Case("experiment/warm-start-out-not-empty", ["experiment", "warm-start", "--out", "{tmp}"], files=_FILE,
         names=("--out", "{tmp}", "not an empty folder")),
]

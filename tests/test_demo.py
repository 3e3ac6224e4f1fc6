"""`twgrpo demo` end to end at the test suite's size (2 RL steps, 16 held-out videos): exit code 0, the summary's
layout, the plots, nothing written outside `--out`. The full-size demo's time and result: `benchmarks/demo.py`."""
import json
from pathlib import Path


def test_demo_cli_writes_summary_and_plots(tmp_path, monkeypatch, capsys):
    from twgrpo.cli import main
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "runs" / "demo"
    assert main(["demo", "--steps", "2", "--videos", "16", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "[5/5]" in text and "blank frames" in text and "done in" in text
    s = json.loads((out / "summary.json").read_text())
    for part in ("before", "after", "blank_frames"):
        assert set(s[part]) >= {"soft", "strict"}, part
        assert 0 <= s[part]["soft"] <= 1 and s[part]["n"] == 16
    assert "soft_ci95" in s["before"] and "soft_ci95" in s["after"]
    for name in ("curves", "token_weights", "accuracy"):
        p = Path(s["plots"][name])
        assert p.parent == out and p.suffix == ".png" and p.stat().st_size > 1000, name
    assert (Path(s["model_dir"]) / "model.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]  # nothing else written in the working folder

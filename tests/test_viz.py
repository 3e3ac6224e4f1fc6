"""twgrpo.viz on files a run leaves behind: several processes' weight samples, a resumed run, a torn last line, logs from
checkpoints only, and the rollout explorer over steps with different groups (built without a front-end)."""
import json, types

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from twgrpo.viz import (load_train_logs, load_weight_samples, plot_training_curves, rollout_card, rollout_explorer,
                        sample_groups)


def sample(step, group, member, weights, process=0, **kw):
    tokens = [f"t{i}" for i in range(len(weights))]
    return dict(step=step, round=step, process=process, group=group, member=member, id=f"q{group}",
                completion="".join(tokens), token_ids=list(range(len(weights))), tokens=tokens, weights=weights,
                advantage=kw.get("advantage", 0.0), rewards=kw.get("rewards", {"format": 1.0}))


def write_lines(path, records, tail=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)


@pytest.fixture
def run(tmp_path):
    "Two processes, G = 2: step 0 has groups 0 (rank 0) and 1 (rank 1); step 2 has group 0; a resumed run redid step 2."
    write_lines(tmp_path / "token_weights.rank0.jsonl",
                [sample(0, 0, 1, [1.0, 1.2]), sample(0, 0, 0, [1.0, 1.2, 1.7]),
                 sample(2, 0, 0, [1.0, 9.9]), sample(2, 0, 1, [1.0]),
                 sample(2, 0, 0, [1.0, 1.5], advantage=0.7), sample(2, 0, 1, [1.0], advantage=-0.7)])  # resumed: wins
    write_lines(tmp_path / "token_weights.rank1.jsonl", [sample(0, 1, 0, [1.0, 1.1], process=1), sample(0, 1, 1, [1.0, 1.1], process=1)])
    return tmp_path


def test_samples_merge_ranks_sort_and_keep_the_later_line(run):
    s = load_weight_samples(run)
    assert [(x["step"], x["group"], x["member"]) for x in s] == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (2, 0, 0), (2, 0, 1)]
    assert s[4]["weights"] == [1.0, 1.5] and s[4]["advantage"] == 0.7
    assert list(sample_groups(s)) == [(0, 0), (0, 1), (2, 0)]


def test_torn_last_line_is_skipped_with_a_warning_a_bad_line_stops(tmp_path):
    f = tmp_path / "token_weights.rank0.jsonl"
    write_lines(f, [sample(0, 0, 0, [1.0])], tail='{"step": 1, "gro')
    with pytest.warns(UserWarning, match="line 2 is incomplete"):
        assert len(load_weight_samples(tmp_path)) == 1
    write_lines(f, [sample(0, 0, 0, [1.0])], tail='{"step": 1, "gro\n' + json.dumps(sample(1, 0, 0, [1.0])) + "\n")
    with pytest.raises(ValueError, match=r"rank0.jsonl: line 2 is not valid JSON"):
        load_weight_samples(tmp_path)
    with pytest.raises(FileNotFoundError, match="weights_log_steps"):
        load_weight_samples(tmp_path / "nothing")


def test_logs_from_metrics_checkpoints_and_objects(tmp_path):
    write_lines(tmp_path / "metrics.jsonl", [{"step": 1, "loss": 1.0, "reward": 0.1}, {"step": 2, "loss": 2.0, "reward": 0.2},
                                             {"step": 2, "loss": 2.5, "reward": 0.25},  # resumed: later values win
                                             {"step": 2, "train_runtime": 3.0}])  # the summary joins step 2
    df = load_train_logs(tmp_path)
    assert list(df.index) == [1, 2] and df.loc[2, "loss"] == 2.5 and df.loc[2, "train_runtime"] == 3.0
    only_ckpts = tmp_path / "ckpts"
    for n in (9, 10):
        (only_ckpts / f"checkpoint-{n}").mkdir(parents=True)
        (only_ckpts / f"checkpoint-{n}" / "trainer_state.json").write_text(json.dumps({"log_history": [{"step": n, "loss": n}]}))
    assert list(load_train_logs(only_ckpts).index) == [10]  # the newest checkpoint, by number
    assert list(load_train_logs(types.SimpleNamespace(state=types.SimpleNamespace(log_history=[{"step": 4}]))).index) == [4]
    (only_ckpts / "checkpoint-9" / "nested").mkdir()
    with pytest.raises(FileNotFoundError, match="no metrics.jsonl, trainer_state.json or checkpoint"):
        load_train_logs(only_ckpts / "checkpoint-9" / "nested")
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        load_train_logs(tmp_path / "missing")


def test_curves_into_given_axes(tmp_path):
    df = load_train_logs([{"step": 1, "reward": 0.5, "weights/mean": 1.1}, {"step": 2, "reward": 0.7, "weights/mean": 1.2}])
    fig, axs = plt.subplots(1, 2)
    drawn = plot_training_curves(df, axes=axs)
    assert [a.get_title() for a in drawn] == ["reward", "token weights"]
    assert list(drawn[0].lines[0].get_ydata()) == [0.5, 0.7]
    with pytest.raises(ValueError, match="2 panels to draw but 1 axes"):
        plot_training_curves(df, axes=axs[:1])
    plt.close("all")


def test_explorer_follows_steps_groups_and_members(run):
    ex = rollout_explorer(run, alpha=1.7)
    (step, group), member, image, card = ex.children[0].children, *ex.children[1:]
    assert step.options == (0, 2) and [v for _, v in group.options] == [0, 1]
    group.value, member.value = 1, 1
    assert card.value == rollout_card(sample_groups(load_weight_samples(run))[(0, 1)][1], 1.7).data
    step.value = 2  # one group there: the dropdown follows, the member choice is kept
    assert [v for _, v in group.options] == [0] and member.value == 1
    assert "+0.700" in rollout_card(load_weight_samples(run)[4]).data and "-0.700" in card.value
    assert image.value[:4] == b"\x89PNG"
    assert len(rollout_explorer(run, heatmap=False).children) == 3

"""Question-Answer Inversion against the reference's own NExT-GQA files.

The fixtures are the reference repository's `nextgqa_val_raw.json` (3,358 single-answer items) and
`nextgqa_val_mixed.json` (its QAI output), copied unchanged into `tests/fixtures/upstream/` (see that folder's README for their source:
longmalongma/TW-GRPO, MIT, commit aa529ff).
"""
import json
from pathlib import Path

import pytest

from twgrpo.qa_inverse import LETTERS, _problem_solution, _record_from_videochat, apply_qai, negate_question

UPSTREAM = Path(__file__).resolve().parent / "fixtures" / "upstream"


@pytest.fixture(scope="module")
def items():
    raw = json.loads((UPSTREAM / "nextgqa_val_raw.json").read_text())
    ref = json.loads((UPSTREAM / "nextgqa_val_mixed.json").read_text())
    assert [r["id"] for r in raw] == [x["id"] for x in ref]
    return raw, ref


@pytest.fixture(scope="module")
def records(items):
    return [_record_from_videochat(x) for x in items[0]]


def test_negation_reproduces_every_changed_reference_question(items):
    raw, ref = items
    changed = [(r, x) for r, x in zip(raw, ref) if x["is_negated"] and r["question"] != x["question"]]
    disagree = [(r["question"], x["question"], negate_question(r["question"]))
                for r, x in changed if negate_question(r["question"]) != x["question"]]
    print(f"negation agreement: {len(changed) - len(disagree)} of {len(changed)}")
    assert len(changed) == 1646
    assert disagree == []


def test_reference_inversions_without_a_rule_are_negated_or_skipped(items):
    raw, ref = items
    unchanged = [r["question"] for r, x in zip(raw, ref) if x["is_negated"] and r["question"] == x["question"]]
    ours = [negate_question(q) for q in unchanged]
    assert len(unchanged) == 22
    assert sum(o is None for o in ours) == 3
    assert all(o != q for o, q in zip(ours, unchanged) if o is not None)


def test_converter_reproduces_the_files_problem_and_solution(items, records):
    assert [_problem_solution(r) for r in records] == [(x["problem"], x["solution"]) for x in items[0]]


def test_reference_output_follows_the_inversion_rule(items):
    "Sanity check of our reading of the reference: its new answer is every kept option but the original one."
    raw, ref = items
    for r, x in zip(raw, ref):
        if not x["is_negated"]: continue
        before, after = _record_from_videochat(r), _record_from_videochat(x)
        correct = before["options"][LETTERS.index(before["answer"])]
        assert correct in after["options"] and set(after["options"]) <= set(before["options"])
        answer = {after["options"][LETTERS.index(a)] for a in after["answer"].split(",")}
        assert answer == set(after["options"]) - {correct}


@pytest.mark.parametrize("seed", [0, 1])
def test_apply_qai_on_the_file(records, seed):
    mixed, report = apply_qai(records, p=0.5, seed=seed)
    assert apply_qai(records, p=0.5, seed=seed)[0] == mixed
    assert report.total == len(records) == report.inverted + report.kept + report.skipped
    assert report.skipped_no_rule == sum(negate_question(r["question"]) is None for r in records) == 13
    assert 0.45 < report.inverted / (report.inverted + report.kept) < 0.55
    for before, after in zip(records, mixed):
        if not after["meta"]["is_negated"]:
            assert after["question"] == before["question"] and after["options"] == before["options"]
            continue
        n, kept = len(before["options"]), len(after["options"]) - 1
        correct = before["options"][LETTERS.index(before["answer"])]
        letters = after["answer"].split(",")
        assert 1 <= kept <= n - 1
        assert letters == sorted(letters) and set(letters) <= set(LETTERS[:len(after["options"])])
        assert {after["options"][LETTERS.index(a)] for a in letters} == set(after["options"]) - {correct}
        assert after["question"] == negate_question(before["question"])
        assert after["meta"]["original"]["answer"] == before["answer"]


def test_converter_names_a_malformed_record():
    bad = {"id": "x_1", "video": "v.mp4", "question": "why did it fall", "options": ["(A) a", "(C) b"], "answer": "(A)"}
    with pytest.raises(ValueError, match=r"record x_1: option 1"):
        _record_from_videochat(bad)

"""Synthetic CLEVRER-like data: videos read back exactly, counterfactual answers against an independent
re-simulation, determinism, bad input. The module is written in nbs/06_synthetic.ipynb."""
import json, os, re
from pathlib import Path

import av  # before decord: decord bundles its own FFmpeg, which breaks PyAV encoders if loaded first
import decord
import numpy as np
import pytest

from twgrpo.synthetic import (SimObject, clevrer_path, make_clevrer_like, make_colour_toy, random_objects,
                              simulate)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / 'data' / 'clevrer_like'
SHIPPED_CALL = dict(n_videos=4, seed=0, duration=3.0, size=(240, 160))  # the call shown in the notebook


@pytest.fixture(scope='module')
def small(tmp_path_factory):
    "A few short videos at a frame rate other than the default."
    out = tmp_path_factory.mktemp('clevrer')
    return make_clevrer_like(out, 3, seed=7, duration=1.5, fps=10, size=(160, 96), split='validation')


def _annotation(qfile, split, idx):
    return json.loads((qfile.parent / clevrer_path('annotation', split, idx)).read_text())


def _check_videos(qfile, split):
    for scene in json.loads(qfile.read_text()):
        idx = scene['scene_index']
        sim = _annotation(qfile, split, idx)['simulation']
        video = qfile.parent / clevrer_path('video', split, idx)
        assert video.name == scene['video_filename']
        vr = decord.VideoReader(str(video))
        assert len(vr) == round(sim['duration'] * sim['fps']), video
        assert vr.get_avg_fps() == sim['fps'], video


def test_videos_read_back_with_frames_and_fps_written(small):
    _check_videos(small, 'validation')
    _check_videos(SHIPPED / 'train.json', 'train')
    assert [s['scene_index'] for s in json.loads(small.read_text())] == [10000, 10001, 10002]


def test_colour_toy_reads_back(tmp_path):
    path = make_colour_toy(tmp_path / 'toy', 5, seed=3, frames=6, size=40, fps=3.0)
    for r in json.loads(path.read_text()):
        vr = decord.VideoReader(str(path.parent / r['path']))
        assert (len(vr), vr.get_avg_fps(), vr[0].shape) == (6, 3.0, (40, 40, 3))
        letters = r['solution'].removeprefix('<answer>').removesuffix('</answer>').split(',')
        assert [r['options']['ABCD'.index(l)][3:] for l in letters] == r['colors']
        # the colours named are the colours drawn (nearest toy colour of the bright pixels)
        frame = vr[0].asnumpy().reshape(-1, 3).astype(int)
        bright = frame[frame.max(1) > 120]
        ref = {'red': (220, 50, 50), 'green': (50, 180, 70), 'blue': (50, 90, 230), 'yellow': (240, 210, 40)}
        names = list(ref)
        nearest = np.argmin([[np.abs(p - ref[n]).sum() for n in names] for p in bright], axis=1)
        counts = np.bincount(nearest, minlength=4)
        assert sorted(n for n, c in zip(names, counts) if c > 20) == sorted(r['colors'])


def _pair(names, text):
    a, b = text.removeprefix('The ').removesuffix('.').split(' collides with the ')
    return tuple(sorted((names[a], names[b])))


def _check_counterfactuals(qfile, split):
    "Every counterfactual choice against a simulation run here, from the annotation's initial states."
    n_multi = 0
    for scene in json.loads(qfile.read_text()):
        ann = _annotation(qfile, split, scene['scene_index'])
        sim = ann['simulation']
        objs = [SimObject(**{**o, 'pos': tuple(o['pos']), 'vel': tuple(o['vel'])}) for o in ann['objects']]
        names = {o.name: o.id for o in objs}
        factual = simulate(objs, sim['duration'], sim['fps'])
        assert [list(c) for c in factual.collisions] == [[c['frame_id'], *c['object_ids']] for c in ann['collision']]
        for q in scene['questions']:
            if q['question_type'] != 'counterfactual': continue
            removed = [o for o in objs if f"the {o.name} is removed?" in q['question']
                       or q['question'].endswith(f"without the {o.name}?")]
            assert len(removed) == 1, q['question']
            x = removed[0].id
            rest = [o for o in objs if o.id != x]
            without = {tuple(sorted((c.a, c.b))) for c in simulate(rest, sim['duration'], sim['fps']).collisions}
            negate = 'will not happen' in q['question']
            answers = [c['answer'] for c in q['choices']]
            assert answers == ['correct' if (_pair(names, c['choice']) in without) != negate else 'wrong'
                               for c in q['choices']], q
            assert 'correct' in answers  # questions without a correct choice are dropped
            assert all(x not in _pair(names, c['choice']) for c in q['choices'])
            n_multi += answers.count('correct') >= 2
    return n_multi


def test_counterfactual_answers_match_independent_resimulation(small):
    assert _check_counterfactuals(SHIPPED / 'train.json', 'train') >= 1
    _check_counterfactuals(small, 'validation')


def test_counterfactual_removal_changes_collisions():
    "Over a handful of scenes, removing an object both removes and creates collisions somewhere."
    lost = new = 0
    for seed in range(20):
        objs = random_objects(seed)
        s = simulate(objs)
        for x in {i for c in s.collisions for i in c.pair}:
            before = s.pairs(exclude=x)
            after = simulate([o for o in objs if o.id != x]).pairs()
            lost += bool(before - after)
            new += bool(after - before)
    assert lost > 0 and new > 0


def test_shipped_samples_are_reproducible(tmp_path):
    qfile = make_clevrer_like(tmp_path, **SHIPPED_CALL)
    assert qfile.read_text() == (SHIPPED / 'train.json').read_text()
    for ann in sorted((SHIPPED / 'annotation_train').rglob('*.json')):
        assert (tmp_path / ann.relative_to(SHIPPED)).read_text() == ann.read_text(), ann
    videos = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob('*.mp4'))
    assert videos == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob('*.mp4'))
    assert sum(p.stat().st_size for p in SHIPPED.rglob('*') if p.is_file()) < 500_000


def test_deterministic_per_seed(tmp_path):
    a = make_clevrer_like(tmp_path / 'a', 2, seed=5, duration=1.0, size=(96, 64))
    b = make_clevrer_like(tmp_path / 'b', 2, seed=5, duration=1.0, size=(96, 64))
    c = make_clevrer_like(tmp_path / 'c', 2, seed=6, duration=1.0, size=(96, 64))
    assert a.read_text() == b.read_text() != c.read_text()
    fa, fb = (decord.VideoReader(str(p.parent / clevrer_path('video', 'train', 1))).get_batch([0, 24]).asnumpy()
              for p in (a, b))
    assert np.array_equal(fa, fb)
    t1, t2 = make_colour_toy(tmp_path / 't1', 3, seed=1), make_colour_toy(tmp_path / 't2', 3, seed=1)
    assert t1.read_text() == t2.read_text()


def test_default_size_is_clevrers(tmp_path):
    "The default video is CLEVRER's: 480 x 320, 5 s at 25 fps (its speed is measured by benchmarks/synthetic.py)."
    make_clevrer_like(tmp_path, 1)
    vr = decord.VideoReader(str(tmp_path / 'video_train/video_00000-01000/video_00000.mp4'))
    assert (len(vr), vr.get_avg_fps(), vr[0].shape) == (125, 25.0, (320, 480, 3))


@pytest.mark.parametrize('kwargs, message', [
    (dict(n_objects=0), 'n_objects=0'),
    (dict(n_objects=(0, 3)), 'n_objects=(0, 3)'),
    (dict(n_objects=9), 'n_objects=9'),
    (dict(duration=-1.0), 'duration=-1.0'),
    (dict(duration=0), 'duration=0'),
    (dict(fps=0), 'fps=0'),
    (dict(size=(241, 160)), 'size=(241, 160)'),
    (dict(split='dev'), "split='dev'"),
])
def test_bad_input_says_what(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_clevrer_like(tmp_path / 'out', 1, **kwargs)
    assert not (tmp_path / 'out').exists()  # nothing written


def test_bad_counts(tmp_path):
    with pytest.raises(ValueError, match='n_videos=0'): make_clevrer_like(tmp_path, 0)
    with pytest.raises(ValueError, match='n=0'): make_colour_toy(tmp_path, 0)
    with pytest.raises(ValueError, match='size=55'): make_colour_toy(tmp_path, 1, size=55)
    with pytest.raises(ValueError, match='at least one object'): simulate([])


def test_unwritable_folder_is_named(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    for target in (blocker, blocker / 'sub'):
        with pytest.raises(OSError, match=re.escape(str(target))): make_clevrer_like(target, 1, duration=0.2)
        with pytest.raises(OSError, match=re.escape(str(target))): make_colour_toy(target, 1)


@pytest.mark.skipif(os.name != 'posix' or os.geteuid() == 0, reason='root can write to read-only folders')
def test_read_only_folder_is_named(tmp_path):
    ro = tmp_path / 'ro'
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OSError, match=re.escape(str(ro))): make_clevrer_like(ro, 1, duration=0.2)
    finally:
        ro.chmod(0o700)

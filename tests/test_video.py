"""`twgrpo.video` from the outside: qwen-vl-utils 0.0.14 as an oracle for sampling and resizing, both decoders on
mp4 / webm / avi, errors that name the file, the frame cache under crashes, and the Qwen2.5-VL processor hand-off."""
import json, os, pickle, subprocess, sys, time
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

os.environ.setdefault("FORCE_QWENVL_VIDEO_READER", "decord")  # read by qwen-vl-utils at import time
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pytest
import torch

from twgrpo import video as V
from twgrpo.video import (PAPER_EVAL, PAPER_TRAIN, PRESETS, TINY, BadVideo, FrameCache, VideoClip, VideoError, VideoSettings,
                          barcode_frames, frame_count, preflight_videos, read_barcode, read_video, resize_hw, sample_indices,
                          to_processor_inputs, write_video)

qvp = pytest.importorskip("qwen_vl_utils.vision_process")


# ---------------------------------------------------------------- fixtures: small videos with known content
@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    "30 barcode frames (64 x 96, 25 fps) as mp4, webm, avi; plus a CLEVRER-sized clip (480 x 320, 128 frames)."
    d = tmp_path_factory.mktemp("videos")
    frames = barcode_frames(30)
    out = {ext: write_video(d / f"clip.{ext}", frames, fps=25.0) for ext in ("mp4", "webm", "avi")}
    out["clevrer"] = write_video(d / "video_00000.mp4", barcode_frames(128, 320, 480), fps=25.0)
    out["odd_fps"] = write_video(d / "odd.mp4", barcode_frames(45, 64, 96), fps=30000 / 1001)
    return out


def qwen_ele(s: VideoSettings, path=None, big=10**12):
    "The qwen-vl-utils video element for settings `s` (every key explicit: its defaults moved between versions)."
    ele = dict(nframes=s.nframes) if s.nframes is not None else dict(fps=s.fps, min_frames=s.min_frames)
    if s.nframes is None and s.max_frames is not None: ele["max_frames"] = s.max_frames
    if s.start is not None: ele["video_start"] = s.start
    if s.end is not None: ele["video_end"] = s.end
    ele.update(min_pixels=s.min_pixels, max_pixels=s.max_pixels, total_pixels=s.total_pixels or big)
    if path is not None: ele["video"] = str(path)
    return ele


SAMPLING = [PAPER_TRAIN, PAPER_EVAL, TINY, VideoSettings(fps=1.0, min_frames=3, max_frames=7),
            VideoSettings(fps=4.0, min_frames=8, max_frames=64), VideoSettings(nframes=7), VideoSettings(nframes=32),
            VideoSettings(fps=2.0, max_frames=16, start=1.0, end=3.5), VideoSettings(nframes=8, start=0.4),
            VideoSettings(fps=0.5, max_frames=None, end=20.0)]


# ---------------------------------------------------------------- oracle: sampling
def test_sampling_matches_qwen_vl_utils():
    checked = clamped = 0
    for total in [2, 3, 5, 9, 16, 30, 48, 64, 121, 128, 300, 901, 1800, 9000]:
        for vfps in [10.0, 24.0, 25.0, 30000 / 1001, 30.0, 60.0]:
            for s in SAMPLING:
                if s.max_frames is None and s.nframes is None and total > 768: continue  # qwen caps at 768 then
                ele = qwen_ele(s)
                try: first, last, count = qvp.calculate_video_frame_range(ele, total, vfps)
                except ValueError:
                    with pytest.raises(ValueError): sample_indices(total, vfps, s)
                    continue
                ours = sample_indices(total, vfps, s)
                try: n = qvp.smart_nframes(ele, total_frames=count, video_fps=vfps)
                except ValueError:  # a fixed nframes larger than the clip: we take the largest even count instead
                    assert len(ours) == count // 2 * 2 and s.nframes is not None, (total, vfps, s)
                    clamped += 1
                    continue
                ref = torch.linspace(first, last, n).round().long().tolist()
                assert ours.tolist() == ref, (total, vfps, s)
                checked += 1
    assert checked > 600 and clamped > 10


def test_frame_counts_are_even_and_bounded():
    for total in range(2, 400, 7):
        for s in SAMPLING:
            try: n = len(sample_indices(total, 25.0, s))
            except ValueError: continue
            assert n % 2 == 0 and 2 <= n <= total
            if s.nframes is None and s.max_frames is not None: assert n <= s.max_frames


# ---------------------------------------------------------------- oracle: resizing
def test_resize_matches_qwen_smart_resize():
    sides = [28, 33, 56, 57, 64, 85, 100, 240, 320, 360, 480, 720, 1080, 1280, 1920, 3840]
    limits = [(56 * 56, 112 * 112), (4 * 784, 768 * 784), (128 * 784, 196 * 784), (128 * 784, 256 * 784),
              (128 * 784, 128 * 784), (256 * 784, 768 * 784)]
    n = 0
    for f in (28, 32):  # Qwen2/2.5-VL (patch 14 x merge 2) and Qwen3-VL (patch 16 x merge 2): limits in that factor's units
        for h in sides:
            for w in sides:
                for lo, hi in limits:
                    lo, hi = lo * f * f // 784, hi * f * f // 784
                    ref = qvp.smart_resize(h, w, factor=f, min_pixels=lo, max_pixels=hi)
                    if min(ref) == 0: continue  # extreme aspect: qwen-vl-utils returns a 0 side, we keep one patch
                    s = VideoSettings(min_pixels=lo, max_pixels=hi, image_factor=f)
                    assert resize_hw(h, w, s, 16) == ref, (f, h, w, lo, hi)
                    if f == 32: assert resize_hw(h, w, VideoSettings(min_pixels=lo, max_pixels=hi).for_family("qwen3_vl"), 16) == ref
                    n += 1
    assert n > 2000


def test_clevrer_size():
    s = VideoSettings(min_pixels=128 * 28 * 28, max_pixels=256 * 28 * 28)
    assert resize_hw(320, 480, s, 10) == (308, 476) == qvp.smart_resize(320, 480, 28, 128 * 784, 256 * 784)
    assert resize_hw(320, 480, PAPER_TRAIN, 10) == (308, 476)


def test_end_to_end_matches_qwen_fetch_video(videos):
    "Same indices, same sampling fps and the very same pixels as qwen-vl-utils reading the file with decord."
    settings = SAMPLING[:4] + [VideoSettings(nframes=8, start=0.2, end=0.9),
                               replace(PAPER_TRAIN, total_pixels=4 * 56 * 56), replace(TINY, total_pixels=10**9)]
    for key in ("mp4", "clevrer", "odd_fps"):
        for s in settings:
            try: ours = read_video(videos[key], s, backend="decord")
            except VideoError: continue
            (ref, meta), ref_fps = qvp.fetch_video(qwen_ele(s, videos[key]), return_video_sample_fps=True,
                                                   return_video_metadata=True)
            assert list(meta["frames_indices"]) == ours.indices.tolist(), (key, s)
            assert ours.fps == pytest.approx(ref_fps, rel=1e-12), (key, s)
            assert np.array_equal(ours.frames, ref.permute(0, 2, 3, 1).numpy().astype(np.uint8)), (key, s)


# ---------------------------------------------------------------- decoders and formats
@pytest.mark.parametrize("ext", ["mp4", "webm", "avi"])
@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_backends_return_the_sampled_frames(videos, ext, backend):
    clip = read_video(videos[ext], VideoSettings(fps=10.0, max_frames=16, min_pixels=56 * 56, max_pixels=96 * 64),
                      backend=backend)
    assert (clip.total_frames, clip.source_fps, clip.backend) == (30, 25.0, backend)
    assert clip.indices.tolist() == np.round(np.linspace(0, 29, 12)).astype(int).tolist()  # 1.2 s x 10 fps
    assert clip.frames.dtype == np.uint8 and clip.frames.shape == (12, 56, 84, 3)
    assert read_barcode(clip.frames).tolist() == clip.indices.tolist()
    assert clip.fps == pytest.approx(12 / 30 * 25.0)


@pytest.mark.parametrize("ext", ["mp4", "webm", "avi"])
def test_backends_agree(videos, ext):
    a = read_video(videos[ext], PAPER_EVAL, backend="decord")
    b = read_video(videos[ext], PAPER_EVAL, backend="pyav")
    assert a.indices.tolist() == b.indices.tolist() and a.fps == b.fps
    assert np.abs(a.frames.astype(int) - b.frames.astype(int)).max() <= 2


def test_start_end_override_settings(videos):
    clip = read_video(videos["clevrer"], replace(PAPER_TRAIN, start=0.0, end=1.0), start=2.0, end=4.0)
    assert (clip.indices[0], clip.indices[-1]) == (50, 100)
    assert read_barcode(clip.frames).tolist() == clip.indices.tolist()
    assert clip.timestamps[0] == 2.0 and clip.timestamps[-1] == 4.0


def test_auto_falls_back_to_pyav(videos, monkeypatch):
    def broken(path, pick, settings): raise RuntimeError("decord exploded")
    monkeypatch.setitem(V._READERS, "decord", broken)
    assert read_video(videos["mp4"], TINY).backend == "pyav"
    with pytest.raises(VideoError, match="decord: RuntimeError: decord exploded"): read_video(videos["mp4"], TINY, backend="decord")


def test_auto_without_decord(videos, monkeypatch):
    monkeypatch.setitem(sys.modules, "decord", None)  # `import decord` now raises ImportError
    assert read_video(videos["webm"], TINY).backend == "pyav"
    with pytest.raises(ImportError): read_video(videos["webm"], TINY, backend="decord")


# ---------------------------------------------------------------- errors name the file
@pytest.fixture(scope="module")
def bad_files(videos, tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.mp4").touch()
    (d / "junk.webm").write_bytes(np.random.RandomState(0).bytes(5000))
    data = Path(videos["clevrer"]).read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 2])  # PyAV writes the moov atom last: nothing is left
    np.savez_compressed(d / "arrays.npz", a=np.arange(10_000))  # (FFmpeg plays text files as tty "video")
    (d / "folder.mp4").mkdir()
    write_video(d / "one_frame.mp4", barcode_frames(1))
    return d


@pytest.mark.parametrize("backend", ["auto", "decord", "pyav"])
@pytest.mark.parametrize("name,reason", [("missing.mp4", "no such file"), ("empty.mp4", "is empty"),
    ("folder.mp4", "is a folder, not a video file"), ("junk.webm", "cannot be decoded"), ("truncated.mp4", "cannot be decoded"),
    ("arrays.npz", "cannot be decoded"), ("one_frame.mp4", "need at least 2")])
def test_bad_videos_raise_video_error(bad_files, backend, name, reason):
    with pytest.raises(VideoError, match=reason) as e: read_video(bad_files / name, PAPER_TRAIN, backend=backend)
    assert name in str(e.value) and e.value.path == str(bad_files / name)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_bad_videos_print_nothing_native(bad_files, backend, capfd):
    "decord's and FFmpeg's own error lines are silenced; the VideoError carries the reason."
    for name in ("truncated.mp4", "junk.webm", "arrays.npz"):
        with pytest.raises(VideoError, match=name): read_video(bad_files / name, PAPER_TRAIN, backend=backend)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_chunked_decoding_gives_the_same_frames(videos, backend, monkeypatch):
    "Frames are resized a chunk at a time to bound memory; one frame per chunk gives the very same pixels as one chunk."
    settings = replace(TINY, nframes=6)
    whole = read_video(videos["clevrer"], settings, backend=backend)
    monkeypatch.setattr(V, "DECODE_CHUNK_PIXELS", 1)
    one_by_one = read_video(videos["clevrer"], settings, backend=backend)
    assert np.array_equal(whole.frames, one_by_one.frames) and whole.indices.tolist() == one_by_one.indices.tolist()
    assert read_barcode(one_by_one.frames).tolist() == one_by_one.indices.tolist()


def test_preflight_names_the_bad_records(videos, bad_files, tmp_path, monkeypatch):
    recs = [dict(id="a", video=str(videos["clevrer"])), dict(id="b", video=str(bad_files / "truncated.mp4")),
            dict(id="c", video=str(videos["clevrer"])), dict(id="d", video=str(bad_files / "missing.mp4")),
            dict(id="e", video=str(videos["mp4"]), start=5.0), dict(id="f", video=""), dict(id="g", video=str(bad_files / "folder.mp4")),
            dict(id="h", video=str(videos["mp4"]))]
    cache, decoded, decode = FrameCache(tmp_path / "cache"), [], V._decode
    monkeypatch.setattr(V, "_decode", lambda path, *a: decoded.append(str(path)) or decode(path, *a))
    bad = preflight_videos(recs, TINY, cache=cache, workers=3)
    assert sorted(decoded).count(str(videos["clevrer"])) == 1 and len(decoded) == 4  # one decode per distinct clip
    assert [(b.id, b.path) for b in bad] == [("b", str(bad_files / "truncated.mp4")), ("d", str(bad_files / "missing.mp4")),
                                             ("e", str(videos["mp4"])), ("f", ""), ("g", str(bad_files / "folder.mp4"))]
    assert [b.reason.split(" (")[0] for b in bad] == ["cannot be decoded", "no such file", bad[2].reason.split(" (")[0], "no video path",
                                                      "is a folder, not a video file"]
    assert "holds fewer than 2 frames" in bad[2].reason and str(bad[1]) == f"record 'd': {bad_files / 'missing.mp4'}: no such file"
    assert len(cache) == 2  # the two good clips
    assert read_video(videos["clevrer"], TINY, cache=cache) is not None and cache.hits == 1
    root = tmp_path / "root"; (root / "v").mkdir(parents=True)
    (root / "v" / "clip.mp4").write_bytes(Path(videos["mp4"]).read_bytes())
    rel = [dict(id="in", video="v/clip.mp4"), dict(id="out", video="../../etc/hostname")]
    bad = preflight_videos(rel, TINY, video_root=root, cache=False)
    assert [b.id for b in bad] == ["out"] and "outside the data root" in bad[0].reason and isinstance(bad[0], BadVideo)


def test_bad_time_range_names_the_file(videos):
    with pytest.raises(VideoError, match="clip.mp4.*holds fewer than 2 frames"): read_video(videos["mp4"], start=50.0)
    with pytest.raises(VideoError, match="clip.mp4.*end=1.0 s must be after start=2.0"):
        read_video(videos["mp4"], start=2.0, end=1.0)


def test_video_error_pickles():
    e = pickle.loads(pickle.dumps(VideoError("/data/x.mp4", "is empty (0 bytes)")))
    assert (type(e), e.path, str(e)) == (VideoError, "/data/x.mp4", "/data/x.mp4: is empty (0 bytes)")


# ---------------------------------------------------------------- settings
def test_settings_round_trip_and_presets():
    for s in [*PRESETS.values(), VideoSettings(total_pixels=10**6, start=1.5, end=2.5)]:
        assert VideoSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert (PAPER_TRAIN.fps, PAPER_TRAIN.max_frames, PAPER_TRAIN.min_pixels, PAPER_TRAIN.max_pixels) == (2.0, 16, 128 * 784, 196 * 784)
    assert (PAPER_EVAL.nframes, PAPER_EVAL.max_pixels) == (16, 256 * 784)
    assert VideoSettings() == PAPER_TRAIN
    with pytest.raises(FrozenInstanceError): PAPER_TRAIN.fps = 1.0
    for bad in [dict(fps=0), dict(nframes=1), dict(max_frames=2, min_frames=4), dict(total_pixels=0), dict(start=-1.0)]:
        with pytest.raises(ValueError, match="VideoSettings: "): VideoSettings(**bad)


# ---------------------------------------------------------------- frame cache
def test_cache_hits_misses_and_invalidation(videos, tmp_path):
    src = tmp_path / "v.mp4"
    src.write_bytes(Path(videos["mp4"]).read_bytes())
    cache = FrameCache(tmp_path / "cache")
    a = read_video(src, PAPER_TRAIN, cache=cache)
    b = read_video(src, PAPER_TRAIN, cache=cache)
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)
    assert np.array_equal(a.frames, b.frames) and a.indices.tolist() == b.indices.tolist() and a.fps == b.fps
    assert (b.source_fps, b.total_frames, b.backend, b.path) == (a.source_fps, a.total_frames, a.backend, a.path)
    read_video(src, PAPER_TRAIN, cache=cache, start=0.2)                  # other bounds: another entry
    read_video(src, TINY, cache=cache)                                    # other settings: another entry
    assert (cache.misses, len(cache)) == (3, 3)
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))        # touched: stale
    read_video(src, PAPER_TRAIN, cache=cache)
    assert (cache.hits, cache.misses) == (1, 4)
    npy, meta = cache.files(cache.key(src, PAPER_TRAIN))
    assert np.array_equal(np.load(npy, allow_pickle=False), a.frames)
    info = json.loads(meta.read_text())
    assert info["settings"] == PAPER_TRAIN.to_dict() and info["indices"] == a.indices.tolist()
    assert not list(cache.root.rglob(".tmp-*"))


def test_cache_rejects_corrupt_and_pickled_entries(videos, tmp_path):
    cache = FrameCache(tmp_path)
    clip = read_video(videos["mp4"], TINY, cache=cache)
    npy, _ = cache.files(cache.key(videos["mp4"], TINY))
    npy.write_bytes(npy.read_bytes()[:200])                               # truncated
    assert cache.get(videos["mp4"], TINY) is None
    np.save(npy, np.array([{"evil": 1}], dtype=object), allow_pickle=True)  # a pickle where frames belong
    assert cache.get(videos["mp4"], TINY) is None
    again = read_video(videos["mp4"], TINY, cache=cache)                  # rewritten, then a hit
    assert np.array_equal(again.frames, clip.frames) and cache.get(videos["mp4"], TINY) is not None


@pytest.mark.parametrize("stall_at", [1, 2])  # killed before the .npy rename, or between .npy and sidecar
def test_killed_writer_leaves_no_entry(videos, tmp_path, stall_at):
    root = tmp_path / "cache"
    script = f"""
import os, sys, time
import twgrpo.video as v
real, calls = os.replace, []
def stalled(a, b):
    calls.append(b)
    if len(calls) == {stall_at}: print("stalled", flush=True); time.sleep(120)
    real(a, b)
os.replace = stalled
v.read_video({str(videos['clevrer'])!r}, v.PAPER_TRAIN, cache=v.FrameCache({str(root)!r}))
"""
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try: assert p.stdout.readline().strip() == "stalled"
    finally: p.kill(); p.wait()
    cache = FrameCache(root)
    assert list(root.rglob(".tmp-*")) and len(cache) == 0                 # debris, but no entry
    assert cache.get(videos["clevrer"], PAPER_TRAIN) is None
    clip = read_video(videos["clevrer"], PAPER_TRAIN, cache=cache)
    assert np.array_equal(clip.frames, read_video(videos["clevrer"], PAPER_TRAIN).frames) and len(cache) == 1


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TWGRPO_CACHE", str(tmp_path))
    assert FrameCache().root == tmp_path / "frames"
    monkeypatch.delenv("TWGRPO_CACHE")
    assert FrameCache().root == Path.home() / ".cache" / "twgrpo" / "frames"


# ---------------------------------------------------------------- the Qwen2.5-VL processor hand-off
@pytest.fixture(scope="module")
def processor():
    from twgrpo.tiny_model import build_tiny_processor
    return build_tiny_processor(min_pixels=56 * 56, max_pixels=256 * 28 * 28)


TEXT = "<|vision_start|><|video_pad|><|vision_end|>What happens?"


@pytest.mark.parametrize("settings", [PAPER_TRAIN, PAPER_EVAL, TINY], ids=["train", "eval", "tiny"])
def test_processor_sees_the_frames_and_fps(videos, processor, settings):
    clip = read_video(videos["clevrer"], settings)
    out = processor(text=[TEXT], **to_processor_inputs(clip), return_tensors="pt")
    T, H, W, _ = clip.frames.shape
    assert out["video_grid_thw"].tolist() == [[T // 2, H // 14, W // 14]]
    assert out["second_per_grid_ts"][0] == pytest.approx(2 / clip.fps)
    n_tokens = (out["input_ids"] == processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")).sum().item()
    assert n_tokens == T // 2 * (H // 28) * (W // 28)
    # frames already within the processor's limits: its own resize would change nothing
    again = processor(text=[TEXT], videos=[clip.frames], return_tensors="pt",
                      videos_kwargs=dict(do_sample_frames=False, cap_pixels_per_frame=False))
    assert torch.equal(again["pixel_values_videos"], out["pixel_values_videos"])


def test_processor_does_not_resize_again(videos):
    from twgrpo.tiny_model import build_tiny_processor
    small = build_tiny_processor(min_pixels=56 * 56, max_pixels=16 * 28 * 28)  # limits below PAPER_TRAIN frames
    clip = read_video(videos["clevrer"], PAPER_TRAIN)
    ours = small(text=[TEXT], **to_processor_inputs(clip), return_tensors="pt")
    theirs = small(text=[TEXT], videos=[clip.frames], return_tensors="pt", videos_kwargs=dict(do_sample_frames=False))
    assert ours["video_grid_thw"].tolist() == [[5, 22, 34]]
    assert theirs["video_grid_thw"].tolist() != [[5, 22, 34]]  # the processor's own limits would shrink them


def test_processor_batch_of_clips(videos, processor):
    clips = [read_video(videos["clevrer"], TINY), read_video(videos["mp4"], PAPER_TRAIN)]
    out = processor(text=[TEXT, TEXT], **to_processor_inputs(clips), padding=True, return_tensors="pt")
    assert out["video_grid_thw"].tolist() == [[len(c.frames) // 2, c.frames.shape[1] // 14, c.frames.shape[2] // 14] for c in clips]
    assert out["second_per_grid_ts"].tolist() == pytest.approx([2 / c.fps for c in clips])  # float32 tensor


def test_qwen3_vl_clip_through_to_processor_inputs(videos):
    "A clip read for Qwen3-VL (sides multiples of 32) reaches its processor unresized, with its frames' times in the text."
    import re
    from twgrpo.tiny_model import build_tiny_processor
    p3 = build_tiny_processor(family="qwen3_vl")
    clip = read_video(videos["clevrer"], PAPER_TRAIN.for_family("qwen3_vl"))
    assert clip.frames.shape[1] % 32 == 0 and clip.frames.shape[2] % 32 == 0
    text = p3.apply_chat_template([{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Why?"}]}],
                                  add_generation_prompt=True, tokenize=False)
    out = p3(text=[text], **to_processor_inputs(clip, "qwen3_vl"), return_tensors="pt")
    T, H, W, _ = clip.frames.shape
    assert out["video_grid_thw"].tolist() == [[T // 2, H // 16, W // 16]] and "second_per_grid_ts" not in out
    stamps = [float(t) for t in re.findall(r"<([\d.]+) seconds>", p3.tokenizer.decode(out["input_ids"][0]))]
    t = clip.timestamps
    assert stamps == [float(f"{(t[i] + t[i + 1]) / 2:.1f}") for i in range(0, T, 2)]
    with pytest.raises(ValueError, match="multiples of 32"): to_processor_inputs(read_video(videos["clevrer"], PAPER_TRAIN), "qwen3_vl")


def test_fps_keyword_alone_is_ignored_by_the_processor(videos, processor):
    "Why `to_processor_inputs` passes metadata: transformers 5.2x drops `fps=` when frames are given pre-sampled."
    clip = read_video(videos["clevrer"], TINY)
    out = processor(text=[TEXT], videos=[clip.frames], return_tensors="pt",
                    videos_kwargs=dict(fps=clip.fps, do_sample_frames=False))
    assert out["second_per_grid_ts"][0] != pytest.approx(2 / clip.fps)


def test_decord_read_then_pyav_vp9_write(tmp_path):
    "decord bundles its own FFmpeg: loaded before PyAV it breaks PyAV's vp9 encoder. Reading must not poison writing."
    import subprocess, sys, textwrap
    write_video(tmp_path / "a.mp4", np.zeros((8, 64, 64, 3), np.uint8), 2.0)
    code = textwrap.dedent(f"""
        import numpy as np
        from twgrpo.video import write_video, read_video, TINY
        read_video({str(tmp_path / 'a.mp4')!r}, TINY, backend='decord')  # the first decoder loaded in this process
        write_video({str(tmp_path / 'b.webm')!r}, np.zeros((4, 32, 32, 3), np.uint8), 2.0)
        """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]

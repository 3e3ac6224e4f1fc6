"""Frame decoding without and with the on-disk `FrameCache`, side by side in one run.

    .venv/bin/python benchmarks/frames.py                 # 20 videos, 480 x 320, 25 fps, 5 s, PAPER_TRAIN settings

Writes CLEVRER-sized synthetic videos (h264 mp4, a textured background with three moving discs, a different seed
per video) into a temporary folder, then times `read_video` over all of them, each pass repeated and the best
kept:

- decord, uncached: open, seek and decode the sampled frames, resize to 476 x 308 (what every epoch pays
  without a cache);
- pyav, uncached: the fallback decoder (decodes the stream up to the last sampled frame);
- cache fill: decord plus writing the `.npy` and its json sidecar (first epoch with a cache);
- cached: `FrameCache` hits (every later epoch, or a second model on the same benchmark).

Prints the seconds per pass, milliseconds per video and the ratio to the cached pass, checks that the cached
frames equal the decoded ones, and reports the cache size. The videos were just written, so every pass reads
from the OS page cache; disk speed is not what is measured.
"""
import argparse, platform, shutil, tempfile, time
from pathlib import Path

import numpy as np

from twgrpo.video import PAPER_TRAIN, FrameCache, read_video, write_video


def scene(n, height, width, seed):
    "CLEVRER-like frames: a smooth, lightly textured floor and three discs moving in straight lines."
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    floor = 110 + 40 * yy / height + rng.normal(0, 4, (height, width))
    frames = np.repeat(np.clip(floor, 0, 255)[None, :, :, None], 3, axis=3).repeat(n, axis=0)
    for _ in range(3):
        r = rng.uniform(18, 40)
        p0, v = rng.uniform([r, r], [width - r, height - r]), rng.uniform(-3, 3, 2)
        colour = rng.integers(30, 230, 3)
        for t in range(n):
            x, y = p0 + v * t
            frames[t][(xx - x) ** 2 + (yy - y) ** 2 <= r * r] = colour
    return frames.astype(np.uint8)


def timed(paths, repeats, **kw):
    best, clips = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        clips = [read_video(p, PAPER_TRAIN, **kw) for p in paths]
        best = min(best, time.perf_counter() - t0)
    return best, clips


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="twgrpo-frames-"))
    try:
        n = round(a.seconds * a.fps)
        t0 = time.perf_counter()
        paths = [write_video(tmp / f"video_{i:05d}.mp4", scene(n, 320, 480, seed=i), fps=a.fps) for i in range(a.videos)]
        print(f"{a.videos} videos of {n} frames, 480 x 320 at {a.fps:g} fps, written in {time.perf_counter() - t0:.1f} s; "
              f"{platform.processor() or platform.machine()}, settings PAPER_TRAIN")

        rows = [("decord, uncached", *timed(paths, a.repeats, backend="decord")),
                ("pyav, uncached", *timed(paths, a.repeats, backend="pyav"))]
        fill = []
        for _ in range(a.repeats):  # each fill starts from an empty cache
            shutil.rmtree(tmp / "cache", ignore_errors=True)
            cache = FrameCache(tmp / "cache")
            t0 = time.perf_counter()
            clips = [read_video(p, PAPER_TRAIN, backend="decord", cache=cache) for p in paths]
            fill.append(time.perf_counter() - t0)
        rows.append(("cache fill (decord + write)", min(fill), clips))
        hits_before = cache.hits
        rows.append(("cached (hits)", *timed(paths, a.repeats, backend="decord", cache=cache)))
        assert cache.hits - hits_before == a.videos * a.repeats, cache

        reference = rows[0][2]
        for _, _, clips in rows[1:]:
            assert all(np.array_equal(c.frames, r.frames) and c.fps == r.fps for c, r in zip(clips, reference))
        c = reference[0]
        print(f"each clip: {len(c.frames)} frames of {c.frames.shape[2]} x {c.frames.shape[1]} at {c.fps:.3f} fps; "
              f"frames identical across all passes")
        cached = rows[-1][1]
        print(f"\n{'pass':<30}{'total s':>10}{'ms/video':>10}{'x cached':>10}")
        for name, secs, _ in rows:
            print(f"{name:<30}{secs:>10.3f}{1000 * secs / a.videos:>10.2f}{secs / cached:>10.1f}")
        size = sum(f.stat().st_size for f in (tmp / "cache").rglob("*") if f.is_file())
        print(f"\ncache: {len(cache)} entries, {size / 2**20:.1f} MiB ({size / 2**20 / a.videos:.2f} MiB per clip); "
              f"{cache.hits} hits, {cache.misses} misses")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

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

    .venv/bin/python benchmarks/frames.py --memory                    # one 4K clip (3840 x 2160), 16 frames read
    .venv/bin/python benchmarks/frames.py --memory --size 7680x4320   # 8K (needs ~10 GB free for the "before" run)

`--memory` measures what one clip costs: it writes one high-resolution h264 clip (frame by frame), then reads it with
`PAPER_EVAL` (16 frames, at most 256 x 28 x 28 pixels) in a fresh process per run, and prints the process's peak
resident memory (`ru_maxrss`) above what it held after its imports, for each decoder, with all sampled frames decoded
before resizing (`DECODE_CHUNK_PIXELS` unbounded: the behaviour before chunking) and with the default chunk (one chunk
of at most 8 M source pixels at a time). Both runs must return identical frames.
"""
import argparse, json, platform, shutil, subprocess, sys, tempfile, time
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


_CHILD = """
import hashlib, json, resource, sys
import twgrpo.video as V
V.DECODE_CHUNK_PIXELS = {chunk}
import decord, av, torch, torchvision  # imports first: their memory is the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
clip = V.read_video({path!r}, V.PAPER_EVAL, backend={backend!r})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(base_kib=base, peak_kib=peak, shape=list(clip.frames.shape), sha=hashlib.sha256(clip.frames.tobytes()).hexdigest())))
"""


def write_big(path, width, height, n, fps):
    "An h264 clip of `n` frames of `width` x `height`, written a frame at a time (the frames never all sit in memory)."
    import av
    from fractions import Fraction
    yy, xx = np.mgrid[0:height:8, 0:width:8]
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001), options={"preset": "ultrafast"})
        st.width, st.height, st.pix_fmt = width, height, "yuv420p"
        for t in range(n):
            small = np.stack([(xx + 7 * t) % 256, (yy + 3 * t) % 256, (xx + yy) % 256], -1).astype(np.uint8)
            frame = np.repeat(np.repeat(small, 8, 0), 8, 1)[:height, :width]
            out.mux(st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        out.mux(st.encode())


def memory(a):
    w, h = map(int, a.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="twgrpo-frames-mem-"))
    try:
        path = tmp / "big.mp4"
        t0 = time.perf_counter()
        write_big(path, w, h, a.mem_frames, a.fps)
        print(f"one clip: {a.mem_frames} frames of {w} x {h} at {a.fps:g} fps, h264, {path.stat().st_size / 2**20:.1f} MiB, "
              f"written in {time.perf_counter() - t0:.1f} s; read with PAPER_EVAL (16 frames); {platform.processor() or platform.machine()}")
        print(f"\n{'decoder':<8}{'chunk':<34}{'peak above imports, MiB':>24}{'seconds':>9}")
        results = {}
        for backend in ("decord", "pyav"):
            for label, chunk in (("all sampled frames at once (before)", 10**15), ("default (8 M source pixels)", "V.DECODE_CHUNK_PIXELS")):
                t0 = time.perf_counter()
                r = subprocess.run([sys.executable, "-c", _CHILD.format(chunk=chunk, path=str(path), backend=backend)],
                                   capture_output=True, text=True, timeout=1800)
                if r.returncode != 0: raise SystemExit(f"{backend} / {label} failed:\n{r.stderr[-3000:]}")
                out = json.loads(r.stdout.strip().splitlines()[-1])
                results[(backend, label)] = out
                print(f"{backend:<8}{label:<34}{(out['peak_kib'] - out['base_kib']) / 1024:>24.0f}{time.perf_counter() - t0:>9.1f}")
        shas = {o["sha"] for (b, _), o in results.items() if b == "decord"}
        assert len(shas) == 1, "decord: chunked frames differ from the unchunked ones"
        assert len({o["sha"] for (b, _), o in results.items() if b == "pyav"}) == 1, "pyav: chunked frames differ"
        print(f"\nframes {results[('decord', 'default (8 M source pixels)')]['shape']}; each decoder returns identical frames with and without chunks")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory", action="store_true", help="measure the peak memory of reading one high-resolution clip instead")
    ap.add_argument("--size", default="3840x2160", help="WIDTHxHEIGHT of the --memory clip")
    ap.add_argument("--mem-frames", type=int, default=32, help="frames in the --memory clip")
    a = ap.parse_args()
    if a.memory: return memory(a)
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

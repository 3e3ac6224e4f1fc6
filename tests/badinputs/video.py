"""Bad videos through the API: each is a `twgrpo.video.VideoError` whose one-line message names the file."""
import numpy as np

from badinputs import Case
from twgrpo.video import VideoError


def _video(frames, fps=25.0):
    "A file writer for `Case.files`: `frames` encoded at `fps` by the file's suffix."
    def write(p):
        from twgrpo.video import write_video
        write_video(p, frames, fps=fps)
    return write


def _truncated(p):
    from twgrpo.video import barcode_frames, write_video
    write_video(p, barcode_frames(40, 64, 96))
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])  # PyAV writes the index (moov) last: it is gone


def _zero_frames(p):
    import av
    with av.open(str(p), "w") as out:  # a stream header and no frame
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = 64, 64, "yuv420p"
        out.start_encoding()
        for pk in st.encode(): out.mux(pk)


def _audio_only(p):
    import av
    with av.open(str(p), "w") as out:
        st = out.add_stream("aac", rate=16000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate = 16000
        for _ in range(8): out.mux(st.encode(fr))
        out.mux(st.encode())


def _read(name, **kw):
    def call(tmp):
        from twgrpo.video import read_video
        read_video(tmp / name, **kw)
    return call


def _settings(**kw):
    from twgrpo.video import VideoSettings
    return VideoSettings(**kw)


GREY = np.full((8, 64, 96, 3), 128, np.uint8)

CASES = [
    Case("video/missing", call=_read("gone.mp4"), raises=VideoError, names=("{tmp}/gone.mp4", "no such file")),
    Case("video/empty", call=_read("empty.mp4"), files={"empty.mp4": b""}, raises=VideoError, names=("{tmp}/empty.mp4", "is empty (0 bytes)")),
    Case("video/folder", call=_read("clip.mp4"), files={"clip.mp4/frame_0001.jpg": b"\xff\xd8"}, raises=VideoError,
         names=("{tmp}/clip.mp4", "is a folder, not a video file")),
    Case("video/random-bytes", call=_read("junk.mp4"), files={"junk.mp4": np.random.RandomState(0).bytes(5000)}, raises=VideoError,
         names=("{tmp}/junk.mp4", "cannot be decoded"), slow=True),
    Case("video/text-file", call=_read("notes.mp4"), files={"notes.mp4": "not a video\n" * 200}, raises=VideoError,
         names=("{tmp}/notes.mp4", "cannot be decoded"), slow=True),
    Case("video/truncated", call=_read("cut.mp4"), files={"cut.mp4": _truncated}, raises=VideoError,
         names=("{tmp}/cut.mp4", "cannot be decoded"), slow=True),
    Case("video/zero-frames", call=_read("none.mp4"), files={"none.mp4": _zero_frames}, raises=VideoError,
         names=("{tmp}/none.mp4", "has no video stream"), slow=True),
    Case("video/audio-only", call=_read("sound.mp4"), files={"sound.mp4": _audio_only}, raises=VideoError,
         names=("{tmp}/sound.mp4", "has no video stream"), slow=True),
    Case("video/one-frame", call=_read("one.mp4"), files={"one.mp4": _video(GREY[:1])}, raises=VideoError,
         names=("{tmp}/one.mp4", "need at least 2"), slow=True),
    Case("video/extreme-aspect", call=_read("thin.mp4"), files={"thin.mp4": _video(np.full((8, 600, 2, 3), 128, np.uint8))}, raises=VideoError,
         names=("{tmp}/thin.mp4", "aspect ratio of 600 x 2 exceeds 200"), slow=True),
    Case("video/extreme-aspect-decord", call=_read("wide.mp4", backend="decord"), files={"wide.mp4": _video(np.full((8, 2, 600, 3), 128, np.uint8))},
         raises=VideoError, names=("{tmp}/wide.mp4", "aspect ratio of 2 x 600 exceeds 200"), slow=True),
    Case("video/start-after-the-end", call=_read("short.mp4", start=30.0), files={"short.mp4": _video(GREY)}, raises=VideoError,
         names=("{tmp}/short.mp4", "holds fewer than 2 frames"), slow=True),
    Case("video/end-before-start", call=_read("short.mp4", start=0.2, end=0.1), files={"short.mp4": _video(GREY)}, raises=VideoError,
         names=("{tmp}/short.mp4", "must be after start=0.2"), slow=True),
    Case("video/settings-end-before-start", call=lambda tmp: _settings(start=2.0, end=1.0), raises=ValueError,
         names=("VideoSettings", "end=1.0 s must be after start=2.0 s")),
    Case("video/unknown-backend", call=_read("short.mp4", backend="opencv"), files={"short.mp4": _video(GREY)}, raises=ValueError,
         names=("backend='opencv'", "'auto', 'decord' or 'pyav'")),
]

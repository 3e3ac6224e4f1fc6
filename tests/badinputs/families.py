"""Bad inputs of the model-family adapter (`twgrpo.families`, `twgrpo.tiny_model`): checkpoints it cannot place,
frames that do not fit the family, names that are no model."""
import json

import numpy as np

from badinputs import Case


def _family_of(tmp, sub="ckpt"):
    from twgrpo.families import family_of
    return family_of(tmp / sub if sub == "ckpt" else sub)


def _kwargs(family, frames, **kw):
    from twgrpo.families import processor_video_kwargs
    return processor_video_kwargs(family, frames, **kw)


F84 = np.zeros((4, 84, 112, 3), np.uint8)  # multiples of 28, not of 32

CASES = [
    Case("families/no-config", call=lambda tmp: _family_of(tmp), files={"ckpt/model.safetensors": b""},
         names=("{tmp}/ckpt/config.json", "no such file")),
    Case("families/config-not-json", call=lambda tmp: _family_of(tmp), files={"ckpt/config.json": "{model_type: qwen"},
         names=("{tmp}/ckpt/config.json", "not a readable JSON config")),
    Case("families/config-no-model-type", call=lambda tmp: _family_of(tmp), files={"ckpt/config.json": "{}"},
         names=("{tmp}/ckpt/config.json", "has no 'model_type'")),
    Case("families/unsupported-model-type", call=lambda tmp: _family_of(tmp),
         files={"ckpt/config.json": json.dumps({"model_type": "llava"})},
         names=("{tmp}/ckpt/config.json", "'llava'", "qwen2_vl, qwen2_5_vl, qwen3_vl")),
    Case("families/unknown-tiny-name", call=lambda tmp: _family_of(tmp, "tiny-qwen4-vl"),
         names=("unknown tiny model", "tiny-qwen4-vl", "tiny-qwen3-vl")),
    Case("families/hub-name-offline", call=lambda tmp: _family_of(tmp, "no-such-org/no-such-model"),
         names=("no-such-model", "not a folder", "supported families")),
    Case("families/frames-off-factor", call=lambda tmp: _kwargs("qwen3_vl", F84, fps=2.0),
         names=("112 x 84", "not multiples of 32", "Qwen3-VL")),
    Case("families/frames-without-fps", call=lambda tmp: _kwargs("qwen2_5_vl", F84), names=("need their fps",)),
    Case("families/not-frames", call=lambda tmp: _kwargs("qwen2_5_vl", np.zeros((84, 112, 3), np.uint8), fps=2.0),
         names=("T x H x W x 3", "(84, 112, 3)")),
    Case("families/resize-without-caps", call=lambda tmp: _kwargs("qwen2_5_vl", F84, fps=2.0, resized=False),
         names=("resized=False needs min_pixels and max_pixels",)),
    Case("families/clip-budget-mixed-lengths",
         call=lambda tmp: _kwargs("qwen3_vl", [np.zeros((4, 64, 64, 3), np.uint8), np.zeros((8, 64, 64, 3), np.uint8)],
                                  fps=2.0, resized=False, min_pixels=1024, max_pixels=4096),
         names=("limits pixels per clip", "[4, 8]")),
    Case("families/remote-code", call=lambda tmp: __import__("twgrpo.families").families.load_model(
         "tiny", trust_remote_code=True), names=("trust_remote_code is not supported",)),
    Case("families/tiny-unknown-family", call=lambda tmp: __import__("twgrpo.tiny_model").tiny_model.tiny_model_path(
         cache_dir=tmp, family="llava"), names=("family='llava'", "qwen3_vl")),
]

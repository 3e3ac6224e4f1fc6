"""The family adapter on each family's tiny model, without the trainer: the processor's grid for a frame size, frame
times (Qwen3-VL's timestamps from `video_metadata`, Qwen2.5-VL's `second_per_grid_ts`), resizing against
qwen-vl-utils, the training forward's vision gradients (trainable and frozen), generation without suppressed tokens,
and `family_of` on each saved folder."""
import hashlib, json, os, re, shutil, subprocess, sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from twgrpo.families import (FAMILIES, QWEN2_5_VL, QWEN3_VL, batch_video_kwargs, family_of, forward_video_kwargs, freeze_vision,
                             is_vision_parameter, load_model, load_processor, processor_video_kwargs, suppressed_tokens)
from twgrpo.tiny_model import TINY_MODELS, resolve_tiny, tiny_model_path

NAMES = {"qwen2_vl": "tiny-qwen2-vl", "qwen2_5_vl": "tiny-qwen2.5-vl", "qwen3_vl": "tiny-qwen3-vl"}
MESSAGES = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Which colours appear?"}]}]


@pytest.fixture(scope="module", params=list(FAMILIES))
def fam(request):
    "One family at a time: its registry entry, cached tiny folder, model (eval) and processor."
    f = FAMILIES[request.param]
    path = resolve_tiny(NAMES[f.model_type])
    torch.manual_seed(0)
    return SimpleNamespace(family=f, path=path, model=load_model(path).eval(), processor=load_processor(path))


def frames_for(family, n=4, hp=2, wp=3, seed=0):
    "n random frames of hp x wp merged patches (sides multiples of the family's factor)."
    f = family.resize_factor
    return np.random.default_rng(seed).integers(0, 256, (n, hp * f, wp * f, 3), dtype=np.uint8)


def encode(fam, videos, n_prompts=1, **kw):
    text = fam.processor.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    return fam.processor(text=[text] * n_prompts, return_tensors="pt", padding=True,
                         **processor_video_kwargs(fam.family, videos, **kw))


# ---- which family, which class

def test_family_of_saved_folder_and_names(fam, tmp_path):
    assert family_of(fam.path) is fam.family
    assert family_of(fam.model) is fam.family and family_of(fam.model.config) is fam.family
    assert family_of(NAMES[fam.family.model_type]) is fam.family
    assert type(fam.model).__name__ == fam.family.model_class
    assert type(fam.processor).__name__ == fam.family.processor_class
    assert type(fam.processor.video_processor).__name__ == fam.family.video_processor_class
    assert fam.model.config.vision_config.patch_size == fam.family.patch_size
    assert fam.model.config.vision_config.spatial_merge_size == fam.family.merge_size
    assert fam.model.config.vision_config.temporal_patch_size == fam.family.temporal_patch_size
    assert fam.processor.tokenizer.padding_side == "left"


def test_processor_of_another_family_is_refused(tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(tiny_model_path(family="qwen3_vl"), mixed)
    for p in tiny_model_path().iterdir():  # Qwen2.5-VL processor files over Qwen3-VL weights
        if p.name != "config.json" and p.suffix != ".safetensors": shutil.copy(p, mixed / p.name)
    with pytest.raises(ValueError, match="processor is a Qwen2_5_VLProcessor, but a Qwen3-VL checkpoint needs a Qwen3VLProcessor"):
        load_processor(mixed)


def test_default_tiny_cache_key_unchanged(tmp_path):
    "The Qwen2.5-VL tiny model's folder name is the key it had before families existed (warm starts rebuild from it)."
    import tokenizers, transformers
    key = json.dumps(dict(seed=0, sizes=[], v=1, tf=transformers.__version__, tk=tokenizers.__version__), sort_keys=True)
    expected = f"tiny-qwen2.5-vl-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    assert tiny_model_path().name == expected
    assert resolve_tiny("tiny") == resolve_tiny("tiny-qwen2.5-vl") == tiny_model_path()
    assert len({resolve_tiny(n) for n in NAMES.values()}) == 3


def test_imports_stay_light():
    code = ("import sys, twgrpo.families, twgrpo.tiny_model; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# ---- the processor on pre-decoded frames

@pytest.mark.parametrize("hp,wp", [(2, 3), (3, 5)])
def test_grid_for_a_frame_size(fam, hp, wp):
    f = fam.family
    out = encode(fam, frames_for(f, 4, hp, wp), fps=2.0)
    assert out["video_grid_thw"].tolist() == [[2, hp * f.merge_size, wp * f.merge_size]]  # patches of patch_size px
    assert int((out["mm_token_type_ids"] == 2).sum()) == f.video_tokens(4, hp * f.resize_factor, wp * f.resize_factor)
    assert sorted(k for k in out if k in ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")) == sorted(f.video_keys)


def test_frames_off_the_factor_are_refused(fam):
    f = fam.family
    other = 28 if f.resize_factor == 32 else 32
    with pytest.raises(ValueError, match=f"not multiples of {f.resize_factor}"):
        processor_video_kwargs(f, np.zeros((4, 2 * other, 3 * other, 3), np.uint8), fps=2.0)


@pytest.mark.parametrize("lo,hi", [(128, 196), (16, 64)])
def test_processor_resizing_matches_qwen_vl_utils(fam, lo, hi):
    "resized=False: the processor resizes a 480 x 320 CLEVRER frame as qwen-vl-utils' smart_resize with the family's factor."
    qvu = pytest.importorskip("qwen_vl_utils.vision_process")
    f = fam.family
    lo, hi = lo * f.resize_factor ** 2, hi * f.resize_factor ** 2
    frames = np.random.default_rng(0).integers(0, 256, (4, 320, 480, 3), dtype=np.uint8)
    h, w = qvu.smart_resize(320, 480, factor=f.resize_factor, min_pixels=lo, max_pixels=hi)
    out = encode(fam, frames, fps=2.0, resized=False, min_pixels=lo, max_pixels=hi)
    assert out["video_grid_thw"].tolist() == [[2, h // f.patch_size, w // f.patch_size]]


def test_frame_times_come_from_the_metadata(fam):
    "A clip's source indices and rate set the times: Qwen3-VL's <t seconds>, Qwen2.5-VL's second_per_grid_ts."
    f = fam.family
    clip = SimpleNamespace(frames=frames_for(f), fps=1.0, indices=np.array([0, 25, 50, 75]), source_fps=25.0)
    out = encode(fam, clip)
    text = fam.processor.tokenizer.decode(out["input_ids"][0])
    stamps = re.findall(r"<([\d.]+) seconds>", text)
    if f.timing == "text_timestamps":
        assert stamps == ["0.5", "2.5"]  # means of frames (0 s, 1 s) and (2 s, 3 s)
        fast = fam.processor.tokenizer.decode(encode(fam, frames_for(f), fps=4.0)["input_ids"][0])
        assert re.findall(r"<([\d.]+) seconds>", fast) == ["0.1", "0.6"]  # 0.125 and 0.625 s
        # the trap: without video_metadata the processor assumes 24 fps
        bare = fam.processor(text=[fam.processor.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)],
                             videos=[frames_for(f)], videos_kwargs=dict(do_sample_frames=False, do_resize=False,
                                                                       cap_pixels_per_frame=False))
        assert re.findall(r"<([\d.]+) seconds>", fam.processor.tokenizer.decode(bare["input_ids"][0])) == ["0.0", "0.1"]
    else:
        assert stamps == []
    if f.timing == "second_per_grid_ts":
        assert out["second_per_grid_ts"].tolist() == pytest.approx([2 / 1.0])
        assert encode(fam, frames_for(f), fps=4.0)["second_per_grid_ts"].tolist() == pytest.approx([0.5])
    else:
        assert "second_per_grid_ts" not in out


# ---- the training forward

def lm_loss(model, out, rows):
    "Next-token loss of the prompt through the model, with the video tensors of `rows` and mm_token_type_ids."
    ids = out["input_ids"]
    res = model(input_ids=ids, attention_mask=out["attention_mask"], mm_token_type_ids=out["mm_token_type_ids"],
                **batch_video_kwargs(rows))
    return torch.nn.functional.cross_entropy(res.logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten())


def test_vision_gradients_trainable_and_frozen(fam):
    f = fam.family
    out = encode(fam, [frames_for(f, seed=1), frames_for(f, 2, seed=2)], n_prompts=2, fps=2.0)
    rows = forward_video_kwargs(f, out)
    assert [tuple(r) for r in rows] == [f.video_keys] * 2
    model = load_model(fam.path).train()
    lm_loss(model, out, rows).backward()
    vision = {n: p for n, p in model.named_parameters() if is_vision_parameter(n, f)}
    assert len(vision) > 10 and all(n.startswith("model.visual.") for n in vision)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in vision.values()), \
        [n for n, p in vision.items() if p.grad is None or p.grad.abs().sum() == 0]
    if f.model_type == "qwen3_vl": assert any("deepstack_merger_list" in n for n in vision)

    frozen_model = load_model(fam.path).train()
    assert freeze_vision(frozen_model) == len(vision)
    lm_loss(frozen_model, out, rows).backward()
    for n, p in frozen_model.named_parameters():
        if is_vision_parameter(n, f): assert p.grad is None and not p.requires_grad, n
    assert frozen_model.lm_head.weight.grad.abs().sum() > 0


def test_forward_depends_on_the_video_and_its_keys(fam):
    f = fam.family
    a, b = encode(fam, frames_for(f, seed=1), fps=2.0), encode(fam, frames_for(f, seed=2), fps=2.0)
    with torch.no_grad():
        la = fam.model(**a).logits[0, -1]
        lb = fam.model(**b).logits[0, -1]
        assert (la - lb).abs().max() > 0  # the frames reach the logits
        no_mm = {k: v for k, v in a.items() if k != "mm_token_type_ids"}
        if f.mm_token_type_ids_required:
            with pytest.raises(ValueError, match="mm_token_type_ids"): fam.model(**no_mm)
        else:  # Qwen2.5-VL: silently 1-D positions
            assert (fam.model(**no_mm).logits[0, -1] - la).abs().max() > 0
        if "second_per_grid_ts" in f.video_keys:  # the time spacing moves the positions, hence the logits
            slow = fam.model(**{**a, "second_per_grid_ts": a["second_per_grid_ts"] * 8}).logits[0, -1]
            assert (slow - la).abs().max() > 0


# ---- generation

def test_generation_never_emits_a_suppressed_token(fam):
    f = fam.family
    out = encode(fam, frames_for(f), fps=2.0)
    banned = suppressed_tokens(fam.processor.tokenizer, f, [fam.processor.tokenizer.eos_token_id])
    tok = fam.processor.tokenizer
    assert tok.convert_tokens_to_ids("<|video_pad|>") in banned and tok.eos_token_id not in banned
    assert tok.convert_tokens_to_ids("<think>") not in banned
    model = load_model(fam.path).eval()
    with torch.no_grad():  # make <|video_pad|> the likeliest next token, so that the suppression has work to do
        h = model.model(**out).last_hidden_state[0, -1]
        model.lm_head.weight[tok.convert_tokens_to_ids("<|video_pad|>")] = h * 20.0 / h.norm() ** 2
        assert int(model(**out).logits[0, -1].argmax()) in banned
        torch.manual_seed(0)
        gen = model.generate(**out, max_new_tokens=8, do_sample=True, suppress_tokens=banned,
                             eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    new = gen[0, out["input_ids"].shape[1]:].tolist()
    assert len(new) >= 1 and not set(new) & set(banned), tok.convert_ids_to_tokens(new)


# ---- the frame-resizing oracle per family

def test_kit_resizing_is_qwen_vl_utils_with_the_family_factor():
    "twgrpo.video's resize_hw with image_factor=resize_factor is qwen-vl-utils' smart_resize with the family's patch size."
    qvu = pytest.importorskip("qwen_vl_utils.vision_process")
    from twgrpo.video import VideoSettings, resize_hw
    rng = np.random.default_rng(0)
    sizes = [(320, 480), (240, 426), (1080, 1920), (57, 1000), (30, 40)] + [tuple(rng.integers(20, 1500, 2)) for _ in range(40)]
    for f in FAMILIES.values():
        assert f.temporal_patch_size == qvu.FRAME_FACTOR  # frame counts: smart_nframes is the same for all three
        F = f.resize_factor
        for lo, hi in [(128 * F * F, 196 * F * F), (4 * F * F, 768 * F * F)]:
            s = VideoSettings(min_pixels=lo, max_pixels=hi, image_factor=F)
            for h, w in sizes:
                assert resize_hw(int(h), int(w), s, 16) == qvu.smart_resize(int(h), int(w), factor=F, min_pixels=lo, max_pixels=hi), (f.name, h, w, lo, hi)


def test_a_decoded_clip_keeps_its_times(tmp_path):
    """A clip read by twgrpo.video with a start bound: Qwen2.5-VL's second_per_grid_ts is today's to_processor_inputs'
    value exactly, and Qwen3-VL's timestamps are the frames' times in the source video (as qwen-vl-utils' metadata)."""
    from twgrpo.video import VideoSettings, barcode_frames, read_video, to_processor_inputs, write_video
    path = write_video(tmp_path / "v.mp4", barcode_frames(100, 64, 96), fps=25.0)
    def read(f):  # resized for the family, as twgrpo.video will do it for each family
        return read_video(path, VideoSettings(fps=2.0, min_frames=4, max_frames=16, min_pixels=4 * 32 * 32,
                                              max_pixels=64 * 96, image_factor=f.resize_factor), start=1.0)
    c25, clip = read(QWEN2_5_VL), read(QWEN3_VL)
    assert clip.indices[0] == 25 and len(clip.frames) % 2 == 0 and clip.frames.shape[1:3] == (64, 96)
    p25, p3 = load_processor("tiny-qwen2.5-vl"), load_processor("tiny-qwen3-vl")
    text = p25.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    today = p25(text=[text], return_tensors="pt", **to_processor_inputs(c25))["second_per_grid_ts"]
    ours = p25(text=[text], return_tensors="pt", **processor_video_kwargs(QWEN2_5_VL, c25))["second_per_grid_ts"]
    assert ours.tolist() == today.tolist() and ours.tolist() == pytest.approx([2 / c25.fps])
    out = p3(text=[text], return_tensors="pt", **processor_video_kwargs(QWEN3_VL, clip))
    stamps = [float(t) for t in re.findall(r"<([\d.]+) seconds>", p3.tokenizer.decode(out["input_ids"][0]))]
    t = clip.timestamps
    assert stamps == [float(f"{(t[i] + t[i + 1]) / 2:.1f}") for i in range(0, len(t), 2)] and stamps[0] >= 1.0


def test_a_small_checkpoint_loads_without_progress_bars(capfd):
    "No 'Loading weights' bar over a tiny model's file (noise in `eval run` / `predict`); the bar setting is restored."
    from transformers.utils import logging as hf_logging
    hf_logging.enable_progress_bar()
    load_model("tiny-qwen3-vl")
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()

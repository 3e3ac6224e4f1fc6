"""The three token-weight evaluators agree (reference, chunked, online), inside a real `generate()` too; the benchmark runs.

The notebook `nbs/01_weighting.ipynb` teaches the formula and checks its properties; this file sweeps the cases a
notebook shows badly: many shapes and options, several generate() runs, the benchmark script as a subprocess.
"""
import subprocess, sys, warnings
from pathlib import Path

import pytest, torch
from transformers import LlamaConfig, LlamaForCausalLM, SuppressTokensLogitsProcessor
from transformers.utils import logging as hf_logging

from twgrpo.weighting import (SCHEMES, OnlineTokenWeights, OnlineWeightsProcessor, chunked_token_weights,
                              completion_mask, token_weights)

ROOT = Path(__file__).resolve().parents[1]
hf_logging.set_verbosity_error()

def assert_rel(a, b, rtol=1e-5):
    "Relative agreement; padding is exactly 0 in both."
    torch.testing.assert_close(a, b, rtol=rtol, atol=1e-7)

def random_case(seed, G=4, groups=3, L=19, H=24, V=257, bias=True):
    "Hidden states, head, and unequal lengths; the last group ends long before the batch's padded length."
    g = torch.Generator().manual_seed(seed)
    B = G * groups
    h = torch.randn(B, L, H, generator=g)
    W = torch.randn(V, H, generator=g) * 3 / H ** 0.5
    b = torch.randn(V, generator=g) if bias else None
    lengths = torch.randint(1, L + 1, (B,), generator=g)
    lengths[-G:] = torch.randint(1, L // 3, (G,), generator=g)
    mask = (torch.arange(L) < lengths[:, None]).long()
    ids = torch.randint(0, 3, (B, L), generator=g)
    return h, W, b, mask, ids

def logits_of(h, W, b): return h @ W.T + (0 if b is None else b)

@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("temperature,chunk_size,bias,G", [(1.0, 16, False, 4), (0.7, 5, True, 4), (1.3, 1, True, 2), (1.0, 64, True, 1)])
def test_three_evaluators_agree(scheme, temperature, chunk_size, bias, G):
    h, W, b, mask, ids = random_case(list(SCHEMES).index(scheme) * 100 + chunk_size, G=G, bias=bias)
    logits = logits_of(h, W, b)
    ref = token_weights(torch.log_softmax(logits / temperature, -1), mask, G, scheme=scheme, token_ids=ids)
    chunked = chunked_token_weights(h, W, mask, G, scheme=scheme, chunk_size=chunk_size, temperature=temperature,
                                    lm_head_bias=b, token_ids=ids)
    online = OnlineTokenWeights(G, scheme=scheme, temperature=temperature)
    for t in range(mask.shape[1]): online.update(logits[:, t], mask[:, t].bool())
    assert_rel(chunked, ref)
    assert_rel(online.weights(token_ids=ids), ref)
    assert_rel(online.weights(mask, token_ids=ids), ref)
    on = ref[mask.bool()]
    assert ((on >= 1 - 1e-6) & (on <= 1.7 + 1e-6)).all() and (ref[~mask.bool()] == 0).all()

def test_positions_where_a_whole_group_is_padding_are_left_out():
    h, W, b, mask, _ = random_case(1)
    lp = torch.log_softmax(logits_of(h, W, b), -1)
    n = int(mask[-4:].sum(1).max())                    # the last group's longest member
    alone = token_weights(lp[-4:, :n], mask[-4:, :n], 4)   # as the reference sees it: one group, padded to n
    assert_rel(token_weights(lp, mask, 4)[-4:, :n], alone)
    assert alone.max() == pytest.approx(1.7)

@pytest.mark.parametrize("scheme", ["faithful", "kl", "policy_entropy"])
def test_with_grad_matches_reference_gradients(scheme):
    h, W, b, mask, _ = random_case(2, L=11, V=101)
    h, W, b = h.requires_grad_(), W.requires_grad_(), b.requires_grad_()
    R = torch.randn(mask.shape)
    ref = token_weights(torch.log_softmax(logits_of(h, W, b) / 0.8, -1), mask, 4, scheme=scheme)
    g_ref = torch.autograd.grad((ref * R).sum(), [h, W, b])
    ck = chunked_token_weights(h, W, mask, 4, scheme=scheme, chunk_size=3, temperature=0.8, lm_head_bias=b, with_grad=True)
    g_ck = torch.autograd.grad((ck * R).sum(), [h, W, b])
    assert_rel(ck, ref)
    for a, e in zip(g_ck, g_ref): torch.testing.assert_close(a, e, rtol=1e-4, atol=1e-5 * e.abs().max().item())

def test_incomplete_groups_give_ones_with_a_warning():
    h, W, b, mask, _ = random_case(3)
    with pytest.warns(UserWarning, match="not a whole number of groups"):
        w = token_weights(torch.log_softmax(logits_of(h, W, b), -1)[:5], mask[:5], 4)
    assert (w == 1).all() and w.shape == (5, mask.shape[1])
    with pytest.warns(UserWarning): assert (chunked_token_weights(h[:5], W, mask[:5], 4) == 1).all()
    acc = OnlineTokenWeights(4)
    for t in range(3): acc.update(torch.randn(5, 7), torch.ones(5, dtype=torch.bool))
    with pytest.warns(UserWarning): assert (acc.weights() == 1).all()

def test_bfloat16_head_runs_and_is_close():
    h, W, b, mask, _ = random_case(4)
    ref = token_weights(torch.log_softmax(logits_of(h, W, b), -1), mask, 4)
    w = chunked_token_weights(h.bfloat16(), W.bfloat16(), mask, 4, lm_head_bias=b.bfloat16())
    assert w.dtype == torch.float32 and (w - ref).abs().max() < 0.05

def test_bad_input_is_named():
    h, W, b, mask, ids = random_case(5)
    lp = torch.log_softmax(logits_of(h, W, b), -1)
    with pytest.raises(ValueError, match="unknown scheme"): token_weights(lp, mask, 4, scheme="entropy")
    with pytest.raises(ValueError, match="needs token_ids"): chunked_token_weights(h, W, mask, 4, scheme="sampled_entropy")
    with pytest.raises(ValueError, match="logprobs must be"): token_weights(lp[:, :-1], mask, 4)
    with pytest.raises(ValueError, match="hidden_states must be"): chunked_token_weights(h[:, :-1], W, mask, 4)
    with pytest.raises(ValueError, match="num_generations"): token_weights(lp, mask, 0)
    with pytest.raises(ValueError, match="no step"): OnlineTokenWeights(4).weights()

# --- a real generate() with the processor attached ---------------------------------------------------------------

def tiny_llama(vocab=16, seed=0):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, initializer_range=0.3, tie_word_embeddings=False,
                      bos_token_id=1, eos_token_id=2, pad_token_id=0)
    return LlamaForCausalLM(cfg).eval()

def generate_and_recompute(model, processor, G=4, temperature=1.0, max_new_tokens=16, seed=0, eos=2, **kw):
    prompts = torch.randint(3, model.config.vocab_size, (2, 5), generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    out = model.generate(prompts, attention_mask=torch.ones_like(prompts), do_sample=True, temperature=temperature,
                         top_k=0, max_new_tokens=max_new_tokens, num_return_sequences=G, pad_token_id=0,
                         eos_token_id=eos, logits_processor=[processor], **kw)
    P = prompts.shape[1]
    mask = completion_mask(out[:, P:], eos)
    with torch.no_grad(): fwd = model(out, output_hidden_states=True)
    logits, hidden = fwd.logits[:, P - 1:-1] / temperature, fwd.hidden_states[-1][:, P - 1:-1]
    return out[:, P:], mask, logits, hidden

@pytest.mark.parametrize("scheme", ["faithful", "kl", "policy_entropy"])
def test_online_processor_in_generate_matches_recomputation(scheme):
    model = tiny_llama()
    acc = OnlineTokenWeights(4, scheme=scheme)
    ids, mask, logits, hidden = generate_and_recompute(model, OnlineWeightsProcessor(acc, eos_token_id=2))
    lengths = mask.sum(1)
    assert lengths.min() < lengths.max(), "the case needs members of unequal length"
    assert acc.steps == mask.shape[1]
    ref = token_weights(torch.log_softmax(logits, -1), mask, 4, scheme=scheme)
    assert_rel(acc.weights(), ref)
    assert_rel(chunked_token_weights(hidden, model.lm_head.weight, mask, 4, scheme=scheme, chunk_size=4), ref)

def test_processor_generation_that_stops_early_with_eos_list_and_reuse():
    model = tiny_llama(vocab=8, seed=1)
    acc = OnlineTokenWeights(4)
    proc = OnlineWeightsProcessor(acc, eos_token_id=[2, 5], pad_token_id=0)
    first = generate_and_recompute(model, proc, max_new_tokens=64, seed=1, eos=[2, 5])
    w_first = acc.weights()
    ids, mask, logits, _ = generate_and_recompute(model, proc, max_new_tokens=64, seed=3, eos=[2, 5])  # same processor again
    assert mask.shape[1] < 64 and mask[:, -1].any(), "every row ended before max_new_tokens"
    assert acc.steps == mask.shape[1]
    assert_rel(acc.weights(), token_weights(torch.log_softmax(logits, -1), mask, 4))
    assert_rel(w_first, token_weights(torch.log_softmax(first[2], -1), first[1], 4))

def test_processor_with_temperature():
    model = tiny_llama(seed=2)
    acc = OnlineTokenWeights(4, temperature=0.7)
    _, mask, logits, hidden = generate_and_recompute(model, OnlineWeightsProcessor(acc, 2), temperature=0.7, seed=2)
    ref = token_weights(torch.log_softmax(logits, -1), mask, 4)   # logits already divided by 0.7
    assert_rel(acc.weights(), ref)
    assert_rel(chunked_token_weights(hidden, model.lm_head.weight, mask, 4, temperature=0.7), ref)

def test_processor_refuses_masked_scores_and_suppression_after_it_works():
    model = tiny_llama()
    acc = OnlineTokenWeights(4)
    with pytest.raises(ValueError, match="after this one"):
        generate_and_recompute(model, OnlineWeightsProcessor(acc, 2), suppress_tokens=[7])
    proc = OnlineWeightsProcessor(acc, 2)
    prompts = torch.randint(3, 16, (2, 5))
    out = model.generate(prompts, attention_mask=torch.ones_like(prompts), do_sample=True, max_new_tokens=12,
                         num_return_sequences=4, pad_token_id=0, eos_token_id=2,
                         logits_processor=[proc, SuppressTokensLogitsProcessor([7])])
    assert not (out[:, 5:] == 7).any() and acc.steps == out.shape[1] - 5

def test_processor_returns_scores_unchanged():
    acc = OnlineTokenWeights(2)
    proc = OnlineWeightsProcessor(acc, 2)
    scores = torch.randn(4, 9)
    assert proc(torch.ones(4, 3, dtype=torch.long), scores) is scores
    proc(torch.tensor([[1, 1, 1, 2], [1, 1, 1, 3], [1, 1, 1, 3], [1, 1, 1, 3]]), scores)
    assert acc.active[0].all() and acc.active[1].tolist() == [False, True, True, True]

def test_benchmark_script_runs_small():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "weights.py"), "--L", "24", "--V", "3000", "--H", "64"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(l.startswith("materialised") for l in lines) and any(l.startswith("chunked") for l in lines)
    assert any(l.startswith("online") for l in lines)

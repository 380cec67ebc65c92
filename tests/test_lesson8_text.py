"""Lesson 8, text: the oracle and the grammar data, the token networks, and the comparison's measures."""
from __future__ import annotations

import math
import random

import pytest
import torch

from gancourse.data.sequences import (
    GRAMMAR_LENGTH,
    decode,
    encode,
    grammar_strings,
    make_oracle,
    oracle_sequences,
    parses,
    random_expression,
)
from gancourse.experiments.core import verdict
from gancourse.experiments.text import (
    TEXT_SETUP,
    TextResult,
    curve_gap,
    distinct_ngrams,
    oracle_task,
    reinforce_loss,
    run_text,
    score_grammar,
    temperature_curve,
    train_mle,
)
from gancourse.models.sequence import SequenceCritic, TokenLSTM, gumbel_softmax, one_hot

TINY = TEXT_SETUP.replace(mle_steps=2, steps=2, batch_size=16, n_train=64, n_test=16, samples=40)


# --- data ------------------------------------------------------------------------------------------------------

def test_the_oracle_is_fixed_by_its_seed_and_its_nll_is_its_entropy_on_its_own_samples():
    oracle = make_oracle(0)
    assert all(torch.equal(a, b) for a, b in zip(oracle.parameters(), make_oracle(0).parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(oracle.parameters(), make_oracle(1).parameters()))
    x = oracle_sequences(oracle, 4000, seed=5)
    # the mean NLL of its own samples estimates the entropy rate: between 0 and log 32, and not near either
    entropy = float(oracle.nll(x).mean())
    assert 1.0 < entropy < 0.8 * math.log(32)
    # a uniform sequence is much less likely than the oracle's own
    uniform = torch.randint(0, 32, (4000, 16), generator=torch.Generator().manual_seed(0))
    assert float(oracle.nll(uniform).mean()) > entropy + 1.0


def test_the_oracle_nll_is_the_chain_rule_by_hand():
    oracle = make_oracle(3, vocab=5, length=4, embed=3, hidden=4)
    x = oracle_sequences(oracle, 3, seed=0)
    logits = oracle.logits(x)
    by_hand = [-sum(torch.log_softmax(logits[i, t], -1)[x[i, t]] for t in range(4)) / 4 for i in range(3)]
    assert torch.allclose(oracle.nll(x), torch.stack(by_hand))


def test_sampling_draws_from_the_models_own_probabilities():
    # a 1-step model: the token frequencies of many samples match softmax(bias)
    g = TokenLSTM(vocab=3, length=1, embed=2, hidden=2)
    with torch.no_grad():
        g.out.weight.zero_()
        g.out.bias.copy_(torch.log(torch.tensor([0.5, 0.3, 0.2])))
    x, logp = g.sample(20000, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(x[:, 0], minlength=3).float() / 20000
    assert torch.allclose(freq, torch.tensor([0.5, 0.3, 0.2]), atol=0.015)
    assert torch.allclose(logp[:, 0], torch.log(torch.tensor([0.5, 0.3, 0.2]))[x[:, 0]])
    # temperature 0.5 squares the probabilities (renormalised)
    x, _ = g.sample(20000, temperature=0.5, generator=torch.Generator().manual_seed(1))
    p = torch.tensor([0.25, 0.09, 0.04]) / 0.38
    assert torch.allclose(torch.bincount(x[:, 0], minlength=3).float() / 20000, p, atol=0.015)


def test_gumbel_softmax_argmax_is_a_sample_and_tau_sets_its_sharpness():
    probs = torch.tensor([0.5, 0.3, 0.2])
    y = gumbel_softmax(probs.log().repeat(30000, 1), 1.0, torch.Generator().manual_seed(0))
    assert torch.allclose(torch.bincount(y.argmax(-1), minlength=3).float() / 30000, probs, atol=0.015)
    cold = gumbel_softmax(probs.log().repeat(1000, 1), 0.01, torch.Generator().manual_seed(1))
    assert float(cold.max(-1).values.mean()) > 0.98
    hard = gumbel_softmax(probs.log().repeat(5, 1).requires_grad_(), 0.5, hard=True)
    assert torch.allclose(hard.detach(), one_hot(hard.detach().argmax(-1), 3)) and hard.requires_grad
    with pytest.raises(ValueError, match="tau"):
        gumbel_softmax(probs, 0.0)


def test_sampling_cuts_the_gradient_and_the_relaxation_passes_it():
    g, d = TokenLSTM(6, 5, 4, 8), SequenceCritic(6, 4, 8)
    tokens, _ = g.sample(4)
    weights = (g.out.weight, g.lstm.weight_hh_l0, g.embedding.weight)
    assert torch.autograd.grad(d(one_hot(tokens, 6)).sum(), weights, allow_unused=True) == (None, None, None)
    grads = torch.autograd.grad(d(g.relaxed(4, tau=0.5)).sum(), weights)
    assert all(float(grad.abs().sum()) > 0 for grad in grads)


def test_grammar_strings_parse_and_the_parser_rejects_broken_ones():
    strings = grammar_strings(500, seed=0)
    assert all(parses(s) and 0 < len(s) < GRAMMAR_LENGTH for s in strings)
    assert strings == grammar_strings(500, seed=0) and strings != grammar_strings(500, seed=1)
    for bad in ("", "1+", "+1", "(1", "1)", "()", "12", "1**2", "(1+2))", "1(2)"):
        assert not parses(bad), bad
    for good in ("1", "(1)", "((2))", "1+2*3", "(1-2)*(3+4)", "9*8*7-6"):
        assert parses(good), good
    rng = random.Random(4)
    assert all(parses(random_expression(rng)) for _ in range(200))


def test_encode_and_decode_round_trip_and_refuse_what_does_not_fit():
    strings = grammar_strings(50, seed=2)
    assert decode(encode(strings)) == strings
    with pytest.raises(ValueError, match="cannot encode"):
        encode(["1+2"], length=3)
    with pytest.raises(ValueError, match="cannot encode"):
        encode(["1/2"])


# --- measures --------------------------------------------------------------------------------------------------

def test_distinct_ngrams_by_hand():
    x = torch.tensor([[1, 2, 1, 2], [1, 2, 1, 2]])
    # 2-grams: (1,2) (2,1) (1,2) twice over: 2 distinct of 6
    assert distinct_ngrams(x, 2) == pytest.approx(2 / 6)
    assert distinct_ngrams(torch.arange(12).view(3, 4), 4) == 1.0
    with pytest.raises(ValueError, match="n must be"):
        distinct_ngrams(x, 5)


def test_reinforce_loss_gradient_is_advantage_times_score():
    logp = torch.log(torch.tensor([[0.5, 0.4], [0.2, 0.9]])).requires_grad_()
    rewards = torch.tensor([1.0, 0.2], requires_grad=True)
    reinforce_loss(logp, rewards, 0.4).backward()
    # d L / d log p_it = -(R_i - b) / n
    assert torch.allclose(logp.grad, torch.tensor([[-0.3, -0.3], [0.1, 0.1]]))
    assert rewards.grad is None


def test_score_grammar_by_hand():
    got = score_grammar(["1+2", "1+2", "(3", "4", "5*6"], train={"4", "1+2"})
    assert got == {"parse": 0.8, "unique": 0.8, "novel": 0.2, "lengths": [3, 3, 2, 1, 3]}


def test_curve_gap_reads_the_quality_branch_and_averages_over_seeds():
    curve = [(0.5, 2.6, 1.6), (0.8, 2.2, 2.0), (1.0, 2.0, 2.4), (1.2, 2.1, 2.9)]  # NLL-test lowest at T = 1
    rs = [TextResult("MLE", "oracle", s, 1.0, curve=curve) for s in (0, 1)]
    rs += [TextResult("GAN", "oracle", 0, 1.0, nll_oracle=2.3, nll_test=2.1),  # branch at 2.1: 2.2 -> gap 0.1
           TextResult("GAN", "oracle", 1, 1.0, nll_oracle=2.0, nll_test=2.4)]  # branch at 2.4: 1.8 -> gap 0.2
    mean, se = curve_gap(rs, "GAN")
    assert mean == pytest.approx(0.15) and se == pytest.approx(0.05)
    assert verdict((mean, se), 0.0, higher_is_better=False) == "worse"  # 0.15 > 2 x 0.05 above the curve
    with pytest.raises(ValueError, match="unknown method"):
        curve_gap(rs, "SeqGAN")


def test_train_mle_refuses_tokens_outside_the_vocabulary():
    _, train, _ = oracle_task(32, 4)
    with pytest.raises(ValueError, match="vocab=8"):
        train_mle(train, 8, TINY)


def test_mle_learns_the_oracle_and_temperature_trades_quality_for_coverage():
    oracle, train, test = oracle_task(2000, 500)
    start = train_mle(train, 32, TEXT_SETUP.replace(mle_steps=0))
    trained = train_mle(train, 32, TEXT_SETUP.replace(mle_steps=150, batch_size=64))
    with torch.no_grad():
        assert float(trained.nll(test).mean()) < float(start.nll(test).mean()) - 0.3
        curve = temperature_curve(trained, oracle, test, 1000, (0.5, 0.8, 1.0, 1.4))
    quality = [q for _, _, q in curve]
    coverage = {t: c for t, c, _ in curve}
    assert quality == sorted(quality)  # colder sampling: sequences the oracle finds likelier
    assert coverage[1.0] < coverage[0.5] and coverage[1.0] < coverage[1.4]  # the data is best covered near T = 1


def test_a_seed_runs_every_method_and_the_mle_curve_spans_the_temperatures():
    results = run_text((0, TINY))
    assert [r.method for r in results] == ["MLE", "Gumbel GAN", "REINFORCE"]
    assert all(math.isfinite(r.nll_oracle) and math.isfinite(r.nll_test) and 0 < r.distinct4 <= 1 for r in results)
    curve = results[0].curve
    assert len(curve) >= 8 and [t for t, _, _ in curve] == sorted(t for t, _, _ in curve)
    assert run_text((0, TINY))[1].nll_oracle == results[1].nll_oracle  # deterministic in the seed

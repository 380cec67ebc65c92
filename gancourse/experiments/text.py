"""Lesson 8's text comparison: maximum likelihood against two ways of training a GAN on discrete tokens, on
SeqGAN's synthetic oracle (``data.sequences``) and on a grammar of arithmetic expressions.

Three generators, all the same ``TokenLSTM``:

    MLE          teacher forcing: minimise -sum_t log p(x_t | x_<t) over the data
    Gumbel GAN   D reads Gumbel-softmax vectors, y = softmax((logits + g) / tau), tau annealed geometrically
                 from ``tau_start`` to ``tau_end`` (Jang et al. 2017; Kusner & Hernandez-Lobato 2016)
    REINFORCE    G samples hard tokens; reward R = D(x) = sigma(logit); loss -(R - b) sum_t log p(x_t | x_<t)
                 with b a running mean of R (Williams 1992; SeqGAN, Yu et al. 2017, without rollouts)

Both GANs start from the MLE model (SeqGAN's protocol: pre-train G by maximum likelihood, then train it
adversarially), so each GAN is "MLE, then adversarial steps", and each seed's MLE model is their common start.

Scores (Caccia et al. 2020): quality = NLL-oracle, the oracle's mean per-token NLL of generated
sequences (lower: more like the oracle's likely sequences); coverage = NLL-test, the model's mean per-token NLL
of held-out oracle sequences (lower: the model gives the data's variety its due); diversity = distinct-4, the
share of distinct 4-grams among all 4-grams of the samples (Li et al. 2016). Sampling MLE at temperature T
traces a quality-coverage curve; ``curve_gap`` says how far a GAN's point lies above (worse) or below it.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ..config import TrainConfig
from ..data.sequences import (
    GRAMMAR_LENGTH,
    GRAMMAR_TOKENS,
    ORACLE_VOCAB,
    decode,
    encode,
    grammar_strings,
    make_oracle,
    oracle_sequences,
    parses,
)
from ..history import TrainingDiverged
from ..losses import discriminator_loss, generator_loss_nonsaturating
from ..models.sequence import SequenceCritic, TokenLSTM, one_hot
from .core import Result, Setup, known, mean_and_standard_error, summarise
from .workers import map_jobs

__all__ = ["TextSetup", "TEXT_SETUP", "GRAMMAR_SETUP", "TEXT_METHODS", "TEMPERATURES", "ORACLE_SEED",
           "TextResult", "oracle_task", "train_mle", "train_gumbel_gan", "train_reinforce", "reinforce_loss",
           "distinct_ngrams", "score_text", "temperature_curve", "run_text", "run_texts", "curve_gap",
           "text_summary", "GrammarScore", "score_grammar", "run_grammar"]

TEXT_METHODS = ("MLE", "Gumbel GAN", "REINFORCE")
TEMPERATURES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.3, 1.4)
"""MLE's sampling temperatures for the quality-coverage curve (Caccia et al. 2020 sweep T around 1)."""
ORACLE_SEED = 0
"""The oracle (the true distribution) every run shares; the data's seeds are 1 (train) and 2 (test)."""


@dataclass(frozen=True)
class TextSetup(Setup):
    """A ``Setup`` for token sequences: the config's ``lr_g``, ``lr_d``, betas, ``batch_size`` and ``steps`` (the
    adversarial steps; ``lr_g`` is the Gumbel GAN's, ``lr_policy`` REINFORCE's), plus the MLE pre-training
    (``mle_steps`` at ``lr_mle``), the Gumbel-softmax temperature
    schedule, the straight-through switch ``hard``, the data sizes and the networks' ``width`` (LSTM hidden size).

    Example:
        >>> TEXT_SETUP.replace(steps=5, mle_steps=7).mle_steps, TEXT_SETUP.replace(steps=5).steps
        (7, 5)
    """

    mle_steps: int = 2000
    lr_mle: float = 5e-3
    lr_policy: float = 1e-3
    tau_start: float = 1.0
    tau_end: float = 0.1
    hard: bool = False
    n_train: int = 10000
    n_test: int = 2000
    embed: int = 32

    def tau(self, step: int) -> float:
        """The Gumbel-softmax temperature at adversarial ``step`` (0-based): geometric from ``tau_start`` to
        ``tau_end`` over ``steps``.

        Example:
            >>> s = TEXT_SETUP.replace(steps=3, tau_start=1.0, tau_end=0.25)
            >>> [s.tau(i) for i in range(3)]
            [1.0, 0.5, 0.25]
        """
        fraction = step / max(self.steps - 1, 1)
        return self.tau_start * (self.tau_end / self.tau_start) ** fraction


TEXT_SETUP = TextSetup(TrainConfig(lr_g=3e-4, lr_d=1e-3, beta1=0.5, beta2=0.999, batch_size=64, steps=500),
                       model="lstm", width=32, data="oracle", samples=2000)
"""The oracle runs: 10,000 training sequences (SeqGAN's count), LSTMs of hidden size 32 (the oracle's), 2,000 MLE
steps at lr 5e-3, then 500 adversarial steps with Adam (0.5, 0.999), lr 3e-4 for the Gumbel GAN's G, 1e-3 for
REINFORCE's and for D, tau from 1 to 0.1; 2,000 samples scored. Chosen on seed 0 (lr_g 3e-4 against 1e-3,
REINFORCE's 1e-3 against 3e-3, soft against straight-through vectors)."""

GRAMMAR_SETUP = TEXT_SETUP.replace(data="grammar", n_train=5000, n_test=1000)
"""The grammar runs: the oracle runs' networks and budget on 5,000 expressions."""


@dataclass
class TextResult(Result):
    """One seed's scores of one method: NLL-oracle, NLL-test, distinct-4 at temperature 1; for MLE also
    ``curve``, its (temperature, NLL-test, NLL-oracle) points.

    Example:
        >>> TextResult("MLE", "oracle", 2, 1.0, nll_oracle=2.1, nll_test=2.0, distinct4=0.9).nll_test
        2.0
    """

    nll_oracle: float = math.nan
    nll_test: float = math.nan
    distinct4: float = math.nan
    curve: list[tuple[float, float, float]] = field(default_factory=list)


def oracle_task(n_train: int = 5000, n_test: int = 2000) -> tuple[TokenLSTM, torch.Tensor, torch.Tensor]:
    """(the oracle, ``n_train`` training sequences, ``n_test`` held-out sequences), the same on every call.

    Example:
        >>> oracle, train, test = oracle_task(10, 5)
        >>> train.shape, test.shape, torch.equal(train, oracle_task(10, 5)[1])
        (torch.Size([10, 16]), torch.Size([5, 16]), True)
    """
    oracle = make_oracle(ORACLE_SEED)
    return oracle, oracle_sequences(oracle, n_train, seed=1), oracle_sequences(oracle, n_test, seed=2)


def _check(step: int, name: str, value: torch.Tensor) -> None:
    if not torch.isfinite(value):
        raise TrainingDiverged(step, name, float(value))


def _batches(data: torch.Tensor, batch_size: int, generator: torch.Generator):
    while True:
        for index in torch.randperm(len(data), generator=generator).split(batch_size):
            if len(index) == batch_size:
                yield data[index]


def train_mle(data: torch.Tensor, vocab: int, setup: TextSetup = TEXT_SETUP, seed: int = 0) -> TokenLSTM:
    """A ``TokenLSTM`` over ``vocab`` tokens trained by teacher forcing for ``setup.mle_steps`` steps of Adam at
    ``setup.lr_mle``: minimise the mean per-token -log p(x_t | x_<t) of data batches (maximum likelihood).

    Example:
        >>> _, train, _ = oracle_task(64, 8)
        >>> g = train_mle(train, 32, TEXT_SETUP.replace(mle_steps=2, batch_size=32))
        >>> g.length, g.vocab
        (16, 32)
    """
    if int(data.max()) >= vocab:
        raise ValueError(f"the data hold token {int(data.max())}, outside a vocabulary of vocab={vocab}")
    torch.manual_seed(seed)
    G = TokenLSTM(vocab, data.shape[1], setup.embed, setup.width)
    opt = torch.optim.Adam(G.parameters(), lr=setup.lr_mle)
    batches = _batches(data, setup.batch_size, torch.Generator().manual_seed(seed))
    for step in range(setup.mle_steps):
        loss = G.nll(next(batches)).mean()
        _check(step, "loss_mle", loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return G


def _adversary(G: TokenLSTM, setup: TextSetup, seed: int):
    torch.manual_seed(seed + 1000)
    G = copy.deepcopy(G)
    D = SequenceCritic(G.vocab, setup.embed, 2 * setup.width)
    opt_g = torch.optim.Adam(G.parameters(), lr=setup.lr_g, betas=(setup.beta1, setup.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=setup.lr_d, betas=(setup.beta1, setup.beta2))
    return G, D, opt_g, opt_d


def _d_step(D, opt_d, real, fake, step):
    loss_d = discriminator_loss(D(real), D(fake.detach()))
    _check(step, "loss_d", loss_d)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()


def train_gumbel_gan(G: TokenLSTM, data: torch.Tensor, setup: TextSetup = TEXT_SETUP, seed: int = 0) -> TokenLSTM:
    """A copy of ``G`` trained ``setup.steps`` steps as a GAN through the Gumbel-softmax relaxation: D (a
    ``SequenceCritic``) tells one-hot data from G's relaxed vectors at temperature ``setup.tau(step)``, and G
    descends the non-saturating loss -log D(y) through them (straight-through one-hots when ``setup.hard``).

    Example:
        >>> _, train, _ = oracle_task(64, 8)
        >>> s = TEXT_SETUP.replace(mle_steps=1, steps=2, batch_size=32)
        >>> train_gumbel_gan(train_mle(train, 32, s), train, s).vocab
        32
    """
    G, D, opt_g, opt_d = _adversary(G, setup, seed)
    batches = _batches(data, setup.batch_size, torch.Generator().manual_seed(seed))
    for step in range(setup.steps):
        tau = setup.tau(step)
        real = one_hot(next(batches), G.vocab)
        _d_step(D, opt_d, real, G.relaxed(setup.batch_size, tau, hard=setup.hard), step)
        loss_g = generator_loss_nonsaturating(D(G.relaxed(setup.batch_size, tau, hard=setup.hard)))
        _check(step, "loss_g", loss_g)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G


def reinforce_loss(log_probs: torch.Tensor, rewards: torch.Tensor, baseline: float) -> torch.Tensor:
    """REINFORCE with a baseline (Williams 1992; SeqGAN, Yu et al. 2017, with one reward per sequence):

        L = -mean_i (R_i - b) sum_t log p(x_it | x_i,<t)

    ``log_probs`` (n, length) of the drawn tokens, ``rewards`` (n,) treated as constants. Its gradient is an
    unbiased estimate of -grad E[R]; the baseline b leaves it unbiased and lowers its variance.

    Example:
        >>> logp = torch.log(torch.tensor([[0.5, 0.5], [0.25, 1.0]]))
        >>> round(float(reinforce_loss(logp, torch.tensor([1.0, 0.0]), 0.0)), 4)  # -(1 log .25 + 0 log .25) / 2
        0.6931
    """
    advantage = (rewards.detach() - baseline)
    return -(advantage * log_probs.sum(1)).mean()


def train_reinforce(G: TokenLSTM, data: torch.Tensor, setup: TextSetup = TEXT_SETUP, seed: int = 0) -> TokenLSTM:
    """A copy of ``G`` trained ``setup.steps`` steps by policy gradient at ``setup.lr_policy``: D tells data from
    G's hard samples, G's reward is D's probability sigma(D(x)) of each whole sequence, the baseline a running
    mean of the rewards (decay 0.9); ``reinforce_loss``. SeqGAN's Monte-Carlo rollouts (a reward per token)
    are left out.

    Example:
        >>> _, train, _ = oracle_task(64, 8)
        >>> s = TEXT_SETUP.replace(mle_steps=1, steps=2, batch_size=32)
        >>> train_reinforce(train_mle(train, 32, s), train, s).vocab
        32
    """
    G, D, opt_g, opt_d = _adversary(G, setup.replace(lr_g=setup.lr_policy), seed)
    batches = _batches(data, setup.batch_size, torch.Generator().manual_seed(seed))
    baseline = None
    for step in range(setup.steps):
        real = one_hot(next(batches), G.vocab)
        tokens, log_probs = G.sample(setup.batch_size)
        _d_step(D, opt_d, real, one_hot(tokens, G.vocab), step)
        rewards = torch.sigmoid(D(one_hot(tokens, G.vocab))).detach()
        baseline = float(rewards.mean()) if baseline is None else 0.9 * baseline + 0.1 * float(rewards.mean())
        loss_g = reinforce_loss(log_probs, rewards, baseline)
        _check(step, "loss_g", loss_g)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G


def distinct_ngrams(tokens: torch.Tensor, n: int = 4) -> float:
    """distinct-n (Li et al. 2016): the number of distinct n-grams among the sequences' n-grams over their count;
    1 when no n-gram repeats, small when the samples repeat each other.

    Example:
        >>> distinct_ngrams(torch.tensor([[1, 2, 3], [1, 2, 4]]), n=2)  # (1,2) (2,3) (1,2) (2,4): 3 of 4
        0.75
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= tokens.shape[1]:
        raise ValueError(f"n must be an integer in 1..{tokens.shape[1]} (the sequence length), got n={n!r}")
    grams = tokens.unfold(1, n, 1).reshape(-1, n)
    return len(torch.unique(grams, dim=0)) / len(grams)


@torch.no_grad()
def score_text(G: TokenLSTM, oracle: TokenLSTM, test: torch.Tensor, samples: int, temperature: float = 1.0,
               seed: int = 0) -> tuple[float, float, float]:
    """(NLL-oracle, NLL-test, distinct-4) of ``G`` sampled at ``temperature``: ``samples`` sequences scored by the
    oracle, the held-out ``test`` sequences scored by G (at the same temperature), in nats per token.

    Example:
        >>> oracle, train, test = oracle_task(8, 8)
        >>> q, c, d = score_text(oracle, oracle, test, samples=500)
        >>> abs(q - c) < 0.3  # the oracle against itself: both are its entropy, about 1.9
        True
    """
    x, _ = G.sample(samples, temperature, generator=torch.Generator().manual_seed(seed))
    return float(oracle.nll(x).mean()), float(G.nll(test, temperature).mean()), distinct_ngrams(x, 4)


def temperature_curve(G: TokenLSTM, oracle: TokenLSTM, test: torch.Tensor, samples: int,
                      temperatures: Sequence[float] = TEMPERATURES) -> list[tuple[float, float, float]]:
    """MLE's quality-coverage curve: (T, NLL-test, NLL-oracle) at each sampling temperature T.

    Example:
        >>> oracle, _, test = oracle_task(8, 8)
        >>> [round(t, 1) for t, _, _ in temperature_curve(oracle, oracle, test, 50, (0.5, 1.0))]
        [0.5, 1.0]
    """
    return [(t, *score_text(G, oracle, test, samples, t)[1::-1]) for t in temperatures]


def run_text(job: tuple[int, TextSetup]) -> list[TextResult]:
    """One seed (a job ``(seed, setup)``): MLE, then each GAN from it; every result scored at temperature 1, and
    the MLE result with its temperature curve. Module-level, so that ``map_jobs`` can run seeds side by side.

    Example:
        >>> s = TEXT_SETUP.replace(mle_steps=1, steps=1, batch_size=32, n_train=64, n_test=16, samples=50)
        >>> [r.method for r in run_text((0, s))]
        ['MLE', 'Gumbel GAN', 'REINFORCE']
    """
    import time

    seed, setup = job
    oracle, train, test = oracle_task(setup.n_train, setup.n_test)
    results = []
    start = time.perf_counter()
    mle = train_mle(train, ORACLE_VOCAB, setup, seed)
    pretrain = time.perf_counter() - start
    for method, train_fn in (("MLE", None), ("Gumbel GAN", train_gumbel_gan), ("REINFORCE", train_reinforce)):
        start = time.perf_counter()
        G = mle if train_fn is None else train_fn(mle, train, setup, seed)
        seconds = pretrain + time.perf_counter() - start
        quality, coverage, distinct = score_text(G, oracle, test, setup.samples)
        curve = temperature_curve(G, oracle, test, setup.samples) if method == "MLE" else []
        results.append(TextResult(method, setup.data, seed, seconds, quality, coverage, distinct, curve))
    return results


def run_texts(seeds: Sequence[int], setup: TextSetup = TEXT_SETUP, *, workers: int = 2,
              device: str = "cpu") -> list[TextResult]:
    """``run_text`` for every seed (``workers`` seeds at a time on a CPU), results in seed order.

    Example:
        >>> s = TEXT_SETUP.replace(mle_steps=1, steps=1, batch_size=32, n_train=64, n_test=16, samples=50)
        >>> len(run_texts([0], s, workers=1))
        3
    """
    jobs = [(seed, setup) for seed in seeds]
    return [r for results in map_jobs(run_text, jobs, workers=workers, device=torch.device(device))
            for r in results]


def curve_gap(results: Sequence[TextResult], method: str) -> tuple[float, float]:
    """Mean +- SE over seeds of (the method's NLL-oracle) - (its seed's MLE curve's NLL-oracle at the method's
    NLL-test, linear between the two nearest temperatures). Positive: the GAN lies above the curve, i.e. MLE at
    some temperature has better quality at equal coverage (Caccia et al. 2020). The curve is its quality branch:
    the temperatures up to the one with the lowest NLL-test (beyond it, hotter sampling loses both). A point
    outside the branch's NLL-test range is compared with its nearest end.

    Example:
        >>> mle = TextResult("MLE", "oracle", 0, 1.0, curve=[(0.8, 2.0, 1.5), (1.0, 1.8, 1.9)])
        >>> gan = TextResult("GAN", "oracle", 0, 1.0, nll_oracle=1.9, nll_test=1.9)
        >>> round(curve_gap([mle, gan], "GAN")[0], 6)  # the curve at NLL-test 1.9 is at NLL-oracle 1.7
        0.2
    """
    known([method], {r.method: r for r in results}, "method")
    curves = {r.seed: _quality_branch(r.curve) for r in results if r.method == "MLE"}
    gaps = []
    for r in results:
        if r.method != method:
            continue
        xs, ys = [p[1] for p in curves[r.seed]], [p[2] for p in curves[r.seed]]
        x = min(max(r.nll_test, xs[0]), xs[-1])
        i = max(j for j in range(len(xs)) if xs[j] <= x)
        j = min(i + 1, len(xs) - 1)
        y = ys[i] if j == i or xs[j] == xs[i] else ys[i] + (ys[j] - ys[i]) * (x - xs[i]) / (xs[j] - xs[i])
        gaps.append(r.nll_oracle - y)
    return mean_and_standard_error(gaps)


def _quality_branch(curve: Sequence[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    by_temperature = sorted(curve)
    best = min(range(len(by_temperature)), key=lambda i: by_temperature[i][1])
    return sorted(by_temperature[: best + 1], key=lambda p: p[1])


def text_summary(results: Sequence[TextResult]) -> dict:
    """``{method: {"NLL-oracle", "NLL-test", "distinct-4", "seconds": (mean, se)}}`` over seeds.

    Example:
        >>> rs = [TextResult("MLE", "oracle", s, 1.0, 2.0 + s, 2.0, 0.9) for s in (0, 1)]
        >>> text_summary(rs)["MLE"]["NLL-oracle"]
        (2.5, 0.5)
    """
    return summarise(results, {"NLL-oracle": lambda r: r.nll_oracle, "NLL-test": lambda r: r.nll_test,
                               "distinct-4": lambda r: r.distinct4, "seconds": lambda r: r.seconds})


# --- the grammar ---------------------------------------------------------------------------------------------


@dataclass
class GrammarScore(Result):
    """One grammar run's scores: the share of samples that parse, the share of distinct samples, the share of
    parsing samples not in the training set, and the samples' lengths (up to the end token).

    Example:
        >>> GrammarScore("MLE", "grammar", 0, 1.0, parse=0.9, unique=0.5, novel=0.3, lengths=[3, 5]).parse
        0.9
    """

    parse: float = math.nan
    unique: float = math.nan
    novel: float = math.nan
    lengths: list[int] = field(default_factory=list)


def score_grammar(strings: Sequence[str], train: set[str]) -> dict[str, object]:
    """Shares that parse, that are distinct, and that parse and are not in ``train``; and their lengths.

    Example:
        >>> score_grammar(["1+2", "1+2", "(3", "4"], train={"4"})
        {'parse': 0.75, 'unique': 0.75, 'novel': 0.5, 'lengths': [3, 3, 2, 1]}
    """
    n = len(strings)
    ok = [s for s in strings if parses(s)]
    return {"parse": len(ok) / n, "unique": len(set(strings)) / n, "novel": sum(s not in train for s in ok) / n,
            "lengths": [len(s) for s in strings]}


def run_grammar(job: tuple[int, TextSetup]) -> list[GrammarScore]:
    """One seed (a job ``(seed, setup)``) on the grammar: MLE and the Gumbel GAN from it, scored on
    ``setup.samples`` strings each; a data row first (fresh strings from the grammar, not the training set).

    Example:
        >>> s = GRAMMAR_SETUP.replace(mle_steps=1, steps=1, batch_size=32, n_train=64, samples=20)
        >>> [r.method for r in run_grammar((0, s))]
        ['data', 'MLE', 'Gumbel GAN']
    """
    import time

    seed, setup = job
    train_strings = grammar_strings(setup.n_train, seed=1)
    train, seen = encode(train_strings, GRAMMAR_LENGTH), set(train_strings)
    fresh = grammar_strings(setup.samples, seed=3)
    results = [GrammarScore("data", setup.data, seed, 0.0, **score_grammar(fresh, seen))]
    start = time.perf_counter()
    mle = train_mle(train, len(GRAMMAR_TOKENS), setup, seed)
    pretrain = time.perf_counter() - start
    for method, G in (("MLE", mle), ("Gumbel GAN", None)):
        start = time.perf_counter()
        G = G if G is not None else train_gumbel_gan(mle, train, setup, seed)
        seconds = pretrain + time.perf_counter() - start
        with torch.no_grad():
            x, _ = G.sample(setup.samples, generator=torch.Generator().manual_seed(seed))
        results.append(GrammarScore(method, setup.data, seed, seconds, **score_grammar(decode(x), seen)))
    return results

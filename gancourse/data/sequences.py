"""Token sequences for lesson 8, generated on the spot from a seed (no download, no cache: both take well under a
second).

- **The synthetic oracle** (SeqGAN's protocol, Yu et al. 2017, scaled down): a randomly initialised
  LSTM, frozen, *is* the true distribution. Its samples are the data; its likelihood scores any generated
  sequence (NLL-oracle, the quality measure), which real text never allows. SeqGAN's oracle draws its weights
  from N(0, 1) with vocabulary 5,000, length 20, embedding and hidden size 32; ours has ``ORACLE_VOCAB`` = 32
  tokens, ``ORACLE_LENGTH`` = 16 and the same N(0, 1) weights.
- **A grammar**: arithmetic expressions from a small context-free grammar (Kusner & Hernandez-Lobato 2016 train
  a Gumbel-softmax GAN on such strings)::

      E -> T | E + T | E - T        T -> F | T * F        F -> digit | ( E )

  padded with ``.`` to ``GRAMMAR_LENGTH`` tokens. ``parses`` is a recursive-descent parser of the same grammar,
  so the share of generated strings that parse is a correctness measure no image GAN has.
"""
from __future__ import annotations

import random

import torch
from torch import nn

from ..models.sequence import TokenLSTM

__all__ = ["ORACLE_VOCAB", "ORACLE_LENGTH", "make_oracle", "oracle_sequences",
           "GRAMMAR_TOKENS", "GRAMMAR_LENGTH", "random_expression", "grammar_strings", "encode", "decode",
           "parses"]

ORACLE_VOCAB = 32
ORACLE_LENGTH = 16


def make_oracle(seed: int = 0, vocab: int = ORACLE_VOCAB, length: int = ORACLE_LENGTH, embed: int = 32,
                hidden: int = 32) -> TokenLSTM:
    """The frozen random LSTM that defines the true distribution: every weight N(0, 1) (SeqGAN's oracle); the
    same ``seed`` gives the same oracle. With 32 tokens its per-token entropy is about 1.9 nats (uniform: 3.47).

    Example:
        >>> o = make_oracle(seed=0)
        >>> torch.equal(o.out.weight, make_oracle(seed=0).out.weight), o.out.weight.requires_grad
        (True, False)
    """
    generator = torch.Generator().manual_seed(seed)
    oracle = TokenLSTM(vocab, length, embed, hidden)
    with torch.no_grad():
        for p in oracle.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    return oracle.requires_grad_(False).eval()


@torch.no_grad()
def oracle_sequences(oracle: nn.Module, n: int, seed: int) -> torch.Tensor:
    """``n`` sequences (n, length) drawn from the oracle with their own ``seed`` (the data, train or test).

    Example:
        >>> x = oracle_sequences(make_oracle(0), 3, seed=1)
        >>> x.shape, torch.equal(x, oracle_sequences(make_oracle(0), 3, seed=1))
        (torch.Size([3, 16]), True)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got n={n!r}")
    return oracle.sample(n, generator=torch.Generator().manual_seed(seed))[0]


# --- the grammar ---------------------------------------------------------------------------------------------

GRAMMAR_TOKENS = "0123456789+-*()."
"""The grammar's vocabulary: ten digits, three operators, two brackets and ``.``, the end / padding token."""
GRAMMAR_LENGTH = 16
_END = GRAMMAR_TOKENS.index(".")


def random_expression(rng: random.Random, depth: int = 0, max_depth: int = 3) -> str:
    """One expression drawn from the grammar top-down: E has 1-3 terms (2 most often) joined by + or -, T 1-2
    factors joined by *, F is a digit (always at ``max_depth``, else with probability 0.75) or a bracketed E.

    Example:
        >>> s = random_expression(random.Random(0)); parses(s)
        True
    """
    terms = [_term(rng, depth, max_depth) for _ in range(rng.choice((1, 2, 2, 3)))]
    text = terms[0]
    for term in terms[1:]:
        text += rng.choice("+-") + term
    return text


def _term(rng: random.Random, depth: int, max_depth: int) -> str:
    factors = [_factor(rng, depth, max_depth) for _ in range(rng.choice((1, 1, 2)))]
    return "*".join(factors)


def _factor(rng: random.Random, depth: int, max_depth: int) -> str:
    if depth >= max_depth or rng.random() < 0.75:
        return rng.choice("0123456789")
    return "(" + random_expression(rng, depth + 1, max_depth) + ")"


def grammar_strings(n: int, seed: int, length: int = GRAMMAR_LENGTH) -> list[str]:
    """``n`` expressions of at most ``length - 1`` characters (longer draws are redrawn), deterministic in ``seed``.

    Example:
        >>> grammar_strings(3, seed=0) == grammar_strings(3, seed=0), all(parses(s) for s in grammar_strings(50, 1))
        (True, True)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got n={n!r}")
    rng, out = random.Random(seed), []
    while len(out) < n:
        s = random_expression(rng)
        if len(s) < length:
            out.append(s)
    return out


def encode(strings: list[str], length: int = GRAMMAR_LENGTH) -> torch.Tensor:
    """Token indices (n, length), each string followed by ``.`` up to ``length``.

    Example:
        >>> encode(["1+2"], length=5).tolist()
        [[1, 10, 2, 15, 15]]
    """
    bad = [s for s in strings if len(s) >= length or any(c not in GRAMMAR_TOKENS[:-1] for c in s)]
    if bad:
        raise ValueError(f"cannot encode {bad[:3]}: strings need fewer than {length} characters from "
                         f"{GRAMMAR_TOKENS[:-1]!r}")
    return torch.tensor([[GRAMMAR_TOKENS.index(c) for c in s] + [_END] * (length - len(s)) for s in strings])


def decode(tokens: torch.Tensor) -> list[str]:
    """Each row of token indices as a string, cut at its first ``.`` (what follows the end token is ignored).

    Example:
        >>> decode(torch.tensor([[1, 10, 2, 15, 3]]))
        ['1+2']
    """
    return ["".join(GRAMMAR_TOKENS[int(t)] for t in row).split(".")[0] for row in tokens]


def parses(text: str) -> bool:
    """True when ``text`` is an expression of the grammar (recursive descent; the empty string is not).

    Example:
        >>> parses("(1+2)*3"), parses("1+*2"), parses("(1"), parses("")
        (True, False, False, False)
    """
    end = _expression(text, 0)
    return end == len(text)


def _expression(s: str, i: int) -> int:
    # returns the index after the longest E starting at i, or -1
    i = _term_end(s, i)
    while i > 0 and i < len(s) and s[i] in "+-":
        i = _term_end(s, i + 1)
    return i


def _term_end(s: str, i: int) -> int:
    i = _factor_end(s, i)
    while i > 0 and i < len(s) and s[i] == "*":
        i = _factor_end(s, i + 1)
    return i


def _factor_end(s: str, i: int) -> int:
    if i < 0 or i >= len(s):
        return -1
    if s[i].isdigit():
        return i + 1
    if s[i] == "(":
        j = _expression(s, i + 1)
        return j + 1 if 0 < j < len(s) and s[j] == ")" else -1
    return -1

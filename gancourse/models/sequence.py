"""Networks for token sequences (lesson 8): an autoregressive LSTM that is the generator (and, frozen, the
synthetic oracle), and a convolutional discriminator over one-hot sequences.

``TokenLSTM`` reads a start token and then its own previous token, and at each of ``length`` steps gives logits
over ``vocab`` tokens. It offers the three ways lesson 8 draws from it:

- ``sample``: hard tokens with their log-probabilities (maximum likelihood's sampler, and REINFORCE's policy,
  Williams 1992; Yu et al. 2017, SeqGAN);
- ``relaxed``: Gumbel-softmax vectors y = softmax((logits + g) / tau) fed back as the next input through the
  embedding matrix, so that the whole sequence is a differentiable function of the weights (Jang, Gu & Poole
  2017; Kusner & Hernandez-Lobato 2016);
- ``logits`` with teacher forcing (the true previous token as input): the likelihood of given sequences.

``SequenceCritic`` takes (n, length, vocab) vectors, one-hot for data and soft for the relaxed generator:
a linear embedding, two 1-D convolutions over time and a max over positions, one logit per sequence (SeqGAN's
D is a CNN over the sequence too, Yu et al. 2017).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["TokenLSTM", "SequenceCritic", "gumbel_softmax", "one_hot"]


def gumbel_softmax(logits: torch.Tensor, tau: float, generator: torch.Generator | None = None,
                   hard: bool = False) -> torch.Tensor:
    """y = softmax((logits + g) / tau) with g = -log(-log u), u ~ U(0, 1) (Jang, Gu & Poole 2017).

    The argmax of logits + g is an exact sample of softmax(logits) (the Gumbel-max trick); the softmax at
    temperature tau is its smooth stand-in, one-hot as tau -> 0 and uniform as tau -> infinity. ``hard=True``
    returns the one-hot argmax in the forward pass with the soft y's gradient (the straight-through estimator,
    Jang et al. 2017).

    Example:
        >>> y = gumbel_softmax(torch.zeros(2, 3), tau=0.5, generator=torch.Generator().manual_seed(0))
        >>> y.shape, torch.allclose(y.sum(-1), torch.ones(2))
        (torch.Size([2, 3]), True)
    """
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got tau={tau!r}")
    u = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    g = -torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-7)))
    y = F.softmax((logits + g) / tau, dim=-1)
    if not hard:
        return y
    index = y.argmax(-1, keepdim=True)
    y_hard = torch.zeros_like(y).scatter_(-1, index, 1.0)
    return y_hard + y - y.detach()


def one_hot(tokens: torch.Tensor, vocab: int) -> torch.Tensor:
    """Float one-hot vectors (..., vocab) of integer ``tokens``: what the critic reads for real sequences.

    Example:
        >>> one_hot(torch.tensor([[2, 0]]), 3).tolist()
        [[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]]
    """
    return F.one_hot(tokens, vocab).float()


class TokenLSTM(nn.Module):
    """An autoregressive LSTM over ``vocab`` tokens for ``length`` steps; token index ``vocab`` is the start token.

    p(x) = prod_t softmax(W h_t)[x_t], h_t = LSTM(embed(x_{t-1}), h_{t-1}), x_0 = start.

    Example:
        >>> g = TokenLSTM(vocab=5, length=4, embed=3, hidden=6)
        >>> x, logp = g.sample(2, generator=torch.Generator().manual_seed(0))
        >>> x.shape, logp.shape, g.nll(x).shape
        (torch.Size([2, 4]), torch.Size([2, 4]), torch.Size([2]))
    """

    def __init__(self, vocab: int, length: int, embed: int = 32, hidden: int = 64):
        super().__init__()
        for name, value in (("vocab", vocab), ("length", length), ("embed", embed), ("hidden", hidden)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {name}={value!r}")
        self.vocab, self.length = vocab, length
        self.embedding = nn.Embedding(vocab + 1, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def _start(self, n: int) -> torch.Tensor:
        device = self.embedding.weight.device
        return self.embedding(torch.full((n, 1), self.vocab, dtype=torch.long, device=device))

    def logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (n, length, vocab) of each position given the true tokens before it.

        Example:
            >>> TokenLSTM(4, 3, 2, 2).logits(torch.zeros(5, 3, dtype=torch.long)).shape
            torch.Size([5, 3, 4])
        """
        inputs = torch.cat([self._start(len(tokens)), self.embedding(tokens[:, :-1])], dim=1)
        hidden, _ = self.lstm(inputs)
        return self.out(hidden)

    def nll(self, tokens: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """Mean per-token negative log-likelihood (nats) of each sequence, under softmax(logits / temperature).

        With the oracle as the model this is SeqGAN's NLL-oracle of generated sequences; with a trained model
        and held-out data it is Caccia et al.'s NLL-test.

        Example:
            >>> g = TokenLSTM(4, 3, 2, 2).requires_grad_(False)
            >>> _ = nn.init.zeros_(g.out.weight), nn.init.zeros_(g.out.bias)
            >>> round(float(g.nll(torch.zeros(1, 3, dtype=torch.long))), 4)  # uniform: log 4
            1.3863
        """
        logp = F.log_softmax(self.logits(tokens) / temperature, dim=-1)
        return -logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1).mean(1)

    def sample(self, n: int, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` sequences of hard tokens (n, length) and the log-probability of each drawn token (n, length),
        differentiable in the weights (REINFORCE's log pi). Sampling is from softmax(logits / temperature).

        Example:
            >>> x, logp = TokenLSTM(3, 5, 2, 2).sample(4, generator=torch.Generator().manual_seed(1))
            >>> bool((logp <= 0).all()), int(x.max()) < 3
            (True, True)
        """
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got temperature={temperature!r}")
        inp, state, tokens, logps = self._start(n), None, [], []
        for _ in range(self.length):
            hidden, state = self.lstm(inp, state)
            logp = F.log_softmax(self.out(hidden[:, 0]) / temperature, dim=-1)
            u = torch.rand(n, 1, generator=generator, device=logp.device)
            # inverse-CDF draw with our generator (torch.multinomial would need a generator on the same device)
            token = (logp.detach().exp().cumsum(-1) < u).sum(-1).clamp_max(self.vocab - 1)
            tokens.append(token)
            logps.append(logp.gather(-1, token[:, None])[:, 0])
            inp = self.embedding(token[:, None])
        return torch.stack(tokens, 1), torch.stack(logps, 1)

    def relaxed(self, n: int, tau: float, generator: torch.Generator | None = None,
                hard: bool = False) -> torch.Tensor:
        """``n`` sequences of Gumbel-softmax vectors (n, length, vocab) at temperature ``tau``; each step's y is
        the next input, embedded as y @ E (E the embedding matrix), so gradients reach every step's weights.

        Example:
            >>> y = TokenLSTM(3, 4, 2, 2).relaxed(2, tau=1.0, generator=torch.Generator().manual_seed(0))
            >>> y.shape, torch.allclose(y.sum(-1), torch.ones(2, 4))
            (torch.Size([2, 4, 3]), True)
        """
        inp, state, ys = self._start(n), None, []
        for _ in range(self.length):
            hidden, state = self.lstm(inp, state)
            y = gumbel_softmax(self.out(hidden[:, 0]), tau, generator, hard=hard)
            ys.append(y)
            inp = (y @ self.embedding.weight[: self.vocab])[:, None]
        return torch.stack(ys, 1)


class SequenceCritic(nn.Module):
    """D for sequences of (n, length, vocab) vectors: embed, two convolutions (kernel 3) over time, max over time,
    one logit per sequence.

    Example:
        >>> d = SequenceCritic(vocab=5, embed=4, channels=8)
        >>> d(one_hot(torch.randint(0, 5, (3, 7)), 5)).shape
        torch.Size([3])
    """

    def __init__(self, vocab: int, embed: int = 32, channels: int = 64):
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Linear(vocab, embed, bias=False)
        self.convs = nn.Sequential(nn.Conv1d(embed, channels, 3, padding=1), nn.LeakyReLU(0.2),
                                   nn.Conv1d(channels, channels, 3, padding=1), nn.LeakyReLU(0.2))
        self.head = nn.Linear(2 * channels, 1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if y.dim() != 3 or y.shape[-1] != self.vocab:
            raise ValueError(f"expected (n, length, {self.vocab}) vectors, got shape {tuple(y.shape)}")
        h = self.convs(self.embed(y).transpose(1, 2))
        return self.head(torch.cat([h.amax(-1), h.mean(-1)], dim=1))[:, 0]

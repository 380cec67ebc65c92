"""How class labels enter the one training loop: the registry ``CONDITIONS`` that ``Trainer`` looks up.

Conditioning is a small piece the loop asks, like ``losses.GAME_LOSSES``: each entry says how to draw the
real batch (with its labels or not), which labels the fakes get, how to call G and D, and which extra loss
terms D and G add. ``"none"`` is today's unconditional GAN: it draws no label and no random number more,
so an unconditional run is the run it was before labels existed. The networks are in
``gancourse.models.conditional``; ``models.build_models(..., condition=..., num_classes=K)`` builds them.

- ``concat`` (Mirza & Osindero 2014): the one-hot y joins D's input; D's value function is that of the
  chosen loss on p(x | y).
- ``acgan`` (Odena et al. 2017, Sec. 3). With S the source (real or fake) and C the class,

      L_S = E[log P(S = real | x_real)] + E[log P(S = fake | x_fake)]
      L_C = E[log P(C = c | x_real)]    + E[log P(C = c | x_fake)]

  D maximises L_S + L_C and G maximises L_C - L_S. Everything here is minimised, so D's loss is the game's
  D loss (= -L_S for the ``gan`` loss) plus CE(real) + CE(fake), the cross-entropies of the class logits
  against the true labels of the real batch and the requested labels of the fakes (= -L_C); G's loss is the
  game's G loss plus CE(fake) (the real term of L_C does not depend on G). The class head rewards G for
  samples that are easy to classify: where classes overlap it pushes them apart (Shu et al. 2017; Gong et
  al. 2019, TAC-GAN), the bias lesson 5 measures.
- ``projection`` (Miyato & Koyama 2018, Eq. 3): D(x, y) = psi(phi(x)) + <embed(y), phi(x)>.

Fake labels are drawn uniformly from 0..K-1 with the trainer's noise generator. The gradient penalty and R1
are taken with respect to x with y held at the real batch's labels.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_labels

__all__ = ["Conditioning", "CONDITIONS", "condition_entry", "acgan_class_loss"]


def acgan_class_loss(class_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of AC-GAN's class logits against labels y: -E[log softmax(logits)_y], i.e. minus one
    term of L_C (Odena et al. 2017, Eq. 2), computed in float32.

    Example:
        >>> round(acgan_class_loss(torch.zeros(2, 4), torch.tensor([0, 3])).item(), 4)  # log 4
        1.3863
    """
    return F.cross_entropy(class_logits.float(), y)


def _no_aux(*outputs) -> float:
    return 0.0  # adding 0.0 leaves a loss and its gradient exactly as they are


def _acgan_d_aux(real_logits, y_real, fake_logits, y_fake) -> torch.Tensor:
    return acgan_class_loss(real_logits, y_real) + acgan_class_loss(fake_logits, y_fake)


def _acgan_g_aux(fake_logits, y_fake) -> torch.Tensor:
    return acgan_class_loss(fake_logits, y_fake)


def _unconditional(D, x, y):
    return D(x), None


def _labelled_input(D, x, y):
    return D(x, y), None


def _two_heads(D, x, y):
    return D(x)  # (source logit, class logits): the label is what the class head predicts


@dataclass(frozen=True)
class Conditioning:
    """One way of conditioning a GAN on class labels, as the training loop uses it.

    ``discriminate(D, x, y)`` -> (D's source output (N,), class logits (N, K) or None); ``d_aux(real_logits,
    y_real, fake_logits, y_fake)`` and ``g_aux(fake_logits, y_fake)`` are the extra terms of D's and G's
    losses (0.0 for all but AC-GAN). ``labelled``: the run needs labelled data and conditional networks.

    Example:
        >>> entry = CONDITIONS["none"]
        >>> entry.labelled, entry.fake_labels(4, None, torch.Generator(), "cpu") is None
        (False, True)
    """

    name: str
    labelled: bool
    discriminate: Callable[[nn.Module, torch.Tensor, torch.Tensor | None], tuple]
    d_aux: Callable[..., torch.Tensor | float] = _no_aux
    g_aux: Callable[..., torch.Tensor | float] = _no_aux
    reference: str = ""

    @property
    def class_head(self) -> bool:
        """Whether D has a class head whose logits predict the label (AC-GAN) instead of taking it as input.

        Example:
            >>> [name for name, entry in CONDITIONS.items() if entry.class_head]
            ['acgan']
        """
        return self.discriminate is _two_heads

    def real_batch(self, sampler, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(x, y) of the next real batch; y is None, and ``sampler.sample`` draws it, when unconditional.

        Example:
            >>> from gancourse.data import make_sampler
            >>> x, y = CONDITIONS["projection"].real_batch(make_sampler("grid", 4), 4); y.shape
            torch.Size([4])
        """
        return sampler.sample_labelled(n) if self.labelled else (sampler.sample(n), None)

    def fake_labels(self, n: int, num_classes: int | None, generator: torch.Generator,
                    device) -> torch.Tensor | None:
        """Labels for ``n`` fakes, uniform over 0..K-1 from ``generator``; None (nothing drawn) when unconditional.

        Example:
            >>> CONDITIONS["acgan"].fake_labels(5, 3, torch.Generator().manual_seed(0), "cpu").tolist()
            [2, 0, 2, 0, 1]
        """
        if not self.labelled:
            return None
        return torch.randint(num_classes, (n,), generator=generator, device=device)

    def generate(self, G: Callable, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """G(z), or G(z, y) for a conditional run.

        Example:
            >>> CONDITIONS["none"].generate(lambda z: 2 * z, torch.ones(1), None).tolist()
            [2.0]
        """
        return G(z) if y is None else G(z, y)

    def critic(self, D: Callable, y: torch.Tensor | None) -> Callable[[torch.Tensor], torch.Tensor]:
        """x -> D's source output with the labels held at ``y``: what the gradient penalty and R1 differentiate.

        Example:
            >>> D = lambda x: x.sum(1)
            >>> CONDITIONS["none"].critic(D, None) is D
            True
        """
        if not self.labelled:
            return D
        return lambda x: self.discriminate(D, x, y)[0]

    def sample_labels(self, n: int, y, num_classes: int | None) -> list:
        """The labels of ``n`` samples in chunks of 4096 (``Trainer.sample``): ``y`` checked on the CPU, or by
        default ``arange(n) % K`` (every class in turn); [None, ...] when unconditional, where a ``y`` is an error.

        Example:
            >>> [c.tolist() for c in CONDITIONS["concat"].sample_labels(5, None, 3)]
            [[0, 1, 2, 0, 1]]
        """
        if not self.labelled:
            if y is not None:
                raise ValueError("y (class labels) is for conditional runs; this run has condition='none', so "
                                 "sample without y, or train with TrainConfig(condition='concat', 'acgan' or "
                                 "'projection')")
            return [None] * -(-n // 4096)
        y = torch.arange(n) % num_classes if y is None else check_labels(y, n, num_classes, values=True)
        return list(y.cpu().split(4096))

    def check(self, G: nn.Module, D: nn.Module, sampler) -> int | None:
        """K, the number of classes of the run (None when unconditional), after checking that the sampler has
        labels and G and D are built for this conditioning and K; else ``ValueError`` saying what is missing.

        Example:
            >>> from gancourse.data import make_sampler
            >>> from gancourse.models import build_models
            >>> G, D = build_models("mlp", (2,), condition="acgan", num_classes=25)
            >>> CONDITIONS["acgan"].check(G, D, make_sampler("grid", 8))
            25
        """
        g_classes, d_classes = getattr(G, "num_classes", None), getattr(D, "num_classes", None)
        if not self.labelled:
            if g_classes is not None or d_classes is not None:
                raise ValueError("G or D is a conditional network (it takes labels) but condition='none'; set "
                                 f"TrainConfig(condition=...) to {getattr(D, 'condition', 'its conditioning')!r}")
            return None
        K = getattr(sampler, "num_classes", None)
        if K is None or not callable(getattr(sampler, "sample_labelled", None)):
            raise ValueError(f"condition={self.name!r} needs labelled data, but the sampler has no labels; "
                             "use a labelled dataset (gancourse.data.LABELLED_DATASETS)")
        if g_classes != K or d_classes != K or getattr(D, "condition", None) != self.name:
            raise ValueError(f"condition={self.name!r} with {K} classes needs G and D built for it, got G for "
                             f"num_classes={g_classes} and a {getattr(D, 'condition', 'unconditional')} D for "
                             f"num_classes={d_classes}; build them with build_models(..., condition={self.name!r}, "
                             f"num_classes={K})")
        return K


CONDITIONS: dict[str, Conditioning] = {
    "none": Conditioning("none", False, _unconditional, reference="Goodfellow et al. 2014 (no labels)"),
    "concat": Conditioning("concat", True, _labelled_input, reference="Mirza & Osindero 2014"),
    "acgan": Conditioning("acgan", True, _two_heads, _acgan_d_aux, _acgan_g_aux,
                          reference="Odena et al. 2017, Sec. 3"),
    "projection": Conditioning("projection", True, _labelled_input, reference="Miyato & Koyama 2018, Eq. 3"),
}
"""Every ``TrainConfig.condition`` by name."""


def condition_entry(name: str) -> Conditioning:
    """The registry entry for ``name``; ``ValueError`` lists the valid names.

    Example:
        >>> condition_entry("projection").labelled
        True
        >>> condition_entry("cgan")
        Traceback (most recent call last):
        ValueError: unknown condition 'cgan'; valid choices: none, concat, acgan, projection
    """
    if not isinstance(name, str) or name not in CONDITIONS:
        raise ValueError(f"unknown condition {name!r}; valid choices: {', '.join(CONDITIONS)}")
    return CONDITIONS[name]

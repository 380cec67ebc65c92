"""Checks for lesson 5 (conditional GANs), and the package's worked solutions of its exercises.

1. ``concat_condition``: the cGAN's input, x and the one-hot label side by side (Mirza & Osindero 2014);
2. ``projection_output``: the projection discriminator D(x, y) = psi(phi(x)) + <embed(y), phi(x)>
   (Miyato & Koyama 2018, Eq. 3);
3. ``acgan_losses``: AC-GAN's D and G losses from the source and class logits (Odena et al. 2017, Eq. 2-3).

Each ``check_*`` calls your function on small inputs whose answers are known (by construction, or from the
package's ``gancourse.models.conditional`` and ``gancourse.conditioning``). It prints one line when they all
pass, prints "not done yet" and a hint while your function is still the stub, and raises ``AssertionError``
with a hint naming the mistake otherwise; an error raised inside your function is reported as a hint too.
The notebook's later cells use the package's versions, never the learner's.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._stub import call_reporting_errors, reports_stub

__all__ = ["check_concat_condition", "check_projection_output", "check_acgan_losses",
           "concat_condition", "projection_output", "acgan_losses"]


# --- worked solutions -------------------------------------------------------------------------------------

def concat_condition(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Worked solution 1: [x, onehot(y)], x flattened to (N, d) and the K-long one-hot code of y appended.

    Example:
        >>> concat_condition(torch.tensor([[0.5, -1.0]]), torch.tensor([2]), 3).tolist()
        [[0.5, -1.0, 0.0, 0.0, 1.0]]
    """
    return torch.cat([x.flatten(1), F.one_hot(y, num_classes).to(x.dtype)], dim=1)


def projection_output(features: torch.Tensor, psi: nn.Linear, embed: nn.Embedding, y: torch.Tensor) -> torch.Tensor:
    """Worked solution 2: D(x, y) = psi(phi(x)) + <embed(y), phi(x)> for features = phi(x) (N, F), one score per
    row (Miyato & Koyama 2018, Eq. 3).

    Example:
        >>> psi = nn.Linear(2, 1); _ = psi.weight.data.fill_(1.0); _ = psi.bias.data.zero_()
        >>> embed = nn.Embedding(2, 2); _ = embed.weight.data.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        >>> projection_output(torch.tensor([[1.0, 3.0]]), psi, embed, torch.tensor([1])).tolist()  # 4 + 6
        [10.0]
    """
    return psi(features).squeeze(1) + (embed(y) * features).sum(dim=1)


def acgan_losses(source_real: torch.Tensor, source_fake: torch.Tensor, class_real: torch.Tensor,
                 class_fake: torch.Tensor, y_real: torch.Tensor, y_fake: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Worked solution 3: (D's loss, G's loss) of AC-GAN with the non-saturating source loss.

    D maximises L_S + L_C and G maximises L_C - L_S (Odena et al. 2017, Eq. 2-3); minimised, with softplus
    for -log sigmoid:

        loss_D = softplus(-s_real) + softplus(s_fake) + CE(c_real, y_real) + CE(c_fake, y_fake)
        loss_G = softplus(-s_fake) + CE(c_fake, y_fake)

    (each term a batch mean; G's source term is the non-saturating -log D(G(z)) of Goodfellow et al. 2014).

    Example:
        >>> d, g = acgan_losses(torch.zeros(2), torch.zeros(2), torch.zeros(2, 4), torch.zeros(2, 4),
        ...                     torch.tensor([0, 1]), torch.tensor([2, 3]))
        >>> round(d.item(), 4), round(g.item(), 4)  # 2 log 2 + 2 log 4, log 2 + log 4
        (4.1589, 2.0794)
    """
    ce_fake = F.cross_entropy(class_fake, y_fake)
    loss_d = (F.softplus(-source_real).mean() + F.softplus(source_fake).mean()
              + F.cross_entropy(class_real, y_real) + ce_fake)
    loss_g = F.softplus(-source_fake).mean() + ce_fake
    return loss_d, loss_g


# --- helpers ----------------------------------------------------------------------------------------------



def _tensor(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} should be a tensor, got {type(value).__name__}")
    return value.detach()


def _number(value, what: str) -> float:
    value = _tensor(value, what)
    if value.numel() != 1:
        raise AssertionError(f"{what} should be one number (a batch mean), shape (), got a tensor of shape "
                             f"{tuple(value.shape)}: average each term over the batch with .mean()")
    return float(value)


# --- exercise 1: concatenation --------------------------------------------------------------------------------

@reports_stub("one row per example: its features, then the one-hot code of its label (F.one_hot), "
              "joined with torch.cat.")
def check_concat_condition(fn: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]) -> None:
    """Check ``fn(x, y, num_classes)`` = [x.flatten(1), onehot(y)] on 2-D points and on small images.

    Example:
        >>> check_concat_condition(concat_condition)
        concatenation with the one-hot label: correct
    """
    gen = torch.Generator().manual_seed(5)
    cases = [(torch.tensor([[0.5, -1.0], [2.0, 3.0]]), torch.tensor([2, 0]), 3, "two 2-D points, labels (2, 0), K = 3"),
             (torch.randn(4, 1, 3, 3, generator=gen), torch.tensor([9, 0, 4, 4]), 10, "four 1 x 3 x 3 images, K = 10"),
             # No example of the largest classes: the code must still be num_classes long.
             (torch.randn(3, 2, generator=gen), torch.tensor([1, 3, 3]), 10,
              "three 2-D points, labels (1, 3, 3), K = 10 (no example of classes 4-9 in this batch)")]
    for x, y, k, what in cases:
        expected = concat_condition(x, y, k)
        got = _tensor(call_reporting_errors(fn, x.clone(), y.clone(), k), "your result")
        if got.shape == expected.shape and torch.allclose(got.float(), expected.float()):
            continue
        hint = ""
        if got.shape == (len(x), x[0].numel() + 1):
            hint = "You appended the label as one number; a cGAN appends its one-hot code (F.one_hot), K numbers."
        elif got.shape == (len(x), x[0].numel() + int(y.max()) + 1) and int(y.max()) + 1 != k:
            hint = (f"Your one-hot code has {int(y.max()) + 1} entries, the largest label in this batch + 1: "
                    f"F.one_hot(y) guesses the number of classes from the batch. Pass num_classes, so the code "
                    f"always has K = {k} entries.")
        elif got.shape == expected.shape and torch.allclose(got.float(), expected.flip(1).float()):
            hint = "Wrong order: the features first, then the one-hot code."
        elif got.shape == expected.shape and torch.allclose(
                got.float(), torch.cat([expected[:, -k:], expected[:, :-k]], 1).float()):
            hint = "Wrong order: the features first, then the one-hot code."
        elif got.dim() != 2:
            hint = "Flatten each example to one row first (x.flatten(1)), then concatenate along dim=1."
        if got.shape != expected.shape:
            raise AssertionError(f"{what}: the concatenated input [x, onehot(y)] should have shape "
                                 f"{tuple(expected.shape)} (N, features + K), got {tuple(got.shape)}."
                                 + (f" {hint}" if hint else ""))
        raise AssertionError(f"{what}: the concatenated input [x, onehot(y)] has the right shape "
                             f"{tuple(expected.shape)}, but row 0 should be {expected[0].tolist()}, got "
                             f"{got[0].tolist()}." + (f" {hint}" if hint else ""))
    print("concatenation with the one-hot label: correct")


# --- exercise 2: the projection discriminator --------------------------------------------------------------

def _projection_parts(seed: int, features: int = 5, classes: int = 4):
    torch.manual_seed(seed)
    psi, embed = nn.Linear(features, 1), nn.Embedding(classes, features)
    return psi, embed


@reports_stub("two terms: psi's unconditional score, and the inner product of each example's label embedding "
              "with its features; one score per example, shape (N,).")
def check_projection_output(fn: Callable[[torch.Tensor, nn.Linear, nn.Embedding, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(features, psi, embed, y)`` = psi(phi) + <embed(y), phi> against the package's
    ``ProjectionDiscriminator`` formula, and that its gradient reaches the embedding.

    Example:
        >>> check_projection_output(projection_output)
        projection discriminator: correct
    """
    gen = torch.Generator().manual_seed(7)
    for seed, n in ((0, 6), (1, 1)):
        psi, embed = _projection_parts(seed)
        phi = torch.randn(n, 5, generator=gen)
        y = torch.randint(4, (n,), generator=gen)
        with torch.no_grad():
            expected = psi(phi).squeeze(1) + (embed(y) * phi).sum(1)
            unconditional = psi(phi).squeeze(1)
            all_classes = psi(phi).squeeze(1) + (phi @ embed.weight.T).sum(1)
        got = _tensor(call_reporting_errors(fn, phi.clone(), psi, embed, y.clone()), "your score")
        if got.shape == expected.shape and torch.allclose(got, expected, atol=1e-5):
            continue
        hint = ""
        if got.shape == (n, 1):
            hint = "One score per example: shape (N,), so squeeze psi's (N, 1) output with .squeeze(1)."
        elif got.shape == expected.shape and torch.allclose(got, unconditional, atol=1e-5):
            hint = "That is psi(phi(x)) alone: the label's term <embed(y), phi(x)> is missing."
        elif got.shape == expected.shape and torch.allclose(got, all_classes, atol=1e-5):
            hint = "You summed over every class's embedding; use only the row of the example's own label, embed(y)."
        elif got.shape == expected.shape and torch.allclose(got, expected - unconditional, atol=1e-5):
            hint = "That is the inner product alone: add psi(phi(x)), the unconditional part of the score."
        if got.shape != expected.shape:
            raise AssertionError(f"{n} example(s): the scores D(x, y) should have shape {tuple(expected.shape)}, one "
                                 f"per example, got {tuple(got.shape)}." + (f" {hint}" if hint else ""))
        raise AssertionError(f"{n} example(s): the scores D(x, y), shape {tuple(expected.shape)}, should be "
                             f"{[round(v, 4) for v in expected.tolist()]}, got "
                             f"{[round(v, 4) for v in got.flatten().tolist()]}." + (f" {hint}" if hint else ""))
    psi, embed = _projection_parts(2)
    out = call_reporting_errors(fn, torch.randn(3, 5, generator=gen), psi, embed, torch.tensor([0, 1, 1]))
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise AssertionError("return the score as a tensor connected to psi and the embedding (no .item() or "
                             "torch.no_grad()): D is trained through it")
    out.sum().backward()
    if embed.weight.grad is None or embed.weight.grad[1].abs().sum() == 0 or embed.weight.grad[3].abs().sum() != 0:
        raise AssertionError("the gradient should reach the embedding rows of the labels used (0 and 1) and no other")
    print("projection discriminator: correct")


# --- exercise 3: AC-GAN's losses ----------------------------------------------------------------------------

@reports_stub("the text lists each player's terms: D's loss has two source terms and two class terms, G's loss "
              "one source term and one class term; F.softplus and F.cross_entropy give them.")
def check_acgan_losses(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Check ``fn(source_real, source_fake, class_real, class_fake, y_real, y_fake)`` -> (loss_D, loss_G) against
    the losses the training loop uses (``gancourse.losses`` and ``gancourse.conditioning``).

    Example:
        >>> check_acgan_losses(acgan_losses)
        AC-GAN losses: correct
    """
    from .. import conditioning, losses

    gen = torch.Generator().manual_seed(11)
    for n, k in ((8, 10), (3, 2)):
        args = (torch.randn(n, generator=gen), torch.randn(n, generator=gen), torch.randn(n, k, generator=gen),
                torch.randn(n, k, generator=gen), torch.randint(k, (n,), generator=gen),
                torch.randint(k, (n,), generator=gen))
        sr, sf, cr, cf, yr, yf = args
        entry = conditioning.CONDITIONS["acgan"]
        game = losses.game_loss("nsgan")
        expected_d = float(game.d_loss(sr, sf) + entry.d_aux(cr, yr, cf, yf))
        expected_g = float(game.g_loss(sf) + entry.g_aux(cf, yf))
        out = call_reporting_errors(fn, *(a.clone() for a in args))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise AssertionError("return two numbers, (loss_D, loss_G)")
        got_d, got_g = _number(out[0], "loss_D"), _number(out[1], "loss_G")
        ce_real, ce_fake = float(F.cross_entropy(cr, yr)), float(F.cross_entropy(cf, yf))
        if abs(got_d - expected_d) > 1e-5 * max(1, abs(expected_d)):
            hint = ""
            if abs(got_d - (expected_d - ce_fake)) < 1e-5:
                hint = ("D's class loss has two terms: AC-GAN's D also learns to classify the fakes as the labels they "
                        "were generated for (L_C has a real and a fake term).")
            elif abs(got_d - (expected_d - ce_real - ce_fake)) < 1e-5:
                hint = "D's loss is missing the class terms L_C: add CE(class_real, y_real) + CE(class_fake, y_fake)."
            elif abs(got_d - (expected_d - 2 * ce_real - 2 * ce_fake)) < 1e-5:
                hint = "D maximises L_C, so it minimises +CE, not -CE: the class terms are added to D's loss."
            raise AssertionError(f"{n} examples, {k} classes: loss_D expected {expected_d:.5f}, got {got_d:.5f}."
                                 + (f" {hint}" if hint else ""))
        if abs(got_g - expected_g) > 1e-5 * max(1, abs(expected_g)):
            hint = ""
            if abs(got_g - (expected_g - 2 * ce_fake)) < 1e-5:
                hint = ("G maximises L_C too (it wants its samples classified as their labels): add +CE(class_fake, "
                        "y_fake); it is L_S that the two players fight over.")
            elif abs(got_g - (expected_g - ce_fake)) < 1e-5:
                hint = "G's loss is missing the class term CE(class_fake, y_fake)."
            elif abs(got_g - (expected_g + ce_real)) < 1e-5:
                hint = "G cannot change the real images' class term: leave CE(class_real, y_real) out of G's loss."
            raise AssertionError(f"{n} examples, {k} classes: loss_G expected {expected_g:.5f}, got {got_g:.5f}."
                                 + (f" {hint}" if hint else ""))
    logits = [a.clone().requires_grad_(True) for a in args[:4]]
    loss_d, loss_g = call_reporting_errors(fn, *logits, *args[4:])
    for name, loss in (("loss_D", loss_d), ("loss_G", loss_g)):
        if not loss.requires_grad:
            raise AssertionError(f"{name} is not connected to the logits (a .detach(), .item() or torch.no_grad() on "
                                 "the way?): each player is trained by calling backward() on its loss")
    print("AC-GAN losses: correct")

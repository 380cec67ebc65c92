"""Build a (generator, discriminator) pair by name, for the CLI, the dashboard and the lessons."""
from __future__ import annotations

import math
import warnings

from torch import nn

from .._checks import positive_int
from .conditional import ConditionalDCGANGenerator, ConditionalMLPGenerator, conditional_discriminator
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .norm import NORMS, CriticNormWarning, check_norm
from .spectral import with_spectral_norm

__all__ = ["MODELS", "NORMS", "build_models", "default_norms", "critic_norm_problem", "CriticNormWarning"]

MODELS = ("mlp", "dcgan")


def _is_critic_loss(loss: str | None) -> bool:
    from ..config import CRITIC_LOSSES  # config imports nothing from models; imported late all the same

    return loss in CRITIC_LOSSES


def default_norms(model: str, loss: str | None = None) -> tuple[str, str]:
    """(G's, D's) normalisation when none is chosen, for ``model`` trained with ``loss``.

    MLPs: none in either. DCGAN: batch norm in both (Radford et al. 2015, Sec. 3), except that the
    critic of ``wgan`` / ``wgan-gp`` gets layer norm: a critic scores each sample on its own, which
    batch norm breaks, and Gulrajani et al. 2017 (Sec. 4) recommend layer norm in its place.

    Example:
        >>> default_norms("dcgan"), default_norms("dcgan", "wgan-gp"), default_norms("mlp", "wgan")
        (('batch', 'batch'), ('batch', 'layer'), ('none', 'none'))
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid choices: {', '.join(MODELS)}")
    if model == "mlp":
        return "none", "none"
    return "batch", "layer" if _is_critic_loss(loss) else "batch"


def critic_norm_problem(loss: str | None, d_norm: str | None) -> str | None:
    """Why ``d_norm`` does not suit ``loss``'s critic, or None when it does (or D is not a critic).

    Example:
        >>> critic_norm_problem("nsgan", "batch") is None, critic_norm_problem("wgan-gp", "layer") is None
        (True, True)
        >>> critic_norm_problem("wgan-gp", "batch").split(":")[0]
        'batch norm in a wgan-gp critic'
    """
    if d_norm != "batch" or not _is_critic_loss(loss):
        return None
    why = ("the per-sample gradient penalty is then ill-defined" if loss == "wgan-gp"
           else "it is then no function f(x) of one sample")
    return (f"batch norm in a {loss} critic: each score depends on the rest of its batch, so {why} "
            "(Gulrajani et al. 2017, Sec. 4); training with it as asked. Use d_norm 'layer' or 'none' "
            "(CLI: --norm layer or none, or leave --norm out) for the paper's critic")


def build_models(model: str, data_shape: tuple[int, ...], *, z_dim: int = 64, width: int | None = None,
                 depth: int = 2, g_norm: str | None = None, d_norm: str | None = None,
                 activation: str | None = None, loss: str | None = None, spectral_norm: bool = False,
                 condition: str = "none", num_classes: int | None = None, d_activation: str | None = None,
                 pack: int = 1) -> tuple[nn.Module, nn.Module]:
    """Return ``(G, D)`` for ``model`` in ``MODELS`` and one example's ``data_shape``.

    ``width`` is hidden units (MLP, default 128 for 2-D and 512 for images) or base channels
    (DCGAN, default 64); ``None`` means the default. ``z_dim``, ``width`` and ``depth`` (hidden
    layers of an MLP) must be integers >= 1. A norm left at None is ``default_norms(model, loss)``:
    none for MLPs, batch norm for DCGAN (its paper), layer norm in a DCGAN critic (``loss`` wgan or
    wgan-gp). A DCGAN needs square images of a size in ``DCGAN_SIZES`` (28, or a power of two from
    16 to 256; ``dcgan_plan`` says which layers each gets). An explicit ``d_norm="batch"`` with a
    critic loss is built as asked (lesson 4 compares it) with a ``CriticNormWarning`` saying why it is wrong.
    ``spectral_norm=True`` wraps every Linear and convolution of D in spectral normalisation (Miyato et al.
    2018; ``models.spectral.with_spectral_norm``, torch's own parametrisation): W_SN = W / sigma(W).
    ``condition`` other than "none" (``gancourse.conditioning.CONDITIONS``) builds a class-conditional pair
    for ``num_classes`` labels (``models.conditional``): G(z, y) (an MLP with a label embedding joined to z,
    or a DCGAN with class-conditional batch norm) and D conditioned by "concat", "acgan" or "projection".
    MLPs only: ``d_activation`` is D's own activation (None: ``activation``, else LeakyReLU), and ``pack`` = m > 1
    makes D's input m examples side by side, PacGAN's packed D (Lin et al. 2018; wrap it in
    ``remedies.PackedDiscriminator``).

    Example:
        >>> import torch
        >>> G, D = build_models("mlp", (2,), z_dim=8)
        >>> G(torch.randn(3, 8)).shape, D(G(torch.randn(3, 8))).shape
        (torch.Size([3, 2]), torch.Size([3]))
        >>> G, D = build_models("dcgan", (3, 64, 64), z_dim=8, width=4)
        >>> G(torch.randn(2, 8)).shape, D(G(torch.randn(2, 8))).shape
        (torch.Size([2, 3, 64, 64]), torch.Size([2]))
        >>> _, D = build_models("mlp", (2,), spectral_norm=True); _ = D(torch.randn(4, 2))
        >>> round(torch.linalg.matrix_norm(D.net[1].weight, ord=2).item(), 2)
        1.0
        >>> G, D = build_models("dcgan", (1, 28, 28), z_dim=8, width=4, condition="projection", num_classes=10)
        >>> y = torch.tensor([3, 7]); D(G(torch.randn(2, 8), y), y).shape
        torch.Size([2])
    """
    if not isinstance(spectral_norm, bool):
        raise ValueError(f"spectral_norm must be True or False, got spectral_norm={spectral_norm!r}")
    pack = positive_int("pack", pack)
    if model != "mlp" and (pack > 1 or d_activation is not None):
        raise ValueError(f"pack and d_activation are for model 'mlp', got model={model!r} with pack={pack!r}, "
                         f"d_activation={d_activation!r}")
    G, D = _build_pair(model, data_shape, z_dim=z_dim, width=width, depth=depth, g_norm=g_norm, d_norm=d_norm,
                       activation=activation, loss=loss, condition=condition, num_classes=num_classes,
                       d_activation=d_activation, pack=pack)
    return G, (with_spectral_norm(D) if spectral_norm else D)


def _build_pair(model, data_shape, *, z_dim, width, depth, g_norm, d_norm, activation, loss, condition, num_classes,
                d_activation=None, pack=1):
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; valid choices: {', '.join(MODELS)}")
    z_dim = positive_int("z_dim", z_dim)
    depth = positive_int("depth", depth)
    if width is not None:  # 0 must not fall through to the default like None does
        width = positive_int("width", width, " (or None for the default)")
    data_shape = tuple(data_shape)
    is_image = len(data_shape) == 3
    if len(data_shape) not in (1, 3):
        raise ValueError(f"data_shape must be (features,) or (C, H, W), got {data_shape}")
    if loss is not None:
        from ..config import LOSSES

        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; valid choices: {', '.join(LOSSES)}")
    default_g, default_d = default_norms(model, loss)
    g_norm, d_norm = check_norm(g_norm or default_g), check_norm(d_norm or default_d)
    problem = critic_norm_problem(loss, d_norm)
    if problem:
        warnings.warn(problem, CriticNormWarning, stacklevel=3)
    K = _check_condition(condition, num_classes)
    extra = K if condition == "concat" else 0  # the one-hot label: K more input features or channels of D
    if model == "mlp":
        width = width if width is not None else (512 if is_image else 128)
        if K:
            G = ConditionalMLPGenerator(z_dim, data_shape, K, width, depth, activation or "relu", g_norm)
        else:
            G = MLPGenerator(z_dim, data_shape, width, depth, activation or "relu", g_norm)
        d_shape = (pack * math.prod(data_shape) + extra,) if extra or pack > 1 else data_shape
        D = MLPDiscriminator(d_shape, width, depth, d_activation or activation or "leaky_relu", d_norm)
    else:
        if not is_image or data_shape[1] != data_shape[2]:
            raise ValueError(f"model 'dcgan' needs square images (C, H, W), got data_shape={data_shape}; "
                             "use model='mlp' for 2-D data")
        channels, size = data_shape[0], data_shape[1]
        width = width if width is not None else 64
        if K and g_norm != "batch":
            raise ValueError(f"a conditional DCGAN generator takes its label through class-conditional batch norm, "
                             f"so g_norm must be 'batch', got g_norm={g_norm!r}")
        G = ConditionalDCGANGenerator(z_dim, channels, size, width, K) if K else DCGANGenerator(
            z_dim, channels, size, width, g_norm)
        D = DCGANDiscriminator(channels + extra, size, width, d_norm)
    return G, (conditional_discriminator(D, condition, K) if K else D)


def _check_condition(condition: str, num_classes: int | None) -> int:
    """K for a conditional pair, 0 for condition "none"; ValueError for a bad name or count."""
    from ..conditioning import CONDITIONS, condition_entry  # conditioning imports models.conditional: late

    condition_entry(condition)  # an unknown name: ValueError listing the choices
    if condition == "none":
        if num_classes is not None:
            raise ValueError(f"num_classes={num_classes!r} is for a conditional model; give condition= one of "
                             f"{', '.join(c for c in CONDITIONS if c != 'none')}, or leave num_classes out")
        return 0
    return positive_int("num_classes", num_classes, f" (the number of labels condition={condition!r} needs)")

"""The one training loop every lesson uses: Algorithm 1 of Goodfellow et al. 2014, looked-up pieces added.

    for number of training iterations:                                   Trainer.train_step
        for k = 1 .. n_critic:                                            _discriminator_step
            sample m real examples x (with labels y when conditional)     _real_batch
            sample m noise vectors z; fakes G(z)                          pieces.fakes.for_d
            update D by descending its loss (+ penalties)                 _discriminator_objective
            constrain D                                                   pieces.constrain_d
        sample m noise vectors z; fakes G(z)                              pieces.fakes.for_g
        update G by descending its loss against D                         pieces.critic_for_g
        after G's update                                                  pieces.after_g_step

With other losses and constraints this is also Algorithm 1 of WGAN (RMSprop, clip after each critic step)
and of WGAN-GP (gradient penalty in the critic's loss). The loop never branches on a setting: it looks up
``losses.GAME_LOSSES[cfg.loss]`` (D's and G's losses, how to read D's output), ``losses.penalties_for``
(WGAN-GP's gradient penalty, R1), ``conditioning.CONDITIONS[cfg.condition]`` (real batches and labels,
how to call G and D, AC-GAN's extra terms) and ``pieces.pieces_for(cfg)`` (weight clipping, reuse of
fakes, the unrolled D of Metz et al. 2017, the average of G's weights), so a new loss, penalty or piece
is a registry entry, not a branch here. One ``step`` is one generator update; its statistics
(``history.StepStats``) stay on the device until ``training_run`` reads them back. On CUDA it runs under
autocast (bf16, or fp16 with a GradScaler per player: ``gancourse.precision``); the penalties, which
differentiate a gradient, run in float32 outside it. Convolutions run channels_last on CUDA and the CPU.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from . import conditioning, losses
from .checkpoint import restore_trainer, save_checkpoint, trainer_state
from .config import TrainConfig
from .device import autocast_dtype, canonical_device, pick_device
from .ema import EMA, decay_from_half_life
from .history import STAT_KEYS, History, StepStats, TrainingDiverged
from .pieces import pieces_for
from .precision import MixedPrecision
from .training_run import MAX_AMP_SKIPS_IN_A_ROW, TrainingRun

__all__ = ["Trainer", "TrainingDiverged", "History", "STAT_KEYS", "StepStats", "train_gan",
           "MAX_AMP_SKIPS_IN_A_ROW"]


def _require_config(cfg) -> None:
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}; build one with TrainConfig(...) "
                        "or preset(...)")


Callback = Callable[["Trainer"], "bool | None"]


class Trainer(TrainingRun, MixedPrecision):
    """Trains ``G`` against ``D`` on batches from ``sampler`` with the settings in ``cfg``.

    ``callbacks`` are called every ``callback_every`` steps (default: ``cfg.log_every``) with the
    trainer; one returning True stops training after that step (as does ``request_stop()``).

    Example:
        >>> from gancourse.data import make_sampler
        >>> from gancourse.models import build_models
        >>> cfg = TrainConfig(steps=20, z_dim=8, batch_size=32, device="cpu")
        >>> G, D = build_models("mlp", (2,), z_dim=8)
        >>> hist = Trainer(G, D, make_sampler("ring", 32), cfg).train(progress=False)
        >>> len(hist)
        20
    """

    compile_backend = "inductor"
    """``torch.compile`` backend used when ``cfg.compile`` is True. The tests use "aot_eager": the same
    graph capture and AOTAutograd (where double backward fails), without building C++ kernels."""

    def __init__(self, G: nn.Module, D: nn.Module, sampler, cfg: TrainConfig,
                 callbacks: Iterable[Callback] = (), callback_every: int | None = None) -> None:
        _require_config(cfg)
        for name, module in (("G", G), ("D", D)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"{name} must be a torch.nn.Module, got {type(module).__name__}")
        missing = [m for m in ("sample", "state_dict", "load_state_dict") if not callable(getattr(sampler, m, None))]
        if missing:
            raise TypeError(f"sampler must be a TensorSampler or MixtureSampler (methods sample, state_dict, "
                            f"load_state_dict); got {type(sampler).__name__} without {', '.join(missing)}")
        cfg.validate()
        self._start_run(cfg, callbacks, callback_every)  # step 0, empty history (training_run.TrainingRun)
        self.cfg = cfg
        self.device = pick_device(cfg.device)
        self.is_cuda = self.device.type == "cuda"
        self.G, self.D, self.sampler = G.to(self.device), D.to(self.device), sampler
        if canonical_device(getattr(sampler, "device", self.device)) != self.device:
            raise ValueError(f"sampler is on {sampler.device} but training runs on {self.device}; "
                             f"build the sampler with device={str(self.device)!r}")
        # NHWC convolutions: tensor cores on CUDA, oneDNN's faster kernels on CPU (the lesson 3 DCGAN's
        # discriminator step drops from about 25 to 18-20 ms on one core, benchmarks/RESULTS.md).
        self.channels_last = self.device.type in ("cuda", "cpu") and _has_conv(G, D)
        if self.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.opt_g = self._optimizer(self.G, cfg.lr_g)
        self.opt_d = self._optimizer(self.D, cfg.lr_d)
        self._set_precision(autocast_dtype(self.device) if cfg.amp else None)
        # The compiled modules share their parameters with G and D. Only plain forward passes go through
        # them: AOTAutograd has no double backward, so the gradient penalty and the unrolled GAN's inner
        # steps (differentiated gradients) call the eager D.
        self.G_fwd = torch.compile(self.G, backend=self.compile_backend) if cfg.compile else self.G
        self.D_fwd = torch.compile(self.D, backend=self.compile_backend) if cfg.compile else self.D
        self.noise = torch.Generator(device=self.device)
        self.noise.manual_seed(cfg.seed + 1)
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.fixed_z = torch.randn(64, cfg.z_dim, generator=fixed).to(self.device)
        self.game = losses.game_loss(cfg.loss)
        self._read_d = torch.sigmoid if self.game.logits else nn.Identity()  # d_real, d_fake: D(x) reported
        self.penalties = losses.penalties_for(cfg.loss, cfg.r1_gamma)
        self.condition = conditioning.condition_entry(cfg.condition)
        self.num_classes = self.condition.check(G, D, sampler)  # K, or None for an unconditional run
        self.pieces = pieces_for(cfg)
        # The average starts from G's initial weights (after channels_last, so it has G's memory format).
        self.ema = EMA(self.G, decay_from_half_life(cfg.ema_half_life)) if cfg.ema_half_life > 0 else None

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_names(cls, data: str, model: str, cfg: TrainConfig, *, width: int | None = None,
                   g_norm: str | None = None, d_norm: str | None = None, spectral_norm: bool = False,
                   **kwargs) -> Trainer:
        """Build data sampler and models by name (``gancourse.data.DATASETS``, ``models.MODELS``).

        ``cfg.condition`` other than "none" builds conditional networks for the data's K classes (the data
        must be labelled: ``data.LABELLED_DATASETS``); ``setup`` records ``condition`` and ``num_classes``.
        The global torch seed is set to ``cfg.seed`` just before the networks are built, so the
        same config always starts from the same weights. Norms left at None follow
        ``models.build.default_norms(model, cfg.loss)``: a ``wgan`` / ``wgan-gp`` critic never gets
        batch norm unless asked for (then with a ``CriticNormWarning``). ``setup`` records the norms
        actually built, so a checkpoint rebuilds the same networks whatever the defaults become, and
        whether D is spectrally normalised (``spectral_norm``, Miyato et al. 2018).

        Example:
            >>> t = Trainer.from_names("grid", "mlp", TrainConfig(z_dim=4, device="cpu"), width=16)
            >>> t.setup["data"], t.setup["d_norm"], t.sample(3).shape
            ('grid', 'none', torch.Size([3, 2]))
        """
        from .data import check_labelled_dataset, data_shape, make_sampler
        from .models import build_models
        from .models.build import default_norms

        _require_config(cfg)
        shape = data_shape(data)  # validates the name before anything slow happens
        if cfg.condition != "none":
            check_labelled_dataset(data, f"condition={cfg.condition!r}")
        device = pick_device(cfg.device)
        sampler = make_sampler(data, cfg.batch_size, device=device, seed=cfg.seed)
        if hasattr(sampler, "data"):
            shape = tuple(sampler.data.shape[1:])
        torch.manual_seed(cfg.seed)
        num_classes = sampler.num_classes if cfg.condition != "none" else None
        G, D = build_models(model, shape, z_dim=cfg.z_dim, width=width, g_norm=g_norm, d_norm=d_norm, loss=cfg.loss,
                            spectral_norm=spectral_norm, condition=cfg.condition, num_classes=num_classes)
        default_g, default_d = default_norms(model, cfg.loss)
        trainer = cls(G, D, sampler, cfg.replace(device=str(device)), **kwargs)
        trainer.setup = {"data": data, "model": model, "width": width, "g_norm": g_norm or default_g,
                         "d_norm": d_norm or default_d, "spectral_norm": spectral_norm, "condition": cfg.condition,
                         "num_classes": num_classes}
        return trainer

    def _optimizer(self, module: nn.Module, lr: float) -> torch.optim.Optimizer:
        if self.cfg.optimizer == "adam":
            return torch.optim.Adam(module.parameters(), lr=lr, betas=(self.cfg.beta1, self.cfg.beta2))
        return torch.optim.RMSprop(module.parameters(), lr=lr)

    # --- one step: Algorithm 1 ----------------------------------------------------------------------
    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.z_dim, generator=self.noise, device=self.device)

    def _generate(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(G(z) or G(z, y), y) for fresh z and the labels the conditioning draws (None: nothing drawn)."""
        y = self.condition.fake_labels(n, self.num_classes, self.noise, self.device)
        return self.condition.generate(self.G_fwd, self._z(n), y), y

    def _real_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(x, y) of the next real batch, y None when unconditional; images channels_last like the networks."""
        real, y = self.condition.real_batch(self.sampler, self.cfg.batch_size)
        if self.channels_last and real.dim() == 4:
            real = real.contiguous(memory_format=torch.channels_last)
        return real, y

    def train_step(self) -> None:
        """One iteration of Algorithm 1 (module docstring): ``n_critic`` D steps, then one G step.

        Example:
            >>> t = train_gan("ring", steps=1, z_dim=4, batch_size=8, device="cpu", progress=False)
            >>> t.train_step(); t.step
            2
        """
        skips = torch.zeros((), device=self.device)
        for k in range(self.cfg.n_critic):
            d = self._discriminator_step(last=k == self.cfg.n_critic - 1)
            skips = skips + d.amp_skips
        g = self._generator_step()
        self.pieces.after_g_step(self)  # the average of G follows
        self.step += 1
        stats = d._replace(loss_g=g.loss_g, grad_norm_g=g.grad_norm_g, amp_skips=skips + g.amp_skips)
        self._pending.append(torch.stack([torch.tensor(float(self.step), device=self.device), *stats]).float())

    def _discriminator_step(self, last: bool = False) -> StepStats:
        """Update D once; its part of the step's statistics (G's fields are zeros). ``last``: the last of the
        ``n_critic`` D steps before G's (reused fakes are drawn there)."""
        real, y_real = self._real_batch()
        fake, y_fake = self.pieces.fakes.for_d(self, last)
        loss, gp, real_out, fake_out = self._discriminator_objective(self.D_fwd, self.D, real, fake, y_real, y_fake)
        grad_norm, skipped = self._optimizer_step(loss + gp, self.opt_d, self.D, self.scaler_d)
        self.pieces.constrain_d(self.D)  # WGAN: clip D's weights
        zero = torch.zeros((), device=self.device)
        return StepStats(loss_d=loss.detach(), loss_g=zero, d_real=self._read_d(real_out).mean().detach(),
                         d_fake=self._read_d(fake_out).mean().detach(), grad_norm_d=grad_norm, grad_norm_g=zero,
                         gp=gp.detach(), w_estimate=(real_out.mean() - fake_out.mean()).detach(), amp_skips=skipped)

    def _discriminator_objective(self, forward, eager, real: torch.Tensor, fake: torch.Tensor,
                                 y_real: torch.Tensor | None = None,
                                 y_fake: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """(D's loss, its penalties, D(real), D(fake)): the D step's objective, and each unrolled step's.

        ``forward`` evaluates D under autocast; the penalties differentiate a gradient, so they run in
        float32 outside autocast (half precision loses digits there) through ``eager``, never a compiled
        D (AOTAutograd has no double backward). D's loss includes the conditioning's extra terms (AC-GAN's
        cross-entropies); a conditional D is penalised w.r.t. x with y held at the real labels.
        """
        with self._autocast():
            (real_out, real_cls), (fake_out, fake_cls) = (self.condition.discriminate(forward, real, y_real),
                                                          self.condition.discriminate(forward, fake, y_fake))
            real_out, fake_out = real_out.float(), fake_out.float()
            loss = self.game.d_loss(real_out, fake_out) + self.condition.d_aux(real_cls, y_real, fake_cls, y_fake)
        penalty = torch.zeros((), device=self.device)
        critic = self.condition.critic(eager, y_real)
        for term in self.penalties:
            penalty = penalty + term.compute(critic, real.float(), fake.float(), getattr(self.cfg, term.weight_field),
                                             self.noise)
        return loss, penalty, real_out, fake_out

    def _generator_step(self) -> StepStats:
        """Update G once against D as ``pieces.critic_for_g`` gives it; G's part of the step's statistics."""
        self.D.requires_grad_(False)  # G's update needs gradients w.r.t. G only
        fake, y = self.pieces.fakes.for_g(self)
        critic = self.pieces.critic_for_g(self, fake, y)  # D, or the unrolled D (its backward passes outside autocast)
        with self._autocast():
            fake_out, fake_cls = self.condition.discriminate(critic, fake, y)
            loss = self.game.g_loss(fake_out.float()) + self.condition.g_aux(fake_cls, y)
        grad_norm, skipped = self._optimizer_step(loss, self.opt_g, self.G, self.scaler_g)
        self.D.requires_grad_(True)
        zero = torch.zeros((), device=self.device)
        return StepStats(zero, loss.detach(), zero, zero, zero, grad_norm, zero, zero, skipped)

    def _unrolled_discriminator(self, fake: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """theta_D^K of the unrolled GAN for ``fake`` (``unrolled.UnrolledCritic.parameters``)."""
        from .unrolled import UnrolledCritic

        return UnrolledCritic(self.cfg.unroll_steps).parameters(self, fake, y)

    # --- sampling ---------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int | None = None, z: torch.Tensor | None = None, y: torch.Tensor | None = None,
               ema: bool = False) -> torch.Tensor:
        """``n`` generated samples (float32, CPU); ``n`` defaults to ``len(z)``, or 64 without ``z``.

        Uses ``fixed_z`` when ``n <= 64`` and no ``z`` is given, so successive grids show the same
        latent points evolving.

        G runs in eval mode here: batch norm normalises with its running statistics (the averages
        gathered over training batches) rather than with the statistics of the batch being sampled.
        So a sample depends on its own z only (the same z gives the same output in any batch, and
        ``n=1`` works), and sampling changes nothing in G: in train mode every call would update the
        running statistics that checkpoints store. Each submodule's train/eval mode is restored.
        ``ema=True`` samples from the average of G's weights instead (``cfg.ema_half_life > 0``).
        A conditional run (``cfg.condition`` not "none") draws sample i with label ``y[i]``, int64 class
        indices (on the CPU or the device); ``y`` defaults to ``arange(n) % K``, every class in turn. An
        unconditional run takes no ``y``.

        Example:
            >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu", ema_half_life=10))
            >>> t.sample(5).shape, t.sample(z=torch.zeros(2, 4)).shape, t.sample(3, ema=True).shape
            (torch.Size([5, 2]), torch.Size([2, 2]), torch.Size([3, 2]))
            >>> c = Trainer.from_names("grid", "mlp", TrainConfig(z_dim=4, device="cpu", condition="projection"))
            >>> c.sample(30).shape, c.sample(2, y=torch.tensor([24, 0])).shape
            (torch.Size([30, 2]), torch.Size([2, 2]))
        """
        if not isinstance(ema, bool):
            raise ValueError(f"ema must be True (sample from the average of G) or False (from G), got ema={ema!r}")
        if ema and self.ema is None:
            raise ValueError("ema=True needs an average of G's weights: train with TrainConfig(ema_half_life=...) > 0 "
                             f"(this run has ema_half_life={self.cfg.ema_half_life})")
        net = self.ema.module if ema else self.G  # the average is always in eval mode
        z_dim = self.cfg.z_dim
        if z is not None:
            if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != z_dim or len(z) == 0:
                got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
                raise ValueError(f"z must be a tensor of shape (n, z_dim={z_dim}) with n >= 1, got {got}")
            if not z.is_floating_point():  # G's first layer would fail on integer codes with torch's raw dtype error
                raise ValueError(f"z must be a floating-point tensor (latent codes, e.g. torch.randn), got {z.dtype}")
            z = z.float()  # float16 / float64 codes meet G's float32 weights
            if n is not None and n != len(z):
                raise ValueError(f"n={n!r} does not match the {len(z)} latent vectors in z; pass one of them")
            n = len(z)
        n = 64 if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive number of samples, got n={n!r}")
        if z is None:
            if n <= len(self.fixed_z):
                z = self.fixed_z[:n]
            else:
                z = torch.randn(n, self.cfg.z_dim, generator=torch.Generator().manual_seed(self.cfg.seed + 3))
        labels = self.condition.sample_labels(n, y, self.num_classes)  # checked; [None, ...] when unconditional
        modes = [(module, module.training) for module in self.G.modules()]
        self.G.eval()
        try:
            out = [self.condition.generate(net, chunk.to(self.device), None if part is None else part.to(self.device))
                   .float().cpu() for chunk, part in zip(z.split(4096), labels)]
        finally:
            for module, training in modes:
                module.training = training
        return torch.cat(out)

    # --- checkpoints (gancourse.checkpoint) -----------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue the same trajectory: weights, optimiser and RNG states, and
        the average of G (key ``G_ema``) when there is one (``checkpoint.trainer_state``).

        Example:
            >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu"))
            >>> sorted(t.state_dict())[:4]
            ['D', 'G', 'config', 'format']
        """
        return trainer_state(self)

    def save(self, path: str | Path) -> Path:
        """Save a checkpoint atomically to ``path``.

        Example:
            >>> import os, tempfile
            >>> t = train_gan("ring", steps=2, z_dim=4, batch_size=8, device="cpu", progress=False)
            >>> t.save(os.path.join(tempfile.mkdtemp(), "run.pt")).name
            'run.pt'
        """
        return save_checkpoint(self.state_dict(), path)

    def load(self, path: str | Path) -> Trainer:
        """Restore a checkpoint written by ``save`` (read with ``weights_only=True``; ``checkpoint.restore_trainer``).

        The checkpoint must come from the same architecture and optimiser, else ``CheckpointError``
        says what differs and the trainer is left as it was. Learning rates and betas are this
        trainer's ``cfg`` (only the optimiser's moment estimates come from the file), so a resumed
        run may change them. Random-number states saved on another device type (CPU vs CUDA)
        cannot be restored: training then continues with fresh noise and a ``UserWarning``. A trainer
        with an average of G restores it from ``G_ema``; from a checkpoint without one, the average
        restarts at the checkpoint's G (with a ``UserWarning``).

        Example:
            >>> import os, tempfile
            >>> path = os.path.join(tempfile.mkdtemp(), "run.pt")
            >>> _ = train_gan("ring", steps=3, z_dim=4, device="cpu", progress=False).save(path)
            >>> Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu")).load(path).step
            3
        """
        restore_trainer(self, path)
        self._skips_in_a_row = 0
        return self


def _has_conv(*modules: nn.Module) -> bool:
    return any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for mod in modules for m in mod.modules())


def train_gan(data: str = "ring", model: str = "mlp", cfg: TrainConfig | None = None, *, progress: bool = True,
              **overrides) -> Trainer:
    """Train a named setup in one call and return the trainer (history in ``trainer.history``).

    ``overrides`` are ``TrainConfig`` fields applied on top of ``cfg`` (default ``TrainConfig()``).

    Example:
        >>> t = train_gan("ring", steps=10, z_dim=8, device="cpu", progress=False)
        >>> t.step
        10
    """
    if cfg is not None and not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig or None, got {type(cfg).__name__}; pass fields as keywords "
                        "instead, e.g. train_gan('ring', lr_g=1e-3)")
    cfg = cfg or TrainConfig()
    cfg = cfg.replace(**overrides) if overrides else cfg
    trainer = Trainer.from_names(data, model, cfg)
    trainer.train(progress=progress)
    return trainer

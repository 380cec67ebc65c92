"""The one training loop every lesson uses.

Algorithm 1 of Goodfellow et al. 2014 (k = ``n_critic`` discriminator steps, then one generator
step), which with other losses and constraints is also Algorithm 1 of WGAN (clip after each
critic step) and of WGAN-GP (gradient penalty in the critic loss). One ``step`` is one generator
update. Statistics stay on the device and are read back every ``log_every`` steps, so the hot loop
never waits on the host; on CUDA it runs under autocast (bf16 on compute capability 8.0 and newer,
else fp16 with a GradScaler per player: ``gancourse.precision``);
convolutions run channels_last on CUDA and on the CPU. With ``cfg.unroll_steps = K > 0`` the
generator step is that of the unrolled GAN (Metz et al. 2017; ``gancourse.unrolled``).
The loop never branches on the loss: it looks up ``losses.GAME_LOSSES[cfg.loss]`` (D's and G's losses,
how to read D's output) and ``losses.penalties_for(...)`` (WGAN-GP's gradient penalty, R1), so a new
loss or penalty is a registry entry, not a new branch here. Class labels work the same way: the loop
looks up ``conditioning.CONDITIONS[cfg.condition]`` and asks it for the real batch and its labels, the
fakes' labels, how to call G and D, and the extra loss terms (AC-GAN's); "none" draws nothing extra.
With ``cfg.ema_half_life > 0`` an average of G's weights (``gancourse.ema``) follows every generator
step; ``sample(ema=True)`` draws from it.
Mixed precision follows the PyTorch AMP docs ("Automatic Mixed Precision examples"): autocast wraps
the forward passes and the losses only, never a backward pass, and the gradient penalty, which
differentiates a gradient, runs in float32 outside autocast.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from . import conditioning, losses
from .checkpoint import CHECKPOINT_FORMAT, CheckpointError, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .device import autocast_dtype, canonical_device, pick_device
from .ema import EMA, decay_from_half_life
from .history import STAT_KEYS, History, TrainingDiverged
from .precision import MixedPrecision
from .unrolled import unrolled_parameters

__all__ = ["Trainer", "TrainingDiverged", "History", "STAT_KEYS", "train_gan"]


MAX_AMP_SKIPS_IN_A_ROW = 50
"""Steps in a row with a skipped update after which an fp16 run counts as diverged. Each skip halves
its player's loss scale; in 50 such steps one of the two players skipped at least 25 times, which
takes GradScaler's default scale 2**16 below 2**-9. A gradient that still overflows fp16 (65504) is
then above 3e7 unscaled: the run is no longer finding its scale, it is diverging."""


def _require_config(cfg) -> None:
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}; build one with TrainConfig(...) "
                        "or preset(...)")


Callback = Callable[["Trainer"], "bool | None"]


class Trainer(MixedPrecision):
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
        callbacks = list(callbacks)
        for callback in callbacks:
            if not callable(callback):
                raise TypeError(f"callbacks must be callables taking the trainer, got {callback!r}")
        if callback_every is not None and (isinstance(callback_every, bool) or not isinstance(callback_every, int)
                                           or callback_every < 1):
            raise ValueError(f"callback_every must be None (every log_every steps) or an integer >= 1, "
                             f"got callback_every={callback_every!r}")
        cfg.validate()
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
        self._fake_for_g: tuple | None = None  # the D step's (fakes, labels), when cfg.reuse_fakes
        self.noise = torch.Generator(device=self.device)
        self.noise.manual_seed(cfg.seed + 1)
        fixed = torch.Generator().manual_seed(cfg.seed + 2)
        self.fixed_z = torch.randn(64, cfg.z_dim, generator=fixed).to(self.device)
        self.step = 0
        self.history = History()
        self.callbacks = callbacks
        self.callback_every = callback_every or cfg.log_every
        self._pending: list[torch.Tensor] = []
        self._skips_in_a_row = 0  # steps with an fp16 update skipped, counted where flush() reads them
        self._stop = False
        self.game = losses.game_loss(cfg.loss)
        self.penalties = losses.penalties_for(cfg.loss, cfg.r1_gamma)
        self.condition = conditioning.condition_entry(cfg.condition)
        self.num_classes = self.condition.check(G, D, sampler)  # K, or None for an unconditional run
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

    # --- one step -------------------------------------------------------------------------------
    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.z_dim, generator=self.noise, device=self.device)

    def _generate(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(G(z) or G(z, y), y) for fresh z and the labels the conditioning draws (None: nothing drawn)."""
        y = self.condition.fake_labels(n, self.num_classes, self.noise, self.device)
        return self.condition.generate(self.G_fwd, self._z(n), y), y

    def _discriminator_step(self, keep_fake: bool = False) -> tuple[torch.Tensor, ...]:
        cfg = self.cfg
        real, y_real = self.condition.real_batch(self.sampler, cfg.batch_size)
        if self.channels_last and real.dim() == 4:
            real = real.contiguous(memory_format=torch.channels_last)
        if keep_fake:
            # reuse_fakes: build the graph through G now; D trains on the detached copy and the
            # generator step backpropagates through the same batch (the DCGAN tutorial's loop).
            with self._autocast():
                self._fake_for_g = self._generate(cfg.batch_size)
            fake, y_fake = self._fake_for_g[0].detach(), self._fake_for_g[1]
        else:
            with torch.no_grad(), self._autocast():
                fake, y_fake = self._generate(cfg.batch_size)  # no graph through G: this step trains D only
        loss, gp, real_out, fake_out = self._discriminator_objective(self.D_fwd, self.D, real, fake, y_real, y_fake)
        grad_norm, skipped = self._optimizer_step(loss + gp, self.opt_d, self.D, self.scaler_d)
        if cfg.clip is not None:
            losses.clip_weights_(self.D, cfg.clip)
        if self.game.logits:
            d_real, d_fake = torch.sigmoid(real_out).mean(), torch.sigmoid(fake_out).mean()
        else:
            d_real, d_fake = real_out.mean(), fake_out.mean()
        w_estimate = real_out.mean() - fake_out.mean()
        return (loss.detach(), d_real.detach(), d_fake.detach(), grad_norm, gp.detach(), w_estimate.detach(),
                skipped)

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

    def _unrolled_discriminator(self, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """D's parameters after ``cfg.unroll_steps`` differentiable optimiser steps on one real batch and
        ``fake`` (``unrolled.unrolled_parameters``): weight clipping and the penalties apply inside the
        unroll; precision as in the D step. Cost: about K extra forward-backward passes of D per
        generator step, plus the backward pass through them.
        """
        cfg = self.cfg
        real = self.sampler.sample(cfg.batch_size)
        if self.channels_last and real.dim() == 4:
            real = real.contiguous(memory_format=torch.channels_last)

        def objective(critic):
            loss, penalty, _, _ = self._discriminator_objective(critic, critic, real, fake)
            return loss + penalty

        return unrolled_parameters(self.D, self.opt_d, objective, steps=cfg.unroll_steps,
                                   betas=(cfg.beta1, cfg.beta2), clip=cfg.clip)

    def _generator_step(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self.D.requires_grad_(False)  # G's update needs gradients w.r.t. G only
        generated, self._fake_for_g = self._fake_for_g, None
        if generated is None:
            with self._autocast():
                generated = self._generate(self.cfg.batch_size)
        fake, y = generated
        # The unroll takes backward passes: it enters autocast for its forward passes only.
        unrolled = self._unrolled_discriminator(fake) if self.cfg.unroll_steps else None  # unconditional only
        with self._autocast():
            if unrolled is not None:
                fake_out, fake_cls = torch.func.functional_call(self.D, unrolled, (fake,)), None
            else:
                fake_out, fake_cls = self.condition.discriminate(self.D_fwd, fake, y)
            loss = self.game.g_loss(fake_out.float()) + self.condition.g_aux(fake_cls, y)
        grad_norm, skipped = self._optimizer_step(loss, self.opt_g, self.G, self.scaler_g)
        self.D.requires_grad_(True)
        return loss.detach(), grad_norm, skipped

    def train_step(self) -> None:
        """One generator step preceded by ``n_critic`` discriminator steps; stats stay on device.

        Example:
            >>> t = train_gan("ring", steps=1, z_dim=4, batch_size=8, device="cpu", progress=False)
            >>> t.train_step(); t.step
            2
        """
        skips = torch.zeros((), device=self.device)
        for k in range(self.cfg.n_critic):
            last = k == self.cfg.n_critic - 1
            loss_d, d_real, d_fake, gn_d, gp, w, skip_d = self._discriminator_step(
                keep_fake=last and self.cfg.reuse_fakes)
            skips = skips + skip_d
        loss_g, gn_g, skip_g = self._generator_step()
        if self.ema is not None:
            self.ema.update(self.G)
        self.step += 1
        self._pending.append(torch.stack([torch.tensor(float(self.step), device=self.device),
                                          loss_d, loss_g, d_real, d_fake, gn_d, gn_g, gp, w, skips + skip_g]).float())

    # --- the loop ------------------------------------------------------------------------------
    def train(self, steps: int | None = None, progress: bool = True) -> History:
        """Train until ``cfg.steps`` generator steps are done (or ``steps`` more, if given).

        Returns the history; raises ``TrainingDiverged`` (history kept up to the last finite step).
        A stop request (``request_stop()`` or a callback returning True) ends it after the
        current step, so ``step``, the weights and the history stay consistent and ``save`` can
        be called right after.

        Example:
            >>> t = Trainer.from_names("ring", "mlp", TrainConfig(steps=4, z_dim=4, batch_size=8, device="cpu"))
            >>> t.train(progress=False)["step"][-1], t.train(steps=2, progress=False)["step"][-1]
            (4, 6)
        """
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 0):
            raise ValueError(f"steps must be None (train up to cfg.steps) or an integer >= 0, got steps={steps!r}")
        target = self.cfg.steps if steps is None else self.step + steps
        self._stop = False
        bar = tqdm(total=target, initial=self.step, disable=not progress, desc="training", leave=False)
        try:
            while self.step < target and not self._stop:
                self.train_step()
                if self.step % self.cfg.log_every == 0 or self.step == target:
                    self.flush()
                    bar.n = self.step
                    bar.set_postfix(loss_d=f"{self.history.last('loss_d'):.3f}",
                                    loss_g=f"{self.history.last('loss_g'):.3f}", refresh=False)
                    bar.refresh()
                if self.step % self.callback_every == 0 or self.step == target:
                    self.flush()
                    for callback in self.callbacks:
                        if callback(self):
                            self._stop = True
        finally:
            bar.close()
            self.flush()
        return self.history

    def request_stop(self) -> None:
        """Ask a running ``train()`` to stop after the current step (e.g. from a Stop button).

        Safe to call from another thread or a signal handler. A request made while no
        ``train()`` runs is dropped: the next ``train()`` starts afresh.

        Example:
            >>> t = Trainer.from_names("ring", "mlp", TrainConfig(steps=50, z_dim=4, batch_size=8, device="cpu"),
            ...                        callbacks=[lambda tr: tr.step == 3 and tr.request_stop()], callback_every=1)
            >>> len(t.train(progress=False))
            3
        """
        self._stop = True

    def flush(self) -> None:
        """Read pending statistics back from the device (one sync) and check them for NaN/Inf.

        A NaN gradient norm on an update that the fp16 GradScaler skipped is no divergence (the
        step's ``amp_skips`` counts it); a non-finite loss or statistic is, and so are more than
        ``MAX_AMP_SKIPS_IN_A_ROW`` steps in a row with a skipped update.

        Example:
            >>> t = train_gan("ring", steps=1, z_dim=4, batch_size=8, device="cpu", progress=False)
            >>> t.train_step(); len(t.history), (t.flush(), len(t.history))[1]
            (1, 2)
        """
        if not self._pending:
            return
        rows = torch.stack(self._pending).cpu().tolist()
        self._pending.clear()
        for row in rows:
            step, stats = int(row[0]), dict(zip(STAT_KEYS, row[1:]))
            skipped = stats["amp_skips"] > 0
            for key, value in stats.items():
                if not math.isfinite(value) and not (skipped and key.startswith("grad_norm")):
                    raise TrainingDiverged(step, key, value)
            self._skips_in_a_row = self._skips_in_a_row + 1 if skipped else 0
            if self._skips_in_a_row > MAX_AMP_SKIPS_IN_A_ROW:
                key = "grad_norm_d" if math.isnan(stats["grad_norm_d"]) else "grad_norm_g"
                raise TrainingDiverged(step, key, stats[key], f"the fp16 GradScaler skipped an update in "
                                       f"{self._skips_in_a_row} steps in a row: the gradients overflow at any scale")
            self.history["step"].append(step)
            for key, value in zip(STAT_KEYS, row[1:]):
                self.history[key].append(value)

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

    # --- checkpoints -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue the same trajectory: weights, optimiser and RNG states, and
        the average of G (key ``G_ema``) when there is one.

        Example:
            >>> t = Trainer.from_names("ring", "mlp", TrainConfig(z_dim=4, device="cpu"))
            >>> sorted(t.state_dict())[:4]
            ['D', 'G', 'config', 'format']
        """
        self.flush()
        extra = {} if self.ema is None else {"G_ema": self.ema.state_dict()}
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.cfg.to_dict(),
            "setup": getattr(self, "setup", None),
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "noise_rng": self.noise.get_state(),
            "sampler": self.sampler.state_dict(),
            "history": self.history.to_dict(),
            **extra,
        }

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
        """Restore a checkpoint written by ``save`` (read with ``weights_only=True``).

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
        state = load_checkpoint(path, map_location="cpu")
        missing = [k for k in ("G", "D", "opt_g", "opt_d", "step", "history") if k not in state]
        if missing:
            raise CheckpointError(f"{path} is missing {', '.join(missing)}; it is not a training checkpoint")
        saved = state.get("config") if isinstance(state.get("config"), dict) else {}
        for key, default in (("optimizer", self.cfg.optimizer), ("condition", "none")):
            if saved.get(key, default) != getattr(self.cfg, key):
                raise CheckpointError(f"{path} was saved with {key}={saved.get(key, default)!r} but this trainer uses "
                                      f"{key}={getattr(self.cfg, key)!r}; build it with the checkpoint's config "
                                      "(TrainConfig.from_dict(load_checkpoint(path)['config']))")
        # load_state_dict copies matching tensors before it reports a mismatch: keep the old ones to restore.
        modules = (self.G, self.D) + (() if self.ema is None else (self.ema.module,))
        backup = [(m, {k: v.clone() for k, v in m.state_dict().items()}) for m in modules]
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            if self.ema is not None and state.get("G_ema") is not None:
                self.ema.load_state_dict(state["G_ema"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
        except (RuntimeError, ValueError, KeyError, TypeError) as err:
            for module, weights in backup:
                module.load_state_dict(weights)
            raise CheckpointError(f"{path} was saved from a different model shape than this trainer's: "
                                  f"{str(err).splitlines()[0] if str(err) else type(err).__name__}") from err
        self._apply_hyperparameters()
        if self.ema is not None and state.get("G_ema") is None:
            warnings.warn(f"{path} holds no average of G's weights (it was trained without ema_half_life); the "
                          "average restarts from the checkpoint's G", UserWarning, stacklevel=2)
            self.ema = EMA(self.G, self.ema.decay)
        # A checkpoint from a disabled scaler (CPU, bf16) is empty; a fresh fp16 scaler is as good.
        # Checkpoints written before the scaler per player hold one "scaler", which both continue from.
        for key, scaler in (("scaler_d", self.scaler_d), ("scaler_g", self.scaler_g)):
            if state.get(key, state.get("scaler")):
                scaler.load_state_dict(state.get(key, state.get("scaler")))
        self._restore_rng(path, self.noise.set_state, state.get("noise_rng"), "noise")
        self._restore_rng(path, self.sampler.load_state_dict, state.get("sampler"), "sampler")
        self.step = int(state["step"])
        self.history = History(state["history"])
        self._skips_in_a_row = 0
        return self

    def _apply_hyperparameters(self) -> None:
        for opt, lr in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = (self.cfg.beta1, self.cfg.beta2)

    @staticmethod
    def _restore_rng(path, restore: Callable, saved, what: str) -> None:
        try:
            if saved is None:
                raise KeyError(what)
            restore(saved)
        except (RuntimeError, KeyError, TypeError) as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            warnings.warn(f"{path}: the {what} random-number state cannot be restored here ({reason}), probably "
                          "because it was saved on another device type; training continues with fresh random "
                          "numbers, so it will not repeat the original run exactly", UserWarning, stacklevel=3)


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

"""Running the training step over and over: ``Trainer.train``, stop requests and the divergence check.

Split from ``gancourse.train``: ``Trainer`` inherits ``TrainingRun``, which calls its ``train_step``
(Algorithm 1) until the step budget is spent, shows a progress bar, calls the callbacks, and every
``log_every`` steps reads the statistics (``history.StepStats``) back from the device in one sync and
checks them: a loss or statistic that is NaN or infinite, or a loss or gradient norm past
``divergence.DIVERGENCE_BOUND``, stops the run with ``TrainingDiverged``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from tqdm.auto import tqdm

from .divergence import check_bounded
from .history import History, StepStats, TrainingDiverged

__all__ = ["TrainingRun", "MAX_AMP_SKIPS_IN_A_ROW"]


MAX_AMP_SKIPS_IN_A_ROW = 50
"""Steps in a row with a skipped update after which an fp16 run counts as diverged. Each skip halves
its player's loss scale; in 50 such steps one of the two players skipped at least 25 times, which
takes GradScaler's default scale 2**16 below 2**-9. A gradient that still overflows fp16 (65504) is
then above 3e7 unscaled: the run is no longer finding its scale, it is diverging."""



class TrainingRun:
    """The run control of ``Trainer``, which provides ``cfg`` and ``train_step`` (appending each step's
    statistics as one device tensor to ``_pending``) and calls ``_start_run`` when it is built.

    Example:
        >>> from gancourse.train import Trainer
        >>> issubclass(Trainer, TrainingRun)
        True
    """

    def _start_run(self, cfg, callbacks: Iterable, callback_every: int | None) -> None:
        """Step 0, an empty history, the callbacks checked."""
        callbacks = list(callbacks)
        for callback in callbacks:
            if not callable(callback):
                raise TypeError(f"callbacks must be callables taking the trainer, got {callback!r}")
        if callback_every is not None and (isinstance(callback_every, bool) or not isinstance(callback_every, int)
                                           or callback_every < 1):
            raise ValueError(f"callback_every must be None (every log_every steps) or an integer >= 1, "
                             f"got callback_every={callback_every!r}")
        self.step = 0
        self.history = History()
        self.callbacks = callbacks
        self.callback_every = callback_every or cfg.log_every
        self._pending: list[torch.Tensor] = []
        self._skips_in_a_row = 0  # steps with an fp16 update skipped, counted where flush() reads them
        self._stop = False

    def train(self, steps: int | None = None, progress: bool = True) -> History:
        """Train until ``cfg.steps`` generator steps are done (or ``steps`` more, if given).

        Returns the history; raises ``TrainingDiverged`` (history kept up to the last finite step).
        A stop request (``request_stop()`` or a callback returning True) ends it after the
        current step, so ``step``, the weights and the history stay consistent and ``save`` can
        be called right after.

        Example:
            >>> from gancourse.train import Trainer, TrainConfig
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
            >>> from gancourse.train import Trainer, TrainConfig
            >>> t = Trainer.from_names("ring", "mlp", TrainConfig(steps=50, z_dim=4, batch_size=8, device="cpu"),
            ...                        callbacks=[lambda tr: tr.step == 3 and tr.request_stop()], callback_every=1)
            >>> len(t.train(progress=False))
            3
        """
        self._stop = True

    def flush(self) -> None:
        """Read pending statistics back from the device (one sync) and check them for NaN/Inf and for
        losses or gradient norms past ``divergence.DIVERGENCE_BOUND``.

        A NaN gradient norm on an update that the fp16 GradScaler skipped is no divergence (the
        step's ``amp_skips`` counts it); a non-finite loss or statistic is, and so are more than
        ``MAX_AMP_SKIPS_IN_A_ROW`` steps in a row with a skipped update.

        Example:
            >>> from gancourse.train import train_gan
            >>> t = train_gan("ring", steps=1, z_dim=4, batch_size=8, device="cpu", progress=False)
            >>> t.train_step(); len(t.history), (t.flush(), len(t.history))[1]
            (1, 2)
        """
        if not self._pending:
            return
        rows = torch.stack(self._pending).cpu().tolist()
        self._pending.clear()
        for row in rows:
            step, stats = int(row[0]), StepStats(*row[1:])
            skipped = stats.amp_skips > 0
            for key, value in stats._asdict().items():
                if not math.isfinite(value) and not (skipped and key.startswith("grad_norm")):
                    raise TrainingDiverged(step, key, value)
            check_bounded(step, stats)  # finite but beyond any learning run (divergence.DIVERGENCE_BOUND)
            self._skips_in_a_row = self._skips_in_a_row + 1 if skipped else 0
            if self._skips_in_a_row > MAX_AMP_SKIPS_IN_A_ROW:
                key = "grad_norm_d" if math.isnan(stats.grad_norm_d) else "grad_norm_g"
                raise TrainingDiverged(step, key, getattr(stats, key), f"the fp16 GradScaler skipped an update in "
                                       f"{self._skips_in_a_row} steps in a row: the gradients overflow at any scale")
            self.history.append(step, stats)

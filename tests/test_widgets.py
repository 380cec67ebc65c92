"""The dashboard, driven the way a learner drives it: set widget values, click buttons.

`make test` runs this file twice: with the venv's ipywidgets 8 and with Colab's ipywidgets 7.7.1.
"""
import os
import time
import warnings

import ipywidgets
import pytest
import torch

from gancourse.train import History
from gancourse.widgets import CONTROLS, Dashboard, figure_png, live_figure

PNG = b"\x89PNG\r\n\x1a\n"


def _dash(**kw):
    return Dashboard(**{"data": "ring", "steps": 40, "plot_every": 10, "z_dim": 8, "device": "cpu", **kw})


def test_train_button_runs_with_the_widget_values_and_updates_the_plot():
    dash = _dash()
    dash.controls["lr_g"].value = 1e-3
    dash.controls["n_critic"].value = 2
    dash.controls["batch_size"].value = 32
    before = dash.plot.value
    dash.train_button.click()
    dash.wait(timeout=120)
    assert len(dash.runs) == 1
    run = dash.runs[0]
    assert run.status == "finished" and len(run.history) == 40
    assert (run.cfg.lr_g, run.cfg.n_critic, run.cfg.batch_size) == (pytest.approx(1e-3), 2, 32)
    assert bytes(dash.plot.value).startswith(PNG) and dash.plot.value != before
    assert not dash.train_button.disabled and dash.stop_button.disabled


def test_stop_mid_run_keeps_the_history():
    dash = _dash(steps=1_000_000, plot_every=5)
    dash.train_button.click()
    deadline = time.time() + 60
    while len(dash.current.history) < 5 and time.time() < deadline:
        time.sleep(0.05)
    dash.stop_button.click()
    dash.wait(timeout=60)
    run = dash.runs[-1]
    assert run.status == "stopped"
    assert 5 <= len(run.history) < 1_000_000
    assert run.history["step"] == list(range(1, len(run.history) + 1))


def test_loss_switch_loads_paper_settings_and_clip_flag():
    dash = _dash()
    dash.controls["loss"].value = "wgan"
    v = dash.values()
    assert (v["optimizer"], v["lr_d"], v["n_critic"], v["clip_on"]) == ("rmsprop", 5e-5, 5, True)
    assert dash.config().clip == pytest.approx(0.01)
    dash.controls["loss"].value = "wgan-gp"
    cfg = dash.config()
    assert (cfg.beta1, cfg.beta2, cfg.n_critic, cfg.clip, cfg.gp_lambda) == (0.0, 0.9, 5, None, 10.0)
    dash.controls["loss"].value = "nsgan"
    assert dash.config().n_critic == 1 and dash.config().optimizer == "adam"


def test_critic_loss_unticks_batch_norm_and_a_tick_is_run_with_a_note():
    dash = _dash(data="digits", model="dcgan", loss="nsgan", batch_norm=True, width=4, steps=2, plot_every=2,
                 batch_size=16)
    dash.controls["loss"].value = "wgan-gp"
    assert dash.values()["batch_norm"] is False  # the paper's critic: no batch norm
    run = dash.run(wait=True)
    assert run.status == "finished"
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in dash._trainer.D.modules())
    dash.controls["batch_norm"].value = True  # lesson 4's experiment: asked for, it runs, with a note
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the note is the message line, not a warning printed under the cell
        run = dash.run(wait=True)
    assert run.status == "finished" and "batch norm in a wgan-gp critic" in dash.message.value
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in dash._trainer.D.modules())
    dash.controls["loss"].value = "wgan"
    assert dash.values()["batch_norm"] is False
    dash.controls["loss"].value = "nsgan"
    assert dash.values()["batch_norm"] is True  # back to the dashboard's own starting value


def test_invalid_combination_is_a_message_not_a_traceback():
    dash = _dash()
    dash.controls["model"].value = "dcgan"  # convolutions on 2-D points
    assert dash.run() is None
    assert "use model='mlp'" in dash.message.value and not dash.runs
    dash.controls["model"].value = "mlp"
    dash.controls["steps"].value = 0
    assert dash.run() is None and "steps=0" in dash.message.value


def test_learning_rate_zero_cannot_be_entered():
    dash = _dash()
    dash.controls["lr_d"].value = 0.0
    assert dash.config().lr_d > 0  # the log slider clamps to its minimum


def test_divergence_is_shown_and_history_kept(monkeypatch):
    # RMSprop/Adam bound each step by the learning rate, so the sliders' range cannot overflow
    # float32 within a test's budget; poison D's weights at step 12 instead, as an overflow would.
    from gancourse.train import Trainer

    original = Trainer._discriminator_step

    def poisoned(self, *args, **kwargs):
        if self.step == 11:
            next(self.D.parameters()).data.fill_(float("nan"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "_discriminator_step", poisoned)
    dash = _dash(steps=100, plot_every=5)
    dash.run(wait=True)
    run = dash.runs[-1]
    assert run.status == "diverged", run.summary()
    assert "diverged at step 12" in dash.message.value
    assert run.history["step"] == list(range(1, 12))  # every finite step before the bad one is kept
    assert not dash.train_button.disabled


def test_compare_shows_finished_runs_and_reset_clears_them():
    dash = _dash(steps=20)
    dash.run(wait=True)
    dash.controls["lr_d"].value = 1e-2
    dash.run(wait=True)
    fig = dash.compare()
    assert len(fig.axes) == 4  # two runs x (samples, curves)
    assert dash.compare_plot.layout.display == "none"  # an empty Image would show a broken-image icon
    dash.compare_button.click()
    assert bytes(dash.compare_plot.value).startswith(PNG)
    assert dash.compare_plot.layout.display is None
    dash.reset()
    assert dash.runs == [] and dash.values()["lr_d"] == pytest.approx(2e-4)
    assert dash.compare_plot.layout.display == "none"
    with pytest.raises(ValueError, match="no finished runs"):
        dash.compare()


def test_image_dataset_shows_a_sample_grid():
    dash = _dash(data="digits", steps=3, plot_every=3, batch_size=16)
    dash.run(wait=True)
    run = dash.runs[-1]
    assert run.status == "finished" and run.final.real is None and run.final.fake.shape[1:] == (1, 28, 28)


def test_controls_subset_and_bad_names():
    dash = _dash(controls=("lr_g", "lr_d"))
    assert dash.shown == ("lr_g", "lr_d")
    with pytest.raises(ValueError, match="'lr'.*data, model"):
        Dashboard(controls=("lr",))
    with pytest.raises(ValueError, match="'learning_rate'"):
        Dashboard(learning_rate=1e-3)
    assert set(CONTROLS) == set(dash.controls)


def test_live_figure_renders_without_pyplot():
    assert figure_png(live_figure(None, History())).startswith(PNG)


def test_runs_against_the_expected_ipywidgets_major_version():
    expected = os.environ.get("GANCOURSE_EXPECT_IPYWIDGETS")
    if not expected:
        pytest.skip("GANCOURSE_EXPECT_IPYWIDGETS not set (only the ipywidgets-7 run of make test sets it)")
    assert ipywidgets.__version__.split(".")[0] == expected


def test_long_runs_still_redraw_every_few_hundred_steps():
    from gancourse.widgets.dashboard import MAX_PLOT_EVERY

    dash = Dashboard(data="ring", steps=100_000, z_dim=8, device="cpu")
    run = dash.run()
    assert dash._trainer.callback_every == MAX_PLOT_EVERY == 250  # not 100_000 // 20
    dash.stop()
    dash.wait(timeout=120)
    assert run.status == "stopped" and dash._trainer.step < 100_000

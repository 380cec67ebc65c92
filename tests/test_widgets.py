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


# --- lesson 6: R1 gamma, spectral norm, EMA decay (issue 18) --------------------------------------------------

LESSON6 = ("r1_gamma", "spectral_norm", "ema_decay", "lr_g", "lr_d")


def _is_spectrally_normalised(module: torch.nn.Module) -> bool:
    from torch.nn.utils import parametrize

    layers = [m for m in module.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    return bool(layers) and all(parametrize.is_parametrized(m, "weight") for m in layers)


def test_lesson6_shows_exactly_its_knobs_and_the_default_view_hides_them():
    from gancourse.widgets.dashboard import DEFAULT_CONTROLS

    dash = _dash(controls=LESSON6)
    assert dash.shown == LESSON6
    shown = [w for box in dash.widget.children[0].children for w in box.children]
    assert shown == [dash.controls[name] for name in CONTROLS if name in LESSON6]  # the five, nothing else
    default = _dash()
    assert default.shown == DEFAULT_CONTROLS and not set(LESSON6[:3]) & set(default.shown)
    cfg = default.config()  # hidden, the stabilisers stay off
    assert (cfg.r1_gamma, cfg.ema_half_life, default.values()["spectral_norm"]) == (0.0, 0.0, False)
    assert "hinge" in dash.controls["loss"].options  # from config.LOSSES


def test_r1_slider_sets_r1_gamma_with_an_explicit_off():
    dash = _dash(controls=LESSON6)
    slider = dash.controls["r1_gamma"]
    assert slider.label == "off" and slider.index == 0 and dash.config().r1_gamma == 0.0
    slider.value = 10.0
    assert slider.label == "10" and dash.config().r1_gamma == 10.0
    slider.value = 0.01
    assert dash.config().r1_gamma == pytest.approx(0.01)


def test_ema_slider_shows_the_decay_and_stores_the_half_life():
    from gancourse.ema import decay_from_half_life, half_life

    dash = _dash(controls=LESSON6)
    slider = dash.controls["ema_decay"]
    assert slider.label == "off" and dash.config().ema_half_life == 0.0
    slider.value = 0.999
    cfg = dash.config()
    assert slider.label == "0.999"
    assert cfg.ema_half_life == pytest.approx(half_life(0.999)) == pytest.approx(692.8, abs=0.1)
    assert decay_from_half_life(cfg.ema_half_life) == pytest.approx(0.999)


def test_initial_values_off_the_stops_join_the_slider_and_bad_ones_are_clear_errors():
    dash = _dash(r1_gamma=5, ema_decay=0.998)
    assert dash.config().r1_gamma == 5.0 and dash.controls["r1_gamma"].label == "5"
    assert dash.controls["ema_decay"].label == "0.998"
    dash.controls["r1_gamma"].value = 3.0  # the usual stops are still there, around the added one
    dash.controls["r1_gamma"].value = 10.0
    assert dash.config().r1_gamma == 10.0
    with pytest.raises(ValueError, match=r"r1_gamma must be a finite number >= 0 .*got r1_gamma=-1"):
        Dashboard(r1_gamma=-1)
    with pytest.raises(ValueError, match=r"ema_decay must be a decay beta in \[0, 1\).*got ema_decay=1.0"):
        Dashboard(ema_decay=1.0)
    with pytest.raises(ValueError, match="spectral_norm must be True or False"):
        Dashboard(spectral_norm="yes")


def test_spectral_norm_tick_builds_a_normalised_d_and_r1_reaches_the_loop():
    dash = _dash(controls=LESSON6, steps=6, plot_every=3)
    dash.controls["spectral_norm"].value = True
    dash.controls["r1_gamma"].value = 10.0
    run = dash.run(wait=True)
    assert run.status == "finished" and len(run.history) == 6
    assert _is_spectrally_normalised(dash._trainer.D) and run.setup["spectral_norm"] is True
    assert run.cfg.r1_gamma == 10.0
    assert [p.weight_field for p in dash._trainer.penalties] == ["r1_gamma"]
    assert "R1 10" in run.label and "SN" in run.label.split(", ")
    dash.controls["spectral_norm"].value = False
    dash.controls["r1_gamma"].value = 0.0
    run = dash.run(wait=True)
    assert not _is_spectrally_normalised(dash._trainer.D) and run.setup["spectral_norm"] is False
    assert dash._trainer.penalties == () and "SN" not in run.label.split(", ")


def test_with_ema_on_the_live_samples_come_from_the_average():
    dash = _dash(controls=LESSON6, steps=30, plot_every=10)
    dash.controls["ema_decay"].value = 0.9
    run = dash.run(wait=True)
    trainer = dash._trainer
    assert run.status == "finished" and trainer.ema is not None and "EMA 0.9" in run.label
    assert run.final.ema is True
    assert torch.equal(run.final.fake, trainer.sample(z=dash._z, ema=True))  # the average, not G
    assert not torch.allclose(run.final.fake, trainer.sample(z=dash._z))
    dash.controls["ema_decay"].value = 0.0
    run = dash.run(wait=True)
    assert run.final.ema is False and torch.equal(run.final.fake, dash._trainer.sample(z=dash._z))
    images = _dash(data="digits", steps=3, plot_every=3, batch_size=16, ema_decay=0.9).run(wait=True)
    assert images.status == "finished" and images.final.ema is True and images.final.fake.shape[1:] == (1, 28, 28)


def test_an_average_longer_than_the_run_is_trained_with_a_note():
    dash = _dash(controls=LESSON6, steps=20, plot_every=10, ema_decay=0.9999)
    run = dash.run(wait=True)
    assert run.status == "finished"
    assert "half-life of 6931 generator steps, longer than this run of 20" in dash.message.value


def test_spectral_norm_with_weight_clipping_is_the_dashboards_message_not_a_traceback():
    dash = _dash(loss="wgan", spectral_norm=True)
    assert dash.values()["clip_on"] is False  # WGAN with SN: SN is the constraint, no clipping on top
    dash.controls["clip_on"].value = True
    assert dash.run() is None and not dash.runs
    message = dash.message.value
    assert "cannot train with these settings" in message and "choose one" in message and "Traceback" not in message
    dash.controls["clip_on"].value = False
    run = dash.run(wait=True)
    assert run.status == "finished" and run.cfg.clip is None and _is_spectrally_normalised(dash._trainer.D)
    dash.controls["loss"].value = "nsgan"
    dash.controls["loss"].value = "wgan"  # switching to WGAN with SN ticked leaves clipping off
    assert dash.values()["clip_on"] is False
    dash.controls["spectral_norm"].value = False
    dash.controls["loss"].value = "nsgan"
    dash.controls["loss"].value = "wgan"  # without SN the paper's clipping comes back
    assert dash.values()["clip_on"] is True


def test_hinge_loss_trains_from_the_dashboard_with_sn_and_reset_restores_the_stabilisers():
    dash = _dash(controls=("loss",) + LESSON6, steps=5, plot_every=5)
    dash.controls["loss"].value = "hinge"
    dash.controls["spectral_norm"].value = True
    dash.controls["ema_decay"].value = 0.99
    run = dash.run(wait=True)
    assert run.status == "finished" and run.cfg.loss == "hinge"
    dash.reset()
    v = dash.values()
    assert (v["loss"], v["spectral_norm"], v["ema_decay"], v["r1_gamma"]) == ("nsgan", False, 0.0, 0.0)


# --- lesson 5: the condition control --------------------------------------------------------------------------

LESSON5 = ("data", "condition", "steps", "seed")


def test_condition_control_is_hidden_by_default_and_passes_through_to_the_config():
    from gancourse.widgets.dashboard import DEFAULT_CONTROLS

    assert "condition" in CONTROLS and "condition" not in DEFAULT_CONTROLS
    assert _dash().config().condition == "none"
    dash = _dash(data="grid", controls=LESSON5, condition="projection")
    assert list(dash.controls["condition"].options) == ["none", "concat", "acgan", "projection"]
    shown = [w for box in dash.widget.children[0].children for w in box.children]
    assert dash.controls["condition"] in shown
    assert dash.config().condition == "projection"
    dash.controls["condition"].value = "acgan"
    assert dash.config().condition == "acgan"


@pytest.mark.parametrize("condition", ["concat", "acgan", "projection"])
def test_a_conditional_run_trains_on_labelled_2d_data_with_a_heatmap(condition):
    dash = _dash(data="grid", controls=LESSON5, condition=condition, steps=6, plot_every=3)
    run = dash.run(wait=True)
    assert run.status == "finished", dash.message.value
    assert run.setup["condition"] == condition and run.setup["num_classes"] == 25
    assert run.final.heat is not None and torch.isfinite(run.final.heat).all()
    assert run.final.heat.shape == (80, 80) and f"cond {condition}" in run.label
    assert bytes(dash.plot.value).startswith(PNG)


def test_a_conditional_run_on_unlabelled_data_is_a_clear_message():
    dash = _dash(data="spiral", controls=LESSON5, condition="concat")
    assert dash.run(wait=True) is None and not dash.runs
    text = dash.message.value
    assert "cannot train with these settings" in text and "needs class labels" in text
    assert "'spiral' has none" in text and "grid" in text and "digits" in text
    dash.controls["condition"].value = "none"
    assert dash.run(wait=True).status == "finished"


def test_a_conditional_image_run_shows_a_sample_grid():
    dash = Dashboard(data="digits", model="dcgan", controls=LESSON5, condition="acgan", steps=2, plot_every=1,
                     z_dim=8, width=4, device="cpu")
    assert dash.run(wait=True) is None and "tick 'batch norm in G and D'" in dash.message.value
    dash.controls["batch_norm"].value = True
    run = dash.run(wait=True)
    assert run.status == "finished", dash.message.value
    assert run.final.real is None and run.final.fake.shape[1:] == (1, 28, 28)


def test_snapshot_draws_raw_scores_for_every_loss_whose_d_is_no_probability():
    from gancourse import TrainConfig
    from gancourse.train import Trainer
    from gancourse.widgets.render import snapshot

    for loss, raw in (("nsgan", False), ("gan", False), ("wgan", True), ("wgan-gp", True), ("hinge", True)):
        trainer = Trainer.from_names("ring", "mlp", TrainConfig(loss=loss, z_dim=4, device="cpu"), width=8)
        snap = snapshot(trainer, real=torch.randn(50, 2))
        assert snap.logits is raw, loss
        if not raw:  # a probability map: sigmoid(D) lies in (0, 1)
            assert 0 < float(snap.heat.min()) and float(snap.heat.max()) < 1

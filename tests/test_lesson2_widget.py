"""The lesson-2 explorer widget, driven programmatically: set values, click, wait, check the curve."""
import time

import pytest

from gancourse.experiments.mixtures import MixtureSetup, build_mixture_trainer
from gancourse.widgets.mode_collapse import REMEDIES, ModeCollapseExplorer, remedy_method, strength_choices

SMALL = MixtureSetup().replace(batch_size=32, z_dim=4, width=16)


def test_remedy_method_maps_strength_to_the_right_knob():
    assert remedy_method("GAN").name == "GAN"
    assert remedy_method("PacGAN", 3).pack == 3
    assert remedy_method("minibatch std", 8).group_size == 8
    assert remedy_method("unrolled GAN", 2).unroll_steps == 2
    wgan = remedy_method("WGAN-GP", 4)
    assert wgan.loss == "wgan-gp" and wgan.n_critic == 4
    assert remedy_method("PacGAN").pack == REMEDIES["PacGAN"][3]
    assert remedy_method("mixture latent", 32).latent_components == 32
    assert remedy_method("mixture latent").latent_components == REMEDIES["mixture latent"][3]
    with pytest.raises(ValueError, match="valid choices"):
        remedy_method("dropout")
    with pytest.raises(ValueError, match=r"pack size m must be an integer in \[2, 8\]"):
        remedy_method("PacGAN", 9)


def _offered(slider) -> list[int]:
    # Every value the learner can pick: a SelectionSlider's options, an IntSlider's whole range.
    if hasattr(slider, "options"):
        return list(slider.options)
    return list(range(slider.min, slider.max + 1, slider.step))


def test_changing_the_remedy_relabels_and_bounds_the_strength_slider():
    ex = ModeCollapseExplorer(data="ring", remedy="unrolled GAN", strength=7, setup=SMALL, device="cpu")
    assert ex.strength.value == 7 and ex.strength.description == "unroll steps K"
    assert _offered(ex.strength) == list(range(1, 11))
    ex.remedy.value = "PacGAN"
    assert (_offered(ex.strength), ex.strength.value) == ([2, 4, 8], 4)  # SMALL's batch is 32
    assert ex.method().pack == 4
    ex.remedy.value = "GAN"
    assert ex.strength.disabled and ex.method().name == "GAN"


@pytest.mark.parametrize("remedy", ["PacGAN", "minibatch std"])
@pytest.mark.parametrize("batch_size", [128, 96])
def test_every_pack_and_group_size_offered_divides_the_batch_and_trains(remedy, batch_size):
    setup = SMALL.replace(batch_size=batch_size)
    ex = ModeCollapseExplorer(data="grid", remedy=remedy, setup=setup, device="cpu")
    offered = _offered(ex.strength)
    assert offered == strength_choices(remedy, batch_size)
    assert offered and all(batch_size % m == 0 for m in offered)
    low, high = REMEDIES[remedy][1:3]
    assert offered == [m for m in range(low, high + 1) if batch_size % m == 0]  # none that works is left out
    for strength in offered:  # each value the slider offers trains
        ex.strength.value = strength
        trainer = build_mixture_trainer("grid", ex.method(), setup.replace(steps=1), device="cpu")
        trainer.train_step()
    with pytest.raises(ValueError, match=r"3 does not divide the batch of 128; valid choices: 2, 4, 8"):
        ModeCollapseExplorer(remedy="PacGAN", strength=3, device="cpu")


def test_clicking_train_records_a_modes_curve_and_blocking_run_matches():
    ex = ModeCollapseExplorer(data="ring", remedy="PacGAN", strength=2, steps=100, setup=SMALL, plot_every=25,
                              device="cpu")
    first_png = ex.plot.value
    ex.train_button.click()  # as a learner would: trains in a background thread
    ex._thread.join(timeout=120)
    run = ex.runs[-1]
    assert run.status == "finished" and run.label == "PacGAN2, seed 0"
    assert [step for step, _, _ in run.curve] == [25, 50, 75, 100]
    assert all(0 <= modes <= 8 and 0.0 <= hq <= 1.0 for _, modes, hq in run.curve)
    assert run.final is not None and run.final.num_modes == 8
    assert ex.plot.value != first_png and ex.plot.value[:4] == b"\x89PNG"
    assert not ex.train_button.disabled and ex.stop_button.disabled

    ex.data.value = "grid"
    ex.remedy.value = "GAN"
    second = ex.run(wait=True)
    assert second.data == "grid" and second.final.num_modes == 25 and len(ex.runs) == 2


def test_stop_button_ends_a_long_run_early():
    ex = ModeCollapseExplorer(data="ring", remedy="GAN", steps=10000, setup=SMALL, plot_every=10, device="cpu")
    run = ex.run()
    deadline = time.monotonic() + 60
    while not run.curve and time.monotonic() < deadline:
        time.sleep(0.01)
    ex.stop_button.click()
    ex._thread.join(timeout=60)
    assert run.status == "stopped"
    assert run.curve and run.curve[-1][0] < 10000
    assert ex.run(wait=False) is not None  # a new run can start once the old one ended
    ex.stop()
    ex._thread.join(timeout=60)


def test_second_run_while_running_is_refused():
    ex = ModeCollapseExplorer(data="ring", steps=10000, setup=SMALL, plot_every=10, device="cpu")
    ex.run()
    try:
        assert ex.run() is None and "already going" in ex.message.value
    finally:
        ex.stop()
        ex._thread.join(timeout=60)


def test_bad_dataset_is_refused():
    with pytest.raises(ValueError, match="'ring' or 'grid'"):
        ModeCollapseExplorer(data="moons")

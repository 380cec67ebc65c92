"""Lesson 2's collapse story: mode shares, the frozen-discriminator demo, and verdicts with uncertainty."""
import math

import pytest
import torch

from gancourse.experiments.collapse import (
    against_baseline,
    best_published,
    collapsed,
    compare_with_published,
    summarize_coverage,
    verdict_lines,
)
from gancourse.experiments.core import verdict
from gancourse.experiments.frozen_d import FROZEN_D_SETUP, discriminator_landscape, frozen_discriminator_demo
from gancourse.experiments.mixtures import MixtureResult
from gancourse.metrics.mixtures import ModeCoverage, mode_shares
from gancourse.remedies.published import PUBLISHED

# --- mode shares ------------------------------------------------------------------------------------


def test_mode_shares_count_every_sample_by_its_nearest_mode():
    centres = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    # nearest: 0, 0, 1, 2, 0 (the last is far from everything but still nearest centre 0)
    points = torch.tensor([[0.1, 0.0], [1.9, 0.0], [2.1, 0.0], [0.0, 3.0], [-9.0, -9.0]])
    assert mode_shares(points, centres).tolist() == pytest.approx([3 / 5, 1 / 5, 1 / 5])
    with pytest.raises(ValueError, match="at least one sample"):
        mode_shares(torch.zeros(0, 2), centres)


# --- the frozen-discriminator demo -------------------------------------------------------------------


def test_landscape_rows_are_y_and_columns_are_x():
    D = torch.nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[0.0, 10.0]]))  # logit 10 * y: real above, fake below
        D.bias.zero_()
    wrapped = torch.nn.Sequential(D, torch.nn.Flatten(0))
    land = discriminator_landscape(wrapped, 1.0, 3)
    assert land[0].tolist() == pytest.approx([torch.sigmoid(torch.tensor(-10.0)).item()] * 3)   # y = -1
    assert land[1].tolist() == pytest.approx([0.5] * 3) and land[2, 0] > 0.99                  # y = 0, y = 1


def test_frozen_d_demo_records_rounds_and_leaves_d_alone_while_g_moves():
    demo = frozen_discriminator_demo("ring", rounds=2, g_steps=6, d_steps=3, d_pretrain=4, record_every=3,
                                     setup=FROZEN_D_SETUP.replace(samples=50), grid_size=7, seed=1)
    assert [(step, rnd) for step, rnd, _, _ in demo.trace] == [(3, 0), (6, 0), (9, 1), (12, 1)]
    assert all(0 <= mode < 8 and 1 / 8 <= share <= 1 for _, _, mode, share in demo.trace)
    assert len(demo.piles) == 2 and demo.piles[0].shape == (50, 2)
    assert len(demo.landscapes) == 2 and demo.landscapes[0].shape == (7, 7)
    # D trained between the rounds (its answer), so the landscape G saw changed
    assert not torch.equal(demo.landscapes[0], demo.landscapes[1])
    assert demo.pile_modes() == [demo.trace[1][2], demo.trace[3][2]]
    assert demo.final_shares() == [demo.trace[1][3], demo.trace[3][3]]


def test_frozen_d_demo_piles_the_samples_onto_one_mode_and_d_moves_the_pile():
    # The phenomenon itself, with the default budget on seed 0 (a tuning seed): against a frozen D, G sends
    # almost every sample to one mode; after D's answer the pile sits at another mode.
    demo = frozen_discriminator_demo("ring", rounds=2, setup=FROZEN_D_SETUP.replace(samples=500), grid_size=5, seed=0)
    assert demo.start[1] < 0.5
    assert min(demo.final_shares()) > 0.9
    first, second = demo.pile_modes()
    assert first != second


@pytest.mark.parametrize("kwargs, message", [
    (dict(data="spiral"), "'ring' or 'grid'"), (dict(rounds=0), "rounds"), (dict(d_pretrain=-1), "d_pretrain"),
    (dict(g_steps=2.5), "g_steps"), (dict(setup=FROZEN_D_SETUP.replace(model="dcgan")), "model 'mlp'"),
    (dict(setup=FROZEN_D_SETUP.replace(samples=0)), "samples"),
])
def test_frozen_d_demo_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        frozen_discriminator_demo(**kwargs)


def test_frozen_d_setup_refuses_a_bad_rate_when_it_is_made():
    with pytest.raises(ValueError, match="lr_g"):
        FROZEN_D_SETUP.replace(lr_g=0.0)


# --- verdicts ------------------------------------------------------------------------------------------


def test_verdict_is_better_only_beyond_two_standard_errors_of_the_difference():
    # 95.0 vs 93.6: gap 1.4; with our se 0.75 the bar is 1.5 -> on par; with se 0.65 it is 1.3 -> better
    assert verdict((95.0, 0.75), 93.6) == "on par"
    assert verdict((95.0, 0.65), 93.6) == "better"
    assert verdict((92.0, 0.7), 93.6) == "worse"
    # the paper's own standard error widens the bar: sqrt(0.6^2 + 0.8^2) = 1, bar 2
    assert verdict((95.5, 0.6), (93.6, 0.8)) == "on par"
    assert verdict((95.7, 0.6), (93.6, 0.8)) == "better"
    # lower is better for the reverse KL
    assert verdict((0.01, 0.01), 0.04, higher_is_better=False) == "better"
    assert verdict((0.05, 0.01), 0.04, higher_is_better=False) == "on par"
    assert verdict((math.inf, math.nan), 0.04, higher_is_better=False) == "worse"
    assert verdict((7.0, math.nan), 7.8) == "undecided (one run)"


def test_best_published_is_chosen_by_value_per_column_including_pacgans_ali_row():
    hq = best_published("grid", "hq_percent")
    assert [(r.method, r.source.split()[0], r.hq_percent) for r in hq] == [("ALI", "PacGAN", 95.7)]
    modes = best_published("grid", "modes")
    assert {r.method for r in modes} == {"PacGAN4", "GDPP-GAN"} and {r.modes for r in modes} == {24.8}
    assert [(r.method, r.kl) for r in best_published("grid", "kl")] == [("PacGAN4", 0.04)]
    assert [(r.method, r.hq_percent) for r in best_published("ring", "hq_percent")] == [("GAN", 99.3)]
    # by hand over the table: the maximum of each column
    for data in ("ring", "grid"):
        rows = [r for r in PUBLISHED if r.data == data]
        assert best_published(data, "modes")[0].modes == max(r.modes for r in rows)
    with pytest.raises(ValueError, match="unknown column"):
        best_published("ring", "fid")


def _runs(data, method, modes, hqs, kls):
    k = 8 if data == "ring" else 25
    return [MixtureResult(method, data, seed, 1.0, ModeCoverage(m, k, h, kl, [1] * k))
            for seed, (m, h, kl) in enumerate(zip(modes, hqs, kls))]


def test_compare_with_published_and_verdict_lines():
    runs = _runs("grid", "mixture latent", [25, 25, 25], [0.97, 0.98, 0.99], [0.01, 0.02, 0.03])
    summary = summarize_coverage([r.coverage for r in runs])
    comparisons = {c["column"]: c for c in compare_with_published(summary, "grid")}
    # modes 25 +- 0 vs 24.8: better; HQ 98 +- 0.577 vs 95.7: gap 2.3 > 1.15: better; KL 0.02 +- 0.0058 vs 0.04: better
    assert [comparisons[c]["verdict"] for c in ("modes", "hq_percent", "kl")] == ["better", "better", "better"]
    assert comparisons["hq_percent"]["theirs"] == 95.7 and comparisons["hq_percent"]["rows"][0].method == "ALI"
    line = verdict_lines(runs, "grid")[0]
    assert line.startswith("* **mixture latent**, grid: modes captured 25.0 ± 0.0 vs 24.8")
    assert "% HQ 98.0 ± 0.6 vs 95.7 [ALI (PacGAN)]: **better**" in line


def test_against_baseline_counts_both_standard_errors():
    runs = (_runs("ring", "GAN", [1, 1, 2], [0.2, 0.1, 0.3], [0.0] * 3)
            + _runs("ring", "PacGAN2", [8, 7, 8], [0.2, 0.3, 0.1], [0.0] * 3)
            + _runs("ring", "minibatch std", [2, 1, 3], [0.2, 0.2, 0.2], [0.0] * 3))
    lines = against_baseline(runs, "ring")
    assert len(lines) == 2
    # PacGAN2: 7.67 +- 0.33 vs 1.33 +- 0.33: far beyond 2 * 0.47 -> better; HQ equal means -> on par
    assert "modes captured 7.7 ± 0.3 vs 1.3 ± 0.3 (better)" in lines[0] and "(on par)" in lines[0]
    # minibatch std: 2 +- 0.58 vs 1.33 +- 0.33: gap 0.67 < 2 * 0.67 -> on par
    assert "modes captured 2.0 ± 0.6 vs 1.3 ± 0.3 (on par)" in lines[1]
    with pytest.raises(ValueError, match="no 'GAN' runs"):
        against_baseline(runs, "grid")


def _traced(trace):
    return MixtureResult("GAN", "grid", 0, 1.0, ModeCoverage(1, 25, 0.0, 0.0, [0] * 25), trace=trace)


def test_collapsed_needs_few_modes_and_a_pile_at_every_late_step():
    # grid: a quarter of 25 modes is 6 (integer), three times the fair share 1/25 is 12%
    early_spread = [(s, 25, 0.9, 0.05) for s in (10, 20)]
    assert collapsed(_traced(early_spread + [(30, 6, 0.0, 0.12), (40, 2, 0.0, 0.5)]), 25)
    # one late step with 7 modes captured: not collapsed
    assert not collapsed(_traced(early_spread + [(30, 7, 0.0, 0.5), (40, 2, 0.0, 0.5)]), 25)
    # few modes captured but no pile (a diffuse cloud missing the HQ discs): not collapsed
    assert not collapsed(_traced(early_spread + [(30, 1, 0.0, 0.11), (40, 1, 0.0, 0.5)]), 25)
    # only the second half counts: a collapsed start that recovers is not collapsed
    assert not collapsed(_traced([(10, 1, 0.0, 1.0), (20, 1, 0.0, 1.0), (30, 25, 0.9, 0.05), (40, 25, 0.9, 0.05)]), 25)
    with pytest.raises(ValueError, match="trace_every"):
        collapsed(_traced([]), 25)

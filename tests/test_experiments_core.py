"""The experiments' ground floor (gancourse.experiments.core): the one run shape, the grouping over seeds, the
two-standard-error verdict and the table formatter, each checked against numbers worked by hand."""
import math
import pickle

import pytest
import torch

from gancourse.conditioning import CONDITIONS
from gancourse.config import TrainConfig
from gancourse.experiments.collapse import COLLAPSE_SETUP
from gancourse.experiments.core import (
    Result,
    Setup,
    best_and_on_par,
    fixed_codes,
    pm,
    share_and_standard_error,
    summarise,
    verdict,
)
from gancourse.models import build_models
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator


def test_a_setup_is_a_config_plus_what_runs_share_and_replace_routes_each_name():
    setup = Setup(TrainConfig(steps=100, lr_g=1e-3), model="mlp", width=8, data="ring", samples=50)
    changed = setup.replace(steps=7, lr_d=5e-4, samples=9, width=4)
    assert (changed.steps, changed.config.lr_d, changed.samples, changed.width) == (7, 5e-4, 9, 4)
    assert (setup.steps, setup.samples, setup.width) == (100, 50, 8)  # the original is untouched
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['stpes'\]; valid choices: .*steps"):
        setup.replace(stpes=7)
    with pytest.raises(AttributeError):
        setup.no_such_setting  # noqa: B018
    again = pickle.loads(pickle.dumps(changed))  # the workers receive setups by pickle
    assert again == changed and again.steps == 7


def test_a_setups_trainer_comes_from_the_one_factory_with_the_runs_seed():
    setup = Setup(TrainConfig(steps=2, z_dim=3), width=8, data="grid")
    a, b = setup.trainer(seed=5, device="cpu"), setup.trainer(seed=5, device="cpu", condition="concat")
    assert a.cfg.seed == 5 and a.setup["data"] == "grid" and a.setup["width"] == 8
    assert b.num_classes == 25 and type(b.D).__name__ == "ConcatDiscriminator"
    c = setup.trainer(seed=5, device="cpu")
    for x, y in zip(a.G.state_dict().values(), c.G.state_dict().values()):
        assert torch.equal(x, y)


def test_settings_list_config_and_setup_fields_once_and_collapse_differs_from_the_paper_where_documented():
    settings = COLLAPSE_SETUP.settings()
    assert settings["steps"] == 2000 and settings["g_activation"] == "relu" and "seed" not in settings
    assert "config" not in settings


def test_summarise_groups_by_method_in_run_order_and_skips_missing_measures():
    runs = [Result("b", "ring", 0, 1.0), Result("a", "ring", 0, 3.0), Result("b", "ring", 1, 3.0)]
    table = summarise(runs, {"seconds": lambda r: r.seconds, "only_a": lambda r: 1.0 if r.method == "a" else None})
    assert list(table) == ["b", "a"]
    assert table["b"]["seconds"] == (2.0, 1.0)  # mean 2, s = sqrt(2), se = s / sqrt(2) = 1
    assert "only_a" not in table["b"] and math.isnan(table["a"]["only_a"][1])
    by_data = summarise(runs, {"seconds": lambda r: r.seconds}, key=lambda r: r.data)
    assert by_data["ring"]["seconds"][0] == pytest.approx(7 / 3)


def test_verdict_takes_a_pair_or_a_published_number_and_never_decides_on_one_run():
    assert verdict((3.0, 0.5), (1.0, 0.5)) == "better"      # gap 2 > 2 sqrt(0.5) = 1.41
    assert verdict((2.3, 0.5), (1.0, 0.5)) == "on par"      # gap 1.3 < 1.41
    assert verdict((1.0, 0.5), 3.0) == "worse"              # a number: its error counts as 0, bar 1
    assert verdict((1.0, 0.5), (3.0, None), higher_is_better=False) == "better"
    assert verdict((1.0, math.nan), 0.0) == verdict((1.0, 0.1), (0.0, math.nan)) == "undecided (one run)"
    assert verdict((math.inf, math.nan), 1.0) == "better" and verdict((math.inf, math.nan), 1.0, False) == "worse"


def test_share_errors_are_binomial_and_feed_the_verdict():
    assert share_and_standard_error(0.9, 100) == (0.9, pytest.approx(0.03))
    # 0.80 vs 0.90 of 1,000 points: se of the difference sqrt(0.16 + 0.09) / sqrt(1000) = 0.0158, bar 0.032
    assert verdict(share_and_standard_error(0.80, 1000), share_and_standard_error(0.90, 1000)) == "worse"
    assert verdict(share_and_standard_error(0.89, 1000), share_and_standard_error(0.90, 1000)) == "on par"


def test_best_and_on_par_lists_the_best_row_and_every_row_within_two_standard_errors_of_it():
    table = {"a": {"x": (10.0, 1.0)}, "b": {"x": (8.0, 1.0)}, "c": {"x": (5.0, 1.0)}}
    assert best_and_on_par(table, ["a", "b", "c"], "x") == ("a", ["a", "b"])  # 2 < 2.83, 5 > 2.83
    assert best_and_on_par(table, ["a", "b", "c"], "x", higher_is_better=False) == ("c", ["c"])


def test_pm_formats_mean_and_error_and_leaves_out_a_missing_error():
    assert pm((0.12345, 0.0123), digits=3) == "0.123 ± 0.012"
    assert pm((0.5, 0.01), 100) == "50.0 ± 1.0"
    assert pm((7.0, math.nan)) == "7.0" and pm((math.inf, math.nan)) == "inf"


def test_fixed_codes_do_not_touch_the_global_generator():
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    codes = fixed_codes(4, 3)
    assert torch.equal(torch.rand(1), expected) and torch.equal(codes, fixed_codes(4, 3))


def test_the_factory_builds_lesson_2s_networks_weight_for_weight():
    # per-player activations and PacGAN's packed input, as the mixture runs build them
    torch.manual_seed(3)
    G, D = build_models("mlp", (2,), z_dim=15, width=16, activation="tanh", d_activation="leaky_relu", pack=4)
    torch.manual_seed(3)
    G2, D2 = MLPGenerator(15, (2,), 16, 2, "tanh", "none"), MLPDiscriminator((8,), 16, 2, "leaky_relu")
    for a, b in zip([*G.state_dict().values(), *D.state_dict().values()],
                    [*G2.state_dict().values(), *D2.state_dict().values()]):
        assert torch.equal(a, b)
    assert str(G) == str(G2) and str(D) == str(D2)
    with pytest.raises(ValueError, match="pack and d_activation are for model 'mlp'"):
        build_models("dcgan", (1, 28, 28), pack=2)
    with pytest.raises(ValueError, match="pack must be an integer >= 1"):
        build_models("mlp", (2,), pack=0)


def test_only_acgan_has_a_class_head():
    assert [name for name, entry in CONDITIONS.items() if entry.class_head] == ["acgan"]

"""The trainer"s trajectory, pinned: losses and parameter checksums after a few steps of each kind of run.

The numbers were recorded on the trainer as it was before issue 27 split it into looked-up pieces
(commit edd028b: weight clipping, unrolling, the average of G and reuse of fakes as branches in
``Trainer``), so this test says the refactor changed no arithmetic and no order of random draws. They
are the code"s own output on the CPU with one thread, not hand computations: a change that moves them
must say why. G and D are ``[sum of parameters, sum of |parameters|]``.
"""
from __future__ import annotations

import pytest
import torch

from gancourse.config import TrainConfig, preset
from gancourse.train import Trainer

CASES = {  # name: (data, model, TrainConfig fields plus width / preset / fp16)
    "nsgan-ring": ("ring", "mlp", dict(z_dim=8, batch_size=32, steps=4, width=16)),
    "wgan-clip": ("ring", "mlp", dict(preset="wgan", z_dim=8, batch_size=32, steps=3, width=16)),
    "wgan-gp": ("ring", "mlp", dict(preset="wgan-gp", z_dim=8, batch_size=32, steps=3, width=16)),
    "hinge-r1-ema": ("grid", "mlp", dict(loss="hinge", r1_gamma=1.0, ema_half_life=2.0, z_dim=8, batch_size=32,
                                         steps=4, width=16)),
    "unrolled": ("ring", "mlp", dict(unroll_steps=3, z_dim=8, batch_size=32, steps=3, width=16)),
    "unrolled-wgan-gp": ("ring", "mlp", dict(preset="wgan-gp", n_critic=2, unroll_steps=2, z_dim=8, batch_size=32,
                                             steps=2, width=16)),
    "unrolled-wgan-clip": ("ring", "mlp", dict(preset="wgan", n_critic=2, unroll_steps=2, z_dim=8, batch_size=32,
                                               steps=2, width=16)),
    "fp16-reuse-ema": ("ring", "mlp", dict(reuse_fakes=True, ema_half_life=3.0, z_dim=8, batch_size=32, steps=3,
                                           width=16, fp16=True)),
    "reuse-fakes": ("ring", "mlp", dict(reuse_fakes=True, n_critic=2, z_dim=8, batch_size=32, steps=4, width=16)),
    "acgan-grid": ("grid", "mlp", dict(condition="acgan", z_dim=8, batch_size=32, steps=4, width=16)),
    "projection-digits": ("digits", "dcgan", dict(condition="projection", loss="hinge", z_dim=16, batch_size=16,
                                                  steps=2, width=8)),
    "dcgan-digits": ("digits", "dcgan", dict(preset="dcgan", z_dim=16, batch_size=16, steps=3, width=8,
                                             ema_half_life=1.0)),
}

PINNED = {
    "nsgan-ring": {
        "loss_d": [1.3904399871826172, 1.3865870237350464, 1.3926889896392822, 1.3921037912368774],
        "loss_g": [0.7009236812591553, 0.7012883424758911, 0.701410174369812, 0.7013323903083801],
        "gp": [0.0, 0.0, 0.0, 0.0],
        "G": [-1.9860192220658064, 64.31556301517412], "D": [0.699549550365191, 55.97119361330988],
    },
    "wgan-clip": {
        "loss_d": [-1.9408762454986572e-06, -4.2477622628211975e-06, -4.54392284154892e-06],
        "loss_g": [0.010039580054581165, 0.010039471089839935, 0.010039808228611946],
        "gp": [0.0, 0.0, 0.0],
        "G": [-1.9947585567715578, 64.28178722521989], "D": [-0.045356978982454166, 3.332117892190581],
    },
    "wgan-gp": {
        "loss_d": [0.015001296065747738, 0.02595749869942665, 0.02736368216574192],
        "loss_g": [0.014223340898752213, 0.012291714549064636, 0.010885000228881836],
        "gp": [8.933961868286133, 8.87483024597168, 8.823519706726074],
        "G": [-1.9891899762951653, 64.31524937653012], "D": [0.683405578150996, 55.970855941282935],
    },
    "hinge-r1-ema": {
        "loss_d": [2.0640766620635986, 2.041149377822876, 2.045804262161255, 1.9909694194793701],
        "loss_g": [0.015420871786773205, 0.016070274636149406, 0.016085036098957062, 0.015263842418789864],
        "gp": [0.0027922068256884813, 0.0028943284414708614, 0.002927158959209919, 0.0030379334930330515],
        "G": [-1.9832728310138918, 64.31804069277132], "D": [0.6983323206659406, 55.96341698640026],
        "G_ema": [-1.9895223671774147, 64.31217142559763],
    },
    "unrolled": {
        "loss_d": [1.3904399871826172, 1.39252769947052, 1.3934787511825562],
        "loss_g": [0.7011212110519409, 0.7018906474113464, 0.7019979357719421],
        "gp": [0.0, 0.0, 0.0],
        "G": [-1.9996434393833624, 64.29537594034628], "D": [0.6924687845166773, 55.97346677654423],
    },
    "unrolled-wgan-gp": {
        "loss_d": [0.002104593440890312, 0.014908789657056332],
        "loss_g": [0.015103922225534916, 0.013745317235589027],
        "gp": [8.968265533447266, 8.976069450378418],
        "G": [-1.9924977224436589, 64.30824646441033], "D": [0.6795309005101444, 55.96673919392924],
    },
    "unrolled-wgan-clip": {
        "loss_d": [-6.30505383014679e-07, -1.8868595361709595e-06],
        "loss_g": [0.010039443150162697, 0.010039758868515491],
        "gp": [0.0, 0.0],
        "G": [-1.9988938921596855, 64.28909202478826], "D": [-0.04033694913960062, 3.3370697566715535],
    },
    "fp16-reuse-ema": {
        "loss_d": [1.3904452323913574, 1.387439489364624, 1.3921372890472412],
        "loss_g": [0.7013311982154846, 0.7010021209716797, 0.7019553184509277],
        "gp": [0.0, 0.0, 0.0],
        "G": [-1.9829134544852423, 64.32028592466668], "D": [0.6933363588759676, 55.971698693349026],
        "G_ema": [-1.9912874159344938, 64.31265032142983],
    },
    "reuse-fakes": {
        "loss_d": [1.3874129056930542, 1.3921678066253662, 1.396134614944458, 1.3949358463287354],
        "loss_g": [0.7010258436203003, 0.7016403079032898, 0.7018111348152161, 0.7021486759185791],
        "gp": [0.0, 0.0, 0.0, 0.0],
        "G": [-1.9878073918516748, 64.31169758428587], "D": [0.7238162456778809, 55.977684605983086],
    },
    "acgan-grid": {
        "loss_d": [7.797187805175781, 7.895103454589844, 7.839288711547852, 7.7329607009887695],
        "loss_g": [3.8383896350860596, 3.8523380756378174, 3.881422996520996, 3.806365489959717],
        "gp": [0.0, 0.0, 0.0, 0.0],
        "G": [41.538707774772774, 591.2709259328549], "D": [-0.536122083562077, 102.56997492456867],
    },
    "projection-digits": {
        "loss_d": [2.092644214630127, 1.781812310218811],
        "loss_g": [0.06647266447544098, 0.07109065353870392],
        "gp": [0.0, 0.0],
        "G": [233.1134073341418, 474.52588385180206], "D": [10.561400954589772, 402.21155707054277],
    },
    "dcgan-digits": {
        "loss_d": [1.3711390495300293, 1.3588329553604126, 1.2770142555236816],
        "loss_g": [0.7007966637611389, 0.6788524389266968, 0.6822925806045532],
        "gp": [0.0, 0.0, 0.0],
        "G": [17.21575073025906, 258.60548002524865], "D": [16.249943588994938, 63.08943550899494],
        "G_ema": [17.21378436332452, 258.57393043487536],
    },
}


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reductions split across threads may add in another order
    yield
    torch.set_num_threads(threads)


def _checksum(module: torch.nn.Module) -> list[float]:
    params = [p.detach().double() for p in module.parameters()]
    return [float(sum(p.sum() for p in params)), float(sum(p.abs().sum() for p in params))]


@pytest.mark.parametrize("name", list(CASES))
def test_the_trajectory_is_the_one_recorded_before_the_refactor(name, one_thread):
    data, model, kw = CASES[name]
    kw = dict(kw)
    width, name_of_preset, fp16 = kw.pop("width"), kw.pop("preset", None), kw.pop("fp16", False)
    cfg = (preset(name_of_preset, **kw) if name_of_preset else TrainConfig(**kw)).replace(device="cpu", log_every=1)
    trainer = Trainer.from_names(data, model, cfg, width=width)
    if fp16:
        trainer._set_precision(torch.float16, init_scale=1024.0)  # the fp16 GPU"s branch, on the CPU
    trainer.train(progress=False)
    pinned = PINNED[name]
    for key in ("loss_d", "loss_g", "gp"):
        assert trainer.history[key] == pytest.approx(pinned[key], rel=1e-6, abs=1e-9), key
    assert _checksum(trainer.G) == pytest.approx(pinned["G"], rel=1e-6)
    assert _checksum(trainer.D) == pytest.approx(pinned["D"], rel=1e-6)
    if "G_ema" in pinned:
        assert _checksum(trainer.ema.module) == pytest.approx(pinned["G_ema"], rel=1e-6)
    else:
        assert trainer.ema is None

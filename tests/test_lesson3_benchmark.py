"""The DCGAN throughput benchmark compares like with like: both pipelines see the same pixels."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from gancourse.data import to_unit_range

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "dcgan_throughput.py"


def _load():
    spec = importlib.util.spec_from_file_location("dcgan_throughput", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_textbook_transform_equals_the_device_sampler_scaling():
    from torchvision import transforms

    bench = _load()
    images = torch.randint(0, 256, (6, 1, 28, 28), dtype=torch.uint8)
    images[0, 0, 0, 0], images[0, 0, 0, 1] = 0, 255  # both ends of the range
    colour = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    for batch in (images, colour):
        c = batch.shape[1]
        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,) * c, (0.5,) * c)])
        dataset = bench.TextbookImages(batch, torch.arange(len(batch)), tf)
        assert len(dataset) == len(batch)
        for i in range(len(batch)):
            x, label = dataset[i]
            assert label == i
            # ToTensor: /255; Normalize(0.5, 0.5): (x - 0.5) / 0.5  ==  x / 127.5 - 1
            torch.testing.assert_close(x, to_unit_range(batch[i]), atol=1e-6, rtol=0)


def test_textbook_loop_trains_the_same_architecture_and_changes_weights(monkeypatch):
    bench = _load()
    fake_data = (torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8), torch.arange(64) % 10)
    monkeypatch.setattr(bench, "load_images", lambda name: fake_data)  # no dataset rendering in a unit test
    cfg = bench.preset("dcgan", device="cpu", batch_size=16, steps=2)
    G, train_chunk = bench.textbook_run("digits", cfg, width=4, workers=0)
    torch.manual_seed(cfg.seed)
    G_ref, _ = bench.build_models("dcgan", (1, 28, 28), z_dim=cfg.z_dim, width=4)
    # same seed, same constructor: identical starting weights, so the two runs differ only in the loop
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G_ref.state_dict().values()))
    before = [p.detach().clone() for p in G.parameters()]
    train_chunk(2)
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))


def test_mixture_latent_option_feeds_both_loops_the_same_generator():
    bench = _load()
    cfg = bench.preset("dcgan", device="cpu", batch_size=8, steps=2, z_dim=10)
    G, D = bench.dcgan_models((1, 28, 28), cfg, width=4, components=6)
    latent = G[0]
    assert isinstance(latent, bench.MixtureLatent) and latent.components == 6 and latent.z_dim == 10
    assert G(torch.randn(3, 10)).shape == (3, 1, 28, 28)   # the DCGAN behind it takes z_dim - 1 = 9 inputs
    G2, _ = bench.dcgan_models((1, 28, 28), cfg, width=4, components=6)
    # same seed, same weights (parameters: the forward pass above moved G's batch-norm running statistics)
    assert all(torch.equal(a, b) for a, b in zip(G.parameters(), G2.parameters()))
    plain, _ = bench.dcgan_models((1, 28, 28), cfg, width=4)
    assert not isinstance(plain, torch.nn.Sequential) or not isinstance(plain[0], bench.MixtureLatent)

"""Lesson 8, sound: the clips, WaveGAN's layers and phase shuffle, and the spectral measures."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gancourse.data.sounds import CLIP_LENGTH, PITCHES, SAMPLE_RATE, chirps, make_clips, tones
from gancourse.experiments.sound import (
    SOUND_SETUP,
    artefact_frequencies,
    artefact_share,
    peak_frequencies,
    pitch_coverage,
    run_sound,
    sound_summary,
    spectral_distance,
    spectrogram,
    train_wavegan,
)
from gancourse.models.wave import PhaseShuffle, WaveDiscriminator, WaveGenerator, phase_shuffle

T = torch.arange(CLIP_LENGTH) / SAMPLE_RATE


def test_tones_sit_on_their_pitches_and_the_pitches_avoid_the_artefact_frequencies():
    x, k = tones(400, seed=0)
    peaks = peak_frequencies(x)
    assert torch.allclose(peaks, torch.tensor(PITCHES)[k], rtol=0.01)
    assert sorted(set(k.tolist())) == list(range(8))
    assert all(min(abs(p - f) for f in artefact_frequencies()) > 50 for p in PITCHES)
    assert artefact_share(x) < 1e-4
    assert x.abs().max() <= 0.9 and torch.equal(x, tones(400, seed=0)[0])


def test_chirps_sweep_from_f0_to_f1():
    x, ends = chirps(3, seed=4)
    for clip, (f0, f1) in zip(x, ends.tolist()):
        head, tail = clip[:256], clip[-256:]  # 32 ms windows at either end
        # the tail is quieter (decay) but its peak sits near f1; the head's near f0
        assert abs(float(peak_frequencies(head[None])) - f0) < 0.12 * (f0 + f1)
        assert abs(float(peak_frequencies(tail[None])) - f1) < 0.12 * (f0 + f1)
    with pytest.raises(ValueError, match="Nyquist"):
        chirps(2, seed=0, high=5000.0)
    with pytest.raises(ValueError, match="valid choices"):
        make_clips("noise", 2, seed=0)


def test_peak_frequency_and_coverage_by_hand():
    clips = torch.stack([torch.sin(2 * math.pi * f * T) for f in (220.0, 224.0, 440.0, 300.0)])
    peaks = peak_frequencies(clips)
    assert torch.allclose(peaks, torch.tensor([220.0, 224.0, 440.0, 300.0]), atol=2.0)
    got = pitch_coverage(peaks, pitches=(220.0, 440.0, 880.0))
    # 224 Hz is 1.8% above 220: within half a semitone (2.9%); 300 Hz is on no pitch; 880 never drawn.
    # threshold n / (4 K) = 4 / 12: one clip is enough here
    assert (got.covered, got.on_pitch, got.counts) == (2, 0.75, [2, 1, 0])


def test_coverage_counts_a_pitch_only_with_a_quarter_of_its_share():
    peaks = torch.tensor([220.0] * 97 + [440.0] * 3)
    assert pitch_coverage(peaks, pitches=(220.0, 440.0)).covered == 1  # 3 < 100 / 8


def test_spectral_distance_is_zero_on_itself_and_20_db_for_ten_times_the_amplitude():
    x = tones(50, seed=1)[0]
    assert spectral_distance(x, x) == 0.0
    noise = torch.randn(50, CLIP_LENGTH, generator=torch.Generator().manual_seed(0))
    assert spectral_distance(noise, 10 * noise) == pytest.approx(20.0, abs=1e-3)
    assert spectral_distance(x, tones(50, seed=2)[0]) < spectral_distance(x, chirps(50, seed=2)[0])


def test_artefact_share_finds_a_period_of_four_samples():
    tone = torch.sin(2 * math.pi * PITCHES[2] * T)
    pattern = 0.3 * torch.tensor([1.0, 0.0, -1.0, 0.0]).repeat(CLIP_LENGTH // 4)  # period 4: 2000 Hz
    assert artefact_share(tone[None]) < 1e-3
    in_band = artefact_share(pattern[None])
    assert in_band > 0.98  # the window spreads a little of it beyond 10 Hz
    # the two sit at different frequencies, so the windowed energies add (Parseval): the share is the pattern's
    window = torch.hann_window(CLIP_LENGTH, periodic=False)
    e_pattern, e_tone = (window * pattern).pow(2).sum(), (window * tone).pow(2).sum()
    assert artefact_share((tone + pattern)[None]) == pytest.approx(in_band * float(e_pattern / (e_pattern + e_tone)),
                                                                   rel=0.01)
    noise = torch.randn(200, CLIP_LENGTH, generator=torch.Generator().manual_seed(0))
    # white noise: the share of the bins flagged, 11 bins of 1.95 Hz (21.5 Hz) in every 125 Hz
    assert artefact_share(noise) == pytest.approx(11 * 8000 / 4096 / 125, abs=0.01)


def test_spectrogram_shows_a_chirp_rising():
    x, ends = chirps(1, seed=0, low=300.0, high=1500.0)
    s = spectrogram(x[0])
    track = s.argmax(0)  # the loudest frequency bin of each frame
    rising = bool(ends[0, 1] > ends[0, 0])
    assert (track[-8] > track[8]) == rising


def test_phase_shuffle_is_a_reflected_shift():
    x = torch.randn(3, 2, 10)
    shifts = torch.tensor([2, 0, -1])
    out = phase_shuffle(x, shifts)
    assert torch.equal(out[1], x[1])
    assert torch.equal(out[0, :, 2:], x[0, :, :-2]) and torch.equal(out[0, :, :2], x[0, :, [2, 1]])
    assert torch.equal(out[2, :, :-1], x[2, :, 1:]) and torch.equal(out[2, :, -1], x[2, :, -2])
    padded = F.pad(x, (2, 2), mode="reflect")
    assert torch.equal(out[0], padded[0, :, 0:10])
    layer = PhaseShuffle(2).train()
    torch.manual_seed(0)
    moved = layer(torch.arange(8.0).view(1, 1, 8).repeat(50, 1, 1))
    assert len({tuple(row[0].tolist()) for row in moved}) == 5  # five distinct shifts, -2..2
    with pytest.raises(ValueError, match="n must be"):
        PhaseShuffle(-1)


def test_wavegan_layers_multiply_the_length_by_four_and_d_mirrors_them():
    g = WaveGenerator(z_dim=8, channels=16, layers=3)
    assert g(torch.zeros(2, 8)).shape == (2, 1024)
    assert WaveGenerator(z_dim=8, channels=16, layers=2)(torch.zeros(1, 8)).shape == (1, 256)
    d = WaveDiscriminator(1024, channels=16, layers=3, shuffle=0)
    assert d(torch.randn(5, 1024)).shape == (5,)
    assert not any(isinstance(m, PhaseShuffle) and m.n for m in d.modules())
    with pytest.raises(ValueError, match="multiple of 64"):
        WaveDiscriminator(1000, 16, 3)
    with pytest.raises(ValueError, match="cannot be halved"):
        WaveGenerator(8, channels=4, layers=3)


def test_training_moves_g_and_runs_are_deterministic_in_their_seed():
    tiny = SOUND_SETUP.replace(steps=3, width=8, n_train=64, batch_size=8, samples=32)
    r1, g1 = run_sound(("phase shuffle n=2", 0, tiny))
    r2, g2 = run_sound(("phase shuffle n=2", 0, tiny))
    assert all(torch.equal(a, b) for a, b in zip(g1.parameters(), g2.parameters()))
    assert (r1.distance, r1.artefacts) == (r2.distance, r2.artefacts)
    untrained = WaveGenerator(tiny.z_dim, tiny.width, tiny.layers)
    torch.manual_seed(0)
    untrained = WaveGenerator(tiny.z_dim, tiny.width, tiny.layers)
    assert not all(torch.equal(a, b) for a, b in zip(g1.parameters(), untrained.parameters()))
    assert sound_summary([r1, r2])["phase shuffle n=2"]["spectral distance"][1] == 0.0
    with pytest.raises(ValueError, match="valid choices"):
        run_sound(("no such thing", 0, tiny))
    with pytest.raises(ValueError, match="valid choices: nsgan, wgan-gp"):
        train_wavegan(tiny.replace(loss="hinge"))

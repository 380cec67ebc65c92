"""``folder:PATH`` data: the loader on folders written here, the cache, and training on one (CPU, tiny)."""
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

import gancourse.data.folder as folder_mod
from gancourse.config import TrainConfig
from gancourse.data import (
    check_dataset_name,
    data_shape,
    folder_name,
    is_image_dataset,
    load_images,
    make_sampler,
    parse_folder_name,
)
from gancourse.train import Trainer

RED, GREEN, BLUE = (220, 20, 20), (20, 220, 20), (20, 20, 220)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """A data cache of the test's own, and no tensors remembered from another test."""
    where = tmp_path / "cache"
    monkeypatch.setenv("GANCOURSE_DATA", str(where))
    folder_mod._MEMO.clear()
    yield where
    folder_mod._MEMO.clear()


def _stripes(path, colours, side=30, mode="RGB"):
    """Vertical stripes of ``side`` x ``side`` px each, left to right: a centre crop keeps the middle one."""
    img = Image.new("RGB", (side * len(colours), side))
    for i, colour in enumerate(colours):
        img.paste(colour, (i * side, 0, (i + 1) * side, side))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert(mode).save(path)


def _colour_folder(root):
    """Nested PNG and JPEG colour pictures: 2 at the top, 2 in cats/, 1 in cats/old/, 1 in dogs/."""
    _stripes(root / "a.png", [RED, GREEN, BLUE])                 # wide: the crop keeps GREEN
    _stripes(root / "b.jpg", [BLUE])                             # JPEG, already square
    _stripes(root / "cats" / "c.PNG", [RED])                     # upper-case suffix
    _stripes(root / "cats" / "d.jpeg", [GREEN])
    _stripes(root / "cats" / "old" / "e.png", [BLUE, RED, GREEN])
    _stripes(root / "dogs" / "f.png", [RED, RED])
    return root


def test_colour_pictures_nested_png_and_jpeg(tmp_path, cache):
    root = _colour_folder(tmp_path / "pics")
    x, y = load_images(f"folder:{root}@16")
    assert x.shape == (6, 3, 16, 16) and x.dtype == torch.uint8 and y.dtype == torch.int64
    # Sorted walk: a.png, b.jpg (top), then cats/c.PNG, cats/d.jpeg, cats/old/e.png, dogs/f.png.
    assert y.tolist() == [0, 0, 1, 1, 2, 3]  # one label per sub-folder, as torchvision's ImageFolder
    assert x[0].flatten(1).T.unique(dim=0).tolist() == [list(GREEN)]  # a PNG: exact; the centre stripe only
    assert x[4].flatten(1).T.unique(dim=0).tolist() == [list(RED)]
    assert (x[1].float().mean(dim=(1, 2)) - torch.tensor(BLUE)).abs().max() < 8  # a JPEG: within its loss
    assert len(list(cache.glob("folder_*.npz"))) == 1


def test_grey_pictures_give_one_channel_and_a_colour_one_makes_three(tmp_path):
    root = tmp_path / "grey"
    _stripes(root / "g1.png", [(50, 50, 50)], mode="L")
    _stripes(root / "sub" / "g2.jpg", [(200, 200, 200)], mode="L")
    _stripes(root / "g3.png", [(90, 90, 90)])  # saved as RGB, but grey: it counts as grey
    x, _ = load_images(f"folder:{root}", size=24)
    assert x.shape == (3, 1, 24, 24)
    assert x[0].unique().tolist() == [50] and x[1].unique().tolist() == [90]
    _stripes(root / "colour.png", [RED])
    x, _ = load_images(f"folder:{root}", size=24)
    assert x.shape == (4, 3, 24, 24)


def test_corrupt_and_non_image_files_are_skipped_with_one_summary_line(tmp_path, capsys):
    root = tmp_path / "mixed"
    _stripes(root / "good.png", [RED])
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a PNG")
    (root / "half.jpg").write_bytes((tmp_path / "mixed" / "good.png").read_bytes()[:60])  # truncated
    (root / "notes.txt").write_text("not a picture")
    (root / ".DS_Store").write_bytes(b"\0\0")  # hidden: ignored without a word
    x, _ = load_images(f"folder:{root}@16")
    assert x.shape == (1, 3, 16, 16)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == 1
    assert "skipped 3 of 4 files" in lines[0]
    assert "broken.png" in lines[0] and "half.jpg" in lines[0] and "notes.txt" in lines[0]
    assert ".DS_Store" not in lines[0]


def test_the_summary_names_only_the_first_few(tmp_path, capsys):
    root = tmp_path / "junk"
    _stripes(root / "ok.png", [RED])
    for i in range(6):
        (root / f"junk{i}.txt").write_text("x")
    load_images(f"folder:{root}@16")
    out = capsys.readouterr().out
    assert "skipped 6 of 7" in out and "junk2.txt" in out and "junk3.txt" not in out and "(3 more)" in out


def test_empty_missing_and_picture_less_folders_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"holds no pictures \(no files\); valid files: .png, .jpg, .jpeg"):
        load_images(f"folder:{tmp_path / 'empty'}")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="1 files, none a readable PNG/JPEG"):
        load_images(f"folder:{tmp_path / 'text'}")
    with pytest.raises(ValueError, match="does not exist or is not a folder"):
        load_images(f"folder:{tmp_path / 'nowhere'}")
    with pytest.raises(ValueError, match="names no folder"):
        check_dataset_name("folder:")


def test_pictures_smaller_than_the_size_are_refused_not_enlarged(tmp_path):
    root = tmp_path / "small"
    _stripes(root / "big.png", [RED], side=80)
    _stripes(root / "tiny.png", [RED, GREEN], side=20)  # 40 x 20: its shorter side is 20
    with pytest.raises(ValueError, match=r"1 of 2 pictures .* smaller than size=64 .*tiny.png \(40x20\).*"
                                         r"choose a size <= 20"):
        load_images(f"folder:{root}@64")
    assert load_images(f"folder:{root}@20")[0].shape == (2, 3, 20, 20)


def test_a_changed_folder_is_read_again_and_an_unchanged_one_comes_from_the_cache(tmp_path, cache, monkeypatch):
    root = tmp_path / "live"
    _stripes(root / "one.png", [RED])
    name = f"folder:{root}@16"
    assert load_images(name)[0].shape[0] == 1
    # Unchanged: the cache file is used, no picture is decoded (also after the process forgot it).
    folder_mod._MEMO.clear()
    with monkeypatch.context() as m:
        m.setattr(folder_mod, "_read_picture", lambda *a: pytest.fail("decoded a picture instead of the cache"))
        assert load_images(name)[0].shape[0] == 1
    _stripes(root / "two.png", [GREEN])  # a file added
    x, _ = load_images(name)
    assert x.shape[0] == 2
    _stripes(root / "one.png", [BLUE, BLUE, BLUE, BLUE])  # a file replaced by a different picture
    stat = (root / "one.png").stat()
    os.utime(root / "one.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    x, _ = load_images(name)
    assert x[0].flatten(1).T.unique(dim=0).tolist() == [list(BLUE)]
    (root / "two.png").unlink()  # a file removed
    assert load_images(name)[0].shape[0] == 1
    assert len(list(cache.glob("folder_*_16px_*.npz"))) == 1  # the stale caches are gone
    load_images(f"folder:{root}@24")  # another size is another cache entry
    assert len(list(cache.glob("folder_*.npz"))) == 2


def test_a_corrupt_cache_file_is_read_again(tmp_path, cache):
    root = tmp_path / "p"
    _stripes(root / "one.png", [RED])
    load_images(f"folder:{root}@16")
    (path,) = cache.glob("folder_*.npz")
    path.write_bytes(b"garbage")
    folder_mod._MEMO.clear()
    assert load_images(f"folder:{root}@16")[0].shape == (1, 3, 16, 16)


def test_names_sizes_and_the_dataset_helpers(tmp_path):
    root = tmp_path / "shots@2024"  # a folder whose own name ends in @digits
    _stripes(root / "a.png", [RED], side=70)
    assert parse_folder_name(f"folder:{root}/") == (root, 64)  # the trailing slash: all of it is the path
    canonical = folder_name(root, 32)
    assert canonical == f"folder:{root}@32" and parse_folder_name(canonical) == (root, 32)
    assert is_image_dataset(canonical) and check_dataset_name(canonical) == canonical
    assert data_shape(canonical) == (3, 32, 32)
    assert data_shape(f"folder:{root}/") == (3, 64, 64)
    with pytest.raises(ValueError, match="size=16 contradicts the size in"):
        load_images(canonical, size=16)
    with pytest.raises(ValueError, match="only folder:PATH data can be read at another size"):
        load_images("digits", size=64)
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; valid choices: .*folder:PATH"):
        check_dataset_name("imagenet")


def _training_folder(root, n=24, side=72):
    """``n`` colour pictures with a little structure: a bright square at a random place on a dark ground."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for i in range(n):
        arr = np.full((side, side + 8, 3), 20, np.uint8)
        r, c = rng.integers(0, side - 24, size=2)
        arr[r:r + 24, c:c + 24] = rng.integers(100, 255, size=3)
        Image.fromarray(arr).save(root / f"{i:02d}.{'png' if i % 2 else 'jpg'}")
    return root


def test_a_short_dcgan_run_at_64x64_on_a_written_folder(tmp_path):
    root = _training_folder(tmp_path / "train64")
    cfg = TrainConfig(z_dim=8, batch_size=8, steps=3, device="cpu", log_every=1, lr_g=2e-4, lr_d=2e-4, beta1=0.5)
    trainer = Trainer.from_names(f"folder:{root}", "dcgan", cfg, width=4)
    assert tuple(trainer.sampler.data.shape) == (24, 3, 64, 64)  # the device-resident sampler holds it all
    assert trainer.sampler.sample().shape == (8, 3, 64, 64)
    history = trainer.train(progress=False)
    assert trainer.step == 3 and len(history) == 3
    assert all(np.isfinite(history.last(k)) for k in ("loss_d", "loss_g"))
    assert trainer.sample(5).shape == (5, 3, 64, 64)
    assert make_sampler(f"folder:{root}", 4).sample().shape == (4, 3, 64, 64)


def test_the_cli_trains_on_a_folder_and_resume_checks_its_size(tmp_path, monkeypatch, capsys):
    from gancourse.cli import main

    root = _training_folder(tmp_path / "cli", n=12, side=40)
    monkeypatch.chdir(tmp_path)  # a relative folder: the run records it as an absolute name
    out = tmp_path / "run"
    base = ["train", "--data", "folder:cli", "--model", "dcgan", "--width", "4", "--z-dim", "8", "--batch-size", "4",
            "--out", str(out), "--no-progress", "--device", "cpu", "--checkpoint-every", "0"]
    assert main(base + ["--image-size", "32", "--steps", "2"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["setup"]["data"] == f"folder:{root}@32"
    assert (out / "samples.png").stat().st_size > 0
    capsys.readouterr()
    assert main(base + ["--image-size", "16", "--steps", "3", "--resume"]) == 2
    assert "differs from the checkpoint's data=" in capsys.readouterr().err
    monkeypatch.chdir(out)  # the same command from elsewhere: the recorded absolute name still matches
    assert main(["train", "--out", str(out), "--steps", "3", "--resume", "--no-progress", "--device", "cpu",
                 "--image-size", "32"]) == 0


@pytest.mark.parametrize("extra, needles", [
    (["--data", "folder:cli", "--model", "dcgan", "--image-size", "48"], ["--image-size 48", "valid sizes: 16, 28"]),
    (["--data", "folder:nowhere"], ["is not a folder"]),
    (["--data", "digits", "--image-size", "64"], ["applies to folder:PATH data only", "28x28"]),
    (["--data", "folder:cli@32", "--image-size", "64"], ["contradicts the size"]),
    (["--data", "imagenet"], ["invalid choice: 'imagenet'", "'ring'", "folder:PATH"]),
])
def test_bad_folder_flags_exit_2_with_one_line(tmp_path, monkeypatch, capsys, extra, needles):
    from gancourse.cli import main

    _stripes(tmp_path / "cli" / "a.png", [RED], side=70)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--out", str(tmp_path / "run"), "--device", "cpu", "--dry-run"] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(n in err for n in needles), err


def test_the_dashboard_trains_on_a_folder_at_its_image_size(tmp_path):
    from gancourse.widgets import Dashboard

    root = _training_folder(tmp_path / "dash", n=16, side=40)
    dash = Dashboard(data=f"folder:{root}", model="dcgan", image_size=16, steps=2, plot_every=2, z_dim=8, width=4,
                     device="cpu", batch_size=16)
    assert f"folder:{root}" in dash.controls["data"].options
    run = dash.run(wait=True)
    assert run is not None and run.status == "finished", dash.message.value
    assert run.setup["data"] == f"folder:{root}@16" and run.label.startswith("folder dash, dcgan")
    with pytest.raises(ValueError, match="image_size must be an integer >= 1"):
        Dashboard(data=f"folder:{root}", image_size=0)

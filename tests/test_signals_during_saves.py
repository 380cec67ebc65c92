"""Stopping `gancourse train` from outside: two signals in a row, a killed save, an --out it cannot write.

Issue 26's probe as tests, on real `python -m gancourse train` processes: whatever moment the signals land,
the folder ends with a checkpoint `--resume` continues (or nothing, reusable) and no temporary file.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gancourse.checkpoint import load_checkpoint
from gancourse.cli import main

OUTPUTS = ["checkpoint.pt", "losses.png", "metrics.json", "samples.png"]
TINY = ["--device", "cpu", "--width", "8", "--z-dim", "4", "--batch-size", "16", "--no-progress"]


def _start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gancourse", "train", "--steps", "1000000", "--out", str(out),
                             *TINY, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_signal_during_a_save_still_leaves_a_resumable_run(tmp_path):
    # SIGINT and SIGTERM, the second one 10 ms (during the last step or the checkpoint) or 300 ms (during the
    # pictures) after the first, with no periodic save; and SIGTERM twice at once while saving every step.
    # Before the fix: 143 with only checkpoint.pt.*.tmp, or an empty folder, or a checkpoint without samples,
    # losses and metrics and a message saying that no checkpoint was saved.
    cases = [(sig, gap, "0") for sig in (signal.SIGINT, signal.SIGTERM) for gap in (0.01, 0.3)]
    cases.append((signal.SIGTERM, 0.0, "1"))
    folders = {case: tmp_path / f"{case[0].name}-{case[1]}-every{case[2]}" for case in cases}
    runs = {case: _start(folders[case], "--checkpoint-every", case[2]) for case in cases}
    for proc in runs.values():  # started together: they share the start-up time
        assert proc.stdout.readline().startswith("gancourse: training"), proc.stderr.read()
    time.sleep(1.0)  # some steps (and, saving every step, some saves)
    for (sig, gap, _), proc in runs.items():
        proc.send_signal(sig)
        time.sleep(gap)
        proc.send_signal(sig)
    for case, proc in runs.items():
        sig, gap, every = case
        _, err = proc.communicate(timeout=300)
        out = folders[case]
        what = f"{sig.name}, second after {gap * 1000:.0f} ms, saving every {every}: exit {proc.returncode}, {err!r}"
        assert proc.returncode == 128 + sig, what
        assert sorted(p.name for p in out.iterdir()) == OUTPUTS, what  # everything written, no *.tmp
        step = load_checkpoint(out / "checkpoint.pt")["step"]
        assert f"at step {step}; checkpoint saved to {out / 'checkpoint.pt'}" in err, what
        assert json.loads((out / "metrics.json").read_text())["step"] == step, what
        assert main(["train", "--out", str(out), "--steps", str(step + 1), "--resume", "--no-progress",
                     "--device", "cpu", "--checkpoint-every", "0"]) == 0, what
        assert load_checkpoint(out / "checkpoint.pt")["step"] == step + 1, what


def _killed_save_leftovers(out: Path) -> list[str]:
    """What SIGKILL in the middle of a save leaves: write_atomically's temporaries (tempfile.mkstemp names)."""
    names = []
    for target in OUTPUTS:
        fd, name = tempfile.mkstemp(prefix=target + ".", suffix=".tmp", dir=out)
        os.write(fd, b"half a file")
        os.close(fd)
        names.append(Path(name).name)
    return names


def test_resume_removes_the_temporaries_of_a_killed_save_and_nothing_else(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "3", *TINY]) == 0
    leftovers = _killed_save_leftovers(out)
    (out / "notes.tmp").write_text("the user's own file")
    (out / "checkpoint.pt.mine.tmp").write_text("not a name mkstemp makes")
    assert main(["train", "--out", str(out), "--steps", "5", "--resume", "--no-progress"]) == 0
    assert "removed 4 temporary file(s)" in capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert not set(leftovers) & set(names)
    assert names == sorted(OUTPUTS + ["checkpoint.pt.mine.tmp", "notes.tmp"])
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 5


def test_a_folder_holding_only_a_killed_saves_temporaries_can_be_reused(tmp_path):
    # SIGKILL during the very first save: no checkpoint to resume, so the folder must be usable again.
    out = tmp_path / "run"
    out.mkdir()
    _killed_save_leftovers(out)
    assert main(["train", "--out", str(out), "--steps", "2", *TINY]) == 0
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS


def _as_another_user() -> list[str]:
    """The command prefix that runs a process as a user that permissions apply to (root ignores them)."""
    if os.geteuid() != 0:
        return []
    tool = shutil.which("setpriv")
    if tool is None:
        pytest.skip("running as root, which ignores file permissions, and setpriv is not installed to run the "
                    "CLI as another user")
    return [tool, "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_an_out_the_user_cannot_write_is_refused_before_training():
    base = Path(tempfile.mkdtemp())  # not pytest's tmp_path: its parents are private to the user running pytest
    try:
        prefix = _as_another_user()
        locked = base / "locked"
        locked.mkdir()
        os.chmod(base, 0o755)
        os.chmod(locked, 0o755 if prefix else 0o555)  # readable, not writable, by the user who runs the CLI
        scratch = base / "scratch"
        scratch.mkdir(mode=0o777)
        os.chmod(scratch, 0o777)
        env = dict(os.environ, HOME=str(scratch), MPLCONFIGDIR=str(scratch))
        probe = subprocess.run(prefix + [sys.executable, "-c", f"open({str(locked / 'x')!r}, 'w')"],
                               capture_output=True, env=env)
        if probe.returncode == 0:
            pytest.skip("this user can write a folder without write permission (permissions are not enforced)")
        out = locked / "run"  # a new folder inside one the user cannot write (the same check as for locked itself)
        proc = subprocess.run(prefix + [sys.executable, "-m", "gancourse", "train", "--out", str(out), "--steps", "3",
                                        *TINY], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert f"--out {out}: the folder {locked}" in proc.stderr and "not writable by this user" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert list(locked.iterdir()) == []
    finally:
        os.chmod(base / "locked", 0o755) if (base / "locked").exists() else None
        shutil.rmtree(base)

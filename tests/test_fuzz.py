"""Property-based fuzzing of the two places a learner types values: TrainConfig and the command line.

(a) ``TrainConfig`` with arbitrary values for any of its fields either builds, holding exactly the
    values given as plain Python types (so a checkpoint of it loads with ``weights_only=True``), or
    raises ``ValueError`` naming one of the bad fields; never another exception.
(b) Random command lines built from the real flags exit 0 or 2 through ``main(..., --dry-run)``;
    a 2 comes with one line on stderr and no traceback, and nothing is ever written.
"""
from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from gancourse.checkpoint import CHECKPOINT_FORMAT, save_checkpoint
from gancourse.cli import build_parser, main
from gancourse.config import CONDITIONS, LOSSES, MAX_SEED, OPTIMIZERS, TrainConfig

FIELDS = [f.name for f in fields(TrainConfig)]
FLOATS = ("lr_g", "lr_d", "beta1", "beta2", "clip", "gp_lambda")
INTS = {"n_critic": 1, "batch_size": 1, "steps": 1, "z_dim": 1, "seed": 0, "log_every": 1, "unroll_steps": 0}

# --------------------------------------------------------------------------------------- (a) TrainConfig

_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=3),
    st.just(10**400),  # beyond float range
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(LOSSES + OPTIMIZERS + ("auto", "cpu", "cuda:0", "mps", "1e-3", "nan")),
    st.floats(min_value=-2, max_value=2).map(np.float32),
    st.integers(min_value=-5, max_value=300).map(np.int64),
    st.booleans().map(np.bool_),
    st.lists(st.integers(), max_size=2),
)

_plausible = {
    "loss": st.sampled_from(LOSSES), "optimizer": st.sampled_from(OPTIMIZERS),
    "device": st.sampled_from(["auto", "cpu", "cuda", "cuda:1", "mps", "cpu:0"]),
    "clip": st.one_of(st.none(), st.floats(1e-4, 1.0)), "amp": st.booleans(), "compile": st.booleans(),
    "reuse_fakes": st.booleans(), "condition": st.sampled_from(CONDITIONS),
    "beta1": st.floats(0, 0.999), "beta2": st.floats(0, 0.9999), "gp_lambda": st.floats(0, 100),
    "lr_g": st.floats(1e-6, 1.0), "lr_d": st.floats(1e-6, 1.0), "seed": st.integers(0, MAX_SEED),
}


def _value(name: str):
    # One value in four from anywhere (two coin flips: hypothesis does not pick one_of branches uniformly).
    plausible = _plausible.get(name, st.integers(INTS.get(name, 1), 500))
    return st.tuples(st.booleans(), st.booleans()).flatmap(lambda coins: _anything if all(coins) else plausible)


_field_values = st.lists(st.sampled_from(FIELDS).flatmap(lambda n: st.tuples(st.just(n), _value(n))),
                         min_size=1, max_size=6).map(dict)


def _real(v) -> bool:
    return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_))


def _finite(v) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _is_valid(name: str, v) -> bool:
    """The documented contract, written independently of config.py."""
    if name == "loss":
        return isinstance(v, str) and v in LOSSES
    if name == "optimizer":
        return isinstance(v, str) and v in OPTIMIZERS
    if name == "condition":
        return isinstance(v, str) and v in CONDITIONS
    if name == "device":
        return isinstance(v, str) and re.fullmatch(r"auto|(cpu|cuda|mps)(:[0-9]+)?", v) is not None
    if name in ("amp", "compile", "reuse_fakes"):
        return isinstance(v, (bool, np.bool_))
    if name in INTS:
        # batches and latent sizes past 2**16 / 2**14 are refused as typos (the CLI's bounds)
        upper = {"seed": MAX_SEED, "batch_size": 2**16, "z_dim": 2**14}.get(name, math.inf)
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and INTS[name] <= v <= upper
    if name == "clip" and v is None:
        return True
    if not (_real(v) and _finite(v)) or v > 3.4028234663852886e38:   # past float32: torch cannot hold it
        return False
    if name in ("lr_g", "lr_d", "clip"):
        return v > 0
    if name in ("beta1", "beta2"):
        return 0 <= v < 1
    return v >= 0  # gp_lambda


@settings(max_examples=200, deadline=None)
@given(values=_field_values)
@example(values={"lr_g": 10**400})  # beyond float range: math.isfinite raises OverflowError
@example(values={"lr_g": 1e300, "batch_size": 10**12})  # finite, but past what torch and memory hold
@example(values={"gp_lambda": -(10**400), "seed": 2**64})
@example(values={"lr_d": np.float64(1e-3), "batch_size": np.int64(32), "beta1": np.float32(0.5), "amp": np.bool_(1)})
@example(values={"device": "cuda:x"})
@example(values={"loss": ["nsgan"]})  # unhashable
@example(values={"compile": 1})
def test_train_config_builds_exactly_the_valid_values_or_names_a_bad_field(values):
    bad = [name for name, v in values.items() if not _is_valid(name, v)]
    if not bad and values.get("reuse_fakes") and values.get("unroll_steps", 0) > 0:
        bad = ["reuse_fakes"]  # a rule between fields: the unrolled G step needs its own fakes
    event("invalid" if bad else "valid")
    if bad:
        with pytest.raises(ValueError) as info:  # any other exception type fails the test
            TrainConfig(**values)
        assert any(name in str(info.value) for name in bad), (bad, str(info.value))
        return
    cfg = TrainConfig(**values)
    for name, v in values.items():
        got = getattr(cfg, name)
        want = float(v) if name in FLOATS and v is not None else v  # float fields hold floats
        assert got == want and type(got) in (int, float, str, bool, type(None)), (name, v, got)
    # Plain types all the way down: a checkpoint of this config loads with weights_only=True.
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "config": cfg.to_dict()}, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["config"] == cfg.to_dict()


# --------------------------------------------------------------------------------------- (b) command line

@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Every kind of --out: new, empty, full, a file, a real run, a corrupt and a foreign checkpoint."""
    root = tmp_path_factory.mktemp("cli-fuzz")
    (root / "empty").mkdir()
    (root / "full").mkdir()
    (root / "full" / "notes.txt").write_text("mine")
    (root / "a-file").write_text("not a folder")
    (root / "corrupt").mkdir()
    (root / "corrupt" / "checkpoint.pt").write_bytes(b"\x80\x02garbage")
    (root / "foreign").mkdir()
    save_checkpoint({"format": CHECKPOINT_FORMAT, "step": 2}, root / "foreign" / "checkpoint.pt")
    # One real tiny run, so --resume has something to continue.
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["train", "--data", "ring", "--steps", "3", "--out", str(root / "run"), "--no-progress",
                     "--device", "cpu", "--z-dim", "4", "--width", "16", "--batch-size", "16"])
    assert code == 0
    return root


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(root.rglob("*"))}


def _flags():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["train"]
    return [a for a in sub._actions if a.option_strings and a.dest not in ("help", "dry_run")]


_FLAGS = _flags()
_junk = st.one_of(st.text(max_size=8), st.sampled_from(["--", "-", "-x", "--out", "--steps=3", "=", "train"]))
_number_text = st.one_of(
    st.integers(-(2**66), 2**66).map(str),
    st.integers(-3, 40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e999", "-1e-3", "0", "-0", "0x10", "1_000", " 7 ", "", "1e-4"]),
)


def _mostly(good, bad):
    """About seven draws in eight from ``good``: junk everywhere would only ever test the error path.
    (Three coin flips, because hypothesis does not pick one_of branches or integers uniformly.)"""
    return st.tuples(st.booleans(), st.booleans(), st.booleans()).flatmap(lambda coins: bad if all(coins) else good)


# --out values are symbolic ("@run"), replaced by the module's folders inside the test, so that
# @example can name them. The first three can succeed, the others always fail.
OUTS = ("@new", "@empty", "@run", "@full", "@a-file", "@corrupt", "@foreign")


def _flag_tokens(action):
    flag = st.sampled_from(action.option_strings)
    if action.nargs == 0:  # store_true
        return flag.map(lambda f: [f])
    if action.dest == "out":
        value = _mostly(st.sampled_from(OUTS[:3]), st.sampled_from(OUTS[3:]))
    elif action.choices:
        value = _mostly(st.sampled_from(list(action.choices)), st.text(max_size=6))
    elif action.type is float:
        value = _mostly(st.floats(1e-5, 0.9).map(repr), st.one_of(_number_text, st.text(max_size=6)))
    else:
        value = _mostly(st.integers(1, 40).map(str), st.one_of(_number_text, st.text(max_size=6)))
    # Now and then the value is missing (the next token is a flag) or joined with '='.
    return st.tuples(flag, value, st.sampled_from(["sep"] * 6 + ["eq", "none"])).map(
        lambda t: [t[0], t[1]] if t[2] == "sep" else [f"{t[0]}={t[1]}"] if t[2] == "eq" else [t[0]])


_argv = st.tuples(
    _mostly(st.just(["train"]), st.sampled_from([[], ["fit"]])),
    _mostly(st.sampled_from(OUTS).map(lambda out: ["--out", out]), st.just([])),
    st.sampled_from([[], ["--resume"]]),
    st.lists(_mostly(st.one_of(*[_flag_tokens(a) for a in _FLAGS]), _junk.map(lambda j: [j])), max_size=4),
).map(lambda t: t[0] + t[1] + t[2] + [token for group in t[3] for token in group] + ["--dry-run"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(argv=_argv)
@example(argv=["train", "--out", "@foreign", "--resume", "--dry-run"])
@example(argv=["train", "--out", "@corrupt", "--resume", "--dry-run"])
@example(argv=["train", "--out", "@run", "--resume", "--steps", "9", "--lr-d", "0.5", "--dry-run"])
@example(argv=["train", "--out", "@run", "--resume", "--steps", "9", "--dry-run"])
@example(argv=["train", "--out", "@new", "--clip", "-1e-3", "--seed", str(2**64), "--dry-run"])
@example(argv=["train", "--out", "@a-file", "--width", "-2", "--dry-run"])
def test_cli_exits_0_or_2_with_one_line_and_writes_nothing(folders, argv):
    argv = [str(folders / token[1:]) if token in OUTS else token for token in argv]
    before = _snapshot(folders)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    err = stderr.getvalue()
    assert code in (0, 2), (argv, code, err)
    event(f"exit {code}" + (" (--resume)" if "--resume" in argv else ""))
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("gancourse") and "error:" in lines[0], (argv, err)
    else:
        first = stdout.getvalue().splitlines()[0]
        # Nothing on stderr but a one-line warning (batch norm asked for in a critic).
        assert all(line.startswith("gancourse: warning: ") for line in err.splitlines()), (argv, err)
        assert " -> " in first or first.startswith("usage:"), (argv, stdout.getvalue())
    assert _snapshot(folders) == before, argv  # --dry-run never writes, whatever else it was given

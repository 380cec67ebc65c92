"""Every public function and class of gancourse documents itself with a runnable example.

"Public" means: listed in the module's ``__all__``; in a module without ``__all__``, every function or
class defined there whose name does not start with ``_``. The examples themselves run as doctests
(``pytest --doctest-modules gancourse``, part of ``make test``); this file checks that they exist.
"""
import importlib
import inspect
import pkgutil
import pydoc
import types

import pytest

import gancourse

# Running gancourse.__main__ starts the command line, so it is never imported here.
SKIP = {"gancourse.__main__"}


def _module_names() -> list[str]:
    found = pkgutil.walk_packages(gancourse.__path__, "gancourse.", onerror=lambda name: None)
    names = ["gancourse"] + sorted(m.name for m in found if m.name not in SKIP)
    return [n for n in names if not n.rsplit(".", 1)[-1].startswith("_")]


MODULES = _module_names()


def public_objects(module: types.ModuleType) -> dict[str, object]:
    """The public functions and classes of ``module`` (see the module docstring)."""
    if hasattr(module, "__all__"):
        names = list(module.__all__)
        missing = [n for n in names if not hasattr(module, n)]
        assert not missing, f"{module.__name__}.__all__ lists names it does not have: {missing}"
    else:
        names = [n for n, obj in vars(module).items()
                 if not n.startswith("_") and getattr(obj, "__module__", None) == module.__name__]
    objects = {n: getattr(module, n) for n in names}
    return {n: obj for n, obj in objects.items() if inspect.isfunction(obj) or inspect.isclass(obj)}


def undocumented(module: types.ModuleType) -> list[str]:
    """Public names whose own docstring lacks an ``Example`` section with a ``>>>`` line."""
    bad = []
    for name, obj in public_objects(module).items():
        doc = obj.__doc__ or ""  # not inspect.getdoc: a class must not borrow its base class's example
        if "Example" not in doc or ">>>" not in doc:
            bad.append(name)
    return bad


def test_the_walk_finds_the_package():
    # Guards the test below against passing vacuously because walking the package found nothing.
    assert {"gancourse.data.mixtures", "gancourse.models.dcgan", "gancourse.widgets.dashboard",
            "gancourse.exercises.lesson1", "gancourse.losses"} <= set(MODULES)
    assert len(public_objects(importlib.import_module("gancourse.losses"))) >= 7


@pytest.mark.parametrize("name", MODULES)
def test_public_functions_and_classes_have_an_example(name):
    module = importlib.import_module(name)
    missing = undocumented(module)
    assert not missing, f"{name}: add a docstring with an 'Example:' section and '>>>' lines to {missing}"


def test_the_check_flags_an_undocumented_function():
    fake = types.ModuleType("gancourse_fake")
    exec(
        "def documented(x):\n"
        "    '''Twice x.\n\n    Example:\n        >>> documented(2)\n        4\n    '''\n"
        "    return 2 * x\n"
        "def no_example(x):\n    '''Twice x.'''\n    return 2 * x\n"
        "def bare(x):\n    return x\n"
        "def _private(x):\n    return x\n"
        "class Plain:\n    pass\n",
        fake.__dict__,
    )
    assert undocumented(fake) == ["no_example", "bare", "Plain"]
    fake.__all__ = ["documented", "bare"]
    assert undocumented(fake) == ["bare"]


def test_a_subclass_does_not_inherit_its_parents_example():
    fake = types.ModuleType("gancourse_fake")
    exec("class Base:\n    '''Base.\n\n    Example:\n        >>> Base()  # doctest: +SKIP\n    '''\n"
         "class Child(Base):\n    pass\n", fake.__dict__)
    assert undocumented(fake) == ["Child"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_explains_itself(name):
    assert (importlib.import_module(name).__doc__ or "").strip(), f"{name} has no module docstring"


def test_help_lists_every_top_level_module():
    # tests/test_project.py checks a fixed list; this one follows the package, so a new module must
    # be added to the overview in gancourse/__init__.py.
    text = pydoc.render_doc(gancourse, renderer=pydoc.plaintext)
    top_level = [m.name for m in pkgutil.iter_modules(gancourse.__path__) if not m.name.startswith("_")]
    assert len(top_level) >= 10
    missing = [m for m in top_level if f"gancourse.{m}" not in text]
    assert not missing, f"help(gancourse) does not describe {missing}; add them to gancourse/__init__.py's docstring"

"""The course map: every lesson, what it teaches and how long its notebook runs, in one place.

README.md's table and notebook 00's list of lessons are both drawn from ``LESSONS`` (tests/test_start_here.py
checks that README's copy is the one ``readme_table()`` writes), so a time measured again is typed once, here.

Times are the notebooks' own clocks (their last cell prints "notebook ran in ...") on an otherwise idle 2-core
CPU, offline; ``quick_s`` is the same in quick mode (``GANCOURSE_QUICK=1``), a range when runs differed.
Rewrite README's table after changing this file with ``python -m gancourse.course README.md``.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Lesson", "LESSONS", "lesson_table", "readme_table", "write_readme_table"]

NOT_MEASURED = "not measured yet"


@dataclass(frozen=True)
class Lesson:
    """One lesson: its notebook (``""`` while it is being written), a plain summary for newcomers (notebook 00),
    the detailed contents (README) and measured run times in seconds.

    Example:
        >>> LESSONS[0].notebook, LESSONS[0].built
        ('00_start_here', True)
    """

    number: int
    title: str
    notebook: str
    summary: str
    contents: str
    full_s: int | None = None
    quick_s: tuple[int, int] | None = None
    note: str = ""
    gpu: str = NOT_MEASURED

    @property
    def built(self) -> bool:
        """True when the lesson's notebook exists (planned lessons have none yet).

        Example:
            >>> [lesson.number for lesson in LESSONS if not lesson.built]
            [7]
        """
        return bool(self.notebook)


LESSONS: tuple[Lesson, ...] = (
    Lesson(0, "Start here", "00_start_here",
           "the datasets, the training loop, your first GAN and how to score it, the command line",
           "the datasets, the training loop, a first GAN and how to score it (mode coverage), the CLI",
           31, (10, 10)),
    Lesson(1, "The vanilla GAN", "01_vanilla_gan",
           "the two-player game behind every GAN, the loss the generator really trains with, and three bugs that "
           "break most first GANs",
           "the minimax game, the optimal discriminator and Theorem 1 checked numerically, Algorithm 1 by hand, "
           "saturating vs non-saturating loss, three common bugs, a ring fitted with all 8 modes before the "
           "failures, the dashboard (Goodfellow et al. 2014)",
           162, (20, 20)),
    Lesson(2, "Mode collapse", "02_mode_collapse",
           "why a generator can end up drawing only some of the data's clusters, and five remedies measured "
           "against the papers' published results",
           "mode collapse traced over training with the papers' optimiser (D ten times slower than G), why it "
           "happens (G against a frozen D), the remedies measured where it collapses, then precision in a modern "
           "setting against the published tables (VEEGAN, PacGAN, GDPP) with verdicts beyond two standard errors; "
           "remedies: PacGAN packing, minibatch std, unrolled GAN, WGAN-GP, DeLiGAN's mixture latent",
           496, (32, 32)),
    Lesson(3, "DCGAN", "03_dcgan",
           "convolutional GANs that draw images, how to judge generated images honestly, and a GAN trained on "
           "your own pictures",
           "DCGAN's guidelines, shapes layer by layer, checkerboard artefacts, classifier-based evaluation, "
           "interpolation, memorisation check, ablations with computed verdicts, an exercise that builds the DCGAN, "
           "your own pictures at 64 x 64 (Radford et al. 2015)",
           334, (23, 23)),
    Lesson(4, "WGAN", "04_wgan",
           "why the original GAN loss stops teaching when real and generated data do not overlap, and the "
           "Wasserstein GAN that keeps teaching (weight clipping, gradient penalty)",
           "why JS fails (Example 1), earth mover's distance and its dual, weight clipping vs gradient penalty, "
           "Lipschitz checks, whether a held-out critic ranks generators as the exact W1 does, budget or method with "
           "a cached longer run (Arjovsky et al. 2017, Gulrajani et al. 2017)",
           490, (38, 38)),
    Lesson(5, "Conditional GANs", "05_conditional",
           "asking the generator for a chosen class (draw a 7), three ways to give the networks the label, and "
           "how to measure each class",
           "the conditional GAN (Mirza & Osindero 2014) on lesson 2's grid with the label = the mode index, concat "
           "vs AC-GAN vs projection discriminators on digits (label accuracy, intra-class Fréchet distance, "
           "intra-class diversity), AC-GAN's bias on overlapping classes measured by exact per-class W1 (Odena et "
           "al. 2017, Miyato & Koyama 2018, Shu et al. 2017, Gong et al. 2019), a fixed z across the labels, "
           "interpolation, a label picker",
           404, (30, 52)),
    Lesson(6, "Modern GANs", "06_modern_gans",
           "the stabilisers today's GANs train with, compared head to head, and scores that tell image quality "
           "apart from variety",
           "the Dirac-GAN's eigenvalues by autograd against the paper's closed forms, spectral normalisation (power "
           "iteration, the Lipschitz bound measured), hinge loss, R1, TTUR and an average of G as pieces the loop "
           "looks up, precision / recall / density / coverage, NS-GAN vs WGAN-GP vs hinge + SN vs R1 with and "
           "without EMA on ring, grid and digits, the truncation trick as a curve (Mescheder et al. 2018, Miyato "
           "et al. 2018, Kynkäänniemi et al. 2019, Brock et al. 2019)",
           337, (40, 40)),
    Lesson(7, "GANs at work", "", "coming: being written", "coming: being written"),
    Lesson(8, "Text and sound", "08_text_and_sound",
           "GANs for text, where picking a word cuts the generator off from the discriminator's gradient, and "
           "for sound, where the generator's upsampling leaves tones of its own",
           "why sampling cuts D's gradient (autograd), the Gumbel-softmax relaxation and REINFORCE with a baseline "
           "on SeqGAN's synthetic oracle scaled down (NLL-oracle, NLL-test, distinct-4), MLE's temperature curve "
           "with each GAN placed against it, a grammar of arithmetic expressions (share that parse), a miniature "
           "WaveGAN on tones with and without phase shuffle (pitch coverage, spectral distance, artefact energy), "
           "spectrograms and audio players (Yu et al. 2017, Jang et al. 2017, Kusner & Hernández-Lobato 2016, "
           "Caccia et al. 2020, Donahue et al. 2019)",
           174, (17, 17)),
)


def _seconds(lesson: Lesson, quick: bool) -> str:
    if not lesson.built:
        return "-"
    if quick:
        low, high = lesson.quick_s
        return f"{low} s" if low == high else f"{low}-{high} s"
    return f"{lesson.full_s} s" + (f" ({lesson.note})" if lesson.note else "")


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"about {round(seconds / 60)} min"


def lesson_table() -> str:
    """Notebook 00's list of lessons as a markdown table: lesson, what you learn, time on a CPU in full and in
    quick mode (rounded to minutes above 90 s).

    Example:
        >>> print(lesson_table().splitlines()[0])
        | lesson | what you learn | CPU, full | CPU, quick mode |
        >>> lesson_table().splitlines()[6].endswith("| about 8 min | 38 s |")  # lesson 4
        True
    """
    rows = ["| lesson | what you learn | CPU, full | CPU, quick mode |", "|---|---|---|---|"]
    for lesson in LESSONS:
        name = f"{lesson.number} · {lesson.title}" + (" (this notebook)" if lesson.number == 0 else "")
        full = _minutes(lesson.full_s) + (f" ({lesson.note})" if lesson.note else "") if lesson.built else "-"
        rows.append(f"| {name} | {lesson.summary} | {full} | {_seconds(lesson, quick=True)} |")
    return "\n".join(rows)


def readme_table() -> str:
    """README's course map as a markdown table: notebook, contents, CPU full, CPU quick, GPU.

    Example:
        >>> print(readme_table().splitlines()[0])
        | notebook | what it teaches | CPU, full | CPU, quick mode | GPU |
    """
    rows = ["| notebook | what it teaches | CPU, full | CPU, quick mode | GPU |", "|---|---|---|---|---|"]
    for lesson in LESSONS:
        name = f"`{lesson.notebook}`" if lesson.built else f"{lesson.number:02d} · {lesson.title}"
        gpu = lesson.gpu if lesson.built else "-"
        rows.append(f"| {name} | {lesson.contents} | {_seconds(lesson, quick=False)} | "
                    f"{_seconds(lesson, quick=True)} | {gpu} |")
    return "\n".join(rows)


def write_readme_table(readme: str | Path) -> bool:
    """Replace the table under README's "## The course map" with ``readme_table()``; True if the file changed.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder) / "README.md"
        ...     _ = path.write_text("# x\\n\\n## The course map\\n\\n| old |\\n|---|\\n\\nText.\\n")
        ...     write_readme_table(path), write_readme_table(path), path.read_text().endswith("|\\n\\nText.\\n")
        (True, False, True)
    """
    path = Path(readme)
    lines = path.read_text(encoding="utf-8").split("\n")
    try:
        start = lines.index("## The course map") + 2
    except ValueError:
        raise ValueError(f"{path} has no '## The course map' heading to put the table under") from None
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    new = lines[:start] + readme_table().split("\n") + lines[end:]
    if new == lines:
        return False
    path.write_text("\n".join(new), encoding="utf-8")
    return True


if __name__ == "__main__":
    for name in sys.argv[1:] or ["README.md"]:
        print(f"{name}: {'table rewritten' if write_readme_table(name) else 'table already current'}")

"""``minping score`` (offline, no database) and ``minping score-wave``."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import click

from scoring.settings import DEFAULTS, SEED_RANGE

from .cli_context import with_appcontext

#: responses files from this size on are scored without NumPy's huge-page advice
HUGE_PAGES_OFF_FROM = 50_000_000


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # score_file reports it


#: glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_MMAP_THRESHOLD_MAX = 32 * 2**20  # the largest glibc accepts on 64-bit


def _lean_process(responses_path: Path) -> None:
    """Settings for the offline scorer's process (docs/performance-scoring.md).

    Before NumPy loads, no huge-page advice for a large file: a million
    responses' arrays, each touched once, cost about a second more system
    time with huge pages (at 100,000 they save 0.1 s).  Run from the console
    script (a process of its own, which ends when the JSON is written; not in
    tests' ``CliRunner``): BLAS without threads of its own (the engine runs
    its own threads and pins BLAS to one while scoring: BLAS's idle threads
    only spun); freed blocks up to 32 MB kept for reuse instead of being
    returned to the kernel and faulted in, zeroed, again (the scorer makes and
    frees its temporaries by the thousand: a tenth of its CPU time went to
    zeroing pages); and no cyclic garbage collection.  Values the user set in
    the environment are kept; the output is the same bytes.
    """
    console = bool(getattr(click.get_current_context().find_root().command, "console_run", False))
    if "numpy" not in sys.modules:
        if _size(responses_path) >= HUGE_PAGES_OFF_FROM:
            os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
        if console:
            os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if not console:
        return
    if not any(k.startswith("MALLOC_") for k in os.environ):
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
            libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
            libc.mallopt(_M_TOP_PAD, 64 * 2**20)
        except (OSError, AttributeError):  # not glibc: the allocator's defaults
            pass
    gc.disable()


def _trim_bounds(text: str) -> tuple[float, float] | None:
    """``--trim``'s value: ``LOW,HIGH`` as two numbers, or ``off`` (None: no trimming)."""
    if text.strip().lower() == "off":
        return None
    from scoring.raking import check_trim

    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise click.ClickException(f"--trim {text!r} must be two numbers like 0.3,3") from None
    try:
        return check_trim(low, high)
    except ValueError as exc:
        raise click.ClickException(f"--trim {text}: {exc}") from None


@click.command("score")
@click.option(
    "--framework", "framework_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--responses", "responses_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--boot", default=DEFAULTS.boot, show_default=True, type=int)
@click.option("--seed", default=DEFAULTS.seed, show_default=True, type=int)
@click.option("--min-n", default=DEFAULTS.min_n, show_default=True, type=int)
@click.option(
    "--population",
    "population_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Population margins CSV/XLSX: rake the weights and weight the district reference.",
)
@click.option(
    "--trim",
    default=None,
    metavar="LOW,HIGH",
    help="Bound raking adjustments to LOW..HIGH times the cell's average (e.g. 0.3,3).",
)
@click.option(
    "--entropy-from",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Freeze the rank sensitivity's entropy weights from an earlier scores JSON.",
)
@click.option(
    "--no-raking",
    is_flag=True,
    help="With --population: keep the weights, use the counts for the district reference only.",
)
def score(
    framework_path: Path,
    responses_path: Path,
    out: Path,
    boot: int,
    seed: int,
    min_n: int,
    population_path: Path | None,
    trim: str | None,
    no_raking: bool,
    entropy_from: Path | None,
) -> None:
    """Score a responses file offline (no database, no server) into JSON."""
    _lean_process(responses_path)
    from scoring.exchange import ExchangeError
    from scoring.framework import FrameworkError
    from scoring.offline import score_file
    from scoring.population import PopulationError
    from scoring.raking import RakingError
    from scoring.settings import ScoringSettings

    try:
        ScoringSettings(boot=boot, seed=seed, min_n=min_n).validated()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    bounds = _trim_bounds(trim) if trim else None
    try:
        result = score_file(
            framework_path,
            responses_path,
            out,
            boot=boot,
            seed=seed,
            min_n=min_n,
            population_path=population_path,
            trim=bounds,
            rake=not no_raking,
            entropy_from=entropy_from,
        )
    except (FrameworkError, ExchangeError, PopulationError, RakingError) as exc:
        problems = exc.problems
        raise click.ClickException(
            problems[0] + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else "")
        ) from None
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"scored {len(result['streets'])} streets; wrote {out}")


@click.command("score-wave")
@click.argument("code")
@click.option("--boot", default=DEFAULTS.boot, show_default=True, type=int)
@click.option(
    "--seed",
    default=None,
    type=click.IntRange(*SEED_RANGE),
    help="Default: derived from the district and wave codes (each wave its own).",
)
@click.option("--min-n", default=None, type=int, help="Default: the wave's setting.")
@click.option("--out", default=None, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--weighting",
    type=click.Choice(["unweighted", "imported", "raked"]),
    default=None,
    help="Change the wave's weighting setting first (default: keep it).",
)
@click.option(
    "--trim",
    default=None,
    metavar="LOW,HIGH|off",
    help="Change the wave's raking trimming bounds first (e.g. 0.3,3; off: none; "
    "default: keep them).",
)
@with_appcontext
def score_wave(
    code: str,
    boot: int,
    seed: int | None,
    min_n: int | None,
    out: Path | None,
    weighting: str | None,
    trim: str | None,
) -> None:
    """Score a closed wave and store the scoring run (excluded responses left out)."""
    from .extensions import db
    from .services.sample_quality import set_trim
    from .services.scoring_runs import score_wave as run_scoring
    from .services.waves import WaveStateError, get_wave, set_weighting

    bounds = _trim_bounds(trim) if trim is not None else None
    try:
        wave = get_wave(code)
        if weighting is not None:
            set_weighting(wave, weighting)
        if trim is not None:
            set_trim(wave, *(bounds or (None, None)))
        run = run_scoring(wave, boot=boot, seed=seed, min_n=min_n)
    except (LookupError, WaveStateError, ValueError) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if out:
        out.write_text(run.result_json, encoding="utf-8")
    click.echo(
        f"scoring run {run.id} for {wave.code}: {run.n_responses} responses "
        f"({run.n_excluded} excluded), boot {boot}, seed {run.seed}"
        + (f"; wrote {out}" if out else "")
    )


@click.command("notices")
@click.option("--wave", "wave_code", required=True)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--issue-date", default=None, help="YYYY-MM-DD (default: today in Beijing).")
@click.option("--days", default=None, type=int, help="Working days to the deadline (default 30).")
@with_appcontext
def notices(wave_code: str, out: Path, issue_date: str | None, days: int | None) -> None:
    """Issue a scored wave's notices (or re-export issued ones) as PDFs named by street."""
    import datetime as dt

    from tqdm import tqdm

    from .extensions import db
    from .services.notices import issue_notices, wave_notices
    from .services.waves import WaveStateError, get_wave

    try:
        wave = get_wave(wave_code)
        day = dt.date.fromisoformat(issue_date) if issue_date else None
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError:
        raise click.ClickException(
            f"--issue-date {issue_date!r} is not a date like 2026-03-31"
        ) from None
    if days is not None and not 1 <= days <= 365:
        raise click.ClickException("--days must be between 1 and 365")
    if wave.state == "scored":
        bar = tqdm(total=len(wave.district.streets) + 1, unit="pdf", desc="notices")

        def progress(done: int, total: int, name: str) -> None:
            bar.total = total
            bar.update(done - bar.n)
            bar.set_postfix_str(name)

        try:
            # commit the reads before rendering: no transaction stays open meanwhile
            issue_notices(
                wave, issue_date=day, days=days, progress=progress, before_render=db.session.commit
            )
        except (WaveStateError, ValueError) as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        finally:
            bar.close()
        db.session.commit()
    elif wave.state not in ("notices_issued", "published"):
        raise click.ClickException(
            f"wave {wave.code} is '{wave.state}': score it first (minping score-wave {wave.code})"
        )
    out.mkdir(parents=True, exist_ok=True)
    docs = wave_notices(wave)
    for notice in docs:
        name = notice.street.full_name if notice.street else f"{wave.name}通报"
        (out / f"{name}.pdf").write_bytes(notice.pdf)
    kinds = [n.kind for n in docs]
    click.echo(
        f"{len(docs)} PDFs for {wave.code} in {out}: {kinds.count('notice')} notices with a "
        f"deadline, {kinds.count('letter')} results letters without, "
        f"{kinds.count('ranking')} ranking report"
    )

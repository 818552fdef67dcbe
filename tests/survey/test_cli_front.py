"""The ``minping`` front: commands load only what they use (docs/cli.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from survey.cli import COMMANDS, EXTERNAL, OFFLINE

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "flask",
    "werkzeug",
    "sqlalchemy",
    "jinja2",
    "weasyprint",
    "matplotlib",
    "scipy.stats",
    "scipy.special",
)


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NUMPY_MADVISE_HUGEPAGE", None)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )


def _modules_after(args: list[str], cwd: Path) -> tuple[list[str], str, int]:
    script = f"""
import json, sys
from survey.cli import main
try:
    main({args!r}, prog_name="minping")
except SystemExit as exc:
    code = exc.code or 0
loaded = {{m.split('.')[0] for m in sys.modules}} | set(sys.modules)
heavy = sorted(loaded & set({HEAVY!r}))
print(json.dumps([heavy, code]))
"""
    done = _run(script, cwd)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    heavy, code = json.loads(lines[-1])
    return heavy, "\n".join(lines[:-1]), code


@pytest.mark.parametrize("args", [["--help"], ["score", "--help"]])
def test_help_loads_no_web_or_document_stack(args, tmp_path):
    heavy, out, code = _modules_after(args, tmp_path)
    assert code == 0
    assert heavy == []
    assert "Usage: minping" in out


def test_offline_score_loads_no_web_or_document_stack(tmp_path):
    from scoring import load_default_framework, simulate
    from scoring.dataset import to_records
    from scoring.exchange import write_csv

    fw = load_default_framework()
    sim = simulate(fw, ["甲", "乙"], 40, seed=3)
    (tmp_path / "r.csv").write_bytes(write_csv(to_records(sim.data), fw))
    (tmp_path / "fw.toml").write_bytes(
        (ROOT / "scoring" / "data" / "gulou-default.toml").read_bytes()
    )
    args = ["score", "--framework", "fw.toml", "--responses", "r.csv", "--out", "s.json"]
    heavy, out, code = _modules_after([*args, "--boot", "100"], tmp_path)
    assert code == 0, out
    assert heavy == []
    assert "scored 2 streets" in out
    assert json.loads((tmp_path / "s.json").read_text())["district"]["n"] == sim.data.n


@pytest.mark.parametrize(("size", "advice"), [(10, "False"), (10**9, "True")])
def test_offline_score_turns_numpy_huge_pages_off_for_large_files(tmp_path, size, advice):
    """``minping score`` sets NUMPY_MADVISE_HUGEPAGE=0 before NumPy loads for a large file."""
    (tmp_path / "r.csv").write_bytes(b"x" * 20)
    script = f"""
import sys
import survey.cli_scoring
from survey.cli import main
survey.cli_scoring.HUGE_PAGES_OFF_FROM = {size}
try:
    main(["score", "--framework", "missing.toml", "--responses", "r.csv", "--out", "s.json"])
except SystemExit:
    pass
from numpy._core.multiarray import _get_madvise_hugepage
print(_get_madvise_hugepage())
"""
    done = _run(script, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == advice


def test_console_score_leaves_at_once_with_its_output_and_status(tmp_path):
    """Run as the console script runs it (arguments from sys.argv): the process
    exits without interpreter teardown, after its file, message and status are out;
    an atexit hook shows the teardown was skipped."""
    from scoring import load_default_framework, simulate
    from scoring.dataset import to_records
    from scoring.exchange import write_csv

    fw = load_default_framework()
    sim = simulate(fw, ["甲", "乙"], 40, seed=3)
    (tmp_path / "r.csv").write_bytes(write_csv(to_records(sim.data), fw))
    (tmp_path / "fw.toml").write_bytes(
        (ROOT / "scoring" / "data" / "gulou-default.toml").read_bytes()
    )
    console = """
import atexit, sys
from survey.cli import main
atexit.register(lambda: print("torn down"))
sys.argv = ["minping", "score", "--framework", "fw.toml", "--responses", {responses!r},
            "--out", "s.json", "--boot", "100"]
sys.exit(main())
"""
    done = _run(console.format(responses="r.csv"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "scored 2 streets; wrote s.json\n"
    assert json.loads((tmp_path / "s.json").read_text())["district"]["n"] == sim.data.n
    failed = _run(console.format(responses="missing.csv"), tmp_path)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "missing.csv: cannot read the file" in failed.stderr
    # a command given its arguments (tests, CliRunner) returns as before
    given = _run(
        "import atexit\nfrom survey.cli import main\n"
        "atexit.register(lambda: print('torn down'))\n"
        "main(['score', '--framework', 'fw.toml', '--responses', 'r.csv', '--out', 't.json',"
        " '--boot', '100'])",
        tmp_path,
    )
    assert given.returncode == 0, given.stderr
    assert given.stdout.splitlines() == ["scored 2 streets; wrote t.json", "torn down"]


def test_console_score_process_settings_and_not_under_given_arguments(tmp_path):
    """Run from the console script, the scorer's process gets BLAS without threads
    of its own, glibc's memory kept for reuse and no cyclic collector
    (docs/performance-scoring.md); a run given its arguments (tests, CliRunner)
    changes none of them; both write the same bytes."""
    from scoring import load_default_framework, simulate
    from scoring.dataset import to_records
    from scoring.exchange import write_csv

    fw = load_default_framework()
    sim = simulate(fw, ["甲", "乙", "丙"], 40, seed=4)
    (tmp_path / "r.csv").write_bytes(write_csv(to_records(sim.data), fw))
    (tmp_path / "fw.toml").write_bytes(
        (ROOT / "scoring" / "data" / "gulou-default.toml").read_bytes()
    )
    script = """
import gc, os, sys
import survey.cli_scoring
from survey.cli import main
lean = survey.cli_scoring._lean_process
def spy(*a, **k):
    lean(*a, **k)
    print("gc", gc.isenabled(), "blas", os.environ.get("OPENBLAS_NUM_THREADS"), flush=True)
survey.cli_scoring._lean_process = spy
args = ["score", "--framework", "fw.toml", "--responses", "r.csv", "--out", {out!r},
        "--boot", "100"]
if {console!r}:
    sys.argv = ["minping", *args]
    sys.exit(main())
main(args)
"""
    env_blas = os.environ.get("OPENBLAS_NUM_THREADS")
    console = _run(script.format(out="c.json", console=True), tmp_path)
    assert console.returncode == 0, console.stderr
    assert console.stdout.splitlines()[0] == "gc False blas " + (env_blas or "1")
    given = _run(script.format(out="g.json", console=False), tmp_path)
    assert given.returncode == 0, given.stderr
    assert given.stdout.splitlines()[0] == f"gc True blas {env_blas}"
    assert (tmp_path / "c.json").read_bytes() == (tmp_path / "g.json").read_bytes()


def test_offline_score_same_seed_same_bytes(tmp_path):
    """Two processes, same file and seed: byte-identical JSON (threads and chunks aside)."""
    from scoring import load_default_framework, simulate
    from scoring.dataset import to_records
    from scoring.exchange import write_csv

    fw = load_default_framework()
    sim = simulate(fw, ["甲", "乙", "丙"], 50, seed=8, weight_cv=0.3)
    (tmp_path / "r.csv").write_bytes(write_csv(to_records(sim.data), fw))
    (tmp_path / "fw.toml").write_bytes(
        (ROOT / "scoring" / "data" / "gulou-default.toml").read_bytes()
    )
    outs = []
    for k in range(2):
        args = ["score", "--framework", "fw.toml", "--responses", "r.csv", "--out", f"{k}.json"]
        _, out, code = _modules_after([*args, "--boot", "200", "--seed", "5"], tmp_path)
        assert code == 0, out
        outs.append((tmp_path / f"{k}.json").read_bytes())
    assert outs[0] == outs[1]


def test_help_lists_every_command(tmp_path):
    _, out, _ = _modules_after(["--help"], tmp_path)
    for name in (*COMMANDS, *EXTERNAL):
        assert f"\n  {name} " in out
    for option in ("--env-file", "--app", "--debug / --no-debug"):
        assert option in out


def test_app_cli_has_the_same_commands(app):
    """Every command the app registers is known to the front (or listed as external)."""
    assert set(app.cli.commands) <= set(COMMANDS) | set(EXTERNAL)
    assert set(COMMANDS) <= set(app.cli.commands)
    assert OFFLINE <= set(COMMANDS)


def test_app_commands_still_run_through_the_front(tmp_path):
    env_db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    script = f"""
import os
os.environ["DATABASE_URL"] = {env_db!r}
from survey.cli import main
for args in (["db", "upgrade"], ["waves"], ["calendar", "show", "1999"]):
    try:
        main(args)
    except SystemExit as exc:
        print("exit", args[0], exc.code)
"""
    done = _run(script, tmp_path)
    assert "exit db 0" in done.stdout, done.stderr
    assert "no waves" in done.stdout
    assert "exit waves 0" in done.stdout
    assert "exit calendar 1" in done.stdout  # a one-line reason, not a traceback
    assert "1999 is not in the official table" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_command_exits_2(tmp_path):
    done = _run("from survey.cli import main\nmain(['no-such-command'])", tmp_path)
    assert done.returncode == 2
    assert "No such command 'no-such-command'" in done.stderr

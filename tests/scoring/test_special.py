"""scoring.special: SciPy's own ufuncs, without importing the scipy.special package."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_the_engine_loads_without_the_scipy_special_package() -> None:
    out = _run(
        """
        import sys
        import scoring.engine, scoring.funnel, scoring.tdist
        from scoring import special
        print("package" if "scipy.special" in sys.modules else "no package")
        import numpy as np, scipy.special, scipy.stats
        same = all(getattr(special, n) is getattr(scipy.special, n) for n in special._NAMES)
        print("same objects" if same else "other objects")
        q = np.linspace(0.001, 0.999, 101)
        for df in (1.0, 2.5, 7.0, 30.0, 1e6):
            assert np.array_equal(scoring.tdist.ppf(q, df), scipy.stats.t.ppf(q, df))
            x = q * 8 - 4
            assert np.array_equal(scoring.tdist.cdf(x, df), scipy.stats.t.cdf(x, df))
        assert np.array_equal(special.ndtri(q), scipy.stats.norm.ppf(q))
        print("same numbers", scipy.special.gamma(5.0))
        """
    )
    assert out.splitlines() == ["no package", "same objects", "same numbers 24.0"]


def test_another_scipy_layout_falls_back_to_the_documented_import() -> None:
    out = _run(
        """
        import importlib, sys
        real = importlib.import_module
        def broken(name, *a, **k):
            if name == "scipy.special._ufuncs" and "scipy.special" in sys.modules \\
                    and not hasattr(sys.modules["scipy.special"], "gamma"):
                raise ImportError("no such module in this layout")
            return real(name, *a, **k)
        importlib.import_module = broken
        from scoring import special
        importlib.import_module = real
        import scipy.special
        print(hasattr(scipy.special, "gamma"), special.stdtrit is scipy.special.stdtrit)
        """
    )
    assert out == "True True"


def test_an_imported_package_is_used_as_it_is() -> None:
    import scipy.special

    from scoring import special

    assert special.load() == tuple(getattr(scipy.special, n) for n in special._NAMES)
    assert special.ndtr(np.array([0.0]))[0] == 0.5

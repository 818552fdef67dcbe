"""The four SciPy special functions scoring uses, loaded without the rest of ``scipy.special``.

``ndtr`` and ``ndtri`` (the normal distribution function and its inverse),
``stdtr`` and ``stdtrit`` (Student's t and its inverse in ``p``) are NumPy
ufuncs compiled into SciPy's ``scipy.special._ufuncs``.  Importing them through
``scipy.special`` also runs that package's ``__init__``, which sets up SciPy's
array-API support (``array_api_compat`` copies NumPy's namespace and with it
imports ``numpy.f2py`` and ``numpy.testing``): about 0.18 s of CPU on every
``minping score``, a third of the whole command on a district's 5,000
responses, against 0.02 s for the compiled module alone.

So the compiled module is loaded on its own: ``scipy.special`` is stood in
for, for the few milliseconds of that import, by an empty package with the
real package's path, and removed again; ``scipy.special`` imported later (by
``scipy.stats``, say) is the real package and hands out the same ufunc
objects.  The numbers are SciPy's own, bit for bit.  When ``scipy.special`` is
already imported, or SciPy's layout differs (the load fails), the functions
come from ``scipy.special`` as documented.

Call :func:`load` at import time only (as this module does): another thread
importing ``scipy.special`` for the first time during those milliseconds would
get the stand-in.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["load", "ndtr", "ndtri", "stdtr", "stdtrit"]

_NAMES = ("ndtr", "ndtri", "stdtr", "stdtrit")
_PACKAGE = "scipy.special"


def _documented() -> tuple[Any, ...]:
    special = importlib.import_module(_PACKAGE)
    return tuple(getattr(special, name) for name in _NAMES)


def load() -> tuple[Any, ...]:
    """``(ndtr, ndtri, stdtr, stdtrit)``: SciPy's ufuncs (see the module docstring)."""
    if _PACKAGE in sys.modules:
        return _documented()
    stand_in: types.ModuleType | None = None
    try:
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            return _documented()
        stand_in = types.ModuleType(_PACKAGE)
        stand_in.__path__ = list(spec.submodule_search_locations)
        stand_in.__package__ = _PACKAGE
        sys.modules[_PACKAGE] = stand_in
        ufuncs = importlib.import_module(f"{_PACKAGE}._ufuncs")
        found = tuple(getattr(ufuncs, name) for name in _NAMES)
    except Exception:  # noqa: BLE001 - another SciPy layout: the documented import
        found = ()
    finally:
        if stand_in is not None and sys.modules.get(_PACKAGE) is stand_in:
            del sys.modules[_PACKAGE]
    return found if found else _documented()


ndtr, ndtri, stdtr, stdtrit = load()

"""Jinja environment for the PDF templates in ``templates/reports/``.

The folder is found relative to this package (``<repo>/templates/reports``);
minping is installed editable, so the path holds in development and in
deployment from a checkout.  Autoescaping is on for every template: names,
comments and requirements typed by people appear as text, never as markup.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from reports import formatting, wording

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "reports"


@functools.cache
def environment() -> jinja2.Environment:
    """Return the process-wide Jinja environment (autoescape on, strict undefined)."""
    if not TEMPLATE_DIR.is_dir():
        raise FileNotFoundError(
            f"report templates not found at {TEMPLATE_DIR}: install minping editable "
            "(pip install -e .) from a checkout that has templates/reports/"
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cn_date=formatting.cn_date,
        score=formatting.score,
        signed=formatting.signed,
        percent=formatting.percent,
        band_words=wording.band_words,
        band_short=wording.band_short,
        expected_count=formatting.expected_count,
        cn_date_provisional=formatting.cn_date_provisional,
    )
    env.globals["rank_interval"] = formatting.rank_interval
    env.globals["composition_text"] = wording.composition_text
    env.globals["cell_warning"] = wording.cell_warning
    return env


def render(name: str, context: Mapping[str, Any]) -> str:
    """Render template ``name`` with ``context``."""
    return environment().get_template(name).render(**context)

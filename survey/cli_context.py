"""Application context for CLI commands, loaded only when a command runs.

``flask.cli.with_appcontext`` would import Flask when a command module is
imported; this one imports it when the command is invoked, so ``minping
--help`` and the offline scorer never load the web stack (docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

import click


def with_appcontext(f: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``f`` inside the app context (creating the app on first use)."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        from flask import current_app
        from flask.cli import ScriptInfo

        if not current_app:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return update_wrapper(decorator, f)

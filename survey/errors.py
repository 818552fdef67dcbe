"""The one type for a mistake a user can fix, and the view helper that shows it.

Services raise :class:`UserError` when the *input* is wrong (a taken code, a
date after the deadline, a step the state machine does not allow): the message
is written for the person at the screen, already translated, and nothing has
been committed.  Anything else a service raises is a bug and must reach the
error page and the log, not a friendly flash.

Views run a service call through :func:`attempt`: it commits when the action
returns, and on a user error rolls back, puts the message on the form field
it names (or flashes it) and hands the view what it needs to render the form
again with status 400 (or the error's own status, e.g. 409).

The pure packages cannot import this module; their input errors
(:class:`scoring.framework.FrameworkError`, :class:`scoring.ingest.ExchangeError`,
:class:`scoring.population.PopulationError`, :class:`scoring.raking.RakingError`,
:class:`reports.calendar.CalendarError`) count as user errors too
(:data:`USER_ERRORS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from reports.calendar import CalendarError
from scoring.framework import FrameworkError
from scoring.ingest import ExchangeError
from scoring.population import PopulationError
from scoring.raking import RakingError

T = TypeVar("T")


class UserError(ValueError):
    """A mistake the user can fix; ``message`` is shown to them as it is.

    :param field: the form field the message belongs to, if any.
    :param status: the HTTP status of the page that shows it again.

    A ``ValueError``, so command-line code that reports bad input as one line
    (``except ValueError``) keeps doing so.
    """

    status: int = 400

    def __init__(self, message: str, field: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.field = field
        if status is not None:
            self.status = status


#: what :func:`attempt` treats as the user's mistake (everything else propagates)
USER_ERRORS: tuple[type[Exception], ...] = (
    UserError,
    FrameworkError,
    ExchangeError,
    PopulationError,
    RakingError,
    CalendarError,
)


def as_user_error(exc: Exception) -> UserError:
    """``exc`` (one of :data:`USER_ERRORS`) as a :class:`UserError`."""
    if isinstance(exc, UserError):
        return exc
    return UserError(str(exc))


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What :func:`attempt` did: the action's ``value``, or the user ``error`` it met.

    ``message`` is the text shown (the error's message, passed through
    :func:`attempt`'s ``explain``).
    """

    value: T | None = None
    error: UserError | None = None
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def result(self) -> T:
        """The action's return value (only after checking :attr:`failed`)."""
        if self.error is not None:
            raise RuntimeError(f"the action failed: {self.message}")
        return cast(T, self.value)

    @property
    def status(self) -> int:
        """The status to show the form again with (200 when it did not fail)."""
        return self.error.status if self.error is not None else 200


def attempt(
    action: Callable[[], T],
    *,
    form: Any = None,
    field: str | None = None,
    explain: Callable[[str], str] | None = None,
    show: bool = True,
    commit: bool = True,
) -> Outcome[T]:
    """Run ``action``; commit and return its value, or roll back and show the user error.

    On one of :data:`USER_ERRORS` the session is rolled back and the message
    (passed through ``explain`` if given) is appended to the errors of
    ``form[error.field or field]`` when ``form`` has that field, else flashed
    as an error (unless ``show`` is false: the view shows it itself).  Any other
    exception propagates untouched (the request's teardown rolls back).

    :param commit: commit after a successful action (false for read-only actions).
    """
    from flask import flash

    from .extensions import db

    try:
        value = action()
    except USER_ERRORS as exc:
        db.session.rollback()
        error = as_user_error(exc)
        text = explain(error.message) if explain is not None else error.message
        name = error.field or field
        if show:
            if form is not None and name is not None and name in form:
                form[name].errors = [*form[name].errors, text]
            else:
                flash(text, "error")
        return Outcome(error=error, message=text)
    if commit:
        db.session.commit()
    return Outcome(value=value)

"""``minping plan``: respondents per street x group for a target interval half-width."""

from __future__ import annotations

import click

from .cli_context import with_appcontext


@click.command("plan")
@click.option(
    "--district", "district_code", default=None, help="District code (default: the first)."
)
@click.option(
    "--from-wave",
    "wave_code",
    default=None,
    help="Scored wave to learn SD, deff and 不了解 from (default: the newest scored one).",
)
@click.option(
    "--half-width", required=True, type=float, help="Target 95% half-width in points, e.g. 2."
)
@click.option(
    "--target",
    type=click.Choice(["overall", "indicator", "change"]),
    default="overall",
    show_default=True,
)
@click.option("--indicator", default=None, help="Indicator code for --target indicator.")
@click.option(
    "--quotas-for",
    "quota_wave",
    default=None,
    help="Write the plan as the quotas of this (draft or fieldwork) wave.",
)
@with_appcontext
def plan(
    district_code: str | None,
    wave_code: str | None,
    half_width: float,
    target: str,
    indicator: str | None,
    quota_wave: str | None,
) -> None:
    """Plan respondents per street x group so a street's score has the given half-width."""
    from sqlalchemy import select

    from scoring.framework import load_default_framework

    from .extensions import db
    from .models import District
    from .services.frameworks import spec_of
    from .services.planning import apply_plan, make_plan, scored_waves
    from .services.waves import get_wave

    query = select(District).order_by(District.id)
    if district_code:
        query = query.where(District.code == district_code)
    district = db.session.scalars(query.limit(1)).first()
    if district is None:
        raise click.ClickException(
            f"unknown district {district_code!r}" if district_code else "no district"
        )
    try:
        source = get_wave(wave_code) if wave_code else next(iter(scored_waves(district)), None)
        quota_target = get_wave(quota_wave) if quota_wave else None
        framework = spec_of(quota_target.framework) if quota_target else load_default_framework()
        result = make_plan(
            district,
            half_width,
            target=target,
            indicator=indicator,
            source=source,
            framework=framework,
        )
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    inp = result.inputs
    what = {
        "overall": "overall score",
        "indicator": f"indicator {indicator}",
        "change": "wave-over-wave change",
    }[target]
    click.echo(
        f"plan for a 95% half-width of ±{half_width:g} points on each street's {what} "
        f"(inputs: {inp.source})"
    )
    for g, n, sd, d, a in zip(
        result.groups, result.per_group, inp.sd, inp.deff, inp.answer_rate, strict=True
    ):
        click.echo(f"  {g}\t{n} respondents\t(SD {sd:.1f}, deff {d:.2f}, answer rate {a:.0%})")
    n_streets = len(district.streets)
    click.echo(
        f"  per street {result.per_street}; {n_streets} streets: "
        f"{result.per_street * n_streets} respondents"
    )
    if quota_target is not None:
        try:
            changed = apply_plan(result, quota_target)
        except ValueError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"set {changed} quotas of {quota_target.code}")

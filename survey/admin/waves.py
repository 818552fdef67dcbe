"""Waves: create, quotas, open fieldwork, close, score / re-score, publish."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice as C

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..auth.scope import current_district, require_visible
from ..errors import attempt
from ..extensions import db
from ..models import DocumentJob, Framework, ScoringRun, Wave
from ..services import console, jobs, waves
from ..services.quality_review import run_is_stale
from ..services.scoring_runs import current_run, default_seed
from . import bp
from .forms import ConfirmForm, ContactForm, ScoreForm, WaveForm, quota_form

# Transitions the console offers; issuing notices belongs to the notices pages.
CONSOLE_ACTIONS = ("open", "close", "publish")


def get_wave_or_404(code: str) -> Wave:
    wave = db.session.scalar(select(Wave).where(Wave.code == code))
    if wave is None:
        abort(404)
    require_visible(wave.district_id)
    return wave


def _wave_form() -> WaveForm:
    form = WaveForm()
    rows = db.session.scalars(select(Framework).order_by(Framework.code, Framework.version))
    form.framework.choices = [C(str(f.id), f"{f.label} {f.name}") for f in rows]
    return form


@bp.route("/waves/new", methods=["GET"])
@roles_required(*ADMIN)
def new_wave() -> ResponseReturnValue:
    """Show the form for a new wave."""
    return render_template("admin/wave_new.html", form=_wave_form())


@bp.post("/waves/new")
@roles_required(*ADMIN)
def create_wave() -> ResponseReturnValue:
    """Create a draft wave."""
    form = _wave_form()
    district = current_district()
    if district is None:
        abort(409, _("还没有区县数据。"))
    if not form.validate_on_submit():
        return render_template("admin/wave_new.html", form=form), 400
    framework = db.session.get(Framework, form.framework.data)
    if framework is None:  # the form offers stored frameworks only
        abort(400)
    done = attempt(
        lambda: waves.create_wave(
            district,
            framework,
            form.code.data.strip(),
            form.name.data.strip(),
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            allow_open_links=form.allow_open_links.data,
            min_n=form.min_n.data,
            user_id=current_user.id,
        ),
        form=form,
        field="code",
    )
    if done.failed:
        return render_template("admin/wave_new.html", form=form), done.status
    wave = done.result
    flash(_("已创建测评批次 %(name)s（草稿）。", name=wave.name), "success")
    return redirect(url_for("admin.wave", code=wave.code))


def _score_form(wave: Wave, run: ScoringRun | None) -> ScoreForm:
    form = ScoreForm()
    if not form.is_submitted():
        form.min_n.data = wave.min_n
        form.seed.data = default_seed(wave)
        form.include_open_channel.data = wave.include_open_channel
        form.weighting.data = wave.weighting
        if run is not None:
            form.boot.data, form.seed.data, form.min_n.data = run.boot, run.seed, run.min_n
    return form


def wave_page(
    wave: Wave,
    *,
    score_form: ScoreForm | None = None,
    contact_form: ContactForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    run = current_run(wave)
    runs = db.session.scalars(
        select(ScoringRun).where(ScoringRun.wave_id == wave.id).order_by(ScoringRun.id.desc())
    ).all()
    return render_template(
        "admin/wave.html",
        wave=wave,
        run=run,
        runs=runs,
        stale=run_is_stale(wave, run) if wave.state == "scored" else False,
        count=waves.response_count(wave),
        states=waves.STATE_NAMES,
        action_names=waves.ACTION_NAMES,
        actions=[a for a in CONSOLE_ACTIONS if wave.state in waves.TRANSITIONS[a][0]],
        score_form=score_form or _score_form(wave, run),
        confirm=ConfirmForm(),
        contact_form=contact_form or ContactForm(obj=wave, formdata=None),
    ), status


@bp.get("/waves/<code>")
@roles_required(*BUREAU)
def wave(code: str) -> ResponseReturnValue:
    """Show a wave: state, actions, scoring form and runs."""
    return wave_page(get_wave_or_404(code))


@bp.post("/waves/<code>/contacts")
@roles_required(*ADMIN)
def save_contacts(code: str) -> ResponseReturnValue:
    """Save the survey agency and hotline residents see and can call to check an invitation."""
    wave = get_wave_or_404(code)
    form = ContactForm()
    if not form.validate_on_submit():
        return wave_page(wave, contact_form=form, status=400)
    waves.set_contacts(
        wave, form.agency_name.data or "", form.hotline.data or "", user_id=current_user.id
    )
    db.session.commit()
    flash(_("已保存居民核实信息。"), "success")
    return redirect(url_for("admin.wave", code=wave.code))


@bp.get("/waves/<code>/publish")
@roles_required(*ADMIN)
def publish_confirm(code: str) -> ResponseReturnValue:
    """Show what the public will see, then ask before publishing."""
    from ..services import publication
    from ..services.rectification import PUBLIC_STATUS

    wave = get_wave_or_404(code)
    if wave.state != "notices_issued":
        flash(_("只有“已下发通知书”的测评批次可以公布。"), "error")
        return redirect(url_for("admin.wave", code=wave.code))
    min_n = int(current_app.config.get("MIN_PUBLIC_N", 10))
    rows = publication.wave_table(wave, min_n=min_n)
    items = {r["street"].id: publication.public_items(wave, r["street"]) for r in rows}
    return render_template(
        "admin/publish_confirm.html",
        wave=wave,
        rows=rows,
        items=items,
        status=PUBLIC_STATUS,
        min_n=min_n,
        confirm=ConfirmForm(),
    )


@bp.post("/waves/<code>/transition/<action>")
@roles_required(*ADMIN)
def transition(code: str, action: str) -> ResponseReturnValue:
    """Open fieldwork, close (freezes data) or publish; out-of-order moves get 409."""
    wave = get_wave_or_404(code)
    if action not in CONSOLE_ACTIONS:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = attempt(lambda: waves.transition(wave, action, user_id=current_user.id))
    if done.failed:
        return wave_page(wave, status=done.status)
    flash(_("测评批次现在的状态：%(state)s。", state=waves.STATE_NAMES[wave.state]), "success")
    if wave.state == "published":
        flash(_("结果已公布，公众现在可以在公示页面看到。"), "success")
    return redirect(url_for("admin.wave", code=wave.code))


@bp.post("/waves/<code>/score")
@roles_required(*ADMIN)
def score(code: str) -> ResponseReturnValue:
    """Score (or re-score) a closed wave with the given settings and exclusion policy."""
    wave = get_wave_or_404(code)
    form = ScoreForm()
    if not form.validate_on_submit():
        return wave_page(wave, score_form=form, status=400)
    if jobs.is_large(wave):  # minutes of work: a background job, progress on its page
        settings = {
            "boot": form.boot.data,
            "seed": form.seed.data,
            "min_n": form.min_n.data,
            "exclude_flagged": form.exclude_flagged.data,
            "include_open_channel": form.include_open_channel.data,
        }
        job: DocumentJob | None
        try:
            job = jobs.start_score_job(wave, settings, current_user.id)
        except waves.WaveStateError as exc:
            flash(str(exc), "error")
            return wave_page(wave, score_form=form, status=409)
        except jobs.JobBusy as busy:
            flash(_("本批次已有一项任务正在进行，请等它完成；无需再次下发。"), "error")
            job = busy.job
            if job is None:
                return redirect(url_for("admin.wave", code=wave.code)), 303
        return redirect(url_for("admin.job", code=wave.code, job_id=job.id)), 303
    done = attempt(
        lambda: console.score_from_console(
            wave,
            boot=form.boot.data,
            seed=form.seed.data,
            min_n=form.min_n.data,
            exclude_flagged=form.exclude_flagged.data,
            include_open_channel=form.include_open_channel.data,
            weighting=form.weighting.data,
            user_id=current_user.id,
        )
    )
    if done.failed:
        return wave_page(wave, score_form=form, status=done.status)
    run = done.result
    flash(
        _(
            "计分完成：%(n)s 份答卷（排除 %(x)s 份），B = %(b)s。",
            n=run.n_responses,
            x=run.n_excluded,
            b=run.boot,
        ),
        "success",
    )
    return redirect(url_for("admin.results", code=wave.code))


@bp.route("/waves/<code>/quotas", methods=["GET"])
@roles_required(*BUREAU)
def quotas(code: str) -> ResponseReturnValue:
    """Show the quota grid (street x group)."""
    wave = get_wave_or_404(code)
    groups = wave.framework.groups
    form = quota_form(wave, wave.district.streets, groups)
    return render_template("admin/quotas.html", wave=wave, form=form, groups=groups)


@bp.post("/waves/<code>/quotas")
@roles_required(*ADMIN)
def save_quotas(code: str) -> ResponseReturnValue:
    """Save the quota grid."""
    wave = get_wave_or_404(code)
    streets, groups = wave.district.streets, wave.framework.groups
    form = quota_form(wave, streets, groups)
    if not form.validate_on_submit():
        return render_template("admin/quotas.html", wave=wave, form=form, groups=groups), 400
    targets = {
        (s.id, g.code): form[f"q_{s.id}_{g.code}"].data or 0 for s in streets for g in groups
    }
    done = attempt(lambda: console.set_quotas(wave, targets, user_id=current_user.id))
    if done.failed:
        return render_template("admin/quotas.html", wave=wave, form=form, groups=groups), 409
    changed = done.result
    flash(_("已保存配额（%(n)s 格有改动）。", n=changed), "success")
    return redirect(url_for("admin.quotas", code=wave.code))

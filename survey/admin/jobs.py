"""Background jobs in the console: progress of any job, and download of its result."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..extensions import db
from ..models import DocumentJob
from ..services.jobs import reap
from . import bp
from .waves import get_wave_or_404

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}


@bp.get("/waves/<code>/jobs/<int:job_id>")
@roles_required(*BUREAU)
def job(code: str, job_id: int) -> ResponseReturnValue:
    """Show a job's progress (the page refreshes itself while the job runs)."""
    wave = get_wave_or_404(code)
    reap()
    row = db.session.get(DocumentJob, job_id)
    if row is None or row.wave_id != wave.id:
        abort(404)
    if row.kind == "notices":
        return redirect(url_for("admin.notice_job", code=code, job_id=job_id))
    return render_template("admin/job.html", wave=wave, job=row)


@bp.get("/jobs/<int:job_id>/result")
@roles_required(*ADMIN)
def job_result(job_id: int) -> ResponseReturnValue:
    """Download what a finished job produced (e.g. a large wave's responses file)."""
    row = db.session.get(DocumentJob, job_id)
    if row is None or row.state != "done" or row.result is None or row.parent_id is not None:
        abort(404)  # a part's documents are stored with its parent job, not downloaded
    suffix = row.result_name.rsplit(".", 1)[-1]
    response = Response(row.result, mimetype=MIMETYPES.get(suffix, "application/octet-stream"))
    ascii_name = f"job-{row.id}.{suffix}" if suffix in MIMETYPES else f"job-{row.id}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(row.result_name)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response

"""Staff accounts (admin only) and each user's own API token page."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, select
from wtforms.fields.choices import SelectChoice as C

from ..auth.decorators import ADMIN, BUREAU, roles_required
from ..auth.scope import (
    current_district,
    home_district_id,
    in_current,
    is_multi_district,
    visible_district_ids,
    visible_districts,
)
from ..errors import attempt
from ..extensions import db
from ..models import ROLES, District, Street, User
from ..services import accounts, api_tokens, staff
from . import bp
from .forms import ConfirmForm, OwnPasswordForm, PasswordForm, RoleForm, TokenForm, UserForm

TOKEN_ROLES = ROLES  # every staff role may hold a token; the API checks what it may do


@bp.get("/")
@roles_required(*BUREAU)
def index() -> ResponseReturnValue:
    """Show the waves and the console's entry points."""
    from ..models import Wave
    from ..services.waves import STATE_NAMES, response_count

    waves = db.session.scalars(
        in_current(select(Wave), Wave.district_id).order_by(Wave.created_at.desc(), Wave.id.desc())
    ).all()
    counts = {w.id: response_count(w) for w in waves}
    district = current_district()
    return render_template(
        "admin/index.html", waves=waves, counts=counts, states=STATE_NAMES, district=district
    )


def _street_choices() -> list[C]:
    """Streets of the districts the current admin may see (district names when several)."""
    streets = db.session.scalars(
        select(Street)
        .where(Street.district_id.in_(visible_district_ids()))
        .order_by(Street.district_id, Street.position)
    )
    several = is_multi_district()
    return [C("0", _("（不适用）"))] + [
        C(str(s.id), f"{s.district.name} {s.name}" if several else s.name) for s in streets
    ]


def _user_form() -> UserForm:
    form = UserForm()
    form.street.choices = _street_choices()
    # A district's admin creates accounts of that district only; a city-level
    # admin may also create city-level (every district) accounts.
    choices = [C(str(d.id), d.name) for d in visible_districts()]
    if home_district_id(current_user) is None:
        choices.insert(0, C("0", _("全部区（市级）")))
    form.district.choices = choices
    if not form.is_submitted():
        current = current_district()
        # Least privilege by default: the current district, not every district.
        form.district.data = current.id if current is not None else 0
    return form


def _role_form() -> RoleForm:
    form = RoleForm()
    form.street.choices = _street_choices()
    return form


def _visible_users() -> Select[User]:
    """Accounts the current admin manages: all for a city-level admin, else the district's."""
    query = select(User)
    home = home_district_id(current_user)
    if home is not None:
        in_district = select(Street.id).where(Street.district_id == home)
        query = query.where((User.district_id == home) | User.street_id.in_(in_district))
    return query


def _users_page(form: UserForm, status: int = 200) -> tuple[str, int]:
    users = db.session.scalars(_visible_users().order_by(User.role, User.username)).all()
    return render_template(
        "admin/users.html",
        users=users,
        form=form,
        password_form=PasswordForm(),
        role_form=_role_form(),
        confirm=ConfirmForm(),
    ), status


@bp.get("/users")
@roles_required(*ADMIN)
def users() -> ResponseReturnValue:
    """List staff accounts with a form to add one."""
    return _users_page(_user_form())


@bp.post("/users")
@roles_required(*ADMIN)
def create_user() -> ResponseReturnValue:
    """Add a staff account (street officers need their street)."""
    form = _user_form()
    if not form.validate_on_submit():
        return _users_page(form, 400)
    street = db.session.get(Street, form.street.data) if form.street.data else None
    home = home_district_id(current_user)
    district_id = form.district.data or home
    if home is not None and district_id != home:
        abort(404)  # a district's admin creates accounts of that district only
    if district_id is not None and district_id not in visible_district_ids():
        abort(404)
    district = db.session.get(District, district_id) if district_id else None
    if street is not None and street.district_id not in visible_district_ids():
        abort(404)

    def create() -> User:
        from ..services.audit import record

        user = accounts.create_user(
            form.username.data.strip(), form.password.data, form.role.data, street, district
        )
        db.session.flush()
        record(
            "user.create",
            user,
            after={
                "username": user.username,
                "role": user.role,
                "street": street and street.name,
                "district": user.district.name if user.district else None,
            },
        )
        return user

    def explain(message: str) -> str:
        return _("街道工作人员必须选择所属街道。") if "needs --street" in message else message

    done = attempt(create, form=form, field="username", explain=explain)
    if done.failed:
        return _users_page(form, done.status)
    user = done.result
    flash(_("已创建账号 %(name)s。", name=user.username), "success")
    return redirect(url_for("admin.users"))


def _target(user_id: int) -> User:
    user = db.session.scalar(_visible_users().where(User.id == user_id))
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int(max=9223372036854775807):user_id>/active")
@roles_required(*ADMIN)
def set_active(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate an account."""
    user = _target(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if attempt(lambda: staff.set_active(user, not user.active, by_user_id=current_user.id)).failed:
        return redirect(url_for("admin.users")), 303
    flash(
        _("已启用 %(name)s。", name=user.username)
        if user.active
        else _("已停用 %(name)s。", name=user.username),
        "success",
    )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int(max=9223372036854775807):user_id>/password")
@roles_required(*ADMIN)
def reset_password(user_id: int) -> ResponseReturnValue:
    """Set a new password for an account (policy applies)."""
    user = _target(user_id)
    form = PasswordForm()
    if not form.validate_on_submit():
        flash(_("请填写新密码。"), "error")
        return _users_page(_user_form(), 400)
    done = attempt(
        lambda: staff.reset_password(user, form.password.data, by_user_id=current_user.id),
        explain=lambda why: _("%(name)s 的密码未修改：%(why)s", name=user.username, why=why),
    )
    if done.failed:
        return _users_page(_user_form(), done.status)
    flash(_("已重设 %(name)s 的密码。", name=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int(max=9223372036854775807):user_id>/role")
@roles_required(*ADMIN)
def set_role(user_id: int) -> ResponseReturnValue:
    """Change an account's role (and street); its sessions end."""
    user = _target(user_id)
    form = _role_form()
    if not form.validate_on_submit():
        flash(_("请选择角色。"), "error")
        return _users_page(_user_form(), 400)
    street = db.session.get(Street, form.street.data) if form.street.data else None
    done = attempt(
        lambda: staff.set_role(user, form.role.data, street, by_user_id=current_user.id),
        explain=lambda why: _("%(name)s 的角色未修改：%(why)s", name=user.username, why=why),
    )
    if done.failed:
        return _users_page(_user_form(), done.status)
    flash(_("已更改 %(name)s 的角色，该账号需重新登录。", name=user.username), "success")
    return redirect(url_for("admin.users"))


@bp.route("/account", methods=["GET", "POST"])
@roles_required(*TOKEN_ROLES)
def account() -> ResponseReturnValue:
    """Show my account; issue (shown once) or revoke my API token."""
    form = TokenForm()
    if form.validate_on_submit():
        if form.action.data == "issue":
            token = api_tokens.issue_token(current_user, by_user_id=current_user.id)
            db.session.commit()
            # Rendered in the POST response only, never stored in the session.
            response = make_response(
                render_template(
                    "admin/account.html", form=form, token=token, password_form=OwnPasswordForm()
                )
            )
            response.headers["Cache-Control"] = "no-store"
            return response
        api_tokens.revoke_token(current_user, by_user_id=current_user.id)
        db.session.commit()
        flash(_("API 令牌已撤销。"), "success")
        return redirect(url_for("admin.account"))
    return render_template(
        "admin/account.html", form=form, token=None, password_form=OwnPasswordForm()
    )


@bp.post("/account/password")
@roles_required(*TOKEN_ROLES)
def change_password() -> ResponseReturnValue:
    """Change my own password; my other sessions end, this one continues."""
    from ..auth import sessions

    form = OwnPasswordForm()
    user = current_user._get_current_object()
    if not form.validate_on_submit():
        form.password.errors = [_("请填写当前密码和新密码。")]
        failed, status = True, 400
    else:
        done = attempt(
            lambda: staff.change_own_password(user, form.current.data, form.password.data),
            form=form,
            field="password",
        )
        failed, status = done.failed, done.status
    if failed:
        page = render_template(
            "admin/account.html", form=TokenForm(), token=None, password_form=form
        )
        return page, status
    sessions.sign_in(user)  # this browser continues with the new session version
    flash(_("密码已修改，其他设备上的登录已失效。"), "success")
    return redirect(url_for("admin.account"))

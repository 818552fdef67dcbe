"""The audit log in plain words: action names, the object each entry is about, changes."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..extensions import db
from ..i18n import _
from ..models import (
    AuditLog,
    Framework,
    InvitationBatch,
    Notice,
    RectificationItem,
    Response,
    ScoringRun,
    User,
    Wave,
)

ACTIONS = {
    "calendar.set_year": "录入法定节假日",
    "district.document_settings": "修改公文设置",
    "district.community_phones": "修改社区居委会电话",
    "framework.save": "保存指标体系",
    "framework.weights": "修改指标体系权重",
    "framework.import": "导入指标体系",
    "invitations.create": "发放邀请码",
    "invitations.revoke": "作废邀请码",
    "invitations.revoke_batch": "作废整次发放中未用的邀请码",
    "item.accept": "验收通过整改事项",
    "item.return": "退回整改事项",
    "notice.acknowledge": "街道签收通知书",
    "notice.issue_notice": "下发整改通知书",
    "notice.issue_ranking": "下发通报",
    "notice.issue_escalation": "下发督办通知",
    "notice.issue_correction": "下发更正通知书",
    "response.exclude": "排除一份答卷",
    "response.restore": "恢复一份答卷",
    "responses.exclude_flagged": "计分时排除有质量标记的答卷",
    "responses.include_flagged": "计分时计入有质量标记的答卷",
    "responses.import": "导入答卷",
    "responses.quality_checks": "检查答卷质量",
    "user.activate": "启用账号",
    "user.deactivate": "停用账号",
    "user.create": "新建账号",
    "user.reset_password": "重设密码",
    "user.api_token": "生成接口令牌",
    "user.api_token_revoke": "吊销接口令牌",
    "wave.create": "新建测评批次",
    "wave.open": "开始调查",
    "wave.close": "结束收集",
    "wave.score": "计分",
    "wave.issue": "下发通知书",
    "wave.publish": "公布结果",
    "wave.contacts": "修改居民核实信息",
    "wave.flag_quality": "检查答卷质量",
    "wave.framework": "更换指标体系",
    "wave.include_open_channel": "设置是否计入公开二维码答卷",
    "wave.purge_responses": "按期删除答卷",
    "wave.quotas": "修改配额",
    "wave.score_run": "计分",
}

FIELDS = {
    "state": "状态",
    "count": "数量",
    "street": "街道",
    "group": "受访群体",
    "open": "公开二维码",
    "revoked": "作废数",
    "reason": "理由",
    "note": "备注",
    "role": "角色",
    "active": "启用",
    "authority": "发文机关",
    "doc_prefix": "发文字号前缀",
    "reply_address": "回复地址",
    "deadline_days": "整改期限（工作日）",
    "top_k": "每街道整改事项数",
    "agency_name": "调查机构",
    "hotline": "核实电话",
    "doc_number": "发文字号",
    "excluded": "排除",
    "rows": "行数",
    "boot": "重复抽样次数",
    "seed": "随机数起点",
    "min_n": "最少答卷数",
    "include_open_channel": "计入公开二维码答卷",
    "sha256": "校验码",
    "replaces": "更正的文件",
    "street_id": "街道编号",
    "indicator": "指标",
    "kind": "类型",
    "title": "标题",
    "issue_date": "成文日期",
    "deadline": "整改期限",
    "username": "用户名",
    "framework": "指标体系",
    "version": "版本",
    "targets": "配额",
    "changed": "改动格数",
}

VALUES = {
    "draft": "草稿",
    "fieldwork": "调查中",
    "closed": "已结束收集",
    "scored": "已计分",
    "notices_issued": "已下发通知书",
    "published": "已公布",
    "issued": "待制定方案",
    "planned": "已制定方案",
    "in_progress": "整改中",
    "submitted": "已报送待验收",
    "accepted": "已通过验收",
    "returned": "已退回",
    "elderly": "老年居民",
    "adult": "中青年居民",
    "unit": "驻区单位",
    True: "是",
    False: "否",
}


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Entry:
    log: AuditLog
    action: str
    subject: str
    changes: list[Change]


def action_label(action: str) -> str:
    """The action in plain words (the code itself when unknown)."""
    return _(ACTIONS[action]) if action in ACTIONS else action


def _value(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _(VALUES[value])
    if isinstance(value, str) and value in VALUES:
        return _(VALUES[value])
    if isinstance(value, Mapping):
        return "；".join(f"{_field(k)}：{_value(v)}" for k, v in list(value.items())[:8])
    if isinstance(value, list | tuple):
        shown = "、".join(_value(v) for v in value[:8])
        return shown + (_("等%(n)s项", n=len(value)) if len(value) > 8 else "")
    text = str(value)
    if re.fullmatch(r"[0-9a-f]{40,}", text):  # a digest: its start is enough to compare
        return text[:12] + "…"
    return text if len(text) <= 120 else text[:117] + "…"


def _field(key: str) -> str:
    return _(FIELDS[key]) if key in FIELDS else key


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Change]:
    """Field-by-field changes in plain words (unchanged fields left out)."""
    before, after = before or {}, after or {}
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if old == new and key in before and key in after:
            continue
        out.append(Change(_field(str(key)), _value(old), _value(new)))
    return out


def _subjects(logs: Iterable[AuditLog]) -> dict[tuple[str, str], str]:
    """Describe each (object type, id) of ``logs`` with one query per type."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for log in logs:
        if log.object_id.isdigit():
            wanted[log.object_type].add(int(log.object_id))
    out: dict[tuple[str, str], str] = {}

    def load(model: Any, ids: set[int] | None) -> list[Any]:
        return db.session.query(model).filter(model.id.in_(ids)).all() if ids else []

    for w in load(Wave, wanted.get("Wave")):
        out[("Wave", str(w.id))] = _("测评批次“%(name)s”", name=w.name)
    for item in load(RectificationItem, wanted.get("RectificationItem")):
        out[("RectificationItem", str(item.id))] = _(
            "整改事项：%(street)s · %(name)s", street=item.street.name, name=item.indicator_name
        )
    for n in load(Notice, wanted.get("Notice")):
        where = n.street.name if n.street else _("全区")
        out[("Notice", str(n.id))] = _(
            "文件 %(number)s（%(where)s）", number=n.doc_number or n.id, where=where
        )
    for u in load(User, wanted.get("User")):
        out[("User", str(u.id))] = _("账号 %(name)s", name=u.username)
    for b in load(InvitationBatch, wanted.get("InvitationBatch")):
        out[("InvitationBatch", str(b.id))] = _(
            "发放号 %(id)s（%(street)s）", id=b.id, street=b.street.name
        )
    for f in load(Framework, wanted.get("Framework")):
        out[("Framework", str(f.id))] = _("指标体系 %(label)s", label=f.label)
    for r in load(ScoringRun, wanted.get("ScoringRun")):
        out[("ScoringRun", str(r.id))] = _("计分记录 %(id)s", id=r.id)
    for r in load(Response, wanted.get("Response")):
        out[("Response", str(r.id))] = _("答卷 %(id)s", id=r.public_id)
    return out


TYPES = {
    "OfficialCalendar": "法定工作日历",
    "District": "区县设置",
    "Invitation": "邀请码",
    "Wave": "测评批次",
    "RectificationItem": "整改事项",
    "Notice": "文件",
    "User": "账号",
    "InvitationBatch": "邀请码发放",
    "Framework": "指标体系",
    "ScoringRun": "计分记录",
    "Response": "答卷",
}


def type_label(object_type: str) -> str:
    return _(TYPES[object_type]) if object_type in TYPES else object_type


def describe(logs: list[AuditLog]) -> list[Entry]:
    """The page's entries in plain words."""
    subjects = _subjects(logs)
    out = []
    for log in logs:
        subject = subjects.get((log.object_type, log.object_id))
        if subject is None:
            subject = type_label(log.object_type) + (f" {log.object_id}" if log.object_id else "")
        out.append(Entry(log, action_label(log.action), subject, changes(log.before, log.after)))
    return out

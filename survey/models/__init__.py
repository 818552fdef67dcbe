"""SQLAlchemy 2 typed models; importing this package registers every table."""

from .district import Community, District, Street
from .framework import Dimension, Framework, Indicator, RespondentGroup
from .job import JOB_STATES, DocumentJob
from .rectification import (
    ITEM_STATES,
    NOTICE_KINDS,
    Evidence,
    ItemEvent,
    Notice,
    OfficialDay,
    RectificationItem,
)
from .response import DK_POINT, Answer, Invitation, InvitationBatch, Response, ResponseDraft
from .scoring_run import ScoringRun, StreetResult
from .user import ROLE_NAMES, ROLES, AuditLog, User
from .wave import WAVE_STATES, Quota, Wave

__all__ = [
    "DK_POINT",
    "JOB_STATES",
    "ITEM_STATES",
    "NOTICE_KINDS",
    "ROLES",
    "ROLE_NAMES",
    "WAVE_STATES",
    "Answer",
    "AuditLog",
    "Community",
    "Dimension",
    "DocumentJob",
    "District",
    "Evidence",
    "Framework",
    "Indicator",
    "Invitation",
    "InvitationBatch",
    "ItemEvent",
    "Notice",
    "OfficialDay",
    "Quota",
    "RectificationItem",
    "RespondentGroup",
    "Street",
    "Response",
    "ResponseDraft",
    "ScoringRun",
    "StreetResult",
    "User",
    "Wave",
]

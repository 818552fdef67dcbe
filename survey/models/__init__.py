"""SQLAlchemy 2 typed models; importing this package registers every table."""

from .district import Community, District, Street
from .framework import Framework, RespondentGroup
from .job import JOB_STATES, DocumentJob
from .population import POPULATION_SOURCES, PopulationMargin, PopulationVersion
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
from .wave import WAVE_STATES, WEIGHTINGS, Quota, Wave

__all__ = [
    "DK_POINT",
    "JOB_STATES",
    "ITEM_STATES",
    "NOTICE_KINDS",
    "POPULATION_SOURCES",
    "ROLES",
    "ROLE_NAMES",
    "WAVE_STATES",
    "WEIGHTINGS",
    "Answer",
    "AuditLog",
    "Community",
    "DocumentJob",
    "District",
    "Evidence",
    "Framework",
    "Invitation",
    "InvitationBatch",
    "ItemEvent",
    "Notice",
    "OfficialDay",
    "PopulationMargin",
    "PopulationVersion",
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

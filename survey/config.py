"""Configuration read from the environment (12-factor), with a test variant."""

from __future__ import annotations

import os

DEFAULT_SECRET_KEY = "dev-only-change-me"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-shaped defaults; every value can be overridden by an environment variable."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    # None means "a SQLite file in the instance folder", filled in by create_app.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = int(os.environ.get("MINPING_MAX_UPLOAD_MB", "20")) * 1024 * 1024
    PUBLIC_BASE_URL = os.environ.get("MINPING_PUBLIC_URL", "http://127.0.0.1:5000")
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("MINPING_SECURE_COOKIES", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = 8 * 3600  # residents may pause a long questionnaire
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    MIN_PUBLIC_N = int(os.environ.get("MINPING_MIN_PUBLIC_N", "10"))
    TESTING = False
    # -- reliability (issue 8): proxy headers, logs --------------------------
    # Trust X-Forwarded-For/-Proto/-Host from one reverse proxy (nginx) in front.
    PROXY_FIX = _bool("MINPING_PROXY_FIX", False)
    LOG_FORMAT = os.environ.get("MINPING_LOG_FORMAT", "json")  # json | text
    LOG_LEVEL = os.environ.get("MINPING_LOG_LEVEL", "INFO")
    # -- open (poster) links, per network address (docs/security.md) ---------
    OPEN_LINK_ADDRESS_LIMIT = int(os.environ.get("MINPING_OPEN_LINK_ADDRESS_LIMIT", "30"))
    OPEN_LINK_ADDRESS_RATE = os.environ.get("MINPING_OPEN_LINK_ADDRESS_RATE", "20 per hour")
    OPEN_LINK_BURST_COUNT = 4  # this many starts from one address ...
    OPEN_LINK_BURST_WINDOW_S = 600  # ... within 10 minutes are flagged


class ProductionConfig(Config):
    """``minping serve --prod``: secure cookies unless explicitly switched off."""

    SESSION_COOKIE_SECURE = _bool("MINPING_SECURE_COOKIES", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    PREFERRED_URL_SCHEME = "https" if SESSION_COOKIE_SECURE else "http"


class TestConfig(Config):
    """Isolated settings for the test suite (CSRF off; see the end-to-end CSRF test)."""

    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    MINPING_SYNC_JOBS = True  # document jobs run inline, inside the test transaction
    SERVER_NAME = None

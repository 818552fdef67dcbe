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
    # hide_parameters: errors and tracebacks never carry residents' answers (docs/deploy.md).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
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
    # -- background jobs (docs/jobs.md) ----------------------------------------
    # Redis carries the job queue when set; otherwise a SQLite file in the
    # instance folder (MINPING_JOB_QUEUE overrides its path).
    REDIS_URL = os.environ.get("REDIS_URL") or None
    JOB_QUEUE_PATH = os.environ.get("MINPING_JOB_QUEUE") or None
    # Run jobs in a thread of each web process (the demo, one host without Redis);
    # off by default with Redis, where `minping worker` processes run them.
    EMBEDDED_WORKER = _bool("MINPING_EMBEDDED_WORKER", not os.environ.get("REDIS_URL"))
    JOB_LEASE_SECONDS = int(os.environ.get("MINPING_JOB_LEASE", "30"))
    JOB_ATTEMPTS = int(os.environ.get("MINPING_JOB_ATTEMPTS", "3"))
    # Waves with at least this many responses are scored and exported as jobs.
    JOB_LARGE_WAVE = int(os.environ.get("MINPING_JOB_LARGE_WAVE", "20000"))


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
    EMBEDDED_WORKER = False
    SERVER_NAME = None

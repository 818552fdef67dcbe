"""Configuration read from the environment (12-factor), with a test variant."""

from __future__ import annotations

import os

DEFAULT_SECRET_KEY = "dev-only-change-me"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


CONFIG_PROBLEMS: list[str] = []  # bad environment values, reported by ``checks.check_config``


def _positive(name: str, default: float) -> float:
    """A positive number from the environment; a bad value keeps ``default`` and is reported."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < 10**6:
        CONFIG_PROBLEMS.append(f"{name}={raw!r} is not a positive number (using {default:g})")
        return default
    return value


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
    # Shared state for several web workers: rate limits live in Redis at REDIS_URL
    # (RATELIMIT_STORAGE_URI overrides); without it each process counts alone.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    RATELIMIT_KEY_PREFIX = "minping"
    # If Redis stops answering, keep serving with per-process limits until it is back.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    MIN_PUBLIC_N = int(os.environ.get("MINPING_MIN_PUBLIC_N", "10"))
    # Largest responses file (rows) an import accepts: the web form and the CLI.
    IMPORT_MAX_ROWS = int(os.environ.get("MINPING_IMPORT_MAX_ROWS", "200000"))
    # Staff sessions end after this long without a request, and this long after
    # signing in whatever the activity (survey/auth/sessions.py).
    STAFF_IDLE_MINUTES = _positive("MINPING_IDLE_MINUTES", 30)
    STAFF_SESSION_HOURS = _positive("MINPING_SESSION_HOURS", 12)
    TESTING = False
    # -- reliability: proxy headers, logs (docs/deploy.md) ----------------------
    # Trust X-Forwarded-For/-Proto/-Host from one reverse proxy (nginx) in front.
    PROXY_FIX = _bool("MINPING_PROXY_FIX", False)
    LOG_FORMAT = os.environ.get("MINPING_LOG_FORMAT", "json")  # json | text
    LOG_LEVEL = os.environ.get("MINPING_LOG_LEVEL", "INFO")
    # -- open (poster) links, per network address (docs/security.md) ---------
    OPEN_LINK_ADDRESS_LIMIT = int(os.environ.get("MINPING_OPEN_LINK_ADDRESS_LIMIT", "30"))
    OPEN_LINK_ADDRESS_RATE = os.environ.get("MINPING_OPEN_LINK_ADDRESS_RATE", "20 per hour")
    OPEN_LINK_BURST_COUNT = 4  # this many starts from one address ...
    OPEN_LINK_BURST_WINDOW_S = 600  # ... within 10 minutes are flagged
    # -- background jobs (docs/jobs.md) ----------------------------------------
    # Redis (REDIS_URL, above) carries the job queue when set; otherwise a
    # SQLite file in the instance folder (MINPING_JOB_QUEUE overrides its path).
    JOB_QUEUE_PATH = os.environ.get("MINPING_JOB_QUEUE") or None
    # Run jobs in a thread of each web process (the demo, one host without Redis);
    # off by default with Redis, where `minping worker` processes run them.
    EMBEDDED_WORKER = _bool("MINPING_EMBEDDED_WORKER", not os.environ.get("REDIS_URL"))
    JOB_LEASE_SECONDS = int(os.environ.get("MINPING_JOB_LEASE", "30"))
    JOB_ATTEMPTS = int(os.environ.get("MINPING_JOB_ATTEMPTS", "3"))
    # Waves with at least this many responses are scored and exported as jobs.
    JOB_LARGE_WAVE = int(os.environ.get("MINPING_JOB_LARGE_WAVE", "20000"))
    # A wave's notices are rendered in parts of this many streets, which any
    # worker may take (docs/jobs.md); a wave this small or smaller is one part.
    NOTICE_PART = int(os.environ.get("MINPING_NOTICE_PART", "16"))


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

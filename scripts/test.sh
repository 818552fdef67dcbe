#!/usr/bin/env bash
# Set everything up and run the whole test suite on SQLite, then on PostgreSQL.
# Extra arguments go to pytest.  MINPING_TEST_DATABASES="sqlite" skips PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

status=0
for target in ${MINPING_TEST_DATABASES:-sqlite postgresql}; do
  if [ "$target" = postgresql ]; then
    url=$(bash scripts/pg-test-server.sh start)
    echo "== test suite on PostgreSQL ($url)"
    TEST_DATABASE_URL="$url" .venv/bin/pytest "$@" || status=$?
    bash scripts/pg-test-server.sh stop
  else
    echo "== test suite on SQLite"
    .venv/bin/pytest "$@" || status=$?
    # the browser walks (Chromium + axe-core, several minutes) run once, on this pass
    if [ "$status" = 0 ] && [ -z "${MINPING_SKIP_BROWSER:-}" ]; then
      echo "== browser walks (Chromium, axe-core)"
      .venv/bin/pytest -m browser tests/browser "$@" || status=$?
      # its own Playwright instance: a separate process from the shared-Chromium walks
      [ "$status" = 0 ] && { .venv/bin/pytest -m browser tests/survey/test_public_phone.py "$@" || status=$?; }
    fi
  fi
  [ "$status" = 0 ] || break
done
exit "$status"

#!/usr/bin/env bash
# Extract UI strings, update the English catalogue, compile it.
# Usage: bash scripts/i18n.sh [extract|compile]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
catalog=survey/translations
if [ "${1:-all}" != compile ]; then
  .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o "$catalog/messages.pot" . >/dev/null
  if [ -f "$catalog/en/LC_MESSAGES/messages.po" ]; then
    .venv/bin/pybabel update -i "$catalog/messages.pot" -d "$catalog" -l en --no-fuzzy-matching --ignore-obsolete >/dev/null
  else
    .venv/bin/pybabel init -i "$catalog/messages.pot" -d "$catalog" -l en >/dev/null
  fi
fi
[ "${1:-all}" = extract ] || .venv/bin/pybabel compile -d "$catalog" -l en >/dev/null

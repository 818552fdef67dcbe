#!/usr/bin/env bash
# Set up minping on a Debian machine: system packages (when missing, as root),
# the virtual environment in .venv, and the project itself.
# Usage: bash scripts/setup.sh [--test]   (--test also installs test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

packages=(python3 python3-venv python3-dev gcc libpango-1.0-0 libpangoft2-1.0-0
          libharfbuzz-subset0 fonts-noto-cjk fonts-arphic-ukai poppler-utils)
if [ "$want_test" = 1 ]; then
  packages+=(postgresql chromium)
  packages+=(redis-server nginx openssl)  # shared rate limits and task-queue tests, reverse-proxy test
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "minping needs these Debian packages: ${missing[*]}" >&2
    echo "run this script as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  "$python" -m venv .venv
fi
stamp=.venv/.minping-installed
extras=""
[ "$want_test" = 1 ] && extras="[dev]"
if [ ! -f "$stamp$extras" ] || [ pyproject.toml -nt "$stamp$extras" ]; then
  echo "installing minping$extras into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$extras"
  touch "$stamp$extras"
fi
# Bytecode for the project's own packages: the editable install leaves none, and
# without it every command compiles its modules again (about 0.1 s of each
# `minping score`); compileall writes it even when PYTHONDONTWRITEBYTECODE is set.
.venv/bin/python -m compileall -q survey scoring reports

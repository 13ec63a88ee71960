#!/usr/bin/env bash
# Install what the test suite needs: Chromium from the system's packages (never `playwright install`)
# and the Python dev requirements into the active Python.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q chromium
fi
python -m pip install -q --upgrade pip
python -m pip install -q -r requirements-dev.txt

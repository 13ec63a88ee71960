#!/usr/bin/env bash
# Install what the test suite needs: Chromium, redis-server and nginx from the system's packages (never `playwright install`)
# and the Python dev requirements into the active Python.
set -euo pipefail
cd "$(dirname "$0")/.."
# Chromium for the browser tests, redis-server for the worker-pool tests (issue 16), nginx for the replicas test
MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
command -v redis-server >/dev/null 2>&1 || MISSING="$MISSING redis-server"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || MISSING="$MISSING nginx"
if [ -n "$MISSING" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q $MISSING
fi
python -m pip install -q --upgrade pip
python -m pip install -q -r requirements-dev.txt

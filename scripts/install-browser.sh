#!/usr/bin/env bash
# Installs the browser that the viewer's end-to-end tests drive (test/e2e/viewer.test.ts):
# Debian's Chromium at /usr/bin/chromium. Idempotent: does nothing when it is already there.
# playwright-core drives it through `executablePath`; `npx playwright install` is never used.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "install-browser: /usr/bin/chromium is present ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install Chromium yourself (the e2e viewer test is skipped without it)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-browser: not root and no sudo; install Debian's chromium package yourself" >&2
    exit 0
  fi
fi
echo "install-browser: apt-get update"
$SUDO apt-get update -qq
echo "install-browser: apt-get install -y chromium"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"

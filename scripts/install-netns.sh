#!/usr/bin/env bash
# Installs iproute2 (`ip`), which the test of a worker on another host (test/e2e/netns-worker.test.ts)
# uses to make a test host in a network namespace. Idempotent: does nothing when `ip` is there.
# The test itself also needs root; elsewhere it is skipped (in CI it must run).
set -euo pipefail

if command -v ip >/dev/null 2>&1; then
  echo "install-netns: $(command -v ip) is present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-netns: not root or no apt-get; install iproute2 yourself (the network namespace test is skipped without it)" >&2
  exit 0
fi
echo "install-netns: apt-get install -y iproute2"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 >/dev/null
echo "install-netns: installed $(command -v ip)"

#!/usr/bin/env bash
# A library install must stay small: packs spri, installs the tarball into an empty project (as
# `npm install spri` would, so it needs the registry) and fails when node_modules passes the limit
# in MB (default 60). There it also runs the installed CLI: it must start without building anything
# and, with node-llama-cpp absent, say what to install for local models. Run after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
limit_mb=${1:-60}
repo=$PWD
node22="$repo/node_modules/.bin/node"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
mkdir "$work/app"
cd "$work/app"
echo '{ "name": "spri-install-check", "private": true }' > package.json
npm install --no-audit --no-fund --silent "$work/$tarball"

size_mb=$(du -sm node_modules | cut -f1)
echo "check-install-size: a library install of spri takes ${size_mb} MB (limit ${limit_mb} MB)"
if [ -e node_modules/node-llama-cpp ]; then
  echo "check-install-size: node-llama-cpp was installed; it must stay an optional peer dependency" >&2
  exit 1
fi
if [ "$size_mb" -gt "$limit_mb" ]; then
  echo "check-install-size: over the limit; the largest packages:" >&2
  du -sm node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -n 10 >&2
  exit 1
fi

"$node22" node_modules/.bin/spri --version
set +e
message=$("$node22" node_modules/.bin/spri align "Is this installed?" --base-model "$work/model.gguf" 2>&1)
set -e
if ! grep -q "npm install node-llama-cpp@" <<< "$message"; then
  echo "check-install-size: without node-llama-cpp, a local model should say what to install; it said:" >&2
  echo "$message" >&2
  exit 1
fi

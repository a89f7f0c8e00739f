#!/usr/bin/env bash
# All set-up on a fresh Debian machine with Node 20: Debian packages when missing, npm dependencies when the lock
# file changed, the TypeScript build, and the dev Kafka cluster binary. Idempotent and quiet when nothing is to do.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages: chromium (GraphiQL browser test), kcat (independent Kafka client), and gcc, make, patch to build the
# dev Kafka cluster (tools/dev-cluster/build.sh: librdkafka 2.12.0's source from the npm registry, patched, static).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || need+=(make)
command -v patch >/dev/null 2>&1 || need+=(patch)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "[setup] lakegate needs Node.js 20 or newer (found $(node --version))" >&2
  exit 1
fi

# npm dependencies: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.lakegate-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # `npm install` rather than `npm ci`: the registry mirror here lacks DuckDB's bindings for other platforms,
  # which `npm ci` counts as a lock mismatch; `npm install` still installs exactly the locked versions it needs.
  log "npm install"
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# Build from scratch so no compiled file of a deleted source (e.g. an old test) survives in dist/.
log "building (tsc)"
rm -rf dist
npx --no-install tsc -p tsconfig.json
chmod +x dist/cli/main.js

# The dev Kafka cluster: the first run builds librdkafka (about 1.5 min on 2 cores, cached in tools/dev-cluster/.build);
# later runs rebuild nothing unless dev-cluster.c, the librdkafka patch or the build's settings changed.
bash tools/dev-cluster/build.sh

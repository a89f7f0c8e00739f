#!/usr/bin/env bash
# Builds tools/bin/dev-cluster from dev-cluster.c; a no-op when the binary is newer than the source.
# Works from any cwd; needs gcc and librdkafka-dev (scripts/setup.sh installs them through apt).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/dev-cluster.c"
bin_dir="$(cd "$here/.." && pwd)/bin"
bin="$bin_dir/dev-cluster"

if [[ -x "$bin" && "$bin" -nt "$src" ]]; then
  exit 0
fi

if ! command -v gcc >/dev/null 2>&1; then
  echo "dev-cluster build: gcc not found; install it with: apt-get install -y gcc" >&2
  exit 1
fi
# Check for the header up front so a missing package reads as such, not as a wall of compiler errors.
if ! echo '#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>' | gcc -E -x c - >/dev/null 2>&1; then
  echo "dev-cluster build: librdkafka headers not found; install them with: apt-get install -y librdkafka-dev" >&2
  exit 1
fi

mkdir -p "$bin_dir"
# Build to a temporary name and rename, so an interrupted build never leaves a binary that looks fresh.
gcc -O2 -Wall -o "$bin.tmp.$$" "$src" -lrdkafka
mv -f "$bin.tmp.$$" "$bin"
echo "dev-cluster build: built $bin"

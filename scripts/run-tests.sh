#!/usr/bin/env bash
# Runs every compiled test file with node's built-in test runner (TAP output, counted by CI).
# Two files at a time: the machine has two cores and each test file starts its own gateway and DuckDB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(find dist/tests -name '*.test.js' | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files found under dist/tests (did the build run?)" >&2
  exit 1
fi
exec node --test --test-concurrency="${LAKEGATE_TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"

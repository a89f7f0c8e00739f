#!/usr/bin/env bash
# Runs every compiled test file with node's built-in test runner (TAP output, counted by CI).
# Two files at a time: the machine has two cores and each test file starts its own gateway and DuckDB.
# A second reporter (spec) writes to a file; when something fails, its "failing tests" section (which test, where,
# and the error) is printed after the TAP, so the end of the output (all a CI log may keep) names what failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(find dist/tests -name '*.test.js' | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files found under dist/tests (did the build run?)" >&2
  exit 1
fi
spec="$(mktemp -t lakegate-tests.XXXXXX)"
trap 'rm -f "$spec"' EXIT
rc=0
# node runs as a child (the summary below comes after it), so a signal sent to this script (a CI job's timeout, Ctrl-C
# of `npm test`) is passed on to it; `wait` returns early when a trapped signal arrives, hence the loop.
node --test --test-concurrency="${LAKEGATE_TEST_CONCURRENCY:-2}" --test-timeout=600000 \
  --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=spec --test-reporter-destination="$spec" \
  "${files[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT HUP
while :; do
  wait "$child" && rc=0 || rc=$?
  kill -0 "$child" 2>/dev/null || break
done
trap - TERM INT HUP
if [ "$rc" -ne 0 ]; then
  echo "# ---- the test run exited with $rc; what failed (node's spec reporter):"
  if grep -q 'failing tests:' "$spec"; then
    sed -n '/failing tests:/,$p' "$spec" | sed 's/^/# /'
  else
    tail -n 200 "$spec" | sed 's/^/# /'
  fi
fi
exit "$rc"

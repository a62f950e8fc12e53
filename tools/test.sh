#!/usr/bin/env bash
# The test suite: `deno test -A` over tests/ (or the paths given), with its exit status, except in one case.
#
# Deno 2.9 sometimes dies from a signal while tearing its isolates down *after* it has printed the final summary
# of a fully passing run (seen here as glibc's "corrupted size vs. prev_size in fastbins" abort, in about one of
# four full-suite runs, never in a test). Deno's N-API isolate disposal is known to race native finalizers this way
# (the mechanism is traced in gjsify/gjsify#773; our N-API module is nodejs-polars). Such a run is reported as a
# pass with a warning naming the signal; a failing test, a crash before the summary, or any other non-zero exit
# keeps its status.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
deno test -A "${@:-tests/}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if ((rc > 128)); then
  # The last summary line (colours stripped): "ok | N passed (… steps) | 0 failed (…)" after which deno only exits.
  summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)
  if [[ "$summary" =~ ^ok\ \|\ [0-9]+\ passed.*\|\ 0\ failed ]]; then
    echo "tools/test.sh: WARNING: every test passed ($summary), then deno died from signal $((rc - 128)) during teardown; counted as a pass" >&2
    exit 0
  fi
fi
exit "$rc"

#!/usr/bin/env bash
# One phase of `make test`: a header line, the command, then how long it took.
#   scripts/timed.sh lint make lint    prints "== lint", lint's output, "== lint: 12 s"
# The command's exit status is kept, so make stops at the first phase that fails.
set -uo pipefail
name=$1
shift
echo "== $name"
start=$SECONDS
"$@"
status=$?
if [ "$status" -eq 0 ]; then
    echo "== $name: $((SECONDS - start)) s"
else
    echo "== $name: failed after $((SECONDS - start)) s (exit status $status)"
fi
exit "$status"

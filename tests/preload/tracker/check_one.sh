#!/bin/sh
# check_one.sh BINARY EXPECTED [VAR=value...] — runs the tracker self-test once with the given
# environment (ctest's preload.tracker.* tests). Passes when it exits 0 and its stderr is exactly
# the EXPECTED line, or empty when EXPECTED is "".
set -u
binary=$1 expected=$2
shift 2
err=$(env "$@" "$binary" 2>&1 >/dev/null)
status=$?
if [ "$status" -ne 0 ]; then
  echo "tracker_selftest exited $status"; echo "$err"; exit 1
fi
if [ "$err" != "$expected" ]; then
  printf 'stderr was:\n%s\nexpected:\n%s\n' "$err" "$expected"; exit 1
fi
echo ok

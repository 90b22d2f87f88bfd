#!/bin/sh
# Builds and runs the tracker's own checks (see README). Usage: run.sh [BUILD_DIR]
# BUILD_DIR defaults to build/h-tracker; its lib/libmemkit_check.so is used for the preloaded runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build/h-tracker}
out=$build/tracker-tests
mkdir -p "$out"
rt=$root/src/leakcheck/runtime
flags="-std=c++20 -O2 -g -fno-omit-frame-pointer -ftls-model=initial-exec -Wall -Wextra -pthread -I$rt"
tracker_sources="$rt/tracker.cpp $rt/interpose_malloc.cpp $rt/interpose_new.cpp $rt/block_table.cpp
  $rt/stack_depot.cpp $rt/internal_memory.cpp $rt/free_errors.cpp $rt/fork_safety.cpp
  $rt/tracker_foreign_blocks.cpp"
# The tracker's sources are built as the runtime builds them; only the test itself has exceptions.
objs=""
for src in $tracker_sources; do
  obj=$out/$(basename "$src" .cpp).o
  g++ $flags -fno-exceptions -fno-rtti -fno-threadsafe-statics -c "$src" -o "$obj"
  objs="$objs $obj"
done
g++ $flags -c "$here/tracker_selftest.cpp" -o "$out/tracker_selftest.o"
g++ -pthread -o "$out/tracker_selftest" "$out/tracker_selftest.o" $objs -ldl

fail=0
check() {  # check NAME EXPECTED-STDERR-LINE-OR-EMPTY ENV...
  name=$1 expected=$2
  shift 2
  if env "$@" "$out/tracker_selftest" >"$out/$name.out" 2>"$out/$name.err"; then
    status=ok
  else
    status="exit $?"
  fi
  if [ "$status" != ok ] || { [ -n "$expected" ] && ! grep -qxF "$expected" "$out/$name.err"; } ||
     { [ -z "$expected" ] && [ -s "$out/$name.err" ]; }; then
    echo "FAIL $name ($status)"; cat "$out/$name.out" "$out/$name.err"; fail=1
  else
    echo "ok   $name: $(cat "$out/$name.out")"
  fi
}
check defaults ""
check num_callers_3 "" MEMKIT_NUM_CALLERS=3
check num_callers_64 "" MEMKIT_NUM_CALLERS=64
check quarantine "" MEMKIT_FREELIST_VOL=1000000
check bad_num_callers "memkit check: MEMKIT_NUM_CALLERS=abc is not a number from 1 to 64; using 12" MEMKIT_NUM_CALLERS=abc
check num_callers_0 "memkit check: MEMKIT_NUM_CALLERS=0 is not a number from 1 to 64; using 12" MEMKIT_NUM_CALLERS=0
check num_callers_65 "memkit check: MEMKIT_NUM_CALLERS=65 is not a number from 1 to 64; using 12" MEMKIT_NUM_CALLERS=65
check bad_leak_check "memkit check: MEMKIT_LEAK_CHECK=maybe is not no, summary or full; using full" MEMKIT_LEAK_CHECK=maybe
check bad_resolution "memkit check: MEMKIT_LEAK_RESOLUTION=max is not low, med or high; using high" MEMKIT_LEAK_RESOLUTION=max
check bad_heuristics "memkit check: MEMKIT_LEAK_CHECK_HEURISTICS=stdstring,foo is not all, none or a comma-separated list of stdstring, length64, newarray and multipleinheritance; using all" MEMKIT_LEAK_CHECK_HEURISTICS=stdstring,foo
check bad_trace "memkit check: MEMKIT_TRACE_CHILDREN=1 is not yes or no; using no" MEMKIT_TRACE_CHILDREN=1
check bad_freeres "memkit check: MEMKIT_RUN_FREERES=on is not yes or no; using yes" MEMKIT_RUN_FREERES=on
check bad_freelist "memkit check: MEMKIT_FREELIST_VOL=-1 is not a number of bytes; using 0" MEMKIT_FREELIST_VOL=-1
check bad_notify "memkit check: MEMKIT_CHECK_NOTIFY_FD=x is not a file descriptor number; using none" MEMKIT_CHECK_NOTIFY_FD=x
check long_dir "memkit check: MEMKIT_CHECK_DIR is longer than 511 bytes; using none" MEMKIT_CHECK_DIR=$(printf '%600s' | tr ' ' d)
exit $fail

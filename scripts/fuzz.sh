#!/bin/sh
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for
# SECONDS (default 25) from the committed seeds in tests/corpus/. New inputs
# go to build-fuzz/corpus-*, never into the repository. A crash, leak or
# timeout fails, and its input is left in build-fuzz/ to add to the corpus.
# usage: scripts/fuzz.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-25}

[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzzing=true -Dtests=disabled \
	-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true
ninja -C build-fuzz

status=0
for t in resp inline config addr reply args http proxy pace uri; do
	mkdir -p "build-fuzz/corpus-$t"
	if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
	    -rss_limit_mb=2048 -artifact_prefix="build-fuzz/crash-$t-" \
	    -print_final_stats=1 "build-fuzz/corpus-$t" "tests/corpus/$t" \
	    >"build-fuzz/fuzz-$t.log" 2>&1; then
		echo "fuzz $t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' \
		    "build-fuzz/fuzz-$t.log" | grep -o '[0-9]*$') runs in ${seconds} s, no crash"
	else
		echo "fuzz $t: FAILED, see build-fuzz/fuzz-$t.log:"
		tail -n 30 "build-fuzz/fuzz-$t.log"
		status=1
	fi
done
exit $status

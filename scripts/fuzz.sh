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

# One target per core at a time: each runs for the same time, so a batch
# ends together and the whole run takes SECONDS per batch, not per target.
fuzz_one() {
	t=$1
	mkdir -p "build-fuzz/corpus-$t"
	if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
	    -rss_limit_mb=2048 -artifact_prefix="build-fuzz/crash-$t-" \
	    -print_final_stats=1 "build-fuzz/corpus-$t" "tests/corpus/$t" \
	    >"build-fuzz/fuzz-$t.log" 2>&1; then
		echo "fuzz $t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' \
		    "build-fuzz/fuzz-$t.log" | grep -o '[0-9]*$') runs in ${seconds} s, no crash" \
		    >"build-fuzz/fuzz-$t.result"
	else
		{
			echo "fuzz $t: FAILED, see build-fuzz/fuzz-$t.log:"
			tail -n 30 "build-fuzz/fuzz-$t.log"
		} >"build-fuzz/fuzz-$t.result"
		return 1
	fi
}

status=0
cores=$(nproc)
set -- resp inline config addr reply args http proxy pace uri control
while [ $# -gt 0 ]; do
	batch= pids=
	while [ $# -gt 0 ] && [ "$(echo $batch | wc -w)" -lt "$cores" ]; do
		fuzz_one "$1" &
		batch="$batch $1" pids="$pids $!"
		shift
	done
	for pid in $pids; do
		wait "$pid" || status=1
	done
	for t in $batch; do
		cat "build-fuzz/fuzz-$t.result"
	done
done
exit $status

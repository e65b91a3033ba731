#!/bin/sh
# Installs what is missing, builds with -Werror and runs every test, then runs
# the suite again built with AddressSanitizer and UndefinedBehaviorSanitizer,
# then runs each libFuzzer target for a bounded time (FUZZ_SECONDS, default 15),
# then the mutation check (scripts/mutants.sh).
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh test

# run_suite DIR SUITE_TO_SKIP [MESON_SETUP_ARGS...]
run_suite() {
	dir=$1
	skip=$2
	shift 2
	# --reconfigure keeps an existing directory's options in line with these.
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" -Dwerror=true -Dtests=enabled "$@"
	else
		meson setup "$dir" -Dwerror=true -Dtests=enabled "$@"
	fi
	ninja -C "$dir"
	meson test -C "$dir" --print-errorlogs --no-suite "$skip"
}

status=0
# A test needed in one run only is in suite asan-only or plain-only (tests/meson.build).
run_suite build asan-only || status=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	run_suite build-asan plain-only -Db_sanitize=address,undefined -Db_lundef=false || status=1
scripts/fuzz.sh "${FUZZ_SECONDS:-15}" || status=1
# Every behaviour in tests/mutants.txt: a one-line change must turn a test red.
scripts/mutants.sh || status=1

# One closing line over both runs, from Criterion's own per-binary summaries.
# A failure outside any test case (a leak at exit, a fuzz crash) counts too.
cat build/meson-logs/testlog.txt build-asan/meson-logs/testlog.txt 2>/dev/null |
	awk -v status="$status" '/Synthesis: Tested:/ {
		for (i = 1; i <= NF; i++) {
			if ($i == "Passing:") p += $(i + 1)
			if ($i == "Failing:") f += $(i + 1)
		}
	} END {
		if (status != 0 && f == 0)
			f = 1
		printf "tests: %d passed, %d failed\n", p, f
	}'
# CI keeps only the end of this output: name what failed here, with Criterion's words.
for log in build/meson-logs/testlog.txt build-asan/meson-logs/testlog.txt; do
	[ -f "$log" ] || continue
	awk -v file="$log" '/^test:/ { name = $0 } /^result:/ && !/exit status 0$/ {
		print file ": " name ": " $0 }' "$log"
	grep -B 4 -E '^\[FAIL\]' "$log" | grep -vE '^\[PASS\]' | head -n 40
done
exit $status

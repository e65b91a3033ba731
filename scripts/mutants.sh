#!/bin/sh
# The mutation check: each line of tests/mutants.txt is a one-line change to
# a behaviour, applied with sed to a scratch copy of the tree; the tests it
# names must then fail. A mutant that every test survives is a behaviour no
# test guards, and fails this script. The sed must change exactly one line.
# A test is named as meson names it, or NAME:FILTER for only the Criterion
# tests that match FILTER. MUTANT_JOBS (default 2) scratch trees take the
# mutants in turn, each with its own build: most of a mutant's time is its
# rebuild and the tests' waiting, so two share two cores well.
# usage: scripts/mutants.sh [GREP_PATTERN]  (only the mutants whose line matches)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=build-mutants
only=${1:-}
jobs=${MUTANT_JOBS:-2}
# What every mutant is made from: the tree as committed when the run began.
pristine="$root/$build/pristine"

rm -rf "$pristine" "$build"/result*
mkdir -p "$pristine"
git ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$pristine")
# The npm packages tests/test_clients.c runs are not in git: the trees use this one's.
[ ! -d tests/clients/node_modules ] ||
	ln -s "$root/tests/clients/node_modules" "$pristine/tests/clients/node_modules"
w=1
while [ "$w" -le "$jobs" ]; do
	rm -rf "$build/tree$w"
	cp -r "$pristine" "$build/tree$w"
	[ -d "$build/out$w" ] || meson setup "$build/out$w" "$root/$build/tree$w" \
	    -Dtests=enabled >/dev/null
	w=$((w + 1))
done
w=1
while [ "$w" -le "$jobs" ]; do
	ninja -C "$build/out$w" >/dev/null &
	w=$((w + 1))
done
wait

# The binaries a list of tests runs: the daemons and each test's own.
targets_of() {
	t="tcpd tcpd-cli tests/tcpd-faulty epoll-min"
	for name in $1; do
		name=${name%%:*}
		case $name in
		corpus_*) t="$t tests/$name" ;;
		# A test that is a script (docs, layers) has no executable of its own.
		*) [ ! -f "tests/test_$name.c" ] || t="$t tests/test_$name" ;;
		esac
	done
	echo "$t"
}

# Criterion's --fail-fast for a test binary; nothing for a script (docs, layers).
fail_fast() {
	[ ! -f "tests/test_$1.c" ] || echo --fail-fast
}

# True when every test passes in build dir $1. A test is a meson test name, or
# NAME:FILTER to run only the Criterion tests matching FILTER (suite/test,
# globs allowed). A Criterion test binary stops at its first failure: a
# killed mutant costs only the tests up to the one that kills it.
survives() {
	for t in $2; do
		case $t in
		*:*) meson test -C "$1" --no-rebuild "${t%%:*}" \
			--test-args="--fail-fast --filter=${t#*:}" >/dev/null 2>&1 || return 1 ;;
		*) meson test -C "$1" --no-rebuild "$t" \
			--test-args="$(fail_fast "$t")" >/dev/null 2>&1 || return 1 ;;
		esac
	done
}

# Worker $1 of $jobs takes mutants $1, $1 + jobs, ...: one line of result each.
run_worker() {
	tree="$root/$build/tree$1"
	out="$build/out$1"
	n=0
	while IFS="$tab" read -r file expr tests; do
		case "$file" in ''|'#'*) continue ;; esac
		if [ -n "$only" ] && ! printf '%s\t%s\t%s\n' "$file" "$expr" "$tests" |
		    grep -q -- "$only"; then
			continue
		fi
		n=$((n + 1))
		[ $(((n - 1) % jobs + 1)) -eq "$1" ] || continue
		sed -e "$expr" "$pristine/$file" >"$tree/$file"
		changed=$(diff "$pristine/$file" "$tree/$file" | grep -c '^<' || true)
		if [ "$changed" -ne 1 ]; then
			echo "mutant $n ($file: $expr) changes $changed lines, not 1: fix tests/mutants.txt"
		elif ninja -C "$out" $(targets_of "$tests") >/dev/null 2>&1 &&
		    survives "$out" "$tests"; then
			echo "mutant $n SURVIVED: $file: $expr (tests: $tests)"
		else
			echo killed
		fi
		cp "$pristine/$file" "$tree/$file"
	done <"$pristine/tests/mutants.txt"
}

tab=$(printf '\t')
w=1
while [ "$w" -le "$jobs" ]; do
	run_worker "$w" >"$build/result$w" &
	w=$((w + 1))
done
wait
killed=$(cat "$build"/result* | grep -c '^killed$' || true)
survived=$(cat "$build"/result* | grep -vc '^killed$' || true)
cat "$build"/result* | grep -v '^killed$' || true
echo "mutants: $killed killed, $survived survived"
[ "$survived" -eq 0 ]

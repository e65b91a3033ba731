#!/bin/sh
# The mutation check: each line of tests/mutants.txt is a one-line change to
# a behaviour, applied with sed to a scratch copy of the tree; the tests it
# names must then fail. A mutant that every test survives is a behaviour no
# test guards, and fails this script. The sed must change exactly one line.
# A test is named as meson names it, or NAME:FILTER for only the Criterion
# tests that match FILTER.
# usage: scripts/mutants.sh [GREP_PATTERN]  (only the mutants whose line matches)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=build-mutants
only=${1:-}
scratch="$root/$build/tree"

rm -rf "$scratch"
mkdir -p "$scratch"
git ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$scratch")
[ -d "$build/out" ] || meson setup "$build/out" "$scratch" -Dtests=enabled >/dev/null
ninja -C "$build/out" >/dev/null

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

# True when every test passes. A test is a meson test name, or NAME:FILTER
# to run only the Criterion tests matching FILTER (suite/test, globs allowed).
# A Criterion test binary stops at its first failure: a killed mutant costs
# only the tests up to the one that kills it.
survives() {
	for t in $1; do
		case $t in
		*:*) meson test -C "$build/out" --no-rebuild "${t%%:*}" \
			--test-args="--fail-fast --filter=${t#*:}" >/dev/null 2>&1 || return 1 ;;
		*) meson test -C "$build/out" --no-rebuild "$t" \
			--test-args="$(fail_fast "$t")" >/dev/null 2>&1 || return 1 ;;
		esac
	done
}

# Criterion's --fail-fast for a test binary; nothing for a script (docs, layers).
fail_fast() {
	[ ! -f "tests/test_$1.c" ] || echo --fail-fast
}

killed=0
survived=0
n=0
tab=$(printf '\t')
while IFS="$tab" read -r file expr tests; do
	case "$file" in ''|'#'*) continue ;; esac
	if [ -n "$only" ] && ! printf '%s\t%s\t%s\n' "$file" "$expr" "$tests" | grep -q -- "$only"; then
		continue
	fi
	n=$((n + 1))
	cp "$root/$file" "$scratch/$file"
	sed -e "$expr" "$root/$file" >"$scratch/$file"
	changed=$(diff "$root/$file" "$scratch/$file" | grep -c '^<' || true)
	if [ "$changed" -ne 1 ]; then
		echo "mutant $n ($file: $expr) changes $changed lines, not 1: fix tests/mutants.txt"
		survived=$((survived + 1))
		cp "$root/$file" "$scratch/$file"
		continue
	fi
	if ninja -C "$build/out" $(targets_of "$tests") >/dev/null 2>&1 && survives "$tests"; then
		echo "mutant $n SURVIVED: $file: $expr (tests: $tests)"
		survived=$((survived + 1))
	else
		killed=$((killed + 1))
	fi
	cp "$root/$file" "$scratch/$file"
done <"$scratch/tests/mutants.txt"	# the copy: edits during a run change nothing
echo "mutants: $killed killed, $survived survived"
[ "$survived" -eq 0 ]

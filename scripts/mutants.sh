#!/bin/sh
# The mutation check: each line of tests/mutants.txt is a one-line change to
# a behaviour, applied with sed to a scratch copy of the tree; the tests it
# names must then fail. A mutant that every test survives is a behaviour no
# test guards, and fails this script. The sed must change exactly one line.
# A test is named as meson names it, or NAME:FILTER for only the Criterion
# tests that match FILTER. MUTANT_JOBS (default 2) scratch trees take the
# mutants in turn, each with its own build: most of a mutant's time is its
# rebuild and the tests' waiting, so two share two cores well. A worker takes
# the next mutant no other has taken, so one slow mutant holds up no queue.
# The tests run as meson would run them (command, environment, timeout), from
# scripts written once per build: a meson test call costs more CPU than most
# of the tests it runs.
# usage: scripts/mutants.sh [GREP_PATTERN]  (only the mutants whose line matches)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=build-mutants
only=${1:-}
jobs=${MUTANT_JOBS:-2}
# What every mutant is made from: the tree as committed when the run began.
pristine="$root/$build/pristine"

rm -rf "$pristine" "$build"/result* "$build/claim"
mkdir -p "$pristine" "$build/claim"
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
# out/mutant-tests/NAME [ARGS]: runs test NAME as meson test would, ARGS
# appended, with its timeout; stdin closed, so no test reads this script's.
write_runners() {
	meson introspect "$1" --tests | python3 -c '
import json, os, shlex, sys
out = os.path.abspath(sys.argv[1])
os.makedirs(os.path.join(out, "mutant-tests"), exist_ok=True)
for t in json.load(sys.stdin):
    env = " ".join(shlex.quote(k + "=" + v) for k, v in t["env"].items())
    limit = "timeout %d " % t["timeout"] if t["timeout"] and t["timeout"] > 0 else ""
    with open(os.path.join(out, "mutant-tests", t["name"]), "w") as f:
        f.write("cd %s && MALLOC_PERTURB_=$(($$ %% 255 + 1)) exec env %s %s%s \"$@\" </dev/null\n" %
                (shlex.quote(t["workdir"] or out), env, limit, shlex.join(t["cmd"])))
' "$1"
}
w=1
while [ "$w" -le "$jobs" ]; do
	ninja -C "$build/out$w" >/dev/null &
	write_runners "$build/out$w"
	w=$((w + 1))
done
wait

# The binaries a list of tests runs: the daemons and each test's own
# (tcpd-faulty for allocfail only, epoll-min for bench only).
targets_of() {
	t="tcpd tcpd-cli"
	for name in $1; do
		name=${name%%:*}
		case $name in
		corpus_*) t="$t tests/$name" ;;
		allocfail) t="$t tests/tcpd-faulty tests/test_$name" ;;
		bench) t="$t epoll-min tests/test_$name" ;;
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
		*:*) sh "$1/mutant-tests/${t%%:*}" --fail-fast "--filter=${t#*:}" \
			>/dev/null 2>&1 || return 1 ;;
		# shellcheck disable=SC2046
		*) sh "$1/mutant-tests/$t" $(fail_fast "$t") >/dev/null 2>&1 || return 1 ;;
		esac
	done
}

# Worker $1 takes each mutant no worker has taken yet (mkdir is the claim):
# one line of result each.
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
		mkdir "$build/claim/$n" 2>/dev/null || continue
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

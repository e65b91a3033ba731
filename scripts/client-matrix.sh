#!/bin/sh
# Writes the client fault matrix of docs/TESTING-CLIENTS.md from a run: the
# test clients/fault_matrix (tests/test_clients.c) runs each library against
# each fault and writes its table to BUILD_DIR/client-fault-matrix.md, then
# fails while the doc's table differs; this copies that table between the
# doc's markers. Needs a built BUILD_DIR (meson, -Dtests=enabled) and the
# test's dependencies (scripts/deps.sh test).
# usage: scripts/client-matrix.sh [BUILD_DIR]   (default: build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
doc=docs/TESTING-CLIENTS.md
table=$build/client-fault-matrix.md

rm -f "$table"
# Its failure is expected when the table changed: the table it wrote says.
meson test -C "$build" clients --test-args='--filter=clients/fault_matrix' >/dev/null || true
if [ ! -s "$table" ]; then
	echo "client-matrix.sh: the test wrote no $table; see $build/meson-logs/testlog.txt" >&2
	exit 1
fi
grep -q '^<!-- client-fault-matrix: begin (made by scripts/client-matrix.sh) -->$' "$doc" &&
	grep -q '^<!-- client-fault-matrix: end -->$' "$doc" || {
	echo "client-matrix.sh: $doc has not both markers" >&2
	exit 1
}
awk -v table="$table" '
/^<!-- client-fault-matrix: end -->$/ { skip = 0 }
!skip { print }
/^<!-- client-fault-matrix: begin \(made by scripts\/client-matrix.sh\) -->$/ {
	while ((getline line < table) > 0) print line
	skip = 1
}' "$doc" >"$doc.new"
mv "$doc.new" "$doc"
echo "client-matrix.sh: $doc: the table of this run"

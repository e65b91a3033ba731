#!/bin/sh
# The manuals match the binaries: every option a binary's --help lists is in
# its man page's option list, and the other way round.
# usage: scripts/check-docs.sh BUILD_DIR
set -eu
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
status=0

help_options() {
	"$1" --help | grep -oE '(^|[][ ,])--?[a-zA-Z0-9][a-zA-Z-]*' | sed 's/^[][ ,]//' | sort -u
}

# ".It Fl c Ar file , Fl \-config Ar file" names -c and --config.
man_options() {
	grep '^\.It Fl' "$1" | grep -oE 'Fl [a-zA-Z0-9\\-]+' | sed 's/^Fl //; s/\\//g' |
		sed -E 's/^([a-zA-Z0-9])$/-\1/; s/^-([a-zA-Z][a-zA-Z-]+)$/--\1/' | sort -u
}

check() {
	bin=$1 page=$2
	help_options "$bin" >"$tmp/help"
	man_options "$page" >"$tmp/man"
	if ! cmp -s "$tmp/help" "$tmp/man"; then
		echo "$(basename "$bin") --help and $(basename "$page") differ:"
		echo "  only in --help: $(comm -23 "$tmp/help" "$tmp/man" | tr '\n' ' ')"
		echo "  only in the man page: $(comm -13 "$tmp/help" "$tmp/man" | tr '\n' ' ')"
		status=1
	else
		echo "$(basename "$bin"): $(wc -l <"$tmp/help") options, in --help and $(basename "$page") alike"
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check "$build/tcpd" "$src/doc/tcpd.8"
check "$build/tcpd-cli" "$src/doc/tcpd-cli.1"
exit $status

#!/bin/sh
# Checks the shape of the code from the built objects (nm), not from what
# the sources say: no cycle among the calls between src's objects, conn.c
# names no service and calls no codec, and neither binary's code reaches
# into the other's. usage: scripts/layers.sh BUILD_DIR
set -eu
build=${1:?usage: scripts/layers.sh BUILD_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

objs=$(ls "$build"/libtcpd-common.a.p/*.o "$build"/libtcpd-daemon.a.p/*.o \
    "$build"/libtcpd-cli.a.p/*.o)
name() { basename "$1" .c.o | sed 's/^src_//'; }

# Who defines each global symbol, then one edge per object and symbol it uses.
for o in $objs; do
	nm --defined-only -g "$o" | awk -v n="$(name "$o")" 'NF == 3 { print $3, n }'
done | sort >"$tmp/defs"
for o in $objs; do
	nm -u "$o" | awk -v n="$(name "$o")" '{ print $NF, n }'
done | sort >"$tmp/uses"
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$tmp/edges"

status=0
if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/loops"; then
	echo "layers: the calls between objects have a cycle:"
	cat "$tmp/loops"
	status=1
fi
# conn.c is transport: no service, no codec.
if awk '$1 == "daemon_conn" { print $2 }' "$tmp/edges" |
    grep -E '^daemon_services_|^common_resp$' >"$tmp/bad"; then
	echo "layers: conn.c calls into $(tr '\n' ' ' <"$tmp/bad")"
	status=1
fi
# Common code calls neither binary's; the binaries' code never each other's.
if awk '($1 ~ /^common_/ && $2 !~ /^common_/) || ($1 ~ /^daemon_/ && $2 ~ /^cli_/) ||
    ($1 ~ /^cli_/ && $2 ~ /^daemon_/)' "$tmp/edges" >"$tmp/bad" && [ -s "$tmp/bad" ]; then
	echo "layers: calls across binaries:"
	cat "$tmp/bad"
	status=1
fi
[ $status -ne 0 ] || echo "layers: $(wc -l <"$tmp/edges") calls between $(echo "$objs" |
    wc -w) objects, no cycle, conn.c transport only"
exit $status

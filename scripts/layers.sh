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
# Each line of nm -A as: symbol, then the object's name (its file less src_ and .c.o).
by_object='{
	n = $1; sub(/:.*/, "", n); sub(/.*\//, "", n); sub(/\.c\.o$/, "", n); sub(/^src_/, "", n)
	print $NF, n
}'

# Who defines each global symbol, then one edge per object and symbol it uses:
# one nm over all the objects for each, not two per object.
# shellcheck disable=SC2086
nm -A --defined-only -g $objs | awk 'NF == 3' | awk "$by_object" | sort >"$tmp/defs"
# shellcheck disable=SC2086
nm -A -u $objs | awk "$by_object" | sort >"$tmp/uses"
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
# Includes that run back up: the transport below the services and the
# supervisor, the config below the supervisor, common code below both
# binaries. Each rule: files, then what none of them may include.
root=$(cd "$(dirname "$0")/.." && pwd)
tab=$(printf '\t')
while IFS=$tab read -r files forbidden; do
	# shellcheck disable=SC2086
	(cd "$root" && grep -nE "^#include \"($forbidden)" $files) >"$tmp/bad" || true
	if [ -s "$tmp/bad" ]; then
		echo "layers: an include runs back up:"
		cat "$tmp/bad"
		status=1
	fi
done <<'RULES'
src/daemon/conn.[ch] src/daemon/listener.[ch] src/daemon/expo.[ch] src/daemon/preamble.[ch] src/daemon/pace.[ch] src/daemon/runtime.[ch] src/daemon/service.h	daemon/services/|daemon/server|daemon/daemon|daemon/supervisor
src/daemon/config.[ch] src/daemon/stats.[ch] src/daemon/acl.[ch] src/daemon/proxy.[ch] src/daemon/http.[ch]	daemon/supervisor|daemon/server|daemon/daemon|daemon/conn
src/common/*.c include/tcpd/*.h	daemon/|cli/
RULES
[ $status -ne 0 ] || echo "layers: $(wc -l <"$tmp/edges") calls between $(echo "$objs" |
    wc -w) objects, no cycle, conn.c transport only, no include back up"
exit $status

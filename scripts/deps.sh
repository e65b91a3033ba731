#!/bin/sh
# Installs the Debian packages tcpd needs that are missing; a no-op when all are there.
# With test, also the npm packages of tests/clients/ (node-redis, ioredis,
# toxiproxy-node-client) exactly as its package-lock.json pins them, with
# `npm ci`; a no-op when that lock is installed.
# usage: scripts/deps.sh [run|test|bench]
set -eu
cd "$(dirname "$0")/.."

pkgs="gcc meson ninja-build pkg-config libinih-dev libjansson-dev libedit-dev"
# The peers scripts/bench.sh measures tcpd against, and gnuplot for its chart.
peers="redis-server redis-tools xinetd socat gnuplot-nox"
case ${1:-run} in
run) ;;
test)
	# clang and its runtime for libFuzzer; redis-cli is an independent client.
	# systemd provides systemd-socket-activate and systemd-analyze;
	# systemd-container the container test; mandoc checks the man pages;
	# with the peers, the test of scripts/bench.sh runs all of it;
	# postgresql and psycopg2 for tests/test_postgres.c, which starts a
	# server of its own (the package's cluster is not used); curl drives the
	# control API as Toxiproxy's README does (tests/test_toxiproxy.c).
	pkgs="$pkgs curl libcriterion-dev clang libclang-rt-14-dev systemd \
	    systemd-container mandoc prometheus prometheus-redis-exporter haproxy python3-redis \
	    postgresql python3-psycopg2 $peers" ;;
bench) pkgs="$pkgs $peers" ;;
*) echo "usage: scripts/deps.sh [run|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing:$missing"
	$sudo apt-get update
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
fi

# The Redis clients of tests/test_clients.c and Toxiproxy's node client of
# tests/test_toxiproxy.c. Node.js 20 or later (node-redis and ioredis
# require it; Debian 12's nodejs is 18) and npm come from outside this script.
# node_modules/.tcpd-lock is the package-lock.json last installed: the same
# lock, nothing to do; and a failed `npm ci` leaves no stamp, so the test fails.
if [ "${1:-run}" = test ]; then
	dir=tests/clients
	if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.tcpd-lock" 2>/dev/null; then
		major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || major=0
		if [ "$major" -lt 20 ] || ! command -v npm >/dev/null; then
			echo "deps.sh: tests/clients needs Node.js 20 or later and npm" \
			    "(node: $(node --version 2>/dev/null || echo none))" >&2
			exit 1
		fi
		echo "installing: npm packages of $dir (npm ci)"
		rm -f "$dir/node_modules/.tcpd-lock"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
		cp "$dir/package-lock.json" "$dir/node_modules/.tcpd-lock"
	fi
fi

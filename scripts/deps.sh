#!/bin/sh
# Installs the Debian packages tcpd needs that are missing; a no-op when all are there.
# usage: scripts/deps.sh [run|test|bench]
set -eu

pkgs="gcc meson ninja-build pkg-config libinih-dev libedit-dev"
# The peers scripts/bench.sh measures tcpd against, and gnuplot for its chart.
peers="redis-server redis-tools xinetd socat gnuplot-nox"
case ${1:-run} in
run) ;;
test)
	# clang and its runtime for libFuzzer; redis-cli is an independent client.
	# systemd provides systemd-socket-activate and systemd-analyze;
	# systemd-container the container test; mandoc checks the man pages;
	# with the peers, the test of scripts/bench.sh runs all of it.
	pkgs="$pkgs libcriterion-dev clang libclang-rt-14-dev systemd \
	    systemd-container mandoc prometheus prometheus-redis-exporter haproxy python3-redis $peers" ;;
bench) pkgs="$pkgs $peers" ;;
*) echo "usage: scripts/deps.sh [run|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing:$missing"
$sudo apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing

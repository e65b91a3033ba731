#!/bin/sh
# Installs what is missing, builds tcpd and tcpd-cli, and runs tcpd in the foreground on
# conf/tcpd.conf.
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh run
[ -d build-run ] || meson setup build-run --buildtype=release -Dtests=disabled
ninja -C build-run tcpd tcpd-cli
exec build-run/tcpd --config conf/tcpd.conf "$@"

#!/bin/sh
# Installs what is missing, builds tcpd and runs it in the foreground on conf/tcpd.conf.
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh run
[ -d build ] || meson setup build --buildtype=debugoptimized -Dtests=disabled
ninja -C build tcpd
exec build/tcpd --config conf/tcpd.conf "$@"

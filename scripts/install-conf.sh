#!/bin/sh
# meson install step: puts conf/tcpd.conf at SYSCONFDIR/tcpd.conf unless a
# tcpd.conf is already there, so an upgrade never overwrites an admin's file.
# usage (from meson): install-conf.sh SYSCONFDIR
set -eu
dest="${DESTDIR:-}$1/tcpd.conf"
if [ -e "$dest" ]; then
	echo "Keeping the existing $dest"
	exit 0
fi
install -D -m 0644 "$MESON_SOURCE_ROOT/conf/tcpd.conf" "$dest"
echo "Installing $dest"

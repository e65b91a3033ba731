#!/bin/bash
# tcpd under a real systemd (PID 1) and journald, in a throw-away container
# whose root is a copy-on-write overlay of this machine's /: meson install,
# systemctl start, a request, systemctl reload, journalctl with tcpd's
# structured fields, systemctl stop, then socket activation.
# usage: systemd-e2e.sh BUILD_DIR   exit 0 pass, 1 fail, 77 cannot run here
set -euo pipefail
build=$1
art=$(mktemp -d /tmp/tcpd-e2e.XXXXXX)
rootmnt=""
nspawn=""
init=""

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; [ -n "$init" ] && nsenter -t "$init" -a journalctl -u tcpd.service --no-pager 2>/dev/null | tail -15; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root to boot a container"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is missing (package systemd-container)"
unshare --mount true 2>/dev/null || skip "cannot create a mount namespace here"

cleanup() {
	set +e
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		[ -n "$init" ] && nsenter -t "$init" -a systemctl poweroff --no-block >/dev/null 2>&1
		for _ in $(seq 50); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
		kill -TERM "$nspawn" 2>/dev/null
		for _ in $(seq 25); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$nspawn" 2>/dev/null
	fi
	[ -n "$rootmnt" ] && rmdir "$rootmnt" 2>/dev/null
	rm -rf "$art"
}
trap cleanup EXIT

# What a packager would do, into a staging root the container copies in.
meson install -C "$build" --destdir "$art/root" --no-rebuild --quiet

# The host's / bound non-recursively (a recursive bind drags in the live
# /dev), a tmpfs for nspawn's state, all in a private mount namespace.
rootmnt=$(mktemp -d /tmp/tcpd-e2e-root.XXXXXX)
unshare --mount --propagation private bash -c '
	set -e
	mount --bind / "$1"
	mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn
	exec systemd-nspawn --quiet --directory="$1" --volatile=overlay \
	    --register=no --keep-unit --link-journal=no --private-network \
	    --machine=tcpd-e2e --bind-ro="$2":/opt/tcpd --console=pipe \
	    -b systemd.unit=basic.target
' _ "$rootmnt" "$art" >"$art/nspawn.log" 2>&1 </dev/null &
nspawn=$!

for _ in $(seq 100); do
	for c in $(cat /proc/"$nspawn"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" = systemd ] && init=$c
	done
	[ -n "$init" ] && break
	sleep 0.1
done
[ -n "$init" ] || { cat "$art/nspawn.log"; skip "the container did not boot here"; }
inside() { nsenter -t "$init" -a "$@"; }
state=""
for _ in $(seq 150); do
	state=$(inside systemctl is-system-running --wait 2>/dev/null || true)
	case $state in running|degraded) break ;; esac
	sleep 0.2
done
case $state in running|degraded) ;; *) fail "container state '$state'" ;; esac

# One request on the container's own loopback; prints the reply bytes escaped.
ask() { inside bash -c 'exec 3<>/dev/tcp/127.0.0.1/7070; printf "$1" >&3; timeout 5 head -c "$2" <&3 | od -An -c | tr -s " "' _ "$1" "$2"; }

inside sh -c 'tar -C /opt/tcpd/root -cf - . | tar -C / -xf - --keep-directory-symlink && systemctl daemon-reload'
out=$(inside systemd-analyze verify /lib/systemd/system/tcpd.service /lib/systemd/system/tcpd.socket 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "verify printed: $out"
echo "ok: units verify in the container"

inside sed -i 's/^log_level = .*/log_level = debug/' /usr/local/etc/tcpd.conf
inside systemctl start tcpd.service || { inside journalctl -u tcpd --no-pager | tail -20; fail "start"; }
[ "$(inside systemctl is-active tcpd.service)" = active ] || fail "not active after start"
reply=$(ask 'PING\r\n' 7)
[ "$reply" = " + P O N G \r \n" ] || fail "PING got '$reply'"
echo "ok: started (Type=notify) and answered PING"

pid=$(inside systemctl show -p MainPID --value tcpd.service)
inside systemctl reload tcpd.service
[ "$(inside systemctl show -p MainPID --value tcpd.service)" = "$pid" ] || fail "reload restarted tcpd"
[ "$(inside systemctl is-active tcpd.service)" = active ] || fail "not active after reload"
inside journalctl -u tcpd.service -o cat --no-pager | grep -q '^configuration reloaded$' || fail "no reload in the journal"
reply=$(ask 'ECHO again\r\n' 11)
[ "$reply" = " $ 5 \r \n a g a i n \r \n" ] || fail "ECHO after reload got '$reply'"
echo "ok: reloaded in place (pid $pid)"

# Entries of the journal's native protocol, selected by tcpd's own fields.
fields=$(inside journalctl -u tcpd.service TCPD_PEER=127.0.0.1 -o verbose --no-pager)
echo "$fields" | grep -q 'TCPD_CONN_ID=' || fail "no TCPD_CONN_ID: $fields"
echo "$fields" | grep -q 'TCPD_LISTENER=command' || fail "no TCPD_LISTENER: $fields"
echo "$fields" | grep -q 'SYSLOG_IDENTIFIER=tcpd' || fail "no SYSLOG_IDENTIFIER"
echo "$fields" | grep -q 'PRIORITY=7' || fail "debug lines are not PRIORITY=7"
echo "ok: journalctl -u tcpd TCPD_PEER=127.0.0.1 finds the connection lines"
# The bare address of an IPv6 peer, without its brackets and port.
inside bash -c 'exec 3<>/dev/tcp/::1/7070; printf "PING\r\n" >&3; timeout 5 head -c 7 <&3' \
    >/dev/null || fail "no PONG over ::1"
for _ in $(seq 20); do
	inside journalctl -u tcpd.service TCPD_PEER=::1 -o cat --no-pager | grep -q 'open on' && break
	sleep 0.1
done
inside journalctl -u tcpd.service TCPD_PEER=::1 -o cat --no-pager | grep -q 'open on \[::1\]:7070' ||
	fail "no TCPD_PEER=::1: $(inside journalctl -u tcpd.service -o verbose --no-pager | grep TCPD_PEER | sort -u)"
echo "ok: journalctl -u tcpd TCPD_PEER=::1 finds the IPv6 connection"
inside systemctl show -p StatusText --value tcpd.service | grep -q connections || fail "no STATUS="

inside systemctl stop tcpd.service
[ "$(inside systemctl show -p Result --value tcpd.service)" = success ] || fail "stop result"
[ "$(inside systemctl show -p ExecMainStatus --value tcpd.service)" = 0 ] || fail "exit status"
echo "ok: stopped cleanly"

inside systemctl start tcpd.socket
reply=$(ask 'PING\r\n' 7)
[ "$reply" = " + P O N G \r \n" ] || fail "activated PING got '$reply'"
[ "$(inside systemctl is-active tcpd.service)" = active ] || fail "not activated"
inside journalctl -u tcpd.service -o cat --no-pager | grep -q 'on 127.0.0.1:7070 (socket passed by systemd)' ||
	fail "the command listener did not adopt the passed socket"
inside systemctl stop tcpd.service tcpd.socket
echo "ok: socket activation"
echo "PASS"

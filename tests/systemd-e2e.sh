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
# Whether tcpd's journal (with journalctl ARGS) has a line matching PATTERN,
# polled for 3 s: journald takes lines a moment after they are sent.
journal_has() {
	pattern=$1
	shift
	for _ in $(seq 30); do
		inside journalctl -u tcpd.service -o cat --no-pager "$@" | grep -q -- "$pattern" && return 0
		sleep 0.1
	done
	return 1
}
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

inside systemctl start tcpd.service || { inside journalctl -u tcpd --no-pager | tail -20; fail "start"; }
[ "$(inside systemctl is-active tcpd.service)" = active ] || fail "not active after start"
reply=$(ask 'PING\r\n' 7)
[ "$reply" = " + P O N G \r \n" ] || fail "PING got '$reply'"
echo "ok: started (Type=notify) and answered PING"

# The exposure figure README quotes is what this running systemd reports.
level=$(inside systemd-analyze security tcpd.service --no-pager 2>&1 |
	sed -n 's/.*Overall exposure level for tcpd.service: \([0-9.]*\).*/\1/p')
readme=$(sed -n 's/.*`systemd-analyze security tcpd.service` rates it \([0-9.]*[0-9]\).*/\1/p' \
	"$(dirname "$0")/../README.md")
[ -n "$level" ] && [ "$level" = "$readme" ] ||
	fail "systemd-analyze security says '$level', README says '$readme'"
echo "ok: systemd-analyze security rates the running unit $level, as README says"

pid=$(inside systemctl show -p MainPID --value tcpd.service)
inside systemctl reload tcpd.service
[ "$(inside systemctl show -p MainPID --value tcpd.service)" = "$pid" ] || fail "reload restarted tcpd"
[ "$(inside systemctl is-active tcpd.service)" = active ] || fail "not active after reload"
journal_has '^configuration reloaded$' || fail "no reload in the journal"
reply=$(ask 'ECHO again\r\n' 11)
[ "$reply" = " $ 5 \r \n a g a i n \r \n" ] || fail "ECHO after reload got '$reply'"
echo "ok: reloaded in place (pid $pid)"

# A broken config: the reload fails and says so, tcpd serves on as it was.
conf=/usr/local/etc/tcpd.conf
inside sh -c "cp $conf /root/good.conf && echo 'no_such_key = 1' >>$conf"
if inside systemctl reload tcpd.service 2>/dev/null; then fail "a broken config reloaded"; fi
inside systemctl status tcpd.service --no-pager | grep -q 'ExecReload=.*--check-config.*status=1/FAILURE' ||
	fail "status does not show the failed reload: $(inside systemctl status tcpd.service --no-pager)"
[ "$(inside systemctl show -p MainPID --value tcpd.service)" = "$pid" ] || fail "a failed reload restarted tcpd"
reply=$(ask 'PING\r\n' 7)
[ "$reply" = " + P O N G \r \n" ] || fail "PING after a failed reload got '$reply'"
journal_has "^$conf:[0-9]*: unknown key 'no_such_key'" -p err ||
	fail "no err-priority line for the broken file: $(inside journalctl -u tcpd.service -p err -o cat --no-pager)"
inside cp /root/good.conf $conf
inside systemctl reload tcpd.service || fail "reload with the good file again"
inside systemctl status tcpd.service --no-pager | grep -q 'ExecReload=.*status=1/FAILURE' &&
	fail "status still shows the failed reload after a good one"
echo "ok: a broken config fails systemctl reload, shown in status and journalctl -p err"

# Entries of the journal's native protocol, selected by tcpd's own fields, at
# the shipped log level (info): each connection's close is its access-log line.
journal_has 'closed: ' TCPD_PEER=127.0.0.1 || fail "no close line for 127.0.0.1"
fields=$(inside journalctl -u tcpd.service TCPD_PEER=127.0.0.1 -o verbose --no-pager)
echo "$fields" | grep -q 'TCPD_CONN_ID=' || fail "no TCPD_CONN_ID: $fields"
echo "$fields" | grep -q 'TCPD_LISTENER=command' || fail "no TCPD_LISTENER: $fields"
echo "$fields" | grep -q 'SYSLOG_IDENTIFIER=tcpd' || fail "no SYSLOG_IDENTIFIER"
echo "$fields" | grep -q 'PRIORITY=6' || fail "the close lines are not PRIORITY=6 (info)"
echo "$fields" | grep -q 'MESSAGE=conn [0-9]* 127.0.0.1:[0-9]*: closed: closed by peer (listener command, in 6, out 7 bytes, ' ||
	fail "no close line with bytes and listener: $fields"
echo "ok: journalctl -u tcpd TCPD_PEER=127.0.0.1 finds the connection lines"
# The bare address of an IPv6 peer, without its brackets and port.
inside bash -c 'exec 3<>/dev/tcp/::1/7070; printf "PING\r\n" >&3; timeout 5 head -c 7 <&3' \
    >/dev/null || fail "no PONG over ::1"
for _ in $(seq 20); do
	inside journalctl -u tcpd.service TCPD_PEER=::1 -o cat --no-pager | grep -q 'closed: ' && break
	sleep 0.1
done
inside journalctl -u tcpd.service TCPD_PEER=::1 -o cat --no-pager | grep -q '^conn [0-9]* \[::1\]:[0-9]*: closed: .*(listener command, ' ||
	fail "no TCPD_PEER=::1: $(inside journalctl -u tcpd.service -o verbose --no-pager | grep TCPD_PEER | sort -u)"
echo "ok: journalctl -u tcpd TCPD_PEER=::1 finds the IPv6 connection"
inside systemctl show -p StatusText --value tcpd.service | grep -q connections || fail "no STATUS="

inside systemctl stop tcpd.service
[ "$(inside systemctl show -p Result --value tcpd.service)" = success ] || fail "stop result"
[ "$(inside systemctl show -p ExecMainStatus --value tcpd.service)" = 0 ] || fail "exit status"
echo "ok: stopped cleanly"

# A start that fails says why at err priority, for journalctl -u tcpd -p err.
inside sh -c "echo 'no_such_key = 1' >>$conf"
if inside systemctl start tcpd.service 2>/dev/null; then fail "started with a broken config"; fi
inside systemctl stop tcpd.service	# no restart loop behind the test's back
inside systemctl reset-failed tcpd.service 2>/dev/null || true
for _ in $(seq 30); do
	n=$(inside journalctl -u tcpd.service -p err -o cat --no-pager | grep -c "^$conf:[0-9]*: unknown key 'no_such_key'")
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
[ "$n" -ge 2 ] || fail "the failed start is not in journalctl -p err ($n lines)"
inside cp /root/good.conf $conf
echo "ok: a failed start is in journalctl -u tcpd -p err"

inside systemctl start tcpd.socket
reply=$(ask 'PING\r\n' 7)
[ "$reply" = " + P O N G \r \n" ] || fail "activated PING got '$reply'"
[ "$(inside systemctl is-active tcpd.service)" = active ] || fail "not activated"
journal_has 'on 127.0.0.1:7070 (socket passed by systemd)' ||
	fail "the command listener did not adopt the passed socket"
echo "ok: socket activation"

# Restarts that drop nothing: systemd holds the command listener's sockets,
# so connections (connect, PING, reply, close, over and over) keep coming
# through systemctl restart, reload and restart again: the bench checks every
# reply and counts any connection refused, reset or closed unanswered.
inside sh -c 'tcpd-cli bench -p 7070 --workload connect --reset -c 4 -d 4 >/tmp/storm.out 2>&1' &
storm=$!
pid0=$(inside systemctl show -p MainPID --value tcpd.service)
sleep 1
inside systemctl restart tcpd.service
sleep 1
inside systemctl reload tcpd.service
sleep 1
inside systemctl restart tcpd.service
wait $storm || true
out=$(inside cat /tmp/storm.out)
echo "$out" | grep -q '^errors: 0  mismatched replies: 0$' || fail "restart storm: $out"
rate=$(echo "$out" | sed -n 's/^requests\/s: \([0-9]*\).*/\1/p')
[ "${rate:-0}" -ge 1000 ] || fail "restart storm: under 1,000 connections a second: $out"
[ "$(inside systemctl show -p MainPID --value tcpd.service)" != "$pid0" ] ||
	fail "restart storm: tcpd was not restarted"
echo "ok: restart storm: $(echo "$out" | head -n 1); $rate/s, none refused, reset or unanswered"
inside systemctl stop tcpd.service tcpd.socket
echo "PASS"

#!/bin/bash
# Measures tcpd side by side with redis-server, xinetd's internal echo,
# socat's fork-and-cat echo, and epoll-min (scripts/epoll-min.c: one read and
# one write per event, no parsing; the most any epoll server can do here), and
# with a given commit's tcpd as a baseline: the same workloads, the same client
# (tcpd-cli bench), in one run, peers alternating, each run checked reply for
# reply.
# Writes the results into BENCHMARKS.md (between its bench:begin and bench:end
# markers; the rest of the file is left alone), bench.png and bench-runs.csv.
#
# usage: scripts/bench.sh [--install] [--quick] [--rounds N] [--out DIR]
#                        [--baseline COMMIT]
#   --install   install the peers and gnuplot from Debian's packages first
#   --quick     tiny runs that only check the script and every peer work
#   --rounds N  runs of each workload against each peer; the median counts (3)
#   --out DIR   where the three files go (docs)
#   --baseline COMMIT
#               also build COMMIT's tcpd (release, in a temporary directory)
#               and measure it as the peer tcpd-base
# TCPD, TCPD_CLI and EPOLL_MIN name the binaries to use; those not given come
# from a release build in build-bench/. Servers run on CPU 0, the client on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."

install=0 quick=0 rounds=3 out=docs baseline=""
while [ $# -gt 0 ]; do
	case $1 in
	--install) install=1 ;;
	--quick) quick=1 ;;
	--rounds) rounds=$2; shift ;;
	--out) out=$2; shift ;;
	--baseline) baseline=$2; shift ;;
	*) sed -n '/^# usage/,/^# TCPD,/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
	shift
done

if [ $install = 1 ]; then
	scripts/deps.sh bench
fi

if [ -z "${TCPD:-}" ] || [ -z "${TCPD_CLI:-}" ] || [ -z "${EPOLL_MIN:-}" ]; then
	[ $install = 1 ] || scripts/deps.sh run
	[ -d build-bench ] || meson setup build-bench --buildtype=release -Dtests=disabled
	ninja -C build-bench tcpd tcpd-cli epoll-min >/dev/null
	TCPD=${TCPD:-$PWD/build-bench/tcpd} TCPD_CLI=${TCPD_CLI:-$PWD/build-bench/tcpd-cli}
	EPOLL_MIN=${EPOLL_MIN:-$PWD/build-bench/epoll-min}
fi

# Run sizes. A full run takes about eight minutes, two more with --baseline
# (its build included); --quick about half a minute: its figures mean nothing,
# so it lets no worker settle. (Runs shorter than 0.3 s get no reply at all
# from socat, which forks a cat for each connection.)
if [ $quick = 1 ]; then
	secs=0.3 bulk_n=256 idle_conns=200 idle_hold=0.2 rb_n=2000 rounds=1 settle=0
	proxy_idle_conns=200
else
	secs=3 bulk_n=16384 idle_conns=10000 idle_hold=3 rb_n=500000 settle=0.5
	# A proxied pair is two descriptors: 5,000 pairs stay under a 20,000 limit.
	proxy_idle_conns=5000
fi

server_cpu="" client_cpu=""
if [ "$(nproc)" -ge 2 ]; then
	server_cpu="taskset -c 0" client_cpu="taskset -c 1"
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The baseline from git archive rather than a worktree: nothing is written
# into the repository's .git, so a run killed half-way leaves nothing behind.
base_rev=""
if [ -n "$baseline" ]; then
	if ! base_rev=$(git rev-parse --verify --quiet "$baseline^{commit}"); then
		echo "bench: --baseline $baseline: no such commit" >&2
		exit 2
	fi
	mkdir "$work/base"
	git archive "$base_rev" | tar -x -C "$work/base"
	echo "bench: building $baseline ($(git rev-parse --short "$base_rev")) as the baseline" >&2
	if ! { meson setup "$work/base-build" "$work/base" --buildtype=release -Dtests=disabled &&
	    ninja -C "$work/base-build" tcpd; } >"$work/base-build.log" 2>&1; then
		echo "bench: building $baseline failed:" >&2
		tail -n 20 "$work/base-build.log" >&2
		exit 1
	fi
fi

listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ports from a random base below the ephemeral range, each checked free, so
# two runs do not collide. free_port sets $port: no subshell, so the next call
# moves on.
port=$((10000 + RANDOM % 20000))
free_port() {
	port=$((port + 1))
	while listening $port; do port=$((port + 1)); done
}

wait_listening() {
	local name=$1 port=$2 pid=$3 i
	for i in $(seq 100); do
		listening "$port" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: $name did not start on port $port; its log:" >&2
	cat "$work/$name.log" >&2 || true
	exit 1
}

# name port pid, for every server started
declare -A port_of pid_of
start() {
	local name=$1 port=$2
	shift 2
	$server_cpu "$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	pid_of[$name]=$!
	port_of[$name]=$port
	wait_listening "$name" "$port" $!
}

free_port; p_cmd=$port
free_port; p_echo=$port
cat >"$work/tcpd.conf" <<EOF
[tcpd]
log_level = warning
log_target = stderr
max_connections = $((idle_conns + 1000))
idle_timeout = 0
[listener.command]
bind = 127.0.0.1:$p_cmd
service = command
backlog = 4096
max_connections_per_ip = 0
[listener.echo]
bind = 127.0.0.1:$p_echo
service = echo
backlog = 4096
max_connections_per_ip = 0
EOF
start tcpd "$p_cmd" "$TCPD" --config "$work/tcpd.conf"
port_of[tcpd-echo]=$p_echo pid_of[tcpd-echo]=${pid_of[tcpd]}

resp_peers=(tcpd) echo_peers=(tcpd-echo)
if [ -n "$base_rev" ]; then
	free_port; p_base_cmd=$port
	free_port; p_base_echo=$port
	sed -e "s/:$p_cmd\$/:$p_base_cmd/" -e "s/:$p_echo\$/:$p_base_echo/" "$work/tcpd.conf" \
	    >"$work/tcpd-base.conf"
	start tcpd-base "$p_base_cmd" "$work/base-build/tcpd" --config "$work/tcpd-base.conf"
	port_of[tcpd-base-echo]=$p_base_echo pid_of[tcpd-base-echo]=${pid_of[tcpd-base]}
	resp_peers+=(tcpd-base) echo_peers+=(tcpd-base-echo)
fi
free_port
start epoll-min $port "$EPOLL_MIN" pong $port
free_port
start epoll-min-echo $port "$EPOLL_MIN" echo $port
resp_peers+=(epoll-min) echo_peers+=(epoll-min-echo)
if command -v redis-server >/dev/null; then
	free_port
	start redis-server $port redis-server --port $port --bind 127.0.0.1 \
	    --save '' --appendonly no --maxclients $((idle_conns + 1000)) --loglevel warning
	resp_peers+=(redis-server)
fi
if command -v xinetd >/dev/null; then
	free_port
	cat >"$work/xinetd.conf" <<EOF
defaults
{
	instances = UNLIMITED
	per_source = UNLIMITED
	cps = 0 0
}
service echo
{
	type = INTERNAL UNLISTED
	id = echo-stream
	socket_type = stream
	protocol = tcp
	port = $port
	bind = 127.0.0.1
	wait = no
}
EOF
	start xinetd $port xinetd -dontfork -f "$work/xinetd.conf" -pidfile "$work/xinetd.pid" \
	    -filelog "$work/xinetd.log"
	echo_peers+=(xinetd)
fi
if command -v socat >/dev/null; then
	free_port
	start socat $port socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=4096" EXEC:cat
	echo_peers+=(socat)
fi

# The proxies: redis-server (PING) and epoll-min's echo (bulk: a server that
# only moves bytes, so the proxy is what is measured) reached directly, through
# tcpd's service = proxy, through HAProxy in mode tcp and through socat's
# fork-and-forward. HAProxy with one thread, as tcpd's one reactor; its
# bulk-splice listener is HAProxy with splice(2) both ways. tcpd-proxy-faults is
# the same proxy with a fault profile on another listener: faults cost its
# fault-free connections nothing if it serves them at tcpd-proxy's rate.
proxy_peers=() bulk_peers=()
port_of[echo-direct]=${port_of[epoll-min-echo]} pid_of[echo-direct]=${pid_of[epoll-min-echo]}
bulk_peers+=(echo-direct)
for name in tcpd-proxy tcpd-proxy-faults; do
	free_port; p_redis=$port
	free_port; p_bulk=$port
	{
		printf '[tcpd]\nlog_level = warning\nlog_target = stderr\n'
		printf 'max_connections = %d\nidle_timeout = 0\n' $((proxy_idle_conns + 1000))
		if [ -n "${pid_of[redis-server]:-}" ]; then
			printf '[listener.redis]\nbind = 127.0.0.1:%d\nservice = proxy\n' $p_redis
			printf 'upstream = 127.0.0.1:%d\n' "${port_of[redis-server]}"
			printf 'backlog = 4096\nmax_connections_per_ip = 0\n'
		fi
		printf '[listener.bulk]\nbind = 127.0.0.1:%d\nservice = proxy\n' $p_bulk
		printf 'upstream = 127.0.0.1:%d\n' "${port_of[echo-direct]}"
		printf 'backlog = 4096\nmax_connections_per_ip = 0\n'
		if [ $name = tcpd-proxy-faults ]; then
			free_port
			printf '[listener.faulty]\nbind = 127.0.0.1:%d\nservice = proxy\n' $port
			printf 'upstream = 127.0.0.1:%d\ndelay = 50\nupstream_delay = 50\n' \
			    "${port_of[echo-direct]}"
		fi
	} >"$work/$name.conf"
	start "$name-bulk" $p_bulk "$TCPD" --config "$work/$name.conf"
	[ $name = tcpd-proxy ] && bulk_peers+=(tcpd-proxy-bulk)
	if [ -n "${pid_of[redis-server]:-}" ]; then
		port_of[$name]=$p_redis pid_of[$name]=${pid_of[$name-bulk]}
		proxy_peers+=("$name")
	fi
done
haproxy=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
if [ -x "$haproxy" ]; then
	free_port; p_redis=$port
	free_port; p_bulk=$port
	free_port; p_splice=$port
	{
		printf 'global\n\tnbthread 1\n\tmaxconn %d\n' $((proxy_idle_conns + 1000))
		printf 'defaults\n\tmode tcp\n\ttimeout connect 5s\n'
		printf '\ttimeout client 1h\n\ttimeout server 1h\n'
		if [ -n "${pid_of[redis-server]:-}" ]; then
			printf 'listen redis\n\tbind 127.0.0.1:%d backlog 4096\n' $p_redis
			printf '\tserver redis 127.0.0.1:%d\n' "${port_of[redis-server]}"
		fi
		printf 'listen bulk\n\tbind 127.0.0.1:%d\n' $p_bulk
		printf '\tserver echo 127.0.0.1:%d\n' "${port_of[echo-direct]}"
		# splice-auto saved no CPU here (measured): splicing forced both ways.
		printf 'listen bulk-splice\n\tbind 127.0.0.1:%d\n' $p_splice
		printf '\toption splice-request\n\toption splice-response\n'
		printf '\tserver echo 127.0.0.1:%d\n' "${port_of[echo-direct]}"
	} >"$work/haproxy.cfg"
	start haproxy-bulk $p_bulk "$haproxy" -db -f "$work/haproxy.cfg"
	port_of[haproxy-splice-bulk]=$p_splice pid_of[haproxy-splice-bulk]=${pid_of[haproxy-bulk]}
	bulk_peers+=(haproxy-bulk haproxy-splice-bulk)
	if [ -n "${pid_of[redis-server]:-}" ]; then
		port_of[haproxy]=$p_redis pid_of[haproxy]=${pid_of[haproxy-bulk]}
		proxy_peers+=(haproxy)
	fi
fi
if command -v socat >/dev/null; then
	if [ -n "${pid_of[redis-server]:-}" ]; then
		free_port
		start socat-proxy $port socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=4096" \
		    "TCP:127.0.0.1:${port_of[redis-server]}"
		proxy_peers+=(socat-proxy)
	fi
	free_port
	start socat-proxy-bulk $port socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
	    "TCP:127.0.0.1:${port_of[echo-direct]}"
	bulk_peers+=(socat-proxy-bulk)
fi
if [ -n "${pid_of[redis-server]:-}" ]; then
	port_of[redis-direct]=${port_of[redis-server]} pid_of[redis-direct]=${pid_of[redis-server]}
	proxy_peers=(redis-direct "${proxy_peers[@]}")
fi

# id|title|peers|bench arguments. The connect workloads close with a reset:
# with a FIN, the client's ports pile up in TIME_WAIT (loopback reuses one
# only after a second) and the client's port search, at about 14k/s, not the
# server, sets the rate.
workloads=(
	"ping-1|PING, 1 connection|resp|--workload ping -c 1 -d $secs"
	"ping-50|PING, 50 connections|resp|--workload ping -c 50 -d $secs"
	"ping-1-p16|PING, 1 connection, pipeline 16|resp|--workload ping -c 1 -P 16 -d $secs"
	"ping-50-p16|PING, 50 connections, pipeline 16|resp|--workload ping -c 50 -P 16 -d $secs"
	"ping3-50|PING over RESP3, 50 connections|resp3|-3 --workload ping -c 50 -d $secs"
	"ping3-50-p16|PING over RESP3, 50 connections, pipeline 16|resp3|-3 --workload ping -c 50 -P 16 -d $secs"
	"echo-1|echo 64 B, 1 connection|echo|--workload raw-echo -s 64 -c 1 -d $secs"
	"echo-50|echo 64 B, 50 connections|echo|--workload raw-echo -s 64 -c 50 -d $secs"
	"bulk|bulk echo $((bulk_n / 16)) MiB, 1 connection|echo|--workload raw-echo -s 65536 -P 16 -c 1 -n $bulk_n"
	"connect|connect, PING, reset; 8 at a time|resp|--workload connect --reset -c 8 -d $secs"
	"raw-connect|connect, 64 B echo, reset; 8 at a time|echo|--workload raw-connect --reset -s 64 -c 8 -d $secs"
)
# The same through the proxies; proxy-f: tcpd-proxy-faults too.
proxy_workloads=(
	"proxy-ping-1|PING, 1 connection|proxy|--workload ping -c 1 -d $secs"
	"proxy-ping-50|PING, 50 connections|proxy-f|--workload ping -c 50 -d $secs"
	"proxy-ping-50-p16|PING, 50 connections, pipeline 16|proxy-f|--workload ping -c 50 -P 16 -d $secs"
	"proxy-bulk|bulk echo, $((bulk_n / 16)) MiB each way, 1 connection|proxy-bulk|--workload raw-echo -s 65536 -P 16 -c 1 -n $bulk_n"
	"proxy-connect|connect, PING, reset; 8 at a time|proxy|--workload connect --reset -c 8 -d $secs"
)

runs=$work/runs.csv
echo "workload,peer,round,requests_per_sec,mb_per_sec,p50_us,p99_us,server_cpu_pct,"\
"server_cpu_us_per_req,client_cpu_pct,errors,mismatches" >"$runs"
failed=0

# CPU clock ticks a server has used, its reaped children's included (xinetd
# and socat fork a child for each connection).
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)

# One bench run: the CSV line it printed, or a failure noted for the end.
bench_run() {
	local id=$1 peer=$2 round=$3 args=$4 line pid t0
	pid=${pid_of[$peer]}
	t0=$(cpu_ticks "$pid")
	# shellcheck disable=SC2086
	if ! line=$(timeout 300 $client_cpu "$TCPD_CLI" bench -p "${port_of[$peer]}" --csv \
	    $args 2>"$work/bench.err" | tail -n 1); then
		echo "bench: $id against $peer failed: $(cat "$work/bench.err") $line" >&2
		failed=1
		return
	fi
	sleep 0.2	# for the last children to be reaped
	# workload,connections,pipeline,size,requests,seconds,requests_per_sec,
	# mb_per_sec,p50_us,p90_us,p99_us,p999_us,max_us,client_cpu_pct,errors,mismatches
	echo "$line" | awk -F, -v id="$id" -v peer="$peer" -v round="$round" -v OFS=, \
	    -v ticks=$(($(cpu_ticks "$pid") - t0)) -v hz="$hz" '{
		cpu = ticks / hz
		print id, peer, round, $7, $8, $9, $11, sprintf("%.0f", cpu / $6 * 100),
		    sprintf("%.2f", cpu * 1e6 / $5), $14, $15, $16
	    }' >>"$runs"
	tail -n 1 "$runs" | awk -F, '{ printf "  %-12s %-13s %10.0f req/s  p99 %8.1f us  " \
	    "server CPU %3d%%, %6.2f us/req  client CPU %3d%%\n", $1, $2, $4, $7, $8, $9, $10 }' >&2
}

echo "bench: servers on ${server_cpu:-any CPU}, client on ${client_cpu:-any CPU}" >&2
for w in "${workloads[@]}" "${proxy_workloads[@]}"; do
	IFS='|' read -r id _ kind args <<<"$w"
	case $kind in
	resp) peers=("${resp_peers[@]}") ;;
	# HELLO 3 first: the servers that speak RESP3 (not epoll-min, nor an older tcpd).
	resp3) peers=(tcpd); [ -z "${pid_of[redis-server]:-}" ] || peers+=(redis-server) ;;
	proxy-f) peers=("${proxy_peers[@]}") ;;
	proxy) peers=("${proxy_peers[@]/tcpd-proxy-faults}") ;;
	proxy-bulk) peers=("${bulk_peers[@]}") ;;
	*) peers=("${echo_peers[@]}") ;;
	esac
	for round in $(seq "$rounds"); do
		for peer in "${peers[@]}"; do
			[ -n "$peer" ] || continue
			bench_run "$id" "$peer" "$round" "$args"
		done
	done
done

# Idle connections: the server's resident memory before and while they are held.
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
idle=$work/idle.csv
echo "peer,connections,rss_before_kib,rss_held_kib,bytes_per_conn" >"$idle"
# A proxy's: the pairs (client and upstream connection) it holds, its own RSS.
for peer in tcpd tcpd-base redis-server tcpd-proxy haproxy; do
	[ -n "${pid_of[$peer]:-}" ] || continue
	n=$idle_conns
	case $peer in tcpd-proxy | haproxy) n=$proxy_idle_conns ;; esac
	before=$(rss_kib "${pid_of[$peer]}")
	$client_cpu "$TCPD_CLI" bench -p "${port_of[$peer]}" --workload idle -c "$n" \
	    -d "$idle_hold" >"$work/idle.out" 2>"$work/bench.err" &
	bench_pid=$!
	held=""
	for _ in $(seq 600); do
		if grep -q "^holding $n " "$work/idle.out"; then
			held=$(rss_kib "${pid_of[$peer]}")
			break
		fi
		kill -0 $bench_pid 2>/dev/null || break
		sleep 0.05
	done
	if ! wait $bench_pid || [ -z "$held" ]; then
		echo "bench: idle against $peer failed: $(cat "$work/idle.out" "$work/bench.err")" >&2
		failed=1
		continue
	fi
	echo "$peer,$n,$before,$held,$(( (held - before) * 1024 / n ))" >>"$idle"
	printf '  %-12s %-13s %8d bytes per connection\n' idle "$peer" \
	    $(( (held - before) * 1024 / n )) >&2
done

# redis-benchmark, a client nobody here wrote, on the PING workloads.
rb=$work/redis-benchmark.csv
echo "test,peer,round,requests_per_sec,p99_us" >"$rb"
if command -v redis-benchmark >/dev/null; then
	for pipeline in 1 16; do
		for round in $(seq "$rounds"); do
			for peer in "${resp_peers[@]}"; do
				# epoll-min answers the multibulk PING only, not PING_INLINE.
				[ "$peer" != epoll-min ] || continue
				if ! $client_cpu redis-benchmark -p "${port_of[$peer]}" -t ping -c 50 \
				    -n "$rb_n" -P $pipeline --csv >"$work/rb.out" 2>"$work/bench.err"; then
					echo "bench: redis-benchmark against $peer failed" >&2
					failed=1
					continue
				fi
				tr -d '"' <"$work/rb.out" | awk -F, -v OFS=, -v peer="$peer" \
				    -v round="$round" -v p=$pipeline '
				    /^PING/ { print $1 " -P " p, peer, round, $2, $7 * 1000 }' >>"$rb"
			done
		done
	done
fi

# The timed faults: how exactly they keep time, and what they cost others.
if ! /usr/bin/python3 scripts/fault_accuracy.py "$TCPD" "$TCPD_CLI" \
    $([ $quick = 1 ] && echo --quick) \
    $([ -n "$server_cpu" ] && echo --server-cpu 0 --client-cpu 1) \
    --upstream "${port_of[epoll-min-echo]}" >"$work/faults.md"; then
	echo "bench: the fault accuracy run failed" >&2
	failed=1
fi

# Workers: one tcpd with workers = 1, then 2, on every CPU (unpinned), the same
# client; and how connections spread over 2 workers (and over SO_REUSEPORT).
wk=$work/workers.csv
: >"$wk"
for n in 1 2; do
	free_port
	sed -e "s/^\\[tcpd\\]/[tcpd]\\nworkers = $n/" -e "s/:$p_cmd\$/:$port/" \
	    -e "/^\\[listener.echo\\]/,\$d" "$work/tcpd.conf" >"$work/workers-$n.conf"
	"$TCPD" --config "$work/workers-$n.conf" >"$work/workers-$n.log" 2>&1 &
	wpid=$!
	wait_listening "workers-$n" "$port" $wpid
	sleep $settle
	for w in "ping-50-p16|-c 50 -P 16 -d $secs" "connect|--workload connect --reset -c 8 -d $secs"; do
		IFS='|' read -r id args <<<"$w"
		for round in $(seq "$rounds"); do
			# shellcheck disable=SC2086
			if line=$("$TCPD_CLI" bench -p "$port" --csv $args 2>"$work/bench.err" |
			    tail -n 1); then
				echo "$line" | awk -F, -v id="$id" -v n=$n -v OFS=, '{ print id, n, $7, $11, $14 }' >>"$wk"
			else
				echo "bench: workers = $n, $id failed: $(cat "$work/bench.err")" >&2
				failed=1
			fi
		done
	done
	kill $wpid
	wait $wpid || true
done
if ! /usr/bin/python3 scripts/worker_spread.py "$TCPD" 2 >"$work/spread.md"; then
	echo "bench: the worker spread run failed" >&2
	failed=1
fi

# Every server must have lived through all of it.
for name in "${!pid_of[@]}"; do
	if ! kill -0 "${pid_of[$name]}" 2>/dev/null; then
		echo "bench: $name died during the run" >&2
		failed=1
	fi
done

if [ $failed = 1 ]; then
	echo "bench: some runs failed; $out is left as it was" >&2
	exit 1
fi

# The median run of each workload and peer, by req/s.
median() {	# file key-columns value-column
	awk -F, -v keys="$2" -v val="$3" 'NR > 1 {
		k = $1; for (i = 2; i <= keys; i++) k = k "," $i
		n[k]++; line[k, n[k]] = $0; v[k, n[k]] = $val
		if (n[k] == 1) order[++nk] = k
	} END {
		for (o = 1; o <= nk; o++) {
			k = order[o]
			for (i = 1; i <= n[k]; i++)	# insertion sort: a handful of rounds
				for (j = i; j > 1 && v[k, j - 1] > v[k, j]; j--) {
					t = v[k, j]; v[k, j] = v[k, j - 1]; v[k, j - 1] = t
					t = line[k, j]; line[k, j] = line[k, j - 1]; line[k, j - 1] = t
				}
			print line[k, int((n[k] + 1) / 2)]
		}
	}' "$1"
}
median "$runs" 2 4 >"$work/medians.csv"
median "$rb" 2 4 >"$work/rb-medians.csv"

# tcpd's figure for a workload: from the command port or the echo port.
ratio_table() {	# medians-file: adds tcpd ÷ peer to each line
	awk -F, -v OFS=, '{ line[NR] = $0; w[NR] = $1; p[NR] = $2; r[NR] = $4 }
	    $2 ~ /^tcpd(-echo|-proxy|-proxy-bulk)?$/ { t[$1] = $4 }
	    END { for (i = 1; i <= NR; i++)
		print line[i], (r[i] > 0 && t[w[i]] > 0) ? sprintf("%.2f", t[w[i]] / r[i]) : "" }' "$1"
}
ratio_table "$work/medians.csv" >"$work/ratios.csv"
ratio_table "$work/rb-medians.csv" >"$work/rb-ratios.csv"

ratio_of() {	# workload peer
	awk -F, -v w="$1" -v p="$2" '$1 == w && $2 == p { print $NF }' "$work/ratios.csv"
}

# A proxy workload's figure on each path (MB/s for bulk), and tcpd's ratios.
proxy_row() {	# workload-id title direct tcpd haproxy socat
	awk -F, -v id="$1" -v title="$2" -v d="$3" -v t="$4" -v h="$5" -v s="$6" '
	    function f(p) { return (p in v) ? sprintf("%.0f", v[p]) : "" }
	    $1 == id { v[$2] = id == "proxy-bulk" ? $5 : $4; r[$2] = $NF }
	    END { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", title, f(d), f(t), f(h),
		f(s), r[h], r[s], r[d] }' "$work/ratios.csv"
}

# The latency one PING adds on each path over redis-server reached directly.
added_latency() {	# peer column (6 for p50, 7 for p99)
	awk -F, -v p="$1" -v col="$2" '$1 == "proxy-ping-1" && $2 == "redis-direct" { d = $col }
	    $1 == "proxy-ping-1" && $2 == p { v = $col; seen = 1 }
	    END { if (seen && d != "") printf "%.0f\n", v - d }' "$work/ratios.csv"
}

# ratio or bytes, the target, and whether it is met
target_row() {	# text measured goal higher-is-better
	local text=$1 got=$2 goal=$3 better=$4 verdict
	if [ -z "$got" ]; then
		echo "| $text | not measured (peer not installed) | |"
		return
	fi
	if awk -v g="$got" -v t="$goal" -v hi="$better" 'BEGIN { exit !(hi ? g >= t : g < t) }'; then
		verdict=met
	elif [ "$better" = 1 ]; then
		verdict=$(awk -v g="$got" -v t="$goal" 'BEGIN { printf "missed by %.0f%%", (t - g) / t * 100 }')
	else
		verdict=$(awk -v g="$got" -v t="$goal" 'BEGIN { printf "missed by %.0f%%", (g - t) / t * 100 }')
	fi
	echo "| $text | $got | $verdict |"
}

idle_bytes=$(awk -F, '$1 == "tcpd" { print $5 }' "$idle")
pair_bytes=$(awk -F, '$1 == "tcpd-proxy" { print $5 }' "$idle")
# tcpd-proxy-faults ÷ tcpd-proxy, from tcpd-proxy ÷ tcpd-proxy-faults.
faults_ratio() {
	ratio_of "$1" tcpd-proxy-faults | awk '$1 > 0 { printf "%.2f\n", 1 / $1 }'
}
# fault_accuracy.py's proxied delay: p99 of the delivered delay over what was asked.
delay_over=$(sed -n 's/^| delay = 50 on .* proxied connections.* p99 \([-+][0-9.]*\) ms.*/\1/p' \
    "$work/faults.md")
version() { "$@" 2>&1 | grep -o '[0-9]\+\.[0-9]\+\.[0-9.]\+' | head -n 1; }
{
	echo "<!-- bench:begin -->"
	echo "Measured $(date -u +%Y-%m-%d) by \`scripts/bench.sh$([ $quick = 1 ] && echo " --quick")$(
	    [ -n "$baseline" ] && echo " --baseline $baseline")\`"
	peers=""
	for peer in redis-server xinetd socat; do
		[ -n "${pid_of[$peer]:-}" ] || continue
		case $peer in
		redis-server) peers="$peers, redis-server $(version redis-server --version)" ;;
		xinetd) peers="$peers, xinetd $(version xinetd -version)" ;;
		socat) peers="$peers, socat $(version socat -V)" ;;
		esac
	done
	echo "on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"
	echo "$(nproc) cores, Linux $(uname -r): tcpd $(git describe --always --dirty 2>/dev/null ||
	    echo '?')$([ -n "$base_rev" ] && echo ", tcpd-base $(git describe --always "$base_rev")")$peers,"
	echo "epoll-min (scripts/epoll-min.c)."
	if [ -n "$server_cpu" ]; then
		echo "Servers pinned to CPU 0 and tcpd-cli bench to CPU 1 with taskset; loopback."
	fi
	echo "The median of $rounds rounds; within a round the servers take turns."
	echo
	echo "### Targets (tcpd ÷ peer, or bytes)"
	echo
	echo "| target | measured | |"
	echo "|---|---|---|"
	target_row "PING, 50 connections: ≥ 1.2× redis-server" "$(ratio_of ping-50 redis-server)" 1.2 1
	target_row "PING, 50 connections, pipeline 16: ≥ 1.2× redis-server" \
	    "$(ratio_of ping-50-p16 redis-server)" 1.2 1
	target_row "PING, 50 connections: ≥ 0.97× epoll-min" "$(ratio_of ping-50 epoll-min)" 0.97 1
	target_row "PING, 50 connections, pipeline 16: ≥ 0.97× epoll-min" \
	    "$(ratio_of ping-50-p16 epoll-min)" 0.97 1
	target_row "echo 64 B, 50 connections: ≥ 0.97× epoll-min" \
	    "$(ratio_of echo-50 epoll-min-echo)" 0.97 1
	target_row "echo 64 B, 50 connections: ≥ 1.5× xinetd" "$(ratio_of echo-50 xinetd)" 1.5 1
	target_row "echo 64 B, 50 connections: ≥ 2× socat" "$(ratio_of echo-50 socat)" 2 1
	target_row "bulk echo, 1 connection: ≥ 1.1× socat" "$(ratio_of bulk socat)" 1.1 1
	target_row "connect rate: ≥ 1× redis-server" "$(ratio_of connect redis-server)" 1 1
	target_row "connect rate: ≥ 2.5× xinetd" "$(ratio_of raw-connect xinetd)" 2.5 1
	target_row "RSS per idle connection at $idle_conns: < 2048 bytes" "$idle_bytes" 2048 0
	echo
	echo "### tcpd-cli bench"
	echo
	echo "| workload | server | req/s | MB/s | p99 µs | server CPU | server CPU µs/req" \
	    "| client CPU | tcpd ÷ server |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	for w in "${workloads[@]}"; do
		IFS='|' read -r id title _ <<<"$w"
		awk -F, -v id="$id" -v title="$title" '$1 == id {
			printf "| %s | %s | %.0f | %s | %.0f | %d%% | %.2f | %d%% | %s |\n", title,
			    $2, $4, ($5 > 0 ? sprintf("%.1f", $5) : ""), $7, $8, $9, $10, $NF
		}' "$work/ratios.csv"
	done
	echo
	echo "### Idle connections"
	echo
	echo "| server | connections | RSS before, KiB | RSS holding them, KiB | bytes per connection |"
	echo "|---|---:|---:|---:|---:|"
	awk -F, 'NR > 1 { printf "| %s | %d | %d | %d | %d |\n", $1, $2, $3, $4, $5 }' "$idle"
	echo
	echo "tcpd-proxy and haproxy hold proxied pairs (a client's connection and its own to"
	echo "redis-server): their bytes are per pair."
	if [ "$(wc -l <"$work/rb-ratios.csv")" -gt 0 ]; then
		echo
		echo "### redis-benchmark -t ping -c 50 -n $rb_n"
		echo
		echo "| test | server | req/s | p99 µs | tcpd ÷ server |"
		echo "|---|---|---:|---:|---:|"
		awk -F, '{ printf "| %s | %s | %.0f | %.0f | %s |\n", $1, $2, $4, $5, $6 }' \
		    "$work/rb-ratios.csv"
	fi
	if command -v gnuplot >/dev/null; then
		echo
		echo "![Throughput of each server relative to tcpd](bench.png)"
	fi
	echo
	echo "### The proxy: tcpd's service = proxy, HAProxy, socat"
	echo
	echo "redis-server reached directly, through tcpd (\`service = proxy\`, one reactor),"
	echo "through HAProxy $(version "$haproxy" -v) (\`mode tcp\`, \`nbthread 1\`) and through socat"
	echo "(\`TCP-LISTEN:PORT,fork,reuseaddr TCP:127.0.0.1:REDISPORT\`: a process per connection),"
	echo "each proxy on CPU 0 beside the server. Bulk: \`raw-echo\` with 64 KiB messages, 16 in"
	echo "flight, to epoll-min's echo (a server that only moves bytes, so the proxy is what is"
	echo "measured): every byte crosses the proxy twice, once each way, and is checked."
	echo "haproxy-splice-bulk is the same HAProxy splicing both ways through a pipe"
	echo "(\`option splice-request\`, \`option splice-response\`; splice-auto saved no CPU"
	echo "here); tcpd's proxy splices too, on a connection with no fault."
	echo
	echo "| target | measured | |"
	echo "|---|---|---|"
	for w in ping-50 ping-50-p16 bulk connect; do
		case $w in
		ping-50) text="PING, 50 connections" ;;
		ping-50-p16) text="PING, 50 connections, pipeline 16" ;;
		bulk) text="bulk echo, 1 connection" ;;
		connect) text="connect, PING, reset" ;;
		esac
		h=haproxy s=socat-proxy
		[ $w != bulk ] || h=haproxy-bulk s=socat-proxy-bulk
		target_row "$text: tcpd ≥ 1× HAProxy" "$(ratio_of "proxy-$w" $h)" 1 1
		target_row "$text: tcpd ≥ 2× socat" "$(ratio_of "proxy-$w" $s)" 2 1
	done
	target_row "bulk echo, 1 connection: tcpd ≥ 1× HAProxy splicing" \
	    "$(ratio_of proxy-bulk haproxy-splice-bulk)" 1 1
	target_row "latency one PING adds, p50: tcpd's µs < HAProxy's $(added_latency haproxy 6) µs" \
	    "$(added_latency tcpd-proxy 6)" "$(added_latency haproxy 6)" 0
	target_row "latency one PING adds, p99: tcpd's µs < HAProxy's $(added_latency haproxy 7) µs" \
	    "$(added_latency tcpd-proxy 7)" "$(added_latency haproxy 7)" 0
	target_row "RSS per idle proxied pair at $proxy_idle_conns: < 2048 bytes" "$pair_bytes" 2048 0
	target_row "PING, 50 connections, a fault profile on another listener: ≥ 0.97× without" \
	    "$(faults_ratio proxy-ping-50)" 0.97 1
	target_row "the same, pipeline 16: ≥ 0.97× without" "$(faults_ratio proxy-ping-50-p16)" 0.97 1
	target_row "delay = 50 on proxied connections: p99 over 50 ms < 2 ms" "$delay_over" 2 0
	echo
	echo "| workload | direct | tcpd | HAProxy | socat | tcpd ÷ HAProxy | tcpd ÷ socat" \
	    "| tcpd ÷ direct |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for w in "${proxy_workloads[@]}"; do
		IFS='|' read -r id title kind _ <<<"$w"
		if [ "$kind" = proxy-bulk ]; then
			proxy_row "$id" "$title, MB/s" echo-direct tcpd-proxy-bulk haproxy-bulk \
			    socat-proxy-bulk
		else
			proxy_row "$id" "$title, req/s" redis-direct tcpd-proxy haproxy socat-proxy
		fi
	done
	echo
	echo "Latency of one PING on 1 connection, unpipelined, and what each proxy adds:"
	echo
	echo "| path | p50 µs | p99 µs | added p50 µs | added p99 µs |"
	echo "|---|---:|---:|---:|---:|"
	for peer in "${proxy_peers[@]}"; do
		[ "$peer" != tcpd-proxy-faults ] || continue
		awk -F, -v p="$peer" -v a50="$(added_latency "$peer" 6)" -v a99="$(added_latency "$peer" 7)" \
		    '$1 == "proxy-ping-1" && $2 == p { printf "| %s | %.0f | %.0f | %s | %s |\n",
			p, $6, $7, a50, a99 }' "$work/ratios.csv"
	done
	echo
	echo "Every run, with each proxy's own CPU (not its server's):"
	echo
	echo "| workload | path | req/s | MB/s | p50 µs | p99 µs | proxy CPU | proxy CPU µs/req" \
	    "| client CPU | tcpd ÷ path |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for w in "${proxy_workloads[@]}"; do
		IFS='|' read -r id title _ <<<"$w"
		awk -F, -v id="$id" -v title="$title" '$1 == id {
			printf "| %s | %s | %.0f | %s | %.0f | %.0f | %d%% | %.2f | %d%% | %s |\n",
			    title, $2, $4, ($5 > 0 ? sprintf("%.1f", $5) : ""), $6, $7, $8, $9, $10, $NF
		}' "$work/ratios.csv"
	done
	echo
	echo "### Workers"
	echo
	echo "One tcpd with \`workers = 1\` and with \`workers = 2\`, unpinned: server and client share"
	echo "the $(nproc) cores. The median of $rounds rounds."
	echo
	echo "| workload | workers | req/s | p99 µs | client CPU |"
	echo "|---|---:|---:|---:|---:|"
	sort -t, -k1,1 -k2,2n -k3,3n "$wk" | awk -F, '
	    { key = $1 "," $2; v[key, ++n[key]] = $0; if (!(key in seen)) { seen[key]; order[++k] = key } }
	    END { for (i = 1; i <= k; i++) { key = order[i]; split(v[key, int((n[key] + 1) / 2)], f, ",")
		printf "| %s | %d | %.0f | %.0f | %d%% |\n", f[1], f[2], f[3], f[4], f[5] } }'
	echo
	echo "\`scripts/worker_spread.py\`:"
	echo
	cat "$work/spread.md"
	echo
	echo "### Timed faults: accuracy, and the cost to others"
	echo
	echo "\`scripts/fault_accuracy.py\`: a release tcpd of its own, on the same CPUs."
	echo
	cat "$work/faults.md"
	echo "<!-- bench:end -->"
} >"$work/report.md"

mkdir -p "$out"
# The chart: each peer's req/s as a fraction of tcpd's, per workload.
if command -v gnuplot >/dev/null; then
	chart_peers="tcpd ${base_rev:+tcpd-base }epoll-min redis-server xinetd socat"
	awk -F, -v peers="$chart_peers" '$1 ~ /^proxy-/ { next } { peer = $2; sub(/-echo$/, "", peer); r[$1, peer] = $4
		if (!($1 in seen)) { seen[$1]; order[++n] = $1 } }
	    END { np = split(peers, p, " ")
		for (i = 1; i <= n; i++) { w = order[i]; t = r[w, "tcpd"]
		printf "%s", w
		for (j = 1; j <= np; j++)
			printf " %s", ((w, p[j]) in r) ? sprintf("%.3f", r[w, p[j]] / t) : "?"
		printf "\n" } }' "$work/medians.csv" >"$work/chart.dat"
	plot="\"$work/chart.dat\" using 2:xtic(1) title \"tcpd\"" col=2
	for peer in ${chart_peers#tcpd }; do
		col=$((col + 1))
		plot="$plot, '' using $col title \"$peer\""
	done
	gnuplot <<EOF
set terminal pngcairo size 1000,480 font "sans,10"
set output "$work/bench.png"
set title "req/s relative to tcpd (tcpd = 1): median of $rounds rounds, loopback, $(nproc) cores"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing "?"
set yrange [0:*]
set grid ytics
set key outside top center horizontal
set xtics rotate by -30 scale 0
plot $plot
EOF
	cp "$work/bench.png" "$out/bench.png"
fi

doc=$out/BENCHMARKS.md
if [ -f "$doc" ] && grep -q '^<!-- bench:begin -->' "$doc"; then
	awk -v report="$work/report.md" '
	    /^<!-- bench:begin -->/ { while ((getline l < report) > 0) print l; skip = 1; next }
	    /^<!-- bench:end -->/ { skip = 0; next }
	    !skip' "$doc" >"$work/doc.md"
	cp "$work/doc.md" "$doc"
else
	{ echo "# Benchmarks"; echo; cat "$work/report.md"; } >"$doc"
fi
cp "$runs" "$out/bench-runs.csv"
echo "bench: wrote $doc, $out/bench-runs.csv$(command -v gnuplot >/dev/null && echo " and $out/bench.png")" >&2

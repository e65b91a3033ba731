#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""How exactly tcpd's timed faults keep their promise, and what they cost
others: the delivered delay under DELAY 100 on many connections and under
a proxy listener's delay = 50 on as many proxied connections, a paced
stream's bytes against its rate, an unaffected client's PING p99 while
thousands of connections are delayed, stalled or paced, against the same
server idle, and tcpd's CPU while they wait. Prints a Markdown table.

usage: fault_accuracy.py TCPD TCPD_CLI [--quick] [--server-cpu N --client-cpu N]
                         [--upstream PORT]
  --upstream PORT  an echo server on 127.0.0.1:PORT for the proxied row
"""
import json
import os
import resource
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time

args = sys.argv[1:]
tcpd, cli = args[0], args[1]
quick = "--quick" in args
server_cpu = args[args.index("--server-cpu") + 1] if "--server-cpu" in args else None
client_cpu = args[args.index("--client-cpu") + 1] if "--client-cpu" in args else None
upstream = args[args.index("--upstream") + 1] if "--upstream" in args else None

delayed_conns, delay_secs = (100, 0.3) if quick else (1000, 5)
rate_secs = 0.3 if quick else 10
# How long the held connections settle, and the window tcpd's CPU is read over.
settle_secs, cpu_secs = (0.2, 0.3) if quick else (1, 3)
held_conns = 300 if quick else 10000
ping_n = 2000 if quick else 50000
rate = 1000000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(cpu, argv):
    return (["taskset", "-c", cpu] if cpu is not None else []) + argv


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, n), hard), hard))


def bench(port, *extra):
    out = subprocess.run(pinned(client_cpu, [cli, "bench", "-p", str(port), "--json", *extra]),
                         check=False, capture_output=True, text=True).stdout
    return json.loads(out)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(port):
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    sys.exit(f"fault_accuracy: tcpd did not listen on {port}")


# Not named by Python's socket module before 3.14: Linux's value.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def delivered_delay(port, conns, delay_ms, secs, request, reply):
    """The delay each reply really got over delay_ms, in ms, sorted.

    Each connection sends its next request when its reply has come. Their
    first requests are spread over one delay, so that replies fall due a few
    at a time, as independent clients' would, not all in the same
    millisecond. A reply's time is the kernel's, when it reached the socket
    (SO_TIMESTAMPNS), not when this client got round to it: the client's own
    lag is not the server's.
    """
    sel = selectors.DefaultSelector()
    socks, sent, extra = [], {}, []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    for i, s in enumerate(socks):
        time.sleep(max(0, start + delay_ms / 1000 * i / conns - time.monotonic()))
        sel.register(s, selectors.EVENT_READ)
        sent[s] = time.time_ns()
        s.send(request)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            data, anc, _, _ = s.recvmsg(64, socket.CMSG_SPACE(16))
            if data != reply:
                sys.exit(f"fault_accuracy: a reply was {data!r}, not {reply!r}")
            at = next(struct.unpack("qq", d[:16]) for lvl, typ, d in anc
                      if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS)
            extra.append(((at[0] * 10**9 + at[1]) - sent[s]) / 1e6 - delay_ms)
            sent[s] = time.time_ns()
            s.send(request)
    for s in socks:
        s.close()
    return sorted(extra)


def delay_row(what, extra):
    return (f"{what}, {len(extra)} replies: delivered delay minus what was asked",
            f"p50 {extra[len(extra) // 2]:+.2f} ms, p99 {extra[len(extra) * 99 // 100]:+.2f} ms, "
            f"max {extra[-1]:+.2f} ms, min {extra[0]:+.2f} ms")


cmd, delayed, paced, proxied = free_port(), free_port(), free_port(), free_port()
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write(f"""[tcpd]
log_level = warning
max_connections = 20000
[listener.cmd]
bind = 127.0.0.1:{cmd}
service = command
faults = on
[listener.delayed]
bind = 127.0.0.1:{delayed}
service = command
delay = 100
[listener.paced]
bind = 127.0.0.1:{paced}
service = chargen
rate = {rate}
""")
if upstream is not None:
    conf.write(f"""[listener.proxied]
bind = 127.0.0.1:{proxied}
service = proxy
upstream = 127.0.0.1:{upstream}
delay = 50
""")
conf.close()
raise_nofile(held_conns + 1000)
server = subprocess.Popen(pinned(server_cpu, [tcpd, "-c", conf.name]), stderr=subprocess.DEVNULL)
rows = []
try:
    for p in (cmd, delayed, paced) + ((proxied,) if upstream is not None else ()):
        wait_port(p)

    # The delay each reply really got, timed to the microsecond (tcpd-cli
    # bench's histogram buckets are 2 ms wide at 100 ms).
    rows.append(delay_row(f"DELAY 100 on {delayed_conns} connections",
                          delivered_delay(delayed, delayed_conns, 100, delay_secs, b"PING\r\n",
                                          b"+PONG\r\n")))
    # The same through the proxy: tcpd, then the upstream's echo, then the delay.
    if upstream is not None:
        rows.append(delay_row(f"delay = 50 on {delayed_conns} proxied connections",
                              delivered_delay(proxied, delayed_conns, 50, delay_secs,
                                              b"0123456789\r\n", b"0123456789\r\n")))

    # A paced stream: chargen at RATE 1,000,000 bytes a second.
    with socket.create_connection(("127.0.0.1", paced)) as s:
        got, start = 0, time.monotonic()
        while time.monotonic() - start < rate_secs:
            got += len(s.recv(1 << 16))
        took = time.monotonic() - start
    rows.append((f"rate = 1000000 over {rate_secs} s: bytes against rate × time",
                 f"{got:,} bytes in {took:.2f} s, {100 * (got / (rate * took) - 1):+.2f} %"))

    # tcpd's CPU while thousands of connections wait on DELAY.
    bench(cmd, "-c", "1", "-n", str(ping_n))  # warm-up
    idle = sorted(bench(cmd, "-c", "1", "-n", str(ping_n))["latency_us"]["p99"]
                  for _ in range(3))[1]
    held = []
    for i in range(held_conns):
        s = socket.create_connection(("127.0.0.1", cmd))
        s.sendall(b"DELAY 60000\r\nPING\r\n")
        held.append(s)
    time.sleep(settle_secs)
    cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
    time.sleep(cpu_secs)
    cpu = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0)
    rows.append((f"tcpd's CPU while {held_conns} connections wait on DELAY 60000",
                 f"{100 * cpu:.2f} % of a core"))
    # The same number delayed and stalled, then a third paced: what an unaffected client sees.
    def p99():
        runs = sorted(bench(cmd, "-c", "1", "-n", str(ping_n))["latency_us"]["p99"]
                      for _ in range(3))
        return runs[1]

    def replace(every, request):
        for i in range(0, len(held), every):
            held[i].close()
            held[i] = socket.create_connection(("127.0.0.1", cmd))
            held[i].sendall(request)
        time.sleep(settle_secs)

    replace(2, b"STALL\r\nPING\r\n")
    busy = p99()
    rows.append((f"PING p99 of one client while {held_conns} connections are delayed or "
                 "stalled (half each), ÷ the same server idle",
                 f"{busy:.1f} µs ÷ {idle:.1f} µs = {busy / idle:.2f}"))
    replace(3, b"RATE 10\r\nECHO 0123456789\r\n")
    cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
    busy = p99()
    cpu = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0)
    rows.append((f"the same with a third of them paced at RATE 10 (a 1-byte write every "
                 "100 ms each)",
                 f"{busy:.1f} µs ÷ {idle:.1f} µs = {busy / idle:.2f}; tcpd's CPU meanwhile "
                 f"{100 * cpu:.1f} % of a core"))
    for s in held:
        s.close()
finally:
    server.terminate()
    server.wait()
    os.unlink(conf.name)

print("| measured | result |")
print("|---|---|")
for what, result in rows:
    print(f"| {what} | {result} |")

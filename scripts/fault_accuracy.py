#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""How exactly tcpd's timed faults keep their promise, and what they cost
others: the delivered delay under DELAY 100 on many connections, a paced
stream's bytes against its rate, an unaffected client's PING p99 while
thousands of connections are delayed, stalled or paced, against the same
server idle, and tcpd's CPU while they wait. Prints a Markdown table.

usage: fault_accuracy.py TCPD TCPD_CLI [--quick] [--server-cpu N --client-cpu N]
"""
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time

args = sys.argv[1:]
tcpd, cli = args[0], args[1]
quick = "--quick" in args
server_cpu = args[args.index("--server-cpu") + 1] if "--server-cpu" in args else None
client_cpu = args[args.index("--client-cpu") + 1] if "--client-cpu" in args else None

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


cmd, delayed, paced = free_port(), free_port(), free_port()
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
conf.close()
raise_nofile(held_conns + 1000)
server = subprocess.Popen(pinned(server_cpu, [tcpd, "-c", conf.name]), stderr=subprocess.DEVNULL)
rows = []
try:
    for p in (cmd, delayed, paced):
        wait_port(p)

    # The delay each reply really got, over 100 ms, timed by this client to the
    # microsecond (tcpd-cli bench's histogram buckets are 2 ms wide at 100 ms).
    sel = selectors.DefaultSelector()
    sent, extra = {}, []
    for _ in range(delayed_conns):
        s = socket.create_connection(("127.0.0.1", delayed))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        s.send(b"PING\r\n")
        sent[s] = time.monotonic()
    end = time.monotonic() + delay_secs
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            if s.recv(64) != b"+PONG\r\n":
                sys.exit("fault_accuracy: a reply was not +PONG")
            now = time.monotonic()
            extra.append((now - sent[s]) * 1000 - 100)
            s.send(b"PING\r\n")
            sent[s] = now
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    extra.sort()
    rows.append((f"DELAY 100 on {delayed_conns} connections, {len(extra)} replies: delivered "
                 "delay minus 100 ms",
                 f"p50 {extra[len(extra) // 2]:+.2f} ms, p99 {extra[len(extra) * 99 // 100]:+.2f} ms, "
                 f"max {extra[-1]:+.2f} ms, min {extra[0]:+.2f} ms"))

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

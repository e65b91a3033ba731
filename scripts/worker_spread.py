#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""How connections spread over tcpd's workers, and how they would over
SO_REUSEPORT sockets, measured the same way: 1,000 short connections one at
a time, 1,000 from 8 clients at once, and 8 long ones. For tcpd, each
connection asks WHOAMI which worker answered; for SO_REUSEPORT, two processes
each accept on their own socket of one port and say which they are.
Prints a Markdown table.

usage: worker_spread.py TCPD [WORKERS]
"""
import collections
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

tcpd = sys.argv[1]
workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask_tcpd(s):
    s.sendall(b"WHOAMI\r\n")
    reply = b""
    while reply.count(b"\r\n") < 2:
        reply += s.recv(4096)
    return reply.split(b"worker=")[1].split(b"\r\n")[0].decode()


def ask_reuseport(s):
    return s.recv(16).decode()


def spread(port, ask):
    rows = []
    c = collections.Counter()
    for _ in range(1000):
        with socket.create_connection(("127.0.0.1", port)) as s:
            c[ask(s)] += 1
    rows.append(("1,000 short connections, one at a time", c))
    c, lock = collections.Counter(), threading.Lock()

    def client():
        for _ in range(125):
            with socket.create_connection(("127.0.0.1", port)) as s:
                w = ask(s)
                with lock:
                    c[w] += 1
    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows.append(("1,000 short connections, 8 at a time", c))
    c = collections.Counter()
    long = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    for s in long:
        c[ask(s)] += 1
    for s in long:
        s.close()
    rows.append(("8 long connections", c))
    return rows


def reuseport_server(port, name):
    """A child: its own SO_REUSEPORT socket; answers each connection with its name."""
    pid = os.fork()
    if pid:
        return pid
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    s.listen(511)
    while True:
        c, _ = s.accept()
        c.sendall(name.encode())
        c.close()


def show(rows):
    return ", ".join(f"{r}: " + " / ".join(str(c[str(w)]) for w in range(workers))
                     for r, c in rows)


port = free_port()
conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
conf.write(f"[tcpd]\nlog_level = notice\nworkers = {workers}\n"
           f"[listener.cmd]\nbind = 127.0.0.1:{port}\nservice = command\n")
conf.close()
server = subprocess.Popen([tcpd, "-c", conf.name], stderr=subprocess.PIPE, text=True)
try:
    for line in server.stderr:
        if f"all {workers} workers serving" in line:
            break
    ours = spread(port, ask_tcpd)
finally:
    server.terminate()
    server.wait()
    os.unlink(conf.name)

port = free_port()
children = [reuseport_server(port, str(w)) for w in range(workers)]
time.sleep(0.5)
try:
    theirs = spread(port, ask_reuseport)
finally:
    for pid in children:
        os.kill(pid, 9)
        os.waitpid(pid, 0)

print(f"| connections per worker ({workers} workers) | tcpd: one socket, EPOLLEXCLUSIVE, "
      "re-armed after each wake | SO_REUSEPORT: a socket per worker |")
print("|---|---|---|")
for (what, c), (_, d) in zip(ours, theirs):
    print(f"| {what} | " + " / ".join(str(c[str(w)]) for w in range(workers)) + " | " +
          " / ".join(str(d[str(w)]) for w in range(workers)) + " |")

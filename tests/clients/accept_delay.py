# SPDX-License-Identifier: MIT
"""Python's socket module against a listener with accept_delay: the kernel
completes the handshake, so create_connection() succeeds, and the read
times out with Python's own TimeoutError; a patient reader gets the echo.
usage: accept_delay.py PORT"""
import socket
import sys
import time

port = int(sys.argv[1])

with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
    print("connected")
    s.sendall(b"ping\n")
    try:
        s.recv(16)
        sys.exit("no timeout: the echo came before accept_delay")
    except TimeoutError as e:
        print(f"impatient: {type(e).__module__}.{type(e).__name__}")

start = time.monotonic()
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    s.sendall(b"ping\n")
    echo = s.recv(16)
    waited = time.monotonic() - start
    print(f"patient: {echo!r} after {'at least' if waited >= 0.45 else 'less than'} 450 ms")

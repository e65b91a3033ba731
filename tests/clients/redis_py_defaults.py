# SPDX-License-Identifier: MIT
"""Python's redis client (Debian's python3-redis 4.3) against tcpd in its
default settings: redis.Redis(host, port) and the library's own arguments
(client_name=, db=, password=). Prints one line per step: the reply, or the
library's own exception; exits non-zero on a surprise.

redis-py 4.3 speaks RESP2 only: it never sends HELLO, and its parser has no
RESP3 types (maps, sets, nulls), so HELLO 3 cannot be asked of it; HELLO 2
is, below. RESP3 came with redis-py 5 (protocol=3).

With `matrix`, the fault matrix instead (as tests/clients/fault_matrix.js
does for the npm libraries): for each fault, a fresh client with
socket_timeout=0.3 the only argument set sends it, and one line tells what
it raised and whether it sent the fault command again (tcpd counted it more
than once within 1.5 s, in INFO faults on a separate client).
usage: redis_py_defaults.py PORT AUTH_PORT [matrix]   (AUTH_PORT: requirepass = s3cret)"""
import sys
import time

import redis

port, auth_port = int(sys.argv[1]), int(sys.argv[2])


def client(p=port, **kwargs):
    return redis.Redis(host="127.0.0.1", port=p, **kwargs)


def name(e):
    return f"{type(e).__module__}.{type(e).__name__}"


def expect_error(step, fn):
    try:
        fn()
    except redis.exceptions.RedisError as e:
        print(f"{step}: {name(e)}: " + str(e).replace(f":{port} ", ":PORT "))
        return
    sys.exit(f"{step}: no exception")


def resets(r):
    return r.info("faults")["fault_reset"]


FAULTS = [
    ("DELAY", "delay", [("FAULT", "DELAY", 1000), ("PING",)]),
    ("STALL", "stall", [("FAULT", "STALL", 1000)]),
    ("CLOSE", "close", [("FAULT", "CLOSE")]),
    ("RESET", "reset", [("FAULT", "RESET")]),
    ("TRUNCATE", "truncate", [("FAULT", "TRUNCATE"), ("ECHO", "x" * 100)]),
    ("GARBAGE", "garbage", [("FAULT", "GARBAGE", 16)]),
    ("ERROR", "error", [("FAULT", "ERROR", "boom")]),
]


def matrix():
    control = client()
    for fault, counter, calls in FAULTS:
        key = f"fault_{counter}"
        before = control.info("faults")[key]
        c = client(socket_timeout=0.3)
        c.ping()
        t0 = time.monotonic()
        for args in calls[:-1]:
            c.execute_command(*args)
        try:
            v = c.execute_command(*calls[-1])
            outcome = f"none: {v!r}" if len(repr(v)) <= 20 else f"none: {repr(v)[:5]}... ({len(v)} bytes)"
        except redis.exceptions.RedisError as e:
            outcome = name(e)
        time.sleep(max(0.0, 1.5 - (time.monotonic() - t0)))
        n = control.info("faults")[key] - before
        c.close()
        print(f"redis-py | {fault} | {outcome} | retried: {'yes' if n > 1 else 'no'}")
    control.close()


if sys.argv[3:] == ["matrix"]:
    matrix()
    sys.exit(0)

r = client()
print(f"ping: {r.ping()}")
print(f"echo: {r.echo('hello tcpd')!r}")
secs, usecs = r.time()
print("time: " + ("seconds and microseconds, this clock's"
                  if abs(secs - time.time()) < 5 and 0 <= usecs < 10**6 else f"{secs} {usecs}"))
print(f"info: multiplexing_api={r.info()['multiplexing_api']}")
print(f"client_setname: {r.client_setname('renamed')} {r.client_getname()!r}")
hello = r.execute_command("HELLO", 2)
print(f"hello 2: proto {hello[hello.index(b'proto') + 1]}")
print(f"client_name=, db=0: {client(client_name='app-py', db=0).client_getname()!r}")
print(f"select 0: {r.execute_command('SELECT', 0)!r}")
# db=1 sends SELECT 1 when it connects: tcpd has database 0 only.
expect_error("db=1", lambda: client(db=1).ping())

print(f"password=: {client(auth_port, password='s3cret').ping()}")
expect_error("no password", lambda: client(auth_port).ping())
expect_error("wrong password", lambda: client(auth_port, password="wrong").ping())

f = client()
print(f"FAULT DELAY 200: {f.execute_command('FAULT', 'DELAY', 200)!r}")
t0 = time.monotonic()
pong = f.ping()
took = time.monotonic() - t0
print(f"ping after it: {pong} " + ("at least 200 ms late" if took >= 0.195 else f"after {took:.3f} s"))

expect_error("FAULT CLOSE", lambda: client().execute_command("FAULT", "CLOSE"))
# The defaults (retry_on_timeout=False, no retry=) send a command once: the
# reset fails the call, and the next call connects again.
before = resets(r)
c = client()
expect_error("FAULT RESET", lambda: c.execute_command("FAULT", "RESET"))
print(f"after it: {c.ping()} on a new connection, {resets(r) - before} reset in INFO")

# SPDX-License-Identifier: MIT
"""Python's redis client (Debian's python3-redis) through tcpd's proxy in
front of redis-server. Prints what it got, so that the test compares the
proxy's run with a direct one line for line; a fault's exception is
printed as the client raised it.
usage: redis_py_proxy.py PORT values|big"""
import hashlib
import sys

import redis

port, mode = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, retry_on_timeout=False)
# Every byte value, 1 MiB of them: what a text-only path would mangle.
big = bytes(range(256)) * 4096


def values():
    r.delete("l", "h", "n")
    print("set:", r.set("big", big))
    got = r.get("big")
    print("get:", len(got), hashlib.sha256(got).hexdigest(), got == big)
    print("rpush:", r.rpush("l", *[f"element-{i}" * (i % 7 + 1) for i in range(1000)]))
    items = r.lrange("l", 0, -1)
    print("lrange:", len(items), items[0], items[999])
    print("hset:", r.hset("h", mapping={"a": "1", "b": b"\r\n\x00"}), r.hgetall("h"))
    p = r.pipeline(transaction=True)
    for _ in range(100):
        p.incr("n")
    print("pipeline:", p.execute()[-1])
    try:
        r.execute_command("NOSUCHCOMMAND")
    except redis.exceptions.ResponseError as e:
        print("error reply:", e)


def big_get():
    try:
        r.get("big")
        print("no exception")
    except redis.exceptions.ConnectionError as e:
        print(f"{type(e).__module__}.{type(e).__name__}: {e}")


{"values": values, "big": big_get}[mode]()

# SPDX-License-Identifier: MIT
"""Python's redis client (Debian's python3-redis) against tcpd's faults:
each fault must raise the client's own exception, and a new connection
must work again. Prints one line per case; exits non-zero on a surprise.
usage: redis_py_faults.py PORT"""
import sys

import redis

port = int(sys.argv[1])


def client():
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, retry_on_timeout=False)


def expect(name, exc_type, fn):
    try:
        fn()
    except exc_type as e:
        print(f"{name}: {type(e).__module__}.{type(e).__name__}")
        return
    except Exception as e:  # any other type is a failure, named
        sys.exit(f"{name}: unexpected {type(e).__module__}.{type(e).__name__}: {e}")
    sys.exit(f"{name}: no exception")


def reset():
    client().execute_command("FAULT", "RESET")


def close():
    client().execute_command("CLOSE")


def truncate():
    r = client()
    assert r.execute_command("TRUNCATE") == b"OK"
    r.echo("0123456789" * 10)


def error():
    client().execute_command("ERROR", "WRONGTYPE made by tcpd")


def garbage():
    # A line that is not RESP: the client's protocol error, not a wait for more.
    client().execute_command("GARBAGE", "40")


def delay():
    # The reply comes 500 ms late; the client gives up after 200 ms.
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.2, retry_on_timeout=False)
    assert r.execute_command("DELAY", "500") == b"OK"
    r.ping()


def stall():
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.2, retry_on_timeout=False)
    assert r.execute_command("FAULTS") == []
    r.execute_command("STALL")


expect("reset", redis.exceptions.ConnectionError, reset)
expect("close", redis.exceptions.ConnectionError, close)
expect("truncate", redis.exceptions.ConnectionError, truncate)
expect("error", redis.exceptions.ResponseError, error)
expect("garbage", redis.exceptions.InvalidResponse, garbage)
expect("delay", redis.exceptions.TimeoutError, delay)
expect("stall", redis.exceptions.TimeoutError, stall)
# The server is fine: a new connection answers.
assert client().ping() is True
print("recovered: PING on a new connection")

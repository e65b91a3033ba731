#!/usr/bin/python3
"""The commands tcpd shares with Redis, sent to a real redis-server and to
tcpd in RESP2 and in RESP3: each reply's shape (its types, nesting and
sizes) must be the same, and its bytes too where they say nothing about the
server. Prints one line per command and protocol; exits 1 on a difference.

usage: resp_shapes.py TCPD_PORT REDIS_PORT"""
import socket
import sys


def parse(buf, i):
    """One RESP2/RESP3 value at buf[i:]: ((type, value or children), next i)."""
    t = buf[i:i + 1].decode()
    end = buf.index(b"\r\n", i)
    line = buf[i + 1:end]
    i = end + 2
    if t in "+-:,#(_":
        return (t, line), i
    if t in "$=":
        n = int(line)
        if n < 0:
            return (t, None), i
        return (t, buf[i:i + n]), i + n + 2
    if t in "*~%>|":
        n = int(line)
        items = []
        for _ in range(2 * n if t in "%|" else n):
            v, i = parse(buf, i)
            items.append(v)
        return (t, items), i
    raise ValueError(f"unknown type byte {t!r} at {i}")


def exchange(port, proto, args):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    out = b""
    req = b""
    for cmd in ([["HELLO", "3"]] if proto == 3 else []) + [args]:
        req += b"*%d\r\n" % len(cmd) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in cmd)
    s.sendall(req)
    want = 2 if proto == 3 else 1
    values = []
    while len(values) < want:
        data = s.recv(65536)
        if not data:
            break
        out += data
        values, i = [], 0
        try:
            while i < len(out):
                v, i = parse(out, i)
                values.append(v)
        except (ValueError, IndexError):
            continue
    s.close()
    return values[-1]


def shape(v, keep):
    """The value with the server's own bytes replaced by their type, unless kept."""
    t, x = v
    if isinstance(x, list):
        return (t, len(x), [shape(e, keep) for e in x])
    if t == "=":
        return (t, x[:4])           # the format, "txt:"
    return (t, x if keep else None)


# command, whether the bytes of its leaves are the same on any server
COMMANDS = [
    (["PING"], True),
    (["PING", "hello"], True),
    (["ECHO", "a\r\nb"], True),
    (["TIME"], False),
    (["INFO", "server"], False),
    (["CONFIG", "GET", "maxclients"], False),
    (["CONFIG", "GET", "nosuch*"], True),
    (["CLIENT", "ID"], False),
    (["CLIENT", "GETNAME"], True),
    (["CLIENT", "SETNAME", "shapes"], True),
    (["CLIENT", "INFO"], False),
    (["CLIENT", "NO-EVICT", "on"], True),
    (["CLIENT", "KILL", "ID", "999999"], True),
    (["CLIENT", "KILL", "1.2.3.4:5"], True),
    (["CLIENT", "FOO"], True),
    (["SELECT", "0"], True),
    (["SELECT", "x"], True),
    (["AUTH", "x"], True),
    (["AUTH", "a", "b"], True),
    (["HELLO", "4"], True),
    (["HELLO", "x"], True),
    (["COMMAND", "COUNT"], False),
    (["COMMAND", "FOO"], True),
    (["RESET"], True),
]


def hello_shape(v):
    """HELLO's map: the keys and their types; proto, mode, role, modules' bytes."""
    t, items = v
    keys = [items[k][1] for k in range(0, len(items), 2)]
    kept = {b"proto", b"mode", b"role", b"modules"}
    return (t, len(items), keys, [shape(items[k + 1], keys[k // 2] in kept)
                                  for k in range(0, len(items), 2)])


def main():
    tcpd, redis = int(sys.argv[1]), int(sys.argv[2])
    bad = 0
    for proto in (2, 3):
        for args, keep in COMMANDS:
            a = shape(exchange(tcpd, proto, args), keep)
            b = shape(exchange(redis, proto, args), keep)
            name = repr(" ".join(args))
            if a != b:
                bad += 1
                print(f"RESP{proto} {name}: tcpd {a} != redis {b}")
            else:
                print(f"RESP{proto} {name}: same")
        a = hello_shape(exchange(tcpd, proto, ["HELLO", str(proto)]))
        b = hello_shape(exchange(redis, proto, ["HELLO", str(proto)]))
        if a != b:
            bad += 1
            print(f"RESP{proto} HELLO {proto}: tcpd {a} != redis {b}")
        else:
            print(f"RESP{proto} HELLO {proto}: same")
    sys.exit(1 if bad else 0)


main()

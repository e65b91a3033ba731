# SPDX-License-Identifier: MIT
"""Debian's psycopg2 against a PostgreSQL server, straight or through tcpd's
proxy: prints one line per step, what the server answered or the driver's own
error (its class and the first line of its message). Exits non-zero only on a
surprise of its own.
usage: pg_psycopg2.py PORT query|transaction|rows N|connect TIMEOUT"""
import sys
import time

import psycopg2

port = int(sys.argv[1])
mode = sys.argv[2]


def connect(**kw):
    return psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                            dbname="postgres", **kw)


def failed(e):
    line = str(e).strip().splitlines()[0] if str(e).strip() else ""
    print(f"{type(e).__module__}.{type(e).__name__}: {line}")


def query():
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT 6 * 7, 'hello ' || %s, ARRAY[1, 2, 3], NULL::text", ("postgres",))
    print("row:", cur.fetchone())
    cur.execute("SELECT sum(i), count(*), md5(string_agg(i::text, ',')) "
                "FROM generate_series(1, 100000) AS i")
    print("aggregate:", cur.fetchone())
    cur.execute("SELECT repeat('x', 1000000)")
    print("1 MB value:", len(cur.fetchone()[0]))
    cur.execute("SELECT 1 / 0")
    conn.close()


def transaction():
    """One transaction as three round trips (BEGIN, SELECT, COMMIT): its ms."""
    conn = connect()
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT 1")  # warm: the session's catalogs are cached
    t0 = time.monotonic()
    cur.execute("BEGIN")
    cur.execute("SELECT 1")
    cur.fetchone()
    cur.execute("COMMIT")
    print(f"{(time.monotonic() - t0) * 1000:.0f}")
    conn.close()


def rows(n):
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT i FROM generate_series(1, %s) AS i", (n,))
    print("rows:", len(cur.fetchall()))
    conn.close()


def connect_timeout(seconds):
    connect(connect_timeout=seconds).close()
    print("connected")


try:
    if mode == "query":
        query()
    elif mode == "transaction":
        transaction()
    elif mode == "rows":
        rows(int(sys.argv[3]))
    elif mode == "connect":
        connect_timeout(int(sys.argv[3]))
    else:
        sys.exit(f"unknown mode {mode}")
except psycopg2.Error as e:
    failed(e)

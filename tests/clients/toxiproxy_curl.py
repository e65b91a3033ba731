#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The Toxiproxy scenario of toxiproxy_node.js with curl for each request, as
# Toxiproxy's README shows its API: every answer's status code and its
# body's fields and JSON types compared with Toxiproxy's, a new RESP
# connection to redis-server through the proxy for each timed GET. Prints
# one line per request, "METHOD PATH: STATUS SHAPE", or what differed.
# usage: toxiproxy_curl.py CONTROL_PORT REDIS_PORT
import json
import socket
import subprocess
import sys
import time

# Toxiproxy's shapes, from its README ("Proxy fields", "Toxic fields",
# "Endpoints") and api.go (each handler's status and body: ProxyCreate's
# 201, Populate's {"proxies":[...]} and its error with "proxies":null,
# ApiError's {"error","status"}, ToxicCreate's 200, the deletes' and
# ResetState's 204 with no body).
PROXY = {'name': str, 'listen': str, 'upstream': str, 'enabled': bool, 'toxics': list}
TOXIC = {'name': str, 'type': str, 'stream': str, 'toxicity': (int, float),
         'attributes': dict}
ERROR = {'error': str, 'status': int}
POPULATE_ERROR = {'error': str, 'status': int, 'proxies': type(None)}
VERSION = {'version': str}

ctl, rport = sys.argv[1], int(sys.argv[2])
base = f'http://localhost:{ctl}'
upstream = f'127.0.0.1:{rport}'


def shape_of(value, shape):
    """What in value differs from shape (a dict of field: type), or None."""
    if not isinstance(value, dict) or set(value) != set(shape):
        return f'fields {sorted(value) if isinstance(value, dict) else type(value).__name__}'
    for k, t in shape.items():
        # bool is an int in Python; Toxiproxy's numbers are never booleans.
        if not isinstance(value[k], t) or (t is not bool and isinstance(value[k], bool)):
            return f'{k} is {type(value[k]).__name__}'
        if k == 'toxics' and any(shape_of(x, TOXIC) for x in value[k]):
            return 'a toxic'
    return None


def differs(value, shape):
    """A fields' shape, or ('map' | 'list' | 'populate', the elements' shape)."""
    if isinstance(shape, dict):
        return shape_of(value, shape)
    kind, element = shape
    if kind == 'populate':
        if not isinstance(value, dict) or list(value) != ['proxies']:
            return 'not {"proxies":[...]}'
        value = value['proxies']
    items = value.values() if kind == 'map' else value
    if not isinstance(value, dict if kind == 'map' else list):
        return f'not a {kind}'
    return next((d for d in (shape_of(x, element) for x in items) if d), None)


def call(method, path, body=None, status=200, shape=None, name=''):
    """curl's answer to one request, checked; its JSON (None for none)."""
    cmd = ['curl', '-s', '-S', '--max-time', '10', '-X', method, '-o', '-',
           '-w', '\n%{http_code} %{content_type}', base + path]
    if body is not None:
        cmd += ['-H', 'Content-Type: application/json', '--data-binary', json.dumps(body)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    text, _, tail = out.rpartition('\n')
    code, _, ctype = tail.partition(' ')
    value = json.loads(text) if text else None
    what = name
    if int(code) != status:
        what = f'expected {status}: {text}'
    elif shape is None and text:
        what = f'a body where Toxiproxy has none: {text}'
    elif shape is not None and ctype != 'application/json':
        what = f'Content-Type {ctype}'
    elif shape is not None and differs(value, shape):
        what = f'{differs(value, shape)}: {text}'
    print(f'{method} {path}: {code} {what}'.rstrip())
    return value


def timed_get():
    """ms for a GET on a new connection through the proxy, or the error's name."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
            s.sendall(b'*2\r\n$3\r\nGET\r\n$1\r\nk\r\n')
            reply = s.recv(64)
        if reply != b'$1\r\nv\r\n':
            return f'reply {reply!r}'
    except OSError as e:
        return type(e).__name__
    return (time.monotonic() - t0) * 1000


def at_least(ms, least):
    return f'at least {least} ms' if isinstance(ms, float) and ms >= least else f'{ms}'


with socket.create_connection(('127.0.0.1', rport)) as s:
    s.sendall(b'*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n')
    assert s.recv(16) == b'+OK\r\n'

call('GET', '/version', shape=VERSION, name='version')
p = call('POST', '/proxies', {'name': 'redis', 'listen': 'localhost:0',
                              'upstream': f'localhost:{rport}'}, 201, PROXY, 'proxy')
port = int(p['listen'].rsplit(':', 1)[1])
print(f'  upstream {"redis-server" if p["upstream"] == upstream else p["upstream"]}, '
      f'enabled {p["enabled"]}, toxics {p["toxics"]}')
call('POST', '/proxies', {'name': 'redis', 'upstream': upstream}, 409, ERROR, 'error')
call('GET', '/proxies', shape=('map', PROXY), name='proxies by name')
call('GET', '/proxies/redis', shape=PROXY, name='proxy')
call('GET', '/proxies/none', status=404, shape=ERROR, name='error')
t = call('POST', '/proxies/redis/toxics', {'type': 'latency', 'attributes': {'latency': 500}},
         shape=TOXIC, name='toxic')
print(f'  {t["name"]} {t["stream"]} toxicity {t["toxicity"]} {t["attributes"]}')
print(f'  GET through it: {at_least(timed_get(), 500)}')
call('POST', '/proxies/redis/toxics', {'type': 'latency'}, 409, ERROR, 'error')
call('GET', '/proxies/redis/toxics', shape=('list', TOXIC), name='toxics')
call('GET', '/proxies/redis/toxics/latency_downstream', shape=TOXIC, name='toxic')
t = call('POST', '/proxies/redis/toxics/latency_downstream', {'attributes': {'latency': 700}},
         shape=TOXIC, name='toxic')
print(f'  GET through it: {at_least(timed_get(), 700)}')
call('PATCH', '/proxies/redis/toxics/latency_downstream', {'toxicity': 1.0}, shape=TOXIC,
     name='toxic')
call('DELETE', '/proxies/redis/toxics/latency_downstream', status=204)
# Under 200 ms: far below the 500 ms a toxic left behind would add, with room
# for a loaded two-core CI box (as toxiproxy_node.js).
ms = timed_get()
print(f'  GET through it: {"under 200 ms" if isinstance(ms, float) and ms < 200 else ms}')
call('GET', '/proxies/redis/toxics/latency_downstream', status=404, shape=ERROR, name='error')
call('POST', '/proxies/redis/toxics', {'type': 'reset_peer', 'attributes': {'timeout': 0}},
     shape=TOXIC, name='toxic')
print(f'  GET through it: {timed_get()}')
call('POST', '/reset', status=204)
print(f'  GET through it: {"served" if isinstance(timed_get(), float) else "not served"}')
want = [{'name': 'redis', 'listen': p['listen'], 'upstream': upstream},
        {'name': 'redis_replica', 'listen': '127.0.0.1:0', 'upstream': upstream,
         'enabled': True}]
first = call('POST', '/populate', want, 201, ('populate', PROXY), 'proxies')
again = call('POST', '/populate', want, 201, ('populate', PROXY), 'proxies')
print(f'  again: {"the same" if again == first else again}')
call('POST', '/populate', want + [{'name': 'x'}], 400, POPULATE_ERROR, 'error')
call('POST', '/proxies/redis', {'enabled': False}, shape=PROXY, name='proxy')
print(f'  GET through it: {timed_get()}')
call('PATCH', '/proxies/redis', {'enabled': True}, shape=PROXY, name='proxy')
print(f'  GET through it: {"served" if isinstance(timed_get(), float) else "not served"}')
call('DELETE', '/proxies/redis', status=204)
call('DELETE', '/proxies/redis_replica', status=204)
call('GET', '/proxies', shape=('map', PROXY), name='proxies by name')

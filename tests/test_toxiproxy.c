/* SPDX-License-Identifier: MIT */
/*
 * tcpd's control listener driven as Toxiproxy is: by toxiproxy-node-client
 * (npm, pinned in tests/clients/package-lock.json, installed by
 * scripts/deps.sh test) in a Toxiproxy-style test, tests/clients/
 * toxiproxy_node.js, with node-redis's one connection to a real
 * redis-server through the proxy it makes; and the same scenario with curl
 * for each request (tests/clients/toxiproxy_curl.py), each answer's status
 * and JSON fields and types compared with Toxiproxy's. The tests assert
 * every line the scripts print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

static char text[1 << 14];
/* The control listener's port, and redis-server's. */
static uint16_t ports[2];

static void
setup(void)
{
	char extra[256];

	free_ports(ports, 2);
	if (redis_server_start(ports[1], NULL) == 0)
		cr_assert_fail("redis-server is not installed: run scripts/deps.sh test");
	/* Both loopbacks: "localhost" may resolve to either. */
	snprintf(extra, sizeof(extra), "[listener.toxiproxy]\nbind = 127.0.0.1:%u [::1]:%u\n"
	    "service = control\n", ports[0], ports[0]);
	tcpd_start(extra);
}

TestSuite(toxiproxy, .init = setup, .fini = tcpd_teardown, .timeout = 90);

/* As tests/test_clients.c: the lock's packages installed, or a failure, never a skip. */
static void
require_npm_packages(void)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "cmp -s '%s/tests/clients/package-lock.json' "
	    "'%s/tests/clients/node_modules/.tcpd-lock'", source_root(), source_root());
	cr_assert_eq(system(cmd), 0, "the npm packages of tests/clients are not installed "
	    "from its package-lock.json: run scripts/deps.sh test (npm ci there)");
}

/* Runs a script of tests/clients/ under interp with both ports, bounded; its output. */
static const char *
run_script(const char *interp, const char *name)
{
	char script[512], ctl[8], redis[8];
	/* The scripts' own deadlines are shorter; this one kills a script if that fails. */
	const char *argv[] = { "/usr/bin/timeout", "-k", "5", "40", interp, script, ctl, redis,
	    NULL };
	int rc;

	snprintf(script, sizeof(script), "%s/tests/clients/%s", source_root(), name);
	snprintf(ctl, sizeof(ctl), "%u", ports[0]);
	snprintf(redis, sizeof(redis), "%u", ports[1]);
	rc = run_capture(argv, text, sizeof(text));
	cr_assert_eq(rc, 0, "%s exited %d:\n%s", name, rc, text);
	return text;
}

Test(toxiproxy, node_client_drives_a_proxy_to_redis_server)
{
	require_npm_packages();
	cr_assert_str_eq(run_script("node", "toxiproxy_node.js"),
	    "createProxy: redis listen 127.0.0.1:a port upstream redis-server enabled true\n"
	    "get: v\n"
	    "addToxic: latency_downstream latency downstream toxicity 1 "
	    "{\"latency\":500,\"jitter\":0}\n"
	    "get with 500 ms: v, at least 500 ms\n"
	    "update: latency 700\n"
	    "get with 700 ms: v, at least 700 ms\n"
	    "remove: v, under 200 ms\n"
	    "same connection: true\n"
	    "addToxic: reset_peer_downstream reset_peer downstream\n"
	    "reset_peer: Error ECONNRESET\n"
	    "reset: redis listen 127.0.0.1:a port upstream redis-server enabled true\n"
	    "get after /reset: v, reconnected true\n"
	    "populate: redis listen 127.0.0.1:a port upstream redis-server enabled true, "
	    "redis_replica listen 127.0.0.1:a port upstream redis-server enabled true\n"
	    "populate again: the same\n"
	    "get after populate: v, same connection true\n"
	    "update enabled false: redis listen 127.0.0.1:a port upstream redis-server "
	    "enabled false\n"
	    "new connection: ECONNREFUSED\n"
	    "update enabled true: redis listen 127.0.0.1:a port upstream redis-server "
	    "enabled true\n"
	    "new client: v\n"
	    "proxies left: 0\n");
	cr_assert_eq(tcpd_log_count("control: created proxy redis listen 127.0.0.1:"), 1);
}

/* Every endpoint with curl: Toxiproxy's status codes, fields and JSON types. */
Test(toxiproxy, curl_gets_toxiproxys_answers)
{
	cr_assert_str_eq(run_script("/usr/bin/python3", "toxiproxy_curl.py"),
	    "GET /version: 200 version\n"
	    "POST /proxies: 201 proxy\n"
	    "  upstream redis-server, enabled True, toxics []\n"
	    "POST /proxies: 409 error\n"
	    "GET /proxies: 200 proxies by name\n"
	    "GET /proxies/redis: 200 proxy\n"
	    "GET /proxies/none: 404 error\n"
	    "POST /proxies/redis/toxics: 200 toxic\n"
	    "  latency_downstream downstream toxicity 1.0 {'latency': 500, 'jitter': 0}\n"
	    "  GET through it: at least 500 ms\n"
	    "POST /proxies/redis/toxics: 409 error\n"
	    "GET /proxies/redis/toxics: 200 toxics\n"
	    "GET /proxies/redis/toxics/latency_downstream: 200 toxic\n"
	    "POST /proxies/redis/toxics/latency_downstream: 200 toxic\n"
	    "  GET through it: at least 700 ms\n"
	    "PATCH /proxies/redis/toxics/latency_downstream: 200 toxic\n"
	    "DELETE /proxies/redis/toxics/latency_downstream: 204\n"
	    "  GET through it: under 200 ms\n"
	    "GET /proxies/redis/toxics/latency_downstream: 404 error\n"
	    "POST /proxies/redis/toxics: 200 toxic\n"
	    "  GET through it: ConnectionResetError\n"
	    "POST /reset: 204\n"
	    "  GET through it: served\n"
	    "POST /populate: 201 proxies\n"
	    "POST /populate: 201 proxies\n"
	    "  again: the same\n"
	    "POST /populate: 400 error\n"
	    "POST /proxies/redis: 200 proxy\n"
	    "  GET through it: ConnectionRefusedError\n"
	    "PATCH /proxies/redis: 200 proxy\n"
	    "  GET through it: served\n"
	    "DELETE /proxies/redis: 204\n"
	    "DELETE /proxies/redis_replica: 204\n"
	    "GET /proxies: 200 proxies by name\n");
	cr_assert_eq(tcpd_log_count("control: reset 2 proxies"), 0);
	cr_assert_eq(tcpd_log_count("control: reset 1 proxies"), 1);
}

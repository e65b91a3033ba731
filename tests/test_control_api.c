/* SPDX-License-Identifier: MIT */
/*
 * The control service's pure parts: where a path leads, a proxy's JSON onto a
 * listener, a populate's array onto listeners.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/config.h"
#include "daemon/services/control.h"
#include "tcpd/net.h"

#define S(lit) lit, sizeof(lit) - 1

#define OFF_LOOPBACK \
	"listen: only loopback addresses (127.0.0.0/8, ::1) and those of proxy_listen_allow " \
	"are served"

static char name[CONFIG_NAME_MAX], toxic[TOXIC_NAME_MAX];
static struct listener_config lc;
static const char *why;

static void
setup(void)
{
	memset(&lc, 0, sizeof(lc));
	config_listener_defaults(&lc);
	why = NULL;
}

TestSuite(control_api, .init = setup);

Test(control_api, routes)
{
	cr_assert_eq(control_route(S("/version"), name, toxic), CONTROL_VERSION);
	cr_assert_eq(control_route(S("/reset"), name, toxic), CONTROL_RESET);
	cr_assert_eq(control_route(S("/proxies"), name, toxic), CONTROL_PROXIES);
	cr_assert_eq(control_route(S("/populate"), name, toxic), CONTROL_POPULATE);
	cr_assert_eq(control_route(S("/populates"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/redis_1-a"), name, toxic), CONTROL_PROXY);
	cr_assert_str_eq(name, "redis_1-a");
	cr_assert_eq(control_route(S("/"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/a/b"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/a.b"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/0123456789012345678901234567890123"), name,
	    toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/versions"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxiesx"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/p/toxics"), name, toxic), CONTROL_TOXICS);
	cr_assert_str_eq(name, "p");
	cr_assert_eq(control_route(S("/proxies/q/toxics/latency_down.1"), name, toxic),
	    CONTROL_TOXIC);
	cr_assert_str_eq(name, "q");
	cr_assert_str_eq(toxic, "latency_down.1");
	cr_assert_eq(control_route(S("/proxies/p/toxics/"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/p/toxics/a/b"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/p/toxicsx"), name, toxic), CONTROL_NONE);
	cr_assert_eq(control_route(S("/proxies/p/"), name, toxic), CONTROL_NONE);
}

Test(control_api, a_proxy_is_made_from_its_json)
{
	char text[NET_ADDRSTRLEN];

	cr_assert_eq(control_proxy_parse(S("{\"name\":\"redis\",\"listen\":\"localhost:26379\","
	    "\"upstream\":\"127.0.0.1:6379\",\"enabled\":false,\"other\":1}"), true, &lc, NULL, &why), 0);
	cr_assert_str_eq(lc.name, "redis");
	cr_assert_eq(lc.nbinds, 1);
	net_addr_format(&lc.binds[0], text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:26379");
	net_addr_format(&lc.upstream_addr, text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:6379");
	cr_assert(lc.refuse);
	/* An update changes only what it names. */
	cr_assert_eq(control_proxy_parse(S("{\"enabled\":true}"), false, &lc, NULL, &why), 0);
	cr_assert_not(lc.refuse);
	cr_assert_str_eq(lc.name, "redis");
	cr_assert_eq(control_proxy_parse(S("{\"listen\":\"[::1]:0\"}"), false, &lc, NULL, &why), 0);
	net_addr_format(&lc.binds[0], text, sizeof(text));
	cr_assert_str_eq(text, "[::1]:0");
}

Test(control_api, every_bad_proxy_and_its_status)
{
	static const struct { const char *body; bool create; int status; const char *why; } bad[] = {
		{ "", true, 400, "the body is not valid JSON" },
		{ "{\"name\":", true, 400, "the body is not valid JSON" },
		{ "{\"name\":\"a\",\"name\":\"b\"}", true, 400, "the body is not valid JSON" },
		{ "[1]", true, 400, "the body must be a JSON object" },
		{ "{\"name\":\"a\",\"listen\":\"127.0.0.1:0\"}", true, 400,
		    "name and upstream are required" },
		{ "{\"name\":1,\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:1\"}", true, 400,
		    "name, listen and upstream must be strings, enabled a boolean" },
		{ "{\"enabled\":\"yes\"}", false, 400,
		    "name, listen and upstream must be strings, enabled a boolean" },
		{ "{\"name\":\"a b\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:1\"}", true,
		    400, "name: 1-31 letters, digits, '-' or '_'" },
		{ "{\"name\":\"a\",\"listen\":\"example.com:80\",\"upstream\":\"127.0.0.1:1\"}", true,
		    400, "listen: expected HOST:PORT with a numeric host (or localhost)" },
		{ "{\"name\":\"a\",\"listen\":\"0.0.0.0:8080\",\"upstream\":\"127.0.0.1:1\"}", true,
		    403, OFF_LOOPBACK },
		{ "{\"name\":\"a\",\"listen\":\"[::]:8080\",\"upstream\":\"127.0.0.1:1\"}", true,
		    403, OFF_LOOPBACK },
		{ "{\"name\":\"a\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"x\"}", true, 400,
		    "upstream: expected HOST:PORT with a numeric host (or localhost)" },
		/* An update cannot rename. */
		{ "{\"name\":\"b\"}", false, 400, "name: 1-31 letters, digits, '-' or '_'" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		strcpy(lc.name, "a");
		cr_assert_eq(control_proxy_parse(bad[i].body, strlen(bad[i].body), bad[i].create,
		    &lc, NULL, &why), bad[i].status, "%s", bad[i].body);
		cr_assert_str_eq(why, bad[i].why, "%s", bad[i].body);
	}
}

/* proxy_listen_allow = 10.0.0.0/8, ::/0: those too, nothing else. */
Test(control_api, proxy_listen_allow_adds_addresses)
{
	static const char *const blocks[] = { "10.0.0.0/8", "::/0" };
	struct cidr_list allowed = { .n = 2 };
	const char *bad;

	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(cidr_parse(&allowed.v[i], blocks[i], strlen(blocks[i]), &bad), 0);
	cr_assert_eq(control_proxy_parse(S("{\"listen\":\"10.1.2.3:80\"}"), false, &lc, &allowed,
	    &why), 0, "%s", why);
	cr_assert_eq(control_proxy_parse(S("{\"listen\":\"[::]:80\"}"), false, &lc, &allowed,
	    &why), 0, "%s", why);
	cr_assert_eq(control_proxy_parse(S("{\"listen\":\"192.168.1.1:80\"}"), false, &lc,
	    &allowed, &why), 403);
	cr_assert_str_eq(why, OFF_LOOPBACK);
	cr_assert_eq(control_proxy_parse(S("{\"listen\":\"10.1.2.3:80\"}"), false, &lc, NULL,
	    &why), 403);
}

/* tcpd's own proxy fields: blackhole, and a seed for both directions (null: none). */
Test(control_api, blackhole_and_seed)
{
	cr_assert_eq(control_proxy_parse(S("{\"blackhole\":true,\"seed\":7}"), false, &lc, NULL,
	    &why), 0, "%s", why);
	cr_assert(lc.blackhole);
	cr_assert(lc.profile.seeded && lc.upstream.seeded);
	cr_assert_eq(lc.profile.seed, 7);
	cr_assert_neq(lc.upstream.seed, 7);
	cr_assert_eq(control_proxy_parse(S("{\"blackhole\":false,\"seed\":null}"), false, &lc,
	    NULL, &why), 0, "%s", why);
	cr_assert_not(lc.blackhole);
	cr_assert_not(lc.profile.seeded || lc.upstream.seeded);
	cr_assert_eq(control_proxy_parse(S("{\"seed\":-1}"), false, &lc, NULL, &why), 400);
	cr_assert_str_eq(why, "blackhole must be a boolean, seed an integer from 0 or null");
	cr_assert_eq(control_proxy_parse(S("{\"blackhole\":1}"), false, &lc, NULL, &why), 400);
}

Test(control_api, listen_defaults_to_a_free_loopback_port)
{
	char text[NET_ADDRSTRLEN];

	cr_assert_eq(control_proxy_parse(S("{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\"}"),
	    true, &lc, NULL, &why), 0, "%s", why);
	net_addr_format(&lc.binds[0], text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:0");
}

Test(control_api, loopback_listen_addresses_are_taken)
{
	static const char *const ok[] = { "127.0.0.1:0", "127.1.2.3:80", "[::1]:0",
	    "[::ffff:127.0.0.1]:0" };
	char body[128];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int n = snprintf(body, sizeof(body), "{\"listen\":\"%s\"}", ok[i]);

		cr_assert_eq(control_proxy_parse(body, (size_t)n, false, &lc, NULL, &why), 0, "%s",
		    ok[i]);
	}
}

/* A populate's array: each entry made as POST /proxies makes one, in order. */
Test(control_api, a_populate_is_made_from_its_array)
{
	static struct listener_config lcs[4];
	char text[NET_ADDRSTRLEN], err[256];
	size_t n = 9;

	cr_assert_eq(control_populate_parse(S("[{\"name\":\"a\",\"upstream\":\"127.0.0.1:6379\"},"
	    "{\"name\":\"b\",\"listen\":\"[::1]:26379\",\"upstream\":\"localhost:1\","
	    "\"enabled\":false}]"), &lc, NULL, lcs, 4, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(lcs[0].name, "a");
	net_addr_format(&lcs[0].binds[0], text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:0");
	cr_assert_not(lcs[0].refuse);
	cr_assert_str_eq(lcs[1].name, "b");
	net_addr_format(&lcs[1].binds[0], text, sizeof(text));
	cr_assert_str_eq(text, "[::1]:26379");
	net_addr_format(&lcs[1].upstream_addr, text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:1");
	cr_assert(lcs[1].refuse);
	cr_assert_eq(control_populate_parse(S("[]"), &lc, NULL, lcs, 4, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 0);
}

Test(control_api, every_bad_populate_and_its_status)
{
	static const struct { const char *body; int status; const char *why; } bad[] = {
		{ "", 400, "the body is not valid JSON" },
		{ "{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\"}", 400,
		    "the body must be a JSON array of proxies" },
		{ "[{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\"},{\"upstream\":\"127.0.0.1:1\"}]", 400,
		    "proxy 2: name and upstream are required" },
		{ "[{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\"},1]", 400,
		    "proxy 2: the body must be a JSON object" },
		{ "[{\"name\":\"a\",\"listen\":\"10.0.0.1:80\",\"upstream\":\"127.0.0.1:1\"}]", 403,
		    "proxy 1: listen: only loopback addresses (127.0.0.0/8, ::1) and those of "
		    "proxy_listen_allow are served" },
		{ "[{\"name\":\"a\",\"upstream\":\"127.0.0.1:1\"},{\"name\":\"b\",\"upstream\":"
		    "\"127.0.0.1:1\"},{\"name\":\"a\",\"upstream\":\"127.0.0.1:2\"}]", 400,
		    "proxy 3: a is named twice" },
		{ "[{},{},{},{},{}]", 400, "too many proxies (4)" },
	};
	static struct listener_config lcs[4];
	char err[256];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(control_populate_parse(bad[i].body, strlen(bad[i].body), &lc, NULL, lcs, 4,
		    &n, err, sizeof(err)), bad[i].status, "%s", bad[i].body);
		cr_assert_str_eq(err, bad[i].why, "%s", bad[i].body);
	}
}

/* A populate's listen with port 0 is served by any port on its host. */
Test(control_api, a_listen_on_port_0_matches_any_port)
{
	static const struct { const char *bound, *want; bool matches; } cases[] = {
		{ "127.0.0.1:41000", "127.0.0.1:0", true },
		{ "127.0.0.1:41000", "127.0.0.1:41000", true },
		{ "127.0.0.1:41000", "127.0.0.1:41001", false },
		{ "127.0.0.1:41000", "127.0.0.2:0", false },
		{ "127.0.0.1:41000", "[::1]:0", false },
		{ "[::1]:41000", "[::1]:0", true },
		{ "[::1]:41000", "[::1]:41001", false },
	};
	struct net_addr bound, want;
	const char *w;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(net_addr_parse(&bound, cases[i].bound, strlen(cases[i].bound), &w), 0);
		cr_assert_eq(net_addr_parse(&want, cases[i].want, strlen(cases[i].want), &w), 0);
		cr_assert_eq(control_listen_matches(&bound, &want), cases[i].matches, "%s %s",
		    cases[i].bound, cases[i].want);
	}
}

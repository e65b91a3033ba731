/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tcpd/net.h"

static void
roundtrip(const char *in, const char *expect)
{
	struct net_addr a;
	const char *why = NULL;
	char out[NET_ADDRSTRLEN];

	cr_assert_eq(net_addr_parse(&a, in, strlen(in), &why), 0, "%s: %s", in, why);
	net_addr_format(&a, out, sizeof(out));
	cr_assert_str_eq(out, expect);
}

Test(net, parse_and_format)
{
	roundtrip("127.0.0.1:7", "127.0.0.1:7");
	roundtrip("0.0.0.0:65535", "0.0.0.0:65535");
	roundtrip("[::1]:7007", "[::1]:7007");
	roundtrip("[::]:1", "[::]:1");
	roundtrip("[2001:DB8:0:0::1]:80", "[2001:db8::1]:80");
	roundtrip("[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.1]:80");
}

Test(net, parse_uses_only_len_bytes)
{
	struct net_addr a;
	const char *why;
	char out[NET_ADDRSTRLEN];

	cr_assert_eq(net_addr_parse(&a, "127.0.0.1:80 trailing", 12, &why), 0);
	net_addr_format(&a, out, sizeof(out));
	cr_assert_str_eq(out, "127.0.0.1:80");
	/* Port 0: the kernel picks one at bind. */
	cr_assert_eq(net_addr_parse(&a, "[::1]:0", 7, &why), 0);
	cr_assert_eq(net_addr_port(&a), 0);
}

Test(net, rejects)
{
	static const char *const bad[] = {
		"", ":", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:-1",
		"127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:123456", "1.2.3:4",
		"localhost:80", "::1:80", "[::1]", "[::1]80", "[::1:80", "[]:80",
		"[1.2.3.4]:80", "127.0.0.1:8 0", " 127.0.0.1:80",
	};
	struct net_addr a;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		cr_assert_eq(net_addr_parse(&a, bad[i], strlen(bad[i]), &why), -1,
		    "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
	}
}

Test(net, equality)
{
	struct net_addr a, b;
	const char *why;

	net_addr_parse(&a, "[::1]:7", 7, &why);
	net_addr_parse(&b, "[0::1]:7", 8, &why);
	cr_assert(net_addr_equal(&a, &b));
	net_addr_parse(&b, "[::1]:8", 7, &why);
	cr_assert_not(net_addr_equal(&a, &b));
	net_addr_parse(&b, "127.0.0.1:7", 11, &why);
	cr_assert_not(net_addr_equal(&a, &b));
}

Test(net, wildcard)
{
	static const struct { const char *text; bool wildcard; } cases[] = {
		{ "0.0.0.0:7", true }, { "[::]:7", true }, { "127.0.0.1:7", false },
		{ "[::1]:7", false }, { "[::ffff:0.0.0.0]:7", false }, { "0.0.0.1:7", false },
	};
	struct net_addr a;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(net_addr_parse(&a, cases[i].text, strlen(cases[i].text), &why), 0);
		cr_assert_eq(net_addr_is_wildcard(&a), cases[i].wildcard, "%s", cases[i].text);
	}
}

Test(net, listen_and_accept_on_loopback)
{
	struct net_addr a, local, peer;
	const char *why;
	int lfd, cfd, afd;

	net_addr_parse(&a, "127.0.0.1:1", 11, &why);
	a.u.in.sin_port = 0;	/* the parser insists on a real port; the kernel picks */
	lfd = net_listen(&a, 8);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(net_local_addr(lfd, &local), 0);
	cr_assert_eq(net_accept(lfd, &peer), -1, "nothing to accept yet");
	cr_assert_eq(errno, EAGAIN);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(cfd, &local.u.sa, local.len), 0);
	afd = net_accept(lfd, &peer);
	cr_assert_geq(afd, 0);
	cr_assert_eq(peer.u.sa.sa_family, AF_INET);
	close(afd);
	close(cfd);
	close(lfd);
}

Test(net, ipv6_listeners_are_ipv6_only)
{
	struct net_addr a;
	const char *why;
	int fd, on = 0;
	socklen_t len = sizeof(on);

	net_addr_parse(&a, "[::1]:1", 7, &why);
	a.u.in6.sin6_port = 0;
	fd = net_listen(&a, 8);
	cr_assert_geq(fd, 0);
	cr_assert_eq(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len), 0);
	cr_assert_eq(on, 1, "so 0.0.0.0:P and [::]:P can both be bound");
	close(fd);
}

/* getaddrinfo() would take 70000 as port 4464: net_dial refuses it first. */
Test(net, dial_refuses_a_port_out_of_range)
{
	struct net_addr used;
	char err[128];

	cr_assert_eq(net_dial("127.0.0.1", "70000", 100, &used, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "invalid port '70000': a number from 1 to 65535");
	cr_assert_eq(net_dial("127.0.0.1", "0", 100, &used, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "invalid port '0': a number from 1 to 65535");
}

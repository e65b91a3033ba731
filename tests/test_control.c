/* SPDX-License-Identifier: MIT */
/*
 * service = control against the real tcpd: Toxiproxy's endpoints with
 * their exact status lines and JSON, a proxy made through the API passing
 * bytes to a server the test plays, enabled=false refusing, /reset, hostile
 * requests answered 4xx in Toxiproxy's shape with tcpd still serving.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <poll.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(control, .fini = tcpd_teardown, .timeout = 60);

static uint16_t ctl;
static char resp[1 << 16];

static void
start(const char *bind_host)
{
	char extra[256];

	free_ports(&ctl, 1);
	snprintf(extra, sizeof(extra), "[listener.ctl]\nbind = %s:%u\nservice = control\n",
	    bind_host, ctl);
	tcpd_start(extra);
}

/* One request on its own connection; the whole response, NUL-ended. */
static const char *
call(const char *method, const char *path, const char *body)
{
	char *req;
	size_t n = strlen(body) + 256;

	cr_assert_not_null(req = malloc(n));
	snprintf(req, n, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body), body);
	exchange_to_eof(ctl, req, resp, sizeof(resp));
	free(req);
	return resp;
}

/* Asserts the response is status with a JSON body exactly body ("" for none). */
static void
assert_response_at(const char *got, const char *status, const char *body, int line)
{
	char expect[8192];

	if (body[0] == '\0')
		snprintf(expect, sizeof(expect), "HTTP/1.1 %s\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n", status);
	else
		snprintf(expect, sizeof(expect), "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, strlen(body), body);
	cr_assert_str_eq(got, expect, "line %d", line);
}

#define assert_response(got, status, body) assert_response_at(got, status, body, __LINE__)

/* The port in a proxy's "listen":"127.0.0.1:PORT". */
static uint16_t
listen_port(const char *json)
{
	const char *p = strstr(json, "\"listen\":\"127.0.0.1:");

	cr_assert_not_null(p, "%s", json);
	return (uint16_t)atoi(p + 20);
}

/* A proxy p in front of the test's own server on upstream; returns its port. */
static uint16_t
create(const char *p, uint16_t upstream, const char *enabled)
{
	char body[256], expect[512];
	uint16_t port;

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"listen\":\"127.0.0.1:0\","
	    "\"upstream\":\"127.0.0.1:%u\"%s}", p, upstream, enabled);
	call("POST", "/proxies", body);
	port = listen_port(resp);
	snprintf(expect, sizeof(expect), "{\"name\":\"%s\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:%u\",\"enabled\":%s,\"toxics\":[]}", p, port, upstream,
	    strstr(enabled, "false") != NULL ? "false" : "true");
	assert_response(resp, "201 Created", expect);
	return port;
}

Test(control, version_and_unknown_paths)
{
	start("127.0.0.1");
	cr_assert_not_null(strstr(call("GET", "/version", ""), "{\"version\":\""), "%s", resp);
	cr_assert_eq(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", resp);
	assert_response(call("GET", "/nothing", ""), "404 Not Found",
	    "{\"error\":\"not found\",\"status\":404}");
	assert_response(call("GET", "/proxies/none", ""), "404 Not Found",
	    "{\"error\":\"proxy not found\",\"status\":404}");
	assert_response(call("PUT", "/proxies", ""), "405 Method Not Allowed",
	    "{\"error\":\"method not allowed\",\"status\":405}");
	assert_response(call("GET", "/proxies", ""), "200 OK", "{}");
}

Test(control, a_proxy_made_updated_and_deleted)
{
	char expect[1024];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16);

	start("127.0.0.1");
	port = create("redis", up, "");
	cr_assert_eq(tcpd_log_await("control: created proxy redis listen 127.0.0.1:", 1), 1);
	cr_assert_eq(tcpd_log_count("notice: conn "), 1, "%s", tcpd_log_text());
	assert_proxies(port, lfd);

	snprintf(expect, sizeof(expect), "{\"name\":\"redis\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":[]}", port, up);
	assert_response(call("GET", "/proxies/redis", ""), "200 OK", expect);
	snprintf(expect, sizeof(expect), "{\"redis\":{\"name\":\"redis\",\"listen\":"
	    "\"127.0.0.1:%u\",\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":[]}}",
	    port, up);
	assert_response(call("GET", "/proxies", ""), "200 OK", expect);

	/* Disabled: refused at once, the port kept; enabled again: served. */
	snprintf(expect, sizeof(expect), "{\"name\":\"redis\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:%u\",\"enabled\":false,\"toxics\":[]}", port, up);
	assert_response(call("POST", "/proxies/redis", "{\"enabled\":false}"), "200 OK", expect);
	cr_assert_eq(connect_errno(port), ECONNREFUSED);
	cr_assert_eq(tcpd_log_count("control: updated proxy redis"), 1);
	snprintf(expect, sizeof(expect), "{\"name\":\"redis\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":[]}", port, up);
	assert_response(call("POST", "/proxies/redis", "{\"enabled\":true}"), "200 OK", expect);
	assert_proxies(port, lfd);

	/* Disabled, then /reset enables it. */
	call("POST", "/proxies/redis", "{\"enabled\":false}");
	cr_assert_eq(connect_errno(port), ECONNREFUSED);
	assert_response(call("POST", "/reset", ""), "204 No Content", "");
	assert_proxies(port, lfd);
	cr_assert_eq(tcpd_log_count("control: reset 1 proxies"), 1);

	assert_response(call("DELETE", "/proxies/redis", ""), "204 No Content", "");
	cr_assert_eq(connect_errno(port), ECONNREFUSED);
	assert_response(call("GET", "/proxies", ""), "200 OK", "{}");
	cr_assert_eq(tcpd_log_count("control: deleted proxy redis listen 127.0.0.1:"), 1);
	close(lfd);
}

/* Two proxies on port 0: deleting the first leaves the second on its port. */
Test(control, a_proxy_keeps_its_port_when_another_goes)
{
	uint16_t up, a, b;
	int lfd = tcp_listen_loopback(&up, 16);

	start("127.0.0.1");
	a = create("a", up, "");
	b = create("b", up, ",\"enabled\":false");
	cr_assert_eq(connect_errno(b), ECONNREFUSED);
	assert_response(call("DELETE", "/proxies/a", ""), "204 No Content", "");
	cr_assert_eq(connect_errno(a), ECONNREFUSED);
	cr_assert_eq(connect_errno(b), ECONNREFUSED);
	assert_response(call("POST", "/reset", ""), "204 No Content", "");
	assert_proxies(b, lfd);
	close(lfd);
}

Test(control, hostile_requests_get_4xx_in_toxiproxys_shape)
{
	static const char body_limit[] = "HTTP/1.1 413 Content Too Large\r\nContent-Type: "
	    "application/json\r\nContent-Length: 72\r\nConnection: close\r\n\r\n"
	    "{\"error\":\"the request is longer than the limit (max_line)\",\"status\":413}";
	char taken[128], *deep;
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd;
	size_t i;

	start("127.0.0.1");
	create("taken", up, "");
	assert_response(call("POST", "/proxies", "{\"name\":"), "400 Bad Request",
	    "{\"error\":\"the body is not valid JSON\",\"status\":400}");
	assert_response(call("POST", "/proxies", "[]"), "400 Bad Request",
	    "{\"error\":\"the body must be a JSON object\",\"status\":400}");
	assert_response(call("POST", "/proxies", "{\"name\":\"x\",\"listen\":\"10.1.2.3:0\","
	    "\"upstream\":\"127.0.0.1:1\"}"), "403 Forbidden", "{\"error\":\"listen: only "
	    "loopback addresses (127.0.0.0/8, ::1) and those of proxy_listen_allow are served\","
	    "\"status\":403}");
	assert_response(call("POST", "/proxies", "{\"name\":\"taken\",\"listen\":\"127.0.0.1:0\","
	    "\"upstream\":\"127.0.0.1:1\"}"), "409 Conflict",
	    "{\"error\":\"proxy already exists\",\"status\":409}");
	/* A configured listener's name is taken too. */
	assert_response(call("POST", "/proxies", "{\"name\":\"ctl\",\"listen\":\"127.0.0.1:0\","
	    "\"upstream\":\"127.0.0.1:1\"}"), "409 Conflict",
	    "{\"error\":\"proxy already exists\",\"status\":409}");
	/* A port in use. */
	snprintf(taken, sizeof(taken), "{\"name\":\"y\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:1\"}", up);
	cr_assert_eq(strncmp(call("POST", "/proxies", taken), "HTTP/1.1 500 ", 13), 0, "%s", resp);
	cr_assert_not_null(strstr(resp, "Address already in use\",\"status\":500}"), "%s", resp);
	/* 60,000 nested arrays: jansson's depth limit, not the stack. */
	cr_assert_not_null(deep = malloc(60001));
	for (i = 0; i < 60000; i++)
		deep[i] = '[';
	deep[i] = '\0';
	assert_response(call("POST", "/proxies", deep), "400 Bad Request",
	    "{\"error\":\"the body is not valid JSON\",\"status\":400}");
	free(deep);
	/* A body over max_line is refused from its Content-Length, before it comes. */
	fd = tcp_connect(ctl);
	send_all(fd, "POST /proxies HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n{", 55);
	cr_assert_eq(recv_all(fd, resp, sizeof(resp) - 1), sizeof(body_limit) - 1);
	assert_reply(resp, sizeof(body_limit) - 1, body_limit);
	close(fd);
	assert_response(call("POST", "/proxies", "{\"name\":\"x\"}"), "400 Bad Request",
	    "{\"error\":\"name and upstream are required\",\"status\":400}");
	fd = tcp_connect(ctl);
	send_all(fd, "GET /version HTTP/9.9\r\n\r\n", 25);
	resp[recv_all(fd, resp, sizeof(resp) - 1)] = '\0';
	cr_assert_not_null(strstr(resp, "\r\n\r\n{\"error\":\"only HTTP/1.0 and HTTP/1.1 are "
	    "spoken here\",\"status\":505}"), "%s", resp);
	close(fd);
	/* Still serving, the one good proxy untouched. */
	cr_assert_eq(strncmp(call("GET", "/version", ""), "HTTP/1.1 200 OK\r\n", 17), 0);
	cr_assert_not_null(strstr(call("GET", "/proxies", ""), "\"taken\":{"), "%s", resp);
	cr_assert_null(strstr(resp, "\"x\""), "%s", resp);
	close(lfd);
}

/* Keep-alive, as the client libraries use it: two requests, two answers, one connection. */
Test(control, keep_alive_with_bodies)
{
	static const char req[] = "POST /proxies HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]"
	    "GET /proxies HTTP/1.1\r\nConnection: close\r\n\r\n";
	static const char expect[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: "
	    "application/json\r\nContent-Length: 55\r\n\r\n"
	    "{\"error\":\"the body must be a JSON object\",\"status\":400}"
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
	    "Connection: close\r\n\r\n{}";
	int fd;
	size_t i, n;

	start("127.0.0.1");
	/* Whole, then a byte at a time: the body may come after the head. */
	for (i = 0; i < 2; i++) {
		fd = tcp_connect(ctl);
		if (i == 0)
			send_all(fd, req, sizeof(req) - 1);
		else
			for (n = 0; n < sizeof(req) - 1; n++)
				send_all(fd, req + n, 1);
		n = recv_all(fd, resp, sizeof(resp));
		assert_reply(resp, n, expect);
		close(fd);
	}
}

/* A client off loopback gets a 403 unless allow admits it. */
Test(control, only_loopback_clients)
{
	struct ifaddrs *ifs, *i;
	char host[INET_ADDRSTRLEN] = "";
	static const char refused[] = "HTTP/1.1 403 Forbidden\r\nContent-Type: "
	    "application/json\r\nContent-Length: 97\r\nConnection: close\r\n\r\n"
	    "{\"error\":\"the control API serves loopback clients only (set allow to admit "
	    "others)\",\"status\":403}";
	struct sockaddr_in sin = { .sin_family = AF_INET };
	size_t n;
	int fd;

	cr_assert_eq(getifaddrs(&ifs), 0);
	for (i = ifs; i != NULL && host[0] == '\0'; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
		    (ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) >> 24) != 127)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, host,
			    sizeof(host));
	freeifaddrs(ifs);
	if (host[0] == '\0')
		cr_skip_test("no IPv4 address off loopback on this host");
	start("0.0.0.0");
	inet_pton(AF_INET, host, &sin.sin_addr);
	sin.sin_port = htons(ctl);
	cr_assert_neq(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "%s", strerror(errno));
	send_all(fd, "GET /proxies HTTP/1.1\r\n\r\n", 25);
	n = recv_all(fd, resp, sizeof(resp));
	assert_reply(resp, n, refused);
	close(fd);
	/* From loopback, the same listener answers. */
	assert_response(call("GET", "/proxies", ""), "200 OK", "{}");
}

/* A reload keeps the proxies made through the API, on their ports. */
/* proxy_listen_allow lets a proxy listen where it names, and nowhere else. */
Test(control, proxy_listen_allow_opens_other_addresses)
{
	char extra[256];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16);

	free_ports(&ctl, 1);
	snprintf(extra, sizeof(extra), "[listener.ctl]\nbind = 127.0.0.1:%u\nservice = control\n"
	    "proxy_listen_allow = 0.0.0.0/32\n", ctl);
	tcpd_start(extra);
	snprintf(extra, sizeof(extra), "{\"name\":\"any\",\"listen\":\"0.0.0.0:0\","
	    "\"upstream\":\"127.0.0.1:%u\"}", up);
	call("POST", "/proxies", extra);
	cr_assert_eq(strncmp(resp, "HTTP/1.1 201 Created\r\n", 22), 0, "%s", resp);
	cr_assert_not_null(strstr(resp, "\"listen\":\"0.0.0.0:"), "%s", resp);
	port = (uint16_t)atoi(strstr(resp, "\"listen\":\"0.0.0.0:") + 18);
	/* Reached over loopback only: a test sends nothing anywhere else. */
	assert_proxies(port, lfd);
	snprintf(extra, sizeof(extra), "{\"name\":\"other\",\"listen\":\"[::]:0\","
	    "\"upstream\":\"127.0.0.1:%u\"}", up);
	cr_assert_eq(strncmp(call("POST", "/proxies", extra), "HTTP/1.1 403 Forbidden\r\n", 24),
	    0, "%s", resp);
	close(lfd);
}

Test(control, a_reload_keeps_the_proxies)
{
	char extra[256], text[8192];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16);

	start("127.0.0.1");
	port = create("kept", up, "");
	snprintf(extra, sizeof(extra), "[listener.ctl]\nbind = 127.0.0.1:%u\nservice = control\n",
	    ctl);
	tcpd_config_text(text, sizeof(text), extra, NULL);
	cr_assert_eq(tcpd_reload(text), 0, "%s", tcpd_log_text());
	assert_proxies(port, lfd);
	cr_assert_eq(listen_port(call("GET", "/proxies/kept", "")), port);
	close(lfd);
}

/* The time server s waits for client c's bytes through a proxy, in ms. */
static double
pair_up_ms(int c, int s)
{
	char in[8];
	double t0 = now_ms();

	send_all(c, "ping\n", 5);
	recv_exact(s, in, 5);
	return now_ms() - t0;
}

/* A pair's timing on a new connection through proxy port to the test's server lfd. */
static double
new_pair_ms(uint16_t port, int lfd, double (*timed)(int c, int s))
{
	int c = tcp_connect(port), s = accept_peer(lfd);
	double ms = timed(c, s);

	close(c);
	close(s);
	return ms;
}

/* The time from a request through proxy port to the test's server's answer, in ms. */
#define round_trip_ms(port, lfd)	new_pair_ms(port, lfd, pair_round_trip_ms)
/* The time the test's server waits for a client's bytes through proxy port, in ms. */
#define one_way_up_ms(port, lfd)	new_pair_ms(port, lfd, pair_up_ms)

Test(control, a_latency_toxic_delays_new_connections_until_removed)
{
	static const char toxic[] = "{\"name\":\"latency_downstream\",\"type\":\"latency\","
	    "\"stream\":\"downstream\",\"toxicity\":1.0,\"attributes\":{\"latency\":300,"
	    "\"jitter\":0}}";
	char expect[1024];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16);
	double ms;

	start("127.0.0.1");
	port = create("redis", up, "");
	assert_response(call("POST", "/proxies/redis/toxics", "{\"type\":\"latency\","
	    "\"attributes\":{\"latency\":300}}"), "200 OK", toxic);
	cr_assert_eq(tcpd_log_count("control: proxy redis: set toxic latency_downstream "
	    "(latency downstream)"), 1, "%s", tcpd_log_text());
	ms = round_trip_ms(port, lfd);
	cr_assert_geq(ms, 300, "%.1f ms", ms);
	/* Downstream: the bytes toward the server are not held. */
	ms = one_way_up_ms(port, lfd);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	snprintf(expect, sizeof(expect), "[%s]", toxic);
	assert_response(call("GET", "/proxies/redis/toxics", ""), "200 OK", expect);
	assert_response(call("GET", "/proxies/redis/toxics/latency_downstream", ""), "200 OK",
	    toxic);
	snprintf(expect, sizeof(expect), "{\"name\":\"redis\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":[%s]}", port, up, toxic);
	assert_response(call("GET", "/proxies/redis", ""), "200 OK", expect);
	assert_response(call("DELETE", "/proxies/redis/toxics/latency_downstream", ""),
	    "204 No Content", "");
	ms = round_trip_ms(port, lfd);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	assert_response(call("GET", "/proxies/redis/toxics", ""), "200 OK", "[]");
	close(lfd);
}

/* As Toxiproxy's: a toxic put on or taken off reaches the connections open then. */
Test(control, toxics_reach_open_connections)
{
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), c, s;
	char in[16];
	double ms;

	start("127.0.0.1");
	port = create("live", up, "");
	c = tcp_connect(port);
	s = accept_peer(lfd);
	ms = pair_round_trip_ms(c, s);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	call("POST", "/proxies/live/toxics", "{\"type\":\"latency\",\"attributes\":"
	    "{\"latency\":300}}");
	ms = pair_round_trip_ms(c, s);
	cr_assert_geq(ms, 300, "%.1f ms", ms);
	/* The first input filter of an open connection: toward the server. */
	call("POST", "/proxies/live/toxics", "{\"type\":\"latency\",\"stream\":\"upstream\","
	    "\"attributes\":{\"latency\":300}}");
	ms = pair_up_ms(c, s);
	cr_assert_geq(ms, 300, "%.1f ms", ms);
	send_all(s, "pong\n", 5);
	recv_exact(c, in, 5);
	assert_response(call("POST", "/reset", ""), "204 No Content", "");
	ms = pair_round_trip_ms(c, s);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	/* limit_data counts from the toxic's coming: 10 bytes passed before it. */
	call("POST", "/proxies/live/toxics", "{\"type\":\"limit_data\",\"attributes\":"
	    "{\"bytes\":7}}");
	send_all(s, "0123456789", 10);
	recv_exact(c, in, 7);
	assert_bytes(in, 7, "0123456", 7);
	cr_assert(recv_eof(c), "limit_data closes after its 7 bytes");
	close(c);
	close(s);
	/* And reset_peer, on a connection open before it. */
	call("DELETE", "/proxies/live/toxics/limit_data_downstream", "");
	c = tcp_connect(port);
	s = accept_peer(lfd);
	ms = pair_round_trip_ms(c, s);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	call("POST", "/proxies/live/toxics", "{\"type\":\"reset_peer\",\"attributes\":"
	    "{\"timeout\":0}}");
	assert_reset(c);
	close(c);
	close(s);
	close(lfd);
}

/* A proxy deleted leaves its open connections the faults they have, counts and all. */
Test(control, a_deleted_proxys_connections_keep_their_faults)
{
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), c, s;
	char in[16];

	start("127.0.0.1");
	port = create("gone", up, "");
	call("POST", "/proxies/gone/toxics", "{\"type\":\"limit_data\",\"attributes\":"
	    "{\"bytes\":7}}");
	c = tcp_connect(port);
	s = accept_peer(lfd);
	send_all(s, "01234", 5);
	recv_exact(c, in, 5);
	assert_response(call("DELETE", "/proxies/gone", ""), "204 No Content", "");
	create("other", up, "");
	send_all(s, "56789", 5);
	recv_exact(c, in, 2);
	assert_bytes(in, 2, "56", 2);
	cr_assert(recv_eof(c), "limit_data closes after its 7 bytes");
	close(c);
	close(s);
	close(lfd);
}

/* tcpd's own toxics: a stall, put on and taken off an open connection; a slow accept. */
Test(control, stall_and_accept_delay_toxics)
{
	struct pollfd p;
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), c, s;
	char in[8];
	double ms;

	start("127.0.0.1");
	port = create("hang", up, "");
	c = tcp_connect(port);
	s = accept_peer(lfd);
	call("POST", "/proxies/hang/toxics", "{\"type\":\"stall\",\"attributes\":{\"timeout\":0}}");
	send_all(s, "x", 1);
	p = (struct pollfd){ .fd = c, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 300), 0, "a stalled connection passed bytes on");
	assert_response(call("DELETE", "/proxies/hang/toxics/stall_downstream", ""),
	    "204 No Content", "");
	recv_exact(c, in, 1);
	close(c);
	close(s);
	call("POST", "/proxies/hang/toxics", "{\"type\":\"accept_delay\",\"attributes\":"
	    "{\"delay\":300}}");
	/* From before the connect: the delay runs from the accept, which comes first. */
	ms = now_ms();
	c = tcp_connect(port);
	s = accept_peer(lfd);
	send_all(c, "ping\n", 5);
	recv_exact(s, in, 5);
	ms = now_ms() - ms;
	cr_assert_geq(ms, 300, "%.1f ms", ms);
	close(c);
	close(s);
	close(lfd);
}

/* tcpd's own proxy fields: shown only when set, a seed kept by /reset, a blackhole not. */
Test(control, blackhole_and_seed_proxies)
{
	struct pollfd p;
	char expect[512];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), c;

	start("127.0.0.1");
	port = create("bh", up, "");
	snprintf(expect, sizeof(expect), "{\"name\":\"bh\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":[],\"blackhole\":true,"
	    "\"seed\":7}", port, up);
	assert_response(call("POST", "/proxies/bh", "{\"blackhole\":true,\"seed\":7}"), "200 OK",
	    expect);
	c = tcp_connect(port);
	send_all(c, "ping\n", 5);
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 300), 0, "a blackholed proxy accepted and connected");
	close(c);
	assert_response(call("POST", "/reset", ""), "204 No Content", "");
	snprintf(expect, sizeof(expect), "{\"name\":\"bh\",\"listen\":\"127.0.0.1:%u\","
	    "\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":[],\"seed\":7}", port,
	    up);
	assert_response(call("GET", "/proxies/bh", ""), "200 OK", expect);
	/* The connect queued while it was a blackhole may come first: any client is fine. */
	c = tcp_connect(port);
	close(accept_peer(lfd));
	close(c);
	close(lfd);
}

Test(control, an_upstream_toxic_holds_the_bytes_toward_the_server)
{
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16);
	double ms;

	start("127.0.0.1");
	port = create("db", up, "");
	cr_assert_eq(strncmp(call("POST", "/proxies/db/toxics", "{\"type\":\"latency\","
	    "\"stream\":\"upstream\",\"attributes\":{\"latency\":300}}"), "HTTP/1.1 200 OK\r\n",
	    17), 0, "%s", resp);
	cr_assert_not_null(strstr(resp, "\"name\":\"latency_upstream\""), "%s", resp);
	ms = one_way_up_ms(port, lfd);
	cr_assert_geq(ms, 300, "%.1f ms", ms);
	/* Upstream: the replies toward the client are not held. */
	ms = round_trip_ms(port, lfd);
	cr_assert_lt(ms, 400, "%.1f ms", ms);
	/* Toxicity 0: no connection gets it; PATCH as POST. */
	assert_response(call("PATCH", "/proxies/db/toxics/latency_upstream", "{\"toxicity\":0}"),
	    "200 OK", "{\"name\":\"latency_upstream\",\"type\":\"latency\",\"stream\":"
	    "\"upstream\",\"toxicity\":0.0,\"attributes\":{\"latency\":300,\"jitter\":0}}");
	ms = one_way_up_ms(port, lfd);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	call("POST", "/proxies/db/toxics/latency_upstream", "{\"toxicity\":1}");
	ms = one_way_up_ms(port, lfd);
	cr_assert_geq(ms, 300, "%.1f ms", ms);
	/* /reset takes every toxic off. */
	assert_response(call("POST", "/reset", ""), "204 No Content", "");
	assert_response(call("GET", "/proxies/db/toxics", ""), "200 OK", "[]");
	ms = one_way_up_ms(port, lfd);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	close(lfd);
}

Test(control, bad_toxics_get_4xx_in_toxiproxys_shape)
{
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16);

	start("127.0.0.1");
	create("p", up, "");
	assert_response(call("POST", "/proxies/p/toxics", "{\"type\":\"lag\"}"),
	    "400 Bad Request", "{\"error\":\"invalid toxic type\",\"status\":400}");
	assert_response(call("POST", "/proxies/p/toxics", "{\"type\":\"latency\",\"attributes\":"
	    "{\"lag\":1}}"), "400 Bad Request",
	    "{\"error\":\"unknown attribute for this toxic type\",\"status\":400}");
	assert_response(call("POST", "/proxies/p/toxics", "{\"type\":"), "400 Bad Request",
	    "{\"error\":\"the body is not valid JSON\",\"status\":400}");
	assert_response(call("POST", "/proxies/none/toxics", "{\"type\":\"latency\"}"),
	    "404 Not Found", "{\"error\":\"proxy not found\",\"status\":404}");
	assert_response(call("GET", "/proxies/p/toxics/none", ""), "404 Not Found",
	    "{\"error\":\"toxic not found\",\"status\":404}");
	cr_assert_eq(strncmp(call("POST", "/proxies/p/toxics", "{\"type\":\"limit_data\"}"),
	    "HTTP/1.1 200 OK\r\n", 17), 0, "%s", resp);
	assert_response(call("POST", "/proxies/p/toxics", "{\"type\":\"limit_data\",\"name\":"
	    "\"again\"}"), "409 Conflict", "{\"error\":\"toxic already exists\",\"status\":409}");
	assert_response(call("POST", "/proxies/p/toxics", "{\"type\":\"reset_peer\"}"),
	    "400 Bad Request", "{\"error\":\"a connection ends once: reset_peer, limit_data "
	    "and timeout exclude one another on a stream\",\"status\":400}");
	/* Still serving. */
	cr_assert_not_null(strstr(call("GET", "/proxies/p/toxics", ""), "\"limit_data\""), "%s",
	    resp);
	close(lfd);
}

/* The port of proxy name in a reply listing proxies. */
static uint16_t
port_of(const char *json, const char *name)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "{\"name\":\"%s\",", name);
	cr_assert_not_null(p = strstr(json, key), "%s in %s", name, json);
	return listen_port(p);
}

/* GET /proxies now; free() it. */
static char *
all_proxies(void)
{
	char *text;

	cr_assert_not_null(text = strdup(call("GET", "/proxies", "")));
	return text;
}

/* Asserts GET /proxies answers as it did when was was taken. */
static void
assert_proxies_unchanged(const char *was)
{
	char *now = all_proxies();

	cr_assert_str_eq(now, was);
	free(now);
}

/*
 * POST /populate: the missing made, the same kept (their toxics too, the
 * second call answering byte for byte as the first), the different made
 * anew on their port; a bad entry anywhere changes nothing.
 */
Test(control, populate_creates_keeps_and_replaces)
{
	char body[512], expect[2048], *first, *before;
	uint16_t up, up2, a, b;
	int lfd = tcp_listen_loopback(&up, 16), lfd2 = tcp_listen_loopback(&up2, 16);

	start("127.0.0.1");
	snprintf(body, sizeof(body), "[{\"name\":\"a\",\"listen\":\"127.0.0.1:0\",\"upstream\":"
	    "\"127.0.0.1:%u\"},{\"name\":\"b\",\"upstream\":\"localhost:%u\",\"enabled\":true}]",
	    up, up);
	call("POST", "/populate", body);
	a = port_of(resp, "a");
	b = port_of(resp, "b");
	cr_assert_neq(a, b);
	snprintf(expect, sizeof(expect), "{\"proxies\":[{\"name\":\"a\",\"listen\":"
	    "\"127.0.0.1:%u\",\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":[]},"
	    "{\"name\":\"b\",\"listen\":\"127.0.0.1:%u\",\"upstream\":\"127.0.0.1:%u\","
	    "\"enabled\":true,\"toxics\":[]}]}", a, up, b, up);
	assert_response(resp, "201 Created", expect);
	cr_assert_not_null(first = strdup(resp));
	assert_proxies(a, lfd);
	assert_proxies(b, lfd);
	cr_assert_eq(tcpd_log_count("control: created proxy a listen 127.0.0.1:"), 1);

	/* Again: nothing changes, the reply is the same bytes. */
	cr_assert_str_eq(call("POST", "/populate", body), first);
	cr_assert_eq(tcpd_log_count("control: created proxy"), 2);
	cr_assert_eq(tcpd_log_count("control: replaced proxy"), 0);
	free(first);

	/*
	 * A toxic on each; then a given the port it has, and b its port with
	 * another upstream: b is made anew on the socket it has.
	 */
	call("POST", "/proxies/a/toxics", "{\"type\":\"latency\",\"attributes\":{\"latency\":1}}");
	call("POST", "/proxies/b/toxics", "{\"type\":\"latency\",\"attributes\":{\"latency\":1}}");
	snprintf(body, sizeof(body), "[{\"name\":\"a\",\"listen\":\"127.0.0.1:%u\",\"upstream\":"
	    "\"127.0.0.1:%u\"},{\"name\":\"b\",\"listen\":\"127.0.0.1:%u\",\"upstream\":"
	    "\"127.0.0.1:%u\"}]", a, up, b, up2);
	snprintf(expect, sizeof(expect), "{\"proxies\":[{\"name\":\"a\",\"listen\":"
	    "\"127.0.0.1:%u\",\"upstream\":\"127.0.0.1:%u\",\"enabled\":true,\"toxics\":"
	    "[{\"name\":\"latency_downstream\",\"type\":\"latency\",\"stream\":\"downstream\","
	    "\"toxicity\":1.0,\"attributes\":{\"latency\":1,\"jitter\":0}}]},"
	    "{\"name\":\"b\",\"listen\":\"127.0.0.1:%u\",\"upstream\":\"127.0.0.1:%u\","
	    "\"enabled\":true,\"toxics\":[]}]}", a, up, b, up2);
	assert_response(call("POST", "/populate", body), "201 Created", expect);
	cr_assert_eq(tcpd_log_count("control: replaced proxy b listen 127.0.0.1:"), 1);
	assert_proxies(b, lfd2);

	/* Disabled, then populated as enabled: served again. */
	call("POST", "/proxies/a", "{\"enabled\":false}");
	cr_assert_eq(connect_errno(a), ECONNREFUSED);
	call("POST", "/populate", body);
	cr_assert_eq(strncmp(resp, "HTTP/1.1 201 Created\r\n", 22), 0, "%s", resp);
	assert_proxies(a, lfd);

	/* All or nothing: a bad third entry leaves c unmade and b as it was. */
	before = all_proxies();
	snprintf(body, sizeof(body), "[{\"name\":\"c\",\"upstream\":\"127.0.0.1:%u\"},"
	    "{\"name\":\"b\",\"upstream\":\"127.0.0.1:%u\"},{\"name\":\"d\"}]", up, up);
	assert_response(call("POST", "/populate", body), "400 Bad Request",
	    "{\"error\":\"proxy 3: name and upstream are required\",\"status\":400,"
	    "\"proxies\":null}");
	assert_proxies_unchanged(before);
	/* Nor when a bind fails: c's port is taken. */
	snprintf(body, sizeof(body), "[{\"name\":\"c\",\"upstream\":\"127.0.0.1:%u\"},"
	    "{\"name\":\"d\",\"listen\":\"127.0.0.1:%u\",\"upstream\":\"127.0.0.1:%u\"}]", up, up,
	    up);
	cr_assert_eq(strncmp(call("POST", "/populate", body), "HTTP/1.1 500 ", 13), 0, "%s", resp);
	cr_assert_not_null(strstr(resp, "Address already in use\",\"status\":500,"
	    "\"proxies\":null}"), "%s", resp);
	assert_proxies_unchanged(before);
	assert_response(call("POST", "/populate", "[{\"name\":\"e\",\"upstream\":"
	    "\"127.0.0.1:1\"},{\"name\":\"ctl\",\"upstream\":\"127.0.0.1:1\"}]"), "409 Conflict",
	    "{\"error\":\"proxy 2: ctl is a listener of the configuration\",\"status\":409,"
	    "\"proxies\":null}");
	assert_response(call("POST", "/populate", "[]"), "201 Created", "{\"proxies\":[]}");
	assert_response(call("GET", "/populate", ""), "405 Method Not Allowed",
	    "{\"error\":\"method not allowed\",\"status\":405}");
	assert_proxies_unchanged(before);
	free(before);
	close(lfd);
	close(lfd2);
}

/* /metrics from the listener m of port, NUL-ended in a static buffer. */
static const char *
scrape(uint16_t port)
{
	static char text[1 << 16];

	return exchange_to_eof(port, "GET /metrics HTTP/1.0\r\n\r\n", text, sizeof(text));
}

/*
 * A proxy made through the API is a listener as any other: its own series
 * in /metrics while it lives, none once deleted; INFO (which has no
 * per-listener section) counts its connections under service_proxy.
 */
Test(control, api_proxies_have_their_series_in_metrics_and_info)
{
	static const char *const series[] = {
		"\ntcpd_connections_accepted_total{listener=\"made\",service=\"proxy\"} 1\n",
		"\ntcpd_received_bytes_total{listener=\"made\"} 5\n",
		"\ntcpd_sent_bytes_total{listener=\"made\"} 5\n",
		"\ntcpd_connections_active{listener=\"made\"} 0\n",
	};
	char extra[256], body[256];
	uint16_t up, ports[2], port;
	int lfd = tcp_listen_loopback(&up, 16), i;
	size_t k;
	const char *m;

	free_ports(ports, 2);
	ctl = ports[0];
	snprintf(extra, sizeof(extra), "[listener.ctl]\nbind = 127.0.0.1:%u\nservice = control\n"
	    "[listener.m]\nbind = 127.0.0.1:%u\nservice = metrics\n", ctl, ports[1]);
	tcpd_start(extra);
	snprintf(body, sizeof(body), "[{\"name\":\"made\",\"upstream\":\"127.0.0.1:%u\"}]", up);
	port = port_of(call("POST", "/populate", body), "made");
	assert_proxies(port, lfd);
	/* The close reaches tcpd a moment after the test's. */
	for (i = 0; i < 50 && strstr(scrape(ports[1]), series[3]) == NULL; i++)
		poll(NULL, 0, 100);
	m = scrape(ports[1]);
	for (k = 0; k < sizeof(series) / sizeof(series[0]); k++)
		cr_assert_not_null(strstr(m, series[k]), "%s not in\n%s", series[k], m);
	cr_assert_not_null(strstr(tcpd_info(), "\r\nservice_proxy:connected=0,total=1\r\n"),
	    "%s", tcpd_info());
	/* INFO's own section: each proxy the API made, where it listens, what it holds. */
	snprintf(body, sizeof(body), "# Proxies\r\nproxies:1\r\nproxy_made:listen=127.0.0.1:%u,"
	    "upstream=127.0.0.1:%u,enabled=1,blackhole=0,connections=0\r\n", port, up);
	cr_assert_str_eq(tcpd_info_section("proxies"), body);
	cr_assert_not_null(strstr(tcpd_info_section("everything"), body));
	assert_response(call("DELETE", "/proxies/made", ""), "204 No Content", "");
	cr_assert_str_eq(tcpd_info_section("proxies"), "# Proxies\r\nproxies:0\r\n");
	m = scrape(ports[1]);
	cr_assert_null(strstr(m, "listener=\"made\""), "%s", m);
	close(lfd);
}

/* SPDX-License-Identifier: MIT */
/*
 * PROXY protocol listeners: headers sent by hand, byte for byte, and by a
 * real HAProxy (Debian's haproxy) started on loopback in front of tcpd.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define HAPROXY "/usr/sbin/haproxy"

static char text[1 << 16];

/* Every listener behind a load balancer on 127.0.0.1, with extra rules. */
static void
start(const char *extra)
{
	char listener[512];

	snprintf(listener, sizeof(listener), "proxy_protocol = any\nproxy_trusted = 127.0.0.1%s%s",
	    extra != NULL ? "\n" : "", extra != NULL ? extra : "");
	tcpd_start_with(NULL, listener, 0);
}

static void
setup(void)
{
	start(NULL);
}

TestSuite(haproxy, .init = setup, .fini = tcpd_teardown, .timeout = 60);

/*
 * Sends a header and a request in one write (so they arrive together, as a
 * balancer's first segment does) on a new connection; what came back, to
 * EOF or n bytes.
 */
static const char *
through(uint16_t port, const void *header, size_t hlen, const char *request, size_t want)
{
	static char both[4096];
	size_t rlen = request != NULL ? strlen(request) : 0, n;
	int fd = tcp_connect(port);

	cr_assert_lt(hlen + rlen, sizeof(both));
	memcpy(both, header, hlen);
	memcpy(both + hlen, request != NULL ? request : "", rlen);
	send_all(fd, both, hlen + rlen);
	n = recv_all(fd, text, want < sizeof(text) - 1 ? want : sizeof(text) - 1);
	text[n] = '\0';
	close(fd);
	return text;
}

#define V1(s) s, sizeof(s) - 1

Test(haproxy, a_v1_header_names_the_client)
{
	const char *r = through(tcpd.port[P_COMMAND],
	    V1("PROXY TCP4 192.0.2.7 198.51.100.1 4242 7070\r\n"), "WHOAMI\r\nQUIT\r\n", 4096);

	cr_assert_not_null(strstr(r, " addr=192.0.2.7:4242 laddr=198.51.100.1:7070 "
	    "listener=command proxy=127.0.0.1:"), "%s", r);
	cr_assert_not_null(strstr(r, "\r\n+OK\r\n"), "%s", r);
}

Test(haproxy, a_v2_header_and_its_bytes_after)
{
	static const unsigned char hdr[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
		0x21, 0x21, 0x00, 36,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,	/* 2001:db8::7 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x30, 0x39, 0x1b, 0x9e,					/* 12345, 7070 */
	};
	const char *r = through(tcpd.port[P_COMMAND], hdr, sizeof(hdr), "WHOAMI\r\nQUIT\r\n",
	    4096);

	cr_assert_not_null(strstr(r, " addr=[2001:db8::7]:12345 laddr=[2001:db8::1]:7070 "),
	    "%s", r);
}

/* daytime says nothing before the header, then the time: its open waits for it. */
Test(haproxy, daytime_waits_for_the_header)
{
	int fd = tcp_connect(tcpd.port[P_DAYTIME]);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n;

	cr_assert_eq(poll(&p, 1, 300), 0, "daytime spoke before the header");
	send_all(fd, "PROXY UNKNOWN\r\n", 15);
	n = recv_all(fd, text, sizeof(text) - 1);
	text[n] = '\0';
	close(fd);
	cr_assert_not_null(strstr(text, "-UTC\r\n"), "%s", text);
}

Test(haproxy, untrusted_and_invalid_are_closed_and_counted)
{
	const char *info;
	char in[64];
	int fd;

	/* Not from a trusted proxy: closed before a byte is read (a reset, as it sent some). */
	fd = tcp_connect_from("127.0.0.2", tcpd.port[P_COMMAND]);
	send_all(fd, "PROXY UNKNOWN\r\nPING\r\n", 21);
	cr_assert_leq(recv(fd, in, sizeof(in), 0), 0, "an untrusted peer got bytes");
	close(fd);
	/* Not a header: closed with nothing said, as the spec asks. */
	cr_assert_str_eq(through(tcpd.port[P_COMMAND], V1("PING\r\n"), NULL, 64), "");
	cr_assert_str_eq(through(tcpd.port[P_COMMAND],
	    V1("PROXY TCP4 192.0.2.07 1.2.3.4 1 2\r\nPING\r\n"), NULL, 64), "");
	info = through(tcpd.port[P_COMMAND], V1("PROXY UNKNOWN\r\n"), "INFO stats\r\nQUIT\r\n",
	    4096);
	cr_assert_not_null(strstr(info, "rejected_connections:3\r\n"), "%s", info);
	cr_assert_eq(tcpd_stop(), 0);
	/* Refusals are logged at most once a second: the first says which. */
	cr_assert_eq(tcpd_log_count("127.0.0.2:"), 1);
	cr_assert_eq(tcpd_log_count("not in proxy_trusted (0 more since the last such line)"), 1);
	tcpd_start_with(NULL, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
}

Test(haproxy, an_invalid_header_is_logged_with_why)
{
	cr_assert_str_eq(through(tcpd.port[P_COMMAND], V1("GET / HTTP/1.0\r\n\r\n"), NULL, 64),
	    "");
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_eq(tcpd_log_count("refused: invalid PROXY header: not a PROXY protocol "
	    "header (0 more"), 1);
	tcpd_start_with(NULL, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
}

/* allow/deny and the per-IP limit see the client the header names. */
Test(haproxy, the_rules_apply_to_the_client, .init = NULL)
{
	const char *r;

	start("deny = 192.0.2.0/24");
	cr_assert_str_eq(through(tcpd.port[P_COMMAND],
	    V1("PROXY TCP4 192.0.2.7 198.51.100.1 4242 7070\r\n"), "PING\r\n", 64), "");
	r = through(tcpd.port[P_COMMAND], V1("PROXY TCP4 203.0.113.9 198.51.100.1 4242 7070\r\n"),
	    "PING\r\n", 7);
	cr_assert_str_eq(r, "+PONG\r\n");
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_eq(tcpd_log_count(" 192.0.2.7:4242: refused: deny 192.0.2.0/24"), 1);
	tcpd_start_with(NULL, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
}

Test(haproxy, no_header_within_proxy_timeout_is_closed, .timeout = 20)
{
	char in[16];
	int fd = tcp_connect(tcpd.port[P_ECHO]);

	send_all(fd, "PROX", 4);
	/* proxy_timeout is 5 s by default: closed then, with nothing echoed. */
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 0);
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_eq(tcpd_log_count("refused: no PROXY header within proxy_timeout (5 s)"), 1);
	tcpd_start_with(NULL, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
}

/* A real HAProxy on loopback, with these backend lines; its stats socket path in sock. */
static pid_t
haproxy_start_servers(const char *dir, uint16_t front, const char *servers, char *sock,
    size_t socklen)
{
	char conf[256], log[256], cfg[4096];
	const char *argv[] = { HAPROXY, "-f", conf, "-db", NULL };
	FILE *f;
	pid_t pid;
	int i, fd = -1;

	snprintf(conf, sizeof(conf), "%s/haproxy.cfg", dir);
	snprintf(log, sizeof(log), "%s/haproxy.log", dir);
	snprintf(sock, socklen, "%s/stats.sock", dir);
	snprintf(cfg, sizeof(cfg),
	    "global\n  stats socket %s level admin\n"
	    "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n"
	    "  timeout server 10s\n"
	    "frontend fe\n  bind 127.0.0.1:%u\n  unique-id-format req-%%rt\n"
	    "  default_backend be\n"
	    "backend be\n  option redis-check\n%s",
	    sock, front, servers);
	cr_assert_not_null(f = fopen(conf, "w"));
	fputs(cfg, f);
	fclose(f);
	pid = spawn_logged(argv, log);
	for (i = 0; i < 100 && (fd = tcp_try_connect(front)) < 0; i++)
		poll(NULL, 0, 50);
	cr_assert_geq(fd, 0, "haproxy did not listen: %s", slurp(log));
	close(fd);
	return pid;
}

/* HAProxy in front of the one tcpd under test, with these server options. */
static pid_t
haproxy_start(const char *dir, uint16_t front, const char *server_options, char *sock,
    size_t socklen)
{
	char servers[512];

	snprintf(servers, sizeof(servers), "  server tcpd 127.0.0.1:%u check inter 200ms %s\n",
	    tcpd.port[P_COMMAND], server_options);
	return haproxy_start_servers(dir, front, servers, sock, socklen);
}

/* HAProxy's own view of server name, from its stats socket: "UP", "DOWN", ... */
static const char *
server_status_of(const char *sock, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static char out[8192];
	char *line, *field, key[64];
	size_t n;
	int fd, i;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	cr_assert_geq(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	send_all(fd, "show stat\n", 10);
	n = recv_all(fd, out, sizeof(out) - 1);
	out[n] = '\0';
	close(fd);
	/* "be,NAME,...": the 18th field is the status. */
	snprintf(key, sizeof(key), "\nbe,%s,", name);
	if ((line = strstr(out, key)) == NULL)
		return "missing";
	field = line + 1;
	for (i = 0; i < 17 && field != NULL; i++)
		field = strchr(field, ',') != NULL ? strchr(field, ',') + 1 : NULL;
	if (field == NULL)
		return "missing";
	field[strcspn(field, ",")] = '\0';
	return field;
}

static const char *
server_status(const char *sock)
{
	return server_status_of(sock, "tcpd");
}

static void
haproxy_case(const char *server_options)
{
	char dir[64], sock[256];
	const char *status = "";
	uint16_t front;
	pid_t pid;
	int fd, i;

	if (access(HAPROXY, X_OK) != 0)
		cr_skip_test("haproxy is not installed (Debian's haproxy package)");
	temp_dir_make(dir, sizeof(dir), "tcpd-haproxy");
	free_ports(&front, 1);
	pid = haproxy_start(dir, front, server_options, sock, sizeof(sock));
	/* option redis-check: PING and +PONG, through the PROXY header. */
	for (i = 0; i < 100 && strcmp(status = server_status(sock), "UP") != 0; i++)
		poll(NULL, 0, 50);
	cr_assert_str_eq(status, "UP", "HAProxy's health check: %s", status);
	/* A client on 127.0.0.2: tcpd sees it, not HAProxy's 127.0.0.1. */
	fd = tcp_connect_from("127.0.0.2", front);
	send_all(fd, "WHOAMI\r\nQUIT\r\n", 14);
	i = (int)recv_all(fd, text, sizeof(text) - 1);
	text[i] = '\0';
	close(fd);
	cr_assert_not_null(strstr(text, " addr=127.0.0.2:"), "%s", text);
	cr_assert_not_null(strstr(text, " proxy=127.0.0.1:"), "%s", text);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	temp_dir_remove(dir);
}

Test(haproxy, behind_haproxy_send_proxy)
{
	haproxy_case("send-proxy check-send-proxy");
}

Test(haproxy, behind_haproxy_send_proxy_v2_with_tlvs)
{
	haproxy_case("send-proxy-v2 check-send-proxy proxy-v2-options crc32c,unique-id,authority");
	cr_assert_eq(tcpd_stop(), 0);
	/* HAProxy's unique-id TLV came through, and its CRC32C checked out. */
	cr_assert_geq(tcpd_log_count("PROXY v2 header: unique_id "), 1);
	tcpd_start_with(NULL, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
}

/*
 * service = agent: HAProxy's agent-check marks the server DRAIN as soon as
 * tcpd gets SIGTERM (shutdown_delay keeps it accepting meanwhile).
 */
Test(haproxy, agent_check_drains_on_sigterm, .init = NULL)
{
	char dir[64], sock[256], global[256], options[256];
	const char *status = "";
	uint16_t agent, front;
	pid_t pid;
	int fd, i;
	size_t n;

	if (access(HAPROXY, X_OK) != 0)
		cr_skip_test("haproxy is not installed (Debian's haproxy package)");
	free_ports(&agent, 1);
	snprintf(global, sizeof(global), "shutdown_delay = 5\n[listener.agent]\n"
	    "bind = 127.0.0.1:%u\nservice = agent", agent);
	tcpd_start_with(global, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
	/* The line itself: up, ready, the weight from how full tcpd is. */
	fd = tcp_connect(agent);
	n = recv_all(fd, text, sizeof(text) - 1);
	text[n] = '\0';
	close(fd);
	cr_assert_str_eq(text, "up ready 100%\n");
	temp_dir_make(dir, sizeof(dir), "tcpd-haproxy");
	free_ports(&front, 1);
	snprintf(options, sizeof(options), "send-proxy check-send-proxy agent-check agent-port %u "
	    "agent-inter 200ms", agent);
	pid = haproxy_start(dir, front, options, sock, sizeof(sock));
	for (i = 0; i < 100 && strcmp(status = server_status(sock), "UP") != 0; i++)
		poll(NULL, 0, 50);
	cr_assert_str_eq(status, "UP");
	kill(tcpd.pid, SIGTERM);
	for (i = 0; i < 60 && strcmp(status = server_status(sock), "DRAIN (agent)") != 0; i++)
		poll(NULL, 0, 50);
	cr_assert_str_eq(status, "DRAIN (agent)", "HAProxy's view after SIGTERM: %s", status);
	/* Still served meanwhile, by its own HEALTH saying so. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "PROXY UNKNOWN\r\nHEALTH\r\nQUIT\r\n", 29);
	n = recv_all(fd, text, sizeof(text) - 1);
	text[n] = '\0';
	close(fd);
	cr_assert_str_eq(text, "-ERR draining: tcpd is stopping\r\n+OK\r\n");
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	temp_dir_remove(dir);
	cr_assert_eq(tcpd_stop(), 0);
	tcpd_start_with(NULL, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
}

/*
 * One WHOAMI through the balancer from 127.0.0.2: the reply, or NULL when the
 * connection was refused, reset or went unanswered.
 */
static const char *
whoami_through(uint16_t front)
{
	static char reply[512];
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET,
	    .sin_port = htons(front), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 5, 0 };
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.2", &src.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 ||
	    send(fd, "WHOAMI\r\nQUIT\r\n", 14, MSG_NOSIGNAL) != 14) {
		close(fd);
		return NULL;
	}
	while (n < sizeof(reply) - 1 && (r = recv(fd, reply + n, sizeof(reply) - 1 - n, 0)) > 0)
		n += (size_t)r;
	close(fd);
	reply[n] = '\0';
	if (r < 0 || n < 5 || strcmp(reply + n - 5, "+OK\r\n") != 0)
		return NULL;
	return reply;
}

/*
 * HAProxy (tcp mode, roundrobin, send-proxy-v2, check-send-proxy, option
 * redis-check, agent-check) in front of two tcpd with workers = 2. Clients
 * keep connecting through it while one tcpd gets SIGTERM with
 * shutdown_delay = 2: HAProxy drains it, then marks it down, and no client
 * connection is refused or reset meanwhile.
 */
Test(haproxy, two_backends_with_workers_one_stopping_drops_nothing, .init = NULL,
    .timeout = 60)
{
	char dir[64], sock[256], global[256], servers[1024], conf[256], log[256], cfgb[512];
	const char *argv[] = { tcpd_bin(), "-c", conf, NULL }, *r, *status;
	uint16_t ports[4], front;	/* a's agent, b's command and agent, HAProxy */
	int served[2][2] = { { 0, 0 }, { 0, 0 } }, failed = 0, tries = 0, i, st = -1;
	bool drained = false;
	uint64_t start;
	pid_t b, hap;
	FILE *f;

	if (access(HAPROXY, X_OK) != 0)
		cr_skip_test("haproxy is not installed (Debian's haproxy package)");
	free_ports(ports, 4);
	front = ports[3];
	snprintf(global, sizeof(global), "workers = 2\nshutdown_delay = 2\n[listener.agent]\n"
	    "bind = 127.0.0.1:%u\nservice = agent", ports[0]);
	tcpd_start_with(global, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
	temp_dir_make(dir, sizeof(dir), "tcpd-haproxy");
	snprintf(conf, sizeof(conf), "%s/b.conf", dir);
	snprintf(log, sizeof(log), "%s/b.log", dir);
	/* b's listener has a name of its own: WHOAMI says which backend answered. */
	snprintf(cfgb, sizeof(cfgb), "[tcpd]\nworkers = 2\n[listener.b]\nbind = 127.0.0.1:%u\n"
	    "service = command\nproxy_protocol = any\nproxy_trusted = 127.0.0.1\n"
	    "[listener.agent]\nbind = 127.0.0.1:%u\nservice = agent\n", ports[1], ports[2]);
	cr_assert_not_null(f = fopen(conf, "w"));
	fputs(cfgb, f);
	fclose(f);
	b = spawn_logged(argv, log);
	snprintf(servers, sizeof(servers), "  balance roundrobin\n  option redispatch\n"
	    "  retries 3\n"
	    "  server a 127.0.0.1:%u check inter 200ms send-proxy-v2 check-send-proxy "
	    "agent-check agent-port %u agent-inter 200ms\n"
	    "  server b 127.0.0.1:%u check inter 200ms send-proxy-v2 check-send-proxy "
	    "agent-check agent-port %u agent-inter 200ms\n",
	    tcpd.port[P_COMMAND], ports[0], ports[1], ports[2]);
	hap = haproxy_start_servers(dir, front, servers, sock, sizeof(sock));
	for (i = 0; i < 100 && (strcmp(server_status_of(sock, "a"), "UP") != 0 ||
	    strcmp(server_status_of(sock, "b"), "UP") != 0); i++)
		poll(NULL, 0, 50);
	cr_assert_str_eq(server_status_of(sock, "a"), "UP");
	cr_assert_str_eq(server_status_of(sock, "b"), "UP");

	/* Connections all along: before, during shutdown_delay, through the drain, after. */
	start = (uint64_t)time(NULL);
	while (tries < 20000 && (uint64_t)time(NULL) < start + 5) {
		if (tries == 200)
			kill(tcpd.pid, SIGTERM);
		tries++;
		if ((r = whoami_through(front)) == NULL) {
			failed++;
			continue;
		}
		cr_assert_not_null(strstr(r, " addr=127.0.0.2:"), "%s", r);
		served[strstr(r, " listener=b ") != NULL][strstr(r, " worker=1") != NULL]++;
		if (tries % 50 == 0 && strcmp(server_status_of(sock, "a"), "DRAIN (agent)") == 0)
			drained = true;
		if (tcpd.pid != 0 && waitpid(tcpd.pid, &st, WNOHANG) == tcpd.pid)
			tcpd.pid = 0;	/* a has finished draining */
	}
	status = server_status_of(sock, "a");
	cr_log_info("%d connections through HAProxy, %d failed; a served %d+%d, b %d+%d", tries,
	    failed, served[0][0], served[0][1], served[1][0], served[1][1]);
	cr_assert_eq(failed, 0, "%d of %d connections refused, reset or unanswered", failed, tries);
	cr_assert(drained, "HAProxy never showed a draining");
	cr_assert(strncmp(status, "DOWN", 4) == 0, "a after its stop: %s", status);
	cr_assert(served[0][0] > 0 && served[0][1] > 0 && served[1][0] > 0 && served[1][1] > 0,
	    "every worker of both: %d %d %d %d", served[0][0], served[0][1], served[1][0],
	    served[1][1]);
	if (tcpd.pid != 0)
		cr_assert_eq(waitpid(tcpd.pid, &st, 0), tcpd.pid);
	tcpd.pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a's exit status %d", st);
	kill(hap, SIGTERM);
	waitpid(hap, NULL, 0);
	kill(b, SIGTERM);
	cr_assert_eq(waitpid(b, &st, 0), b);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "b's exit status %d: %s", st, slurp(log));
	temp_dir_remove(dir);
	tcpd_start_with(NULL, "proxy_protocol = any\nproxy_trusted = 127.0.0.1", 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * service = metrics against the real tools: HTTP byte for byte, promtool's
 * verdict, a Prometheus server scraping tcpd, redis_exporter reading INFO,
 * and readiness through a shutdown_delay.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static uint16_t metrics_port;
static char text[1 << 17];

/* The [tcpd] lines of the config: extra, then a metrics listener on metrics_port. */
static const char *
global(const char *extra)
{
	static char lines[512];

	snprintf(lines, sizeof(lines), "%s\n[listener.metrics]\nbind = 127.0.0.1:%u\n"
	    "service = metrics", extra != NULL ? extra : "", metrics_port);
	return lines;
}

/* The harness's listeners, plus a metrics one on a port of its own. */
static void
start(const char *extra)
{
	free_ports(&metrics_port, 1);
	tcpd_start(global(extra));
}

static void
setup(void)
{
	start(NULL);
}

TestSuite(metrics, .init = setup, .fini = tcpd_teardown, .timeout = 120);

static const char *
exchange(uint16_t port, const char *request)
{
	return exchange_to_eof(port, request, text, sizeof(text));
}

/* GET path with Connection: close: the whole response. */
static const char *
get(uint16_t port, const char *path)
{
	char request[2048];

	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n", path);
	return exchange(port, request);
}

/* The body of a 200 response to GET path. */
static const char *
body_of(uint16_t port, const char *path)
{
	const char *r = get(port, path), *body = strstr(r, "\r\n\r\n");

	cr_assert_eq(strncmp(r, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", r);
	cr_assert_not_null(body);
	return body + 4;
}

Test(metrics, health_and_errors_byte_for_byte)
{
	cr_assert_str_eq(get(metrics_port, "/health/live"), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
	    "Connection: close\r\n\r\nlive\n");
	cr_assert_str_eq(get(metrics_port, "/health/ready"), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n"
	    "Connection: close\r\n\r\nready\n");
	cr_assert_str_eq(get(metrics_port, "/nope?x=1"), "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 55\r\n"
	    "Connection: close\r\n\r\nnot found: try /metrics, /health/live or "
	    "/health/ready\n");
	cr_assert_str_eq(exchange(metrics_port, "DELETE /metrics HTTP/1.0\r\n\r\n"),
	    "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 34\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\n"
	    "only GET and HEAD are served here\n");
	/* HEAD: the headers GET would have, no body. */
	cr_assert_str_eq(exchange(metrics_port, "HEAD /health/live HTTP/1.0\r\n\r\n"),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 5\r\nConnection: close\r\n\r\n");
	cr_assert_str_eq(exchange(metrics_port, "GET / HTTP/2.0\r\n\r\n"),
	    "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: 43\r\nConnection: close\r\n\r\n"
	    "only HTTP/1.0 and HTTP/1.1 are spoken here\n");
	cr_assert_str_eq(exchange(metrics_port, "hello\r\n\r\n"),
	    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 47\r\nConnection: close\r\n\r\n"
	    "the request line is not METHOD TARGET HTTP/1.x\n");
	cr_assert_str_eq(exchange(metrics_port, "POST /metrics HTTP/1.1\r\n"
	    "Content-Length: 2\r\n\r\nhi"), "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\n"
	    "Connection: close\r\n\r\nrequest bodies are not accepted here\n");
}

Test(metrics, an_endless_request_line_is_414_before_it_ends)
{
	static char line[70000];
	int fd = tcp_connect(metrics_port);
	size_t n;

	memset(line, 'a', sizeof(line));
	memcpy(line, "GET /", 5);
	/* Over max_line (65536) with no line end: answered before any newline. */
	send_all(fd, line, sizeof(line));
	n = recv_all(fd, text, sizeof(text) - 1);
	text[n] = '\0';
	close(fd);
	cr_assert_eq(strncmp(text, "HTTP/1.1 414 URI Too Long\r\n", 27), 0, "%s", text);
	ping_ok();
}

/* Keep-alive: requests pipelined on one connection, answered in order. */
Test(metrics, keep_alive_answers_in_order)
{
	static const char two[] = "GET /health/live HTTP/1.1\r\nHost: a\r\n\r\n"
	    "HEAD /health/ready HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char want[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: 5\r\n\r\nlive\nHTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\n";
	int fd = tcp_connect(metrics_port);
	char got[sizeof(want)];

	send_all(fd, two, sizeof(two) - 1);
	recv_exact(fd, got, sizeof(want) - 1);
	assert_bytes(got, sizeof(want) - 1, want, sizeof(want) - 1);
	/* Still open for a third. */
	send_all(fd, "GET /health/live HTTP/1.1\r\n\r\n", 29);
	recv_exact(fd, got, 84);
	close(fd);
}

/* Runs argv with stdin from input; its exit status, its output in text. */
static int
run_with_input(const char *const argv[], const char *input)
{
	return run_capture_input(argv, input, strlen(input), text, sizeof(text));
}

Test(metrics, promtool_passes_the_exposition)
{
	const char *promtool[] = { "/usr/bin/promtool", "check", "metrics", NULL };
	static char body[1 << 17];
	int fd, i;

	if (access(promtool[0], X_OK) != 0)
		cr_skip_test("promtool is not installed (Debian's prometheus package)");
	for (i = 0; i < 3; i++)
		ping_ok();
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "NOPE\r\n", 6);
	recv_exact(fd, text, 28);
	close(fd);
	poll(NULL, 0, 100);	/* for tcpd to see that close before the scrape */
	snprintf(body, sizeof(body), "%s", body_of(metrics_port, "/metrics"));
	cr_assert_eq(run_with_input(promtool, body), 0, "promtool: %s\n%s", text, body);
	cr_assert_str_eq(text, "", "promtool's lint found: %s", text);
	/* Every family once, with the values this test caused. */
	cr_assert_not_null(strstr(body, "# TYPE tcpd_command_duration_seconds histogram\n"));
	cr_assert_not_null(strstr(body, "\ntcpd_commands_total{command=\"ping\"} 3\n"), "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_command_errors_total{command=\"ping\"} 0\n"));
	cr_assert_not_null(strstr(body, "\ntcpd_command_duration_seconds_bucket{command=\"ping\","
	    "le=\"+Inf\"} 3\n"), "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_command_duration_seconds_count{command=\"ping\"} 3\n"),
	    "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_connections_accepted_total{listener=\"command\","
	    "service=\"command\"} 5\n"), "%s", body);
	/* The harness's readiness probe resets; the four others close. */
	cr_assert_not_null(strstr(body, "\ntcpd_connections_closed_total{listener=\"command\","
	    "reason=\"client\"} 4\n"), "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_connections_active{listener=\"metrics\"} 1\n"),
	    "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_received_bytes_total{listener=\"command\"} 24\n"),
	    "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_connections_rejected_total{listener=\"echo\","
	    "reason=\"per_ip\"} 0\n"), "every series from the start");
	cr_assert_not_null(strstr(body, "\ntcpd_ready 1\n"));
	cr_assert_not_null(strstr(body, "\ntcpd_listen_queue_length{listener=\"echo\"} 0\n"));
	/* What INFO counts, from the same table: errors, unknown commands, faults. */
	cr_assert_not_null(strstr(body, "\ntcpd_error_replies_total 1\n"), "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_unknown_commands_total 1\n"), "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_faults_total{kind=\"reset\"} 0\n"), "%s", body);
	cr_assert_not_null(strstr(body, "\ntcpd_commands_processed_total 4\n"), "%s", body);
	cr_assert_not_null(strstr(tcpd_info(), "\r\nunknown_commands:1\r\n"), "%s",
	    tcpd_info());
}

/* A metric's value in an exposition: the sample line that starts with series. */
static unsigned long long
sample(const char *body, const char *series)
{
	char key[160];
	const char *at;

	snprintf(key, sizeof(key), "\n%s ", series);
	at = strstr(body, key);
	cr_assert_not_null(at, "no %s in:\n%s", series, body);
	return strtoull(at + strlen(key), NULL, 10);
}

/*
 * workers = 2: whichever worker answers the scrape, /metrics shows the sums
 * over both (never one worker's share, so never less than the scrape
 * before) and each worker's own series, labelled; INFO the same sums.
 */
Test(metrics, workers_every_scrape_shows_the_totals, .init = NULL)
{
	const char *promtool[] = { "/usr/bin/promtool", "check", "metrics", NULL };
	static char body[1 << 17];
	int held[10], i;

	start("workers = 2");
	cr_assert_eq(tcpd_log_await("all 2 workers serving", 1), 1);
	/* New connections, so both workers take some. */
	for (i = 0; i < 40; i++)
		ping_ok();
	/* Until each worker has seen its clients close (then no connection closes below). */
	for (i = 0; i < 100 && sample(body_of(metrics_port, "/metrics"),
	    "tcpd_connections_active{listener=\"command\"}") > 0; i++)
		poll(NULL, 0, 50);
	for (i = 0; i < 10; i++) {
		/* One more connection, on either worker, answered: counted there. */
		held[i] = tcp_connect(tcpd.port[P_COMMAND]);
		assert_ping(held[i]);
		snprintf(body, sizeof(body), "%s", body_of(metrics_port, "/metrics"));
		cr_assert_eq(sample(body, "tcpd_commands_total{command=\"ping\"}"), 41u + i,
		    "scrape %d:\n%s", i, body);
		cr_assert_eq(sample(body, "tcpd_commands_processed_total"), 41u + i);
		cr_assert_eq(sample(body, "tcpd_worker_commands_processed_total{worker=\"0\"}") +
		    sample(body, "tcpd_worker_commands_processed_total{worker=\"1\"}"), 41u + i,
		    "%s", body);
		cr_assert_eq(sample(body, "tcpd_connections_active{listener=\"command\"}"), 1u + i,
		    "scrape %d:\n%s", i, body);
		/* And the harness's probe. */
		cr_assert_eq(sample(body, "tcpd_connections_accepted_total{listener=\"command\","
		    "service=\"command\"}"), 42u + i, "scrape %d:\n%s", i, body);
	}
	cr_assert_not_null(strstr(tcpd_info(), "\r\ntotal_commands_processed:51\r\n"), "%s",
	    tcpd_info());
	if (access(promtool[0], X_OK) == 0) {
		cr_assert_eq(run_with_input(promtool, body), 0, "promtool: %s\n%s", text, body);
		cr_assert_str_eq(text, "", "promtool's lint found: %s", text);
	}
	for (i = 0; i < 10; i++)
		close(held[i]);
}

/* GET /metrics on a kept-alive connection: the body, in a buffer the next call reuses. */
static const char *
scrape_on(int fd)
{
	static const char get_metrics[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
	static char resp[1 << 17];
	const char *length;
	size_t n = 0, len;

	send_all(fd, get_metrics, sizeof(get_metrics) - 1);
	do
		recv_exact(fd, resp + n, 1);
	while (++n < 4 || memcmp(resp + n - 4, "\r\n\r\n", 4) != 0);
	resp[n] = '\0';
	cr_assert_not_null(length = strstr(resp, "Content-Length: "), "%s", resp);
	len = strtoul(length + 16, NULL, 10);
	cr_assert_lt(len, sizeof(resp));
	recv_exact(fd, resp, len);
	resp[len] = '\0';
	return resp;
}

/* Which worker serves the command connection fd (WHOAMI). */
static int
worker_of(int fd)
{
	char head[16], reply[512];
	const char *w;
	size_t i = 0;
	int len;

	send_all(fd, "WHOAMI\r\n", 8);
	do
		recv_exact(fd, head + i, 1);
	while (head[i] != '\n' && ++i < sizeof(head) - 1);
	cr_assert_eq(sscanf(head, "$%d", &len), 1);
	cr_assert(len > 0 && (size_t)len + 2 < sizeof(reply));
	recv_exact(fd, reply, (size_t)len + 2);
	reply[len] = '\0';
	cr_assert_not_null(w = strstr(reply, " worker="), "%s", reply);
	return atoi(w + 8);
}

/* Worker k's pid, from INFO's # Workers. */
static long
worker_pid(int k)
{
	char key[32];
	const char *info = tcpd_info(), *at;

	snprintf(key, sizeof(key), "\r\nworker_%d:pid=", k);
	cr_assert_not_null(at = strstr(info, key), "%s", info);
	return strtol(at + strlen(key), NULL, 10);
}

/*
 * workers = 2: a connection the other worker accepted is in the scrape at
 * once (its listener counts reach the board when a connection opens, not
 * some passes of the loop later). The scraped worker is stopped while the
 * client connects: which worker the kernel wakes for a connection is its
 * choice, and an idle pair can give every connection to the same one.
 */
Test(metrics, workers_a_scrape_counts_the_other_workers_connections_at_once, .init = NULL)
{
	int m, held[3], mine = -1, theirs, i;
	const char *body = "";
	pid_t scraped;

	start("workers = 2");
	tcpd_log_await("all 2 workers serving", 1);
	m = tcp_connect(metrics_port);
	/* Once the harness's probe is gone, only m is open: its worker has one client. */
	for (i = 0; i < 100 && mine < 0; i++) {
		body = scrape_on(m);
		if (sample(body, "tcpd_clients_connected") == 1)
			mine = sample(body, "tcpd_worker_clients_connected{worker=\"0\"}") == 1 ? 0 : 1;
		else
			poll(NULL, 0, 50);
	}
	cr_assert_geq(mine, 0, "%s", body);
	scraped = (pid_t)worker_pid(mine);
	cr_assert_gt(scraped, 0);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(kill(scraped, SIGSTOP), 0);
		held[i] = tcp_connect(tcpd.port[P_COMMAND]);
		theirs = worker_of(held[i]);
		cr_assert_eq(kill(scraped, SIGCONT), 0);
		cr_assert_neq(theirs, mine);
		body = scrape_on(m);
		cr_assert_eq(sample(body, "tcpd_connections_active{listener=\"command\"}"),
		    i + 1u, "%s", body);
		/* And the harness's probe, and INFO's for the pid. */
		cr_assert_eq(sample(body, "tcpd_connections_accepted_total{listener=\"command\","
		    "service=\"command\"}"), i + 3u, "%s", body);
	}
	close(m);
	for (i = 0; i < 3; i++)
		close(held[i]);
}

/* workers = 2: a worker killed and restarted takes none of the totals with it. */
Test(metrics, workers_a_restarted_worker_keeps_the_totals, .init = NULL)
{
	unsigned long long before, after;
	long victim, now = 0;
	int i;

	start("workers = 2");
	tcpd_log_await("all 2 workers serving", 1);
	for (i = 0; i < 30; i++)
		ping_ok();
	before = sample(body_of(metrics_port, "/metrics"), "tcpd_commands_total{command=\"ping\"}");
	cr_assert_eq(before, 30);
	victim = worker_pid(0);
	cr_assert_eq(kill((pid_t)victim, SIGKILL), 0);
	for (i = 0; i < 300 && ((now = worker_pid(0)) == 0 || now == victim); i++)
		usleep(10000);
	cr_assert(now != 0 && now != victim, "worker 0 not restarted");
	tcpd_log_await("worker 0: tcpd 0.1.0 ready", 2);
	/* Whichever worker answers, the dead one's PINGs are still there. */
	for (i = 0; i < 6; i++) {
		after = sample(body_of(metrics_port, "/metrics"),
		    "tcpd_commands_total{command=\"ping\"}");
		cr_assert_eq(after, 30, "scrape %d after the restart", i);
	}
}

static unsigned long long
ops_per_sec(void)
{
	const char *info = tcpd_info(), *at = strstr(info, "\r\ninstantaneous_ops_per_sec:");

	cr_assert_not_null(at, "%s", info);
	return strtoull(at + 28, NULL, 10);
}

/* instantaneous_ops_per_sec is the last whole 5 s period's: a reload does not cut it short. */
Test(metrics, ops_per_sec_holds_through_a_reload)
{
	static char pings[6 * 5000];
	char conf[8192];
	unsigned long long ops = 0;
	int fd, i;

	for (i = 0; i < 5000; i++)
		memcpy(pings + 6 * i, "PING\r\n", 6);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	cr_assert_eq(pump(fd, pings, sizeof(pings), true, text, sizeof(text)), 7 * 5000);
	close(fd);
	/* The first sample after them: 5000 PINGs (and these INFOs) in one period. */
	for (i = 0; i < 120 && (ops = ops_per_sec()) == 0; i++)
		poll(NULL, 0, 100);
	cr_assert_geq(ops, 1000);
	tcpd_config_text(conf, sizeof(conf), global(NULL), NULL);
	cr_assert_eq(tcpd_reload(conf), 0);
	cr_assert_eq(ops_per_sec(), ops, "the rate was %llu before the reload", ops);
}

static void
stop_child(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* Polls GET path on port until its body holds want (20 s at most). */
static const char *
await_body(uint16_t port, const char *path, const char *want, const char *log)
{
	int i, fd;

	for (i = 0; i < 200; i++) {
		if ((fd = tcp_try_connect(port)) >= 0) {
			close(fd);
			if (strstr(get(port, path), want) != NULL)
				return text;
		}
		poll(NULL, 0, 100);
	}
	cr_assert_fail("no '%s' from %s on port %u within 20 s; last:\n%s\nlog:\n%s", want,
	    path, port, text, slurp(log));
	return NULL;
}

/* A Prometheus query as a URL path: the few characters PromQL needs escaped. */
static const char *
query_path(const char *promql)
{
	static char path[1024];
	size_t n = (size_t)snprintf(path, sizeof(path), "/api/v1/query?query=");

	for (; *promql != '\0' && n + 4 < sizeof(path); promql++) {
		if (strchr("{}\"=()[], +", *promql) != NULL)
			n += (size_t)snprintf(path + n, sizeof(path) - n, "%%%02X",
			    (unsigned char)*promql);
		else
			path[n++] = *promql;
	}
	path[n] = '\0';
	return path;
}

Test(metrics, a_prometheus_server_scrapes_what_the_test_caused)
{
	const char *prom = "/usr/bin/prometheus";
	char dir[64], conf[128], data[128], listen[64], log[128], yaml[512];
	const char *argv[] = { prom, NULL, NULL, listen, "--log.level=warn", NULL };
	char config_arg[160], data_arg[160];
	const char *r;
	uint16_t port;
	double q;
	FILE *f;
	pid_t pid;
	int i;

	if (access(prom, X_OK) != 0)
		cr_skip_test("prometheus is not installed (Debian's prometheus package)");
	temp_dir_make(dir, sizeof(dir), "tcpd-prom");
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", dir);
	snprintf(yaml, sizeof(yaml), "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
	    "scrape_configs:\n  - job_name: tcpd\n    static_configs:\n"
	    "      - targets: ['127.0.0.1:%u']\n", metrics_port);
	cr_assert_not_null(f = fopen(conf, "w"));
	fputs(yaml, f);
	fclose(f);
	free_ports(&port, 1);
	snprintf(config_arg, sizeof(config_arg), "--config.file=%s", conf);
	snprintf(data_arg, sizeof(data_arg), "--storage.tsdb.path=%s", data);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", port);
	argv[1] = config_arg;
	argv[2] = data_arg;
	for (i = 0; i < 7; i++)
		ping_ok();
	pid = spawn_logged(argv, log);
	await_body(port, "/-/ready", "Ready", log);
	/* Two scrapes at least: then the last one holds the seven PINGs. */
	await_body(port, query_path("tcpd_commands_total{command=\"ping\"}"), "\"7\"]", log);
	r = await_body(port, query_path("count_over_time(tcpd_ready[1m]) >= 2"), "\"value\"",
	    log);
	/* The 99th percentile of PING's duration: under a millisecond. */
	r = await_body(port, query_path("histogram_quantile(0.99, "
	    "tcpd_command_duration_seconds_bucket{command=\"ping\"})"), "\"value\"", log);
	cr_assert_eq(sscanf(strstr(r, "\"value\":[") + 9, "%*f,\"%lf\"", &q), 1, "%s", r);
	cr_assert(q > 0 && q < 0.001, "p99 %g s: %s", q, r);
	stop_child(pid);
	temp_dir_remove(dir);
}

Test(metrics, redis_exporter_reads_info)
{
	const char *exporter = "/usr/bin/prometheus-redis-exporter";
	char addr[64], listen[64], dir[64], log[128];
	const char *argv[] = { exporter, "-redis.addr", addr, "-web.listen-address", listen,
	    NULL };
	const char *r;
	uint16_t port;
	pid_t pid;
	int i, held;

	if (access(exporter, X_OK) != 0)
		cr_skip_test("redis_exporter is not installed (prometheus-redis-exporter)");
	for (i = 0; i < 5; i++)
		ping_ok();
	held = tcp_connect(tcpd.port[P_COMMAND]);
	free_ports(&port, 1);
	snprintf(addr, sizeof(addr), "redis://127.0.0.1:%u", tcpd.port[P_COMMAND]);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	temp_dir_make(dir, sizeof(dir), "tcpd-exporter");
	snprintf(log, sizeof(log), "%s/exporter.log", dir);
	pid = spawn_logged(argv, log);
	r = await_body(port, "/metrics", "\nredis_up 1\n", log);
	cr_assert_not_null(strstr(r, "\nredis_commands_total{cmd=\"ping\"} 5\n"), "%s", r);
	/* The held connection and the exporter's own. */
	cr_assert_not_null(strstr(r, "\nredis_connected_clients 2\n"), "%s", r);
	cr_assert_not_null(strstr(r, "\nredis_rejected_connections_total 0\n"), "%s", r);
	cr_assert_not_null(strstr(r, "\nredis_connections_received_total "), "%s", r);
	cr_assert_not_null(strstr(r, "\nredis_config_maxclients 10000\n"), "%s", r);
	close(held);
	stop_child(pid);
	temp_dir_remove(dir);
}

/* SIGTERM with shutdown_delay: not ready at once, still accepting, then the drain. */
Test(metrics, readiness_drops_first_during_shutdown_delay, .init = NULL)
{
	int fd;

	start("shutdown_delay = 2");
	cr_assert_not_null(strstr(body_of(metrics_port, "/health/ready"), "ready\n"));
	kill(tcpd.pid, SIGTERM);
	poll(NULL, 0, 200);
	/* Asked for keep-alive, answered with a close: the client goes elsewhere. */
	cr_assert_str_eq(exchange(metrics_port, "GET /health/ready HTTP/1.1\r\nHost: a\r\n\r\n"),
	    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 9\r\nConnection: close\r\n\r\ndraining\n");
	cr_assert_not_null(strstr(body_of(metrics_port, "/health/live"), "live\n"));
	cr_assert_not_null(strstr(body_of(metrics_port, "/metrics"), "\ntcpd_draining 1\n"));
	/* New connections are still served while load balancers notice. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	assert_ping(fd);
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_eq(tcpd_log_count("still accepting for shutdown_delay (2 s)"), 1);
}

/* redis-benchmark asks CONFIG GET save and appendonly: now it gets answers. */
Test(metrics, redis_benchmark_does_not_warn)
{
	const char *bench[] = { "/usr/bin/redis-benchmark", "-p", NULL, "-t", "ping", "-n",
	    "200", "-q", NULL };
	char p[8];

	if (access(bench[0], X_OK) != 0)
		cr_skip_test("redis-benchmark is not installed");
	snprintf(p, sizeof(p), "%u", tcpd.port[P_COMMAND]);
	bench[2] = p;
	cr_assert_eq(run_capture(bench, text, sizeof(text)), 0, "%s", text);
	cr_assert_null(strstr(text, "WARNING"), "%s", text);
	cr_assert_not_null(strstr(text, "PING_MBULK: "), "%s", text);
}

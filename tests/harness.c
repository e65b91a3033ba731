/* SPDX-License-Identifier: MIT */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

struct tcpd_proc tcpd;

static void spawn(const char *, const char *const *, unsigned);
static bool stderr_broken;
static void wait_ready(uint16_t);

static const char *const service_names[NPORTS] = {
	"echo", "discard", "chargen", "daytime", "time", "command",
};

const char *
tcpd_bin(void)
{
	const char *bin = getenv("TCPD_BIN");

	cr_assert_not_null(bin, "TCPD_BIN must name the tcpd binary");
	return bin;
}

const char *
source_root(void)
{
	const char *dir = getenv("TCPD_SOURCE_ROOT");

	cr_assert_not_null(dir, "TCPD_SOURCE_ROOT must name the source tree");
	return dir;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
bound_socket(int family, uint16_t port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(family, SOCK_STREAM, 0), on = 1;

	cr_assert_geq(fd, 0);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if ((family == AF_INET ? bind(fd, (struct sockaddr *)&in, sizeof(in)) :
	    bind(fd, (struct sockaddr *)&in6, sizeof(in6))) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Every port free_ports() gave this test. A test picks its own ports, lets
 * them go, then tcpd_start() picks the standard ones: the kernel may hand back
 * a port just closed, and the config would bind it twice.
 */
static uint16_t given[256];
static size_t ngiven;

static bool
given_before(uint16_t port)
{
	size_t i;

	for (i = 0; i < ngiven && i < sizeof(given) / sizeof(given[0]); i++)
		if (given[i] == port)
			return true;
	return false;
}

/* Ports free on both 127.0.0.1 and ::1, none given to this test before; held until all are picked. */
void
free_ports(uint16_t *ports, size_t n)
{
	int held[4 * NPORTS];
	size_t i, nheld = 0;

	for (i = 0; i < n; i++) {
		for (;;) {
			struct sockaddr_in sin;
			socklen_t len = sizeof(sin);
			int v4 = bound_socket(AF_INET, 0), v6;

			cr_assert_geq(v4, 0);
			getsockname(v4, (struct sockaddr *)&sin, &len);
			ports[i] = ntohs(sin.sin_port);
			if (given_before(ports[i])) {
				/* Held, so that this call is not given it again. */
				if (nheld < sizeof(held) / sizeof(held[0]) - 2 * (n - i))
					held[nheld++] = v4;
				else
					close(v4);
				continue;
			}
			if ((v6 = bound_socket(AF_INET6, ports[i])) >= 0) {
				given[ngiven++ % (sizeof(given) / sizeof(given[0]))] = ports[i];
				held[nheld++] = v4;
				held[nheld++] = v6;
				break;
			}
			close(v4);
		}
	}
	for (i = 0; i < nheld; i++)
		close(held[i]);
}

static int
try_connect_rcvbuf(int family, uint16_t port, int rcvbuf)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct timeval tv = { 10, 0 };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	/* Before connect, so the window the peer sees is small from the start. */
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if ((family == AF_INET ? connect(fd, (struct sockaddr *)&in, sizeof(in)) :
	    connect(fd, (struct sockaddr *)&in6, sizeof(in6))) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
try_connect(int family, uint16_t port)
{
	return try_connect_rcvbuf(family, port, 0);
}

int
tcp_connect_small_window(uint16_t port)
{
	int fd = try_connect_rcvbuf(AF_INET, port, 4096);

	cr_assert_geq(fd, 0, "connect 127.0.0.1:%u: %s", port, strerror(errno));
	return fd;
}

int
tcp_try_connect(uint16_t port)
{
	return try_connect(AF_INET, port);
}

int
tcp_connect_admitted(uint16_t port)
{
	char in[8];
	int i, fd;

	for (i = 0; i < 200; i++) {
		fd = tcp_connect(port);
		send_all(fd, "PING\r\n", 6);
		if (recv_all(fd, in, 7) == 7 && memcmp(in, "+PONG\r\n", 7) == 0)
			return fd;
		close(fd);
		sleep_ms(10);
	}
	cr_assert_fail("tcpd admitted no connection in 2 s");
	return -1;
}

int
tcp_connect_from(const char *source, uint16_t port)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_eq(inet_pton(AF_INET, source, &src.sin_addr), 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0, "bind %s: %s",
	    source, strerror(errno));
	cr_assert_eq(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int
tcp_listen_loopback(uint16_t *port, int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "bind: %s",
	    strerror(errno));
	cr_assert_eq(listen(fd, backlog), 0, "listen: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

int
accept_peer(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = 10 };
	int fd;

	cr_assert_eq(poll(&p, 1, 5000), 1, "nobody connected within 5 s");
	cr_assert_neq(fd = accept(lfd, NULL, NULL), -1, "accept: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

void
rst_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(fd);
}

void
assert_reset(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, 0);

	cr_assert(n == -1 && errno == ECONNRESET, "expected an RST, got %zd (%s)", n,
	    n == -1 ? strerror(errno) : "data or EOF");
}

char *
random_bytes(size_t n)
{
	char *p = malloc(n);
	size_t i;

	cr_assert_not_null(p);
	for (i = 0; i < n; i++)
		p[i] = (char)(rand() >> 7);
	return p;
}

double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double
pair_round_trip_ms(int c, int s)
{
	char in[8];
	double t0 = now_ms();

	send_all(c, "ping\n", 5);
	recv_exact(s, in, 5);
	send_all(s, "pong\n", 5);
	recv_exact(c, in, 5);
	return now_ms() - t0;
}

void
assert_proxies(uint16_t port, int lfd)
{
	int c = tcp_connect(port), s = accept_peer(lfd);
	char in[16];

	send_all(c, "ping\n", 5);
	recv_exact(s, in, 5);
	assert_bytes(in, 5, "ping\n", 5);
	send_all(s, "pong\n", 5);
	recv_exact(c, in, 5);
	assert_bytes(in, 5, "pong\n", 5);
	close(c);
	close(s);
}

int
connect_errno(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	cr_assert_neq(s, -1);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err = errno;
	close(s);
	return err;
}

static void dump_log(void);

/* A refused connect to tcpd's port says why from its log: it exited, or never bound. */
static void
connect_failed(const char *where, uint16_t port, int err)
{
	dump_log();
	cr_assert_fail("connect %s:%u: %s", where, port, strerror(err));
}

int
tcp_connect(uint16_t port)
{
	int fd = try_connect(AF_INET, port);

	if (fd < 0)
		connect_failed("127.0.0.1", port, errno);
	return fd;
}

int
tcp_connect6(uint16_t port)
{
	int fd = try_connect(AF_INET6, port);

	if (fd < 0)
		connect_failed("[::1]", port, errno);
	return fd;
}

static void
dump_log(void)
{
	char line[512];
	FILE *f = fopen(tcpd.log, "r");

	if (f == NULL)
		return;
	fprintf(stderr, "---- tcpd log (%s)\n", tcpd.log);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

void
tcpd_config_text(char *dst, size_t size, const char *global_extra,
    const char *listener_extra)
{
	size_t n;
	int i;

	/* Debug logs help when a test fails, unless the test sets its own level. */
	n = (size_t)snprintf(dst, size, "[tcpd]\n%s%s\n",
	    global_extra && strstr(global_extra, "log_level") ? "" : "log_level = debug\n",
	    global_extra ? global_extra : "");
	for (i = 0; i < NPORTS && n < size; i++) {
		n += (size_t)snprintf(dst + n, size - n, "[listener.%s]\nbind = "
		    "127.0.0.1:%u [::1]:%u\n", service_names[i], tcpd.port[i],
		    tcpd.port[i]);
		if (listener_extra != NULL && n < size) {
			n += (size_t)snprintf(dst + n, size - n, listener_extra,
			    tcpd.port[i]);
			n += (size_t)snprintf(dst + n, size - n, "\n");
		}
		if (n < size)
			n += (size_t)snprintf(dst + n, size - n, "service = %s\n",
			    service_names[i]);
	}
	cr_assert_lt(n, size, "config text too long");
}

int
tcpd_log_count(const char *needle)
{
	char *log = tcpd_log_text(), *p;
	int n = 0;

	for (p = log; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(log);
	return n;
}

int
tcpd_log_await(const char *needle, int n)
{
	int i, seen = 0;

	for (i = 0; i < 500 && (seen = tcpd_log_count(needle)) < n; i++)
		sleep_ms(10);
	return seen;
}

int
tcpd_reload(const char *text)
{
	int done = tcpd_log_count("configuration reloaded"), failed = tcpd_log_count("reload failed");
	FILE *f;
	int i;

	cr_assert_not_null(f = fopen(tcpd.conf, "w"));
	fputs(text, f);
	fclose(f);
	kill(tcpd.pid, SIGHUP);
	for (i = 0; i < 500; i++) {
		if (tcpd_log_count("configuration reloaded") > done)
			return 0;
		if (tcpd_log_count("reload failed") > failed)
			return -1;
		sleep_ms(10);
	}
	cr_assert_fail("tcpd did not report the reload within 5 s");
	return -1;
}

void
tcpd_start(const char *global_extra)
{
	tcpd_start_with(global_extra, NULL, 0);
}

/* A fresh directory with the standard config (and the extras), on free ports if asked. */
static void
write_config(const char *global_extra, const char *listener_extra, bool pick_ports)
{
	char text[8192];
	FILE *f;

	temp_dir_make(tcpd.dir, sizeof(tcpd.dir), "tcpd-test");
	snprintf(tcpd.conf, sizeof(tcpd.conf), "%s/tcpd.conf", tcpd.dir);
	snprintf(tcpd.log, sizeof(tcpd.log), "%s/tcpd.log", tcpd.dir);
	if (pick_ports)
		free_ports(tcpd.port, NPORTS);
	cr_assert_not_null(f = fopen(tcpd.conf, "w"));
	tcpd_config_text(text, sizeof(text), global_extra, listener_extra);
	fputs(text, f);
	fclose(f);
}

void
tcpd_start_with(const char *global_extra, const char *listener_extra,
    unsigned nofile)
{
	const char *bin = tcpd_bin();

	write_config(global_extra, listener_extra, true);

	spawn(bin, NULL, nofile);
	wait_ready(0);
}

void
tcpd_start_stderr_broken(unsigned nofile)
{
	stderr_broken = true;
	tcpd_start_with(NULL, NULL, nofile);
	stderr_broken = false;
}

void
tcpd_restart_same_ports(void)
{
	spawn(tcpd_bin(), NULL, 0);
	wait_ready(0);
}

void
tcpd_start_activated(const char *const *wrapper, uint16_t trigger_port)
{
	write_config(NULL, NULL, false);
	spawn(tcpd_bin(), wrapper, 0);
	wait_ready(trigger_port);
}

/* Starts [wrapper...] tcpd --config tcpd.conf, logging to tcpd.log. */
static void
spawn(const char *bin, const char *const *wrapper, unsigned nofile)
{
	const char *argv[32];
	int n = 0, fd;

	while (wrapper != NULL && wrapper[n] != NULL && n < 28) {
		argv[n] = wrapper[n];
		n++;
	}
	argv[n++] = bin;
	argv[n++] = "--config";
	argv[n++] = tcpd.conf;
	argv[n] = NULL;
	if ((tcpd.pid = test_fork(SIGKILL)) == 0) {
		if (nofile != 0) {
			struct rlimit rl = { nofile, nofile };

			setrlimit(RLIMIT_NOFILE, &rl);
		}
		fd = open(tcpd.log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (stderr_broken) {
			int p[2];

			/* A pipe whose reader is gone: a write to it raises SIGPIPE. */
			if (pipe(p) == 0) {
				close(p[0]);
				dup2(p[1], STDERR_FILENO);
			}
		}
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	cr_assert_gt(tcpd.pid, 0);
}

/*
 * Waits until the command port accepts (first connecting to trigger when
 * set): true; false when tcpd exited first, with its wait status in *status.
 */
static bool
wait_ready_or_exit(uint16_t trigger, int *status)
{
	int i, fd;

	for (i = 0; i < 500; i++) {
		if (trigger != 0 && (fd = try_connect(AF_INET, trigger)) >= 0) {
			close(fd);
			trigger = 0;
		}
		if (trigger == 0 && (fd = try_connect(AF_INET, tcpd.port[P_COMMAND])) >= 0) {
			close(fd);
			return true;
		}
		if (waitpid(tcpd.pid, status, WNOHANG) == tcpd.pid) {
			tcpd.pid = 0;
			return false;
		}
		sleep_ms(10);
	}
	dump_log();
	cr_assert_fail("tcpd did not start listening within 5 s");
	return false;
}

static void
wait_ready(uint16_t trigger)
{
	int status;

	if (!wait_ready_or_exit(trigger, &status)) {
		dump_log();
		cr_assert_fail("tcpd exited at start with status %d", status);
	}
}

bool
tcpd_try_start_activated(const char *const *wrapper, uint16_t trigger_port, int *status)
{
	write_config(NULL, NULL, false);
	spawn(tcpd_bin(), wrapper, 0);
	return wait_ready_or_exit(trigger_port, status);
}

bool
tcpd_try_start(const char *bin, const char *global_extra, const char *listener_extra,
    int *status)
{
	write_config(global_extra, listener_extra, true);
	spawn(bin, NULL, 0);
	return wait_ready_or_exit(0, status);
}

int
tcpd_stop(void)
{
	if (tcpd.pid <= 0)
		return -1;
	kill(tcpd.pid, SIGTERM);
	return tcpd_await_exit();
}

int
tcpd_await_exit(void)
{
	int status, i;

	for (i = 0; i < 1000; i++) {
		if (waitpid(tcpd.pid, &status, WNOHANG) == tcpd.pid) {
			tcpd.pid = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				dump_log();
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
		}
		sleep_ms(10);
	}
	kill(tcpd.pid, SIGKILL);
	waitpid(tcpd.pid, &status, 0);
	tcpd.pid = 0;
	dump_log();
	cr_assert_fail("tcpd did not exit within 10 s");
	return -1;
}

void
tcpd_setup(void)
{
	tcpd_start(NULL);
}

void
tcpd_teardown(void)
{
	/* A test that stopped (and reaped) tcpd itself has checked its exit status. */
	int rc = tcpd.pid > 0 ? tcpd_stop() : 0;

	cr_assert_eq(rc, 0, "tcpd exit status %d", rc);
	temp_dir_remove(tcpd.dir);
}

char *
tcpd_log_text(void)
{
	FILE *f = fopen(tcpd.log, "r");
	char *text;
	long size;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return text;
}

double
tcpd_cpu_seconds(void)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tcpd.pid);
	cr_assert_not_null(f = fopen(path, "r"));
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* Fields after the parenthesised command name; utime and stime are 14 and 15. */
	p = strrchr(buf, ')');
	cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime), 2);
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long
tcpd_rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tcpd.pid);
	cr_assert_not_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void
assert_rss_growth_below(long rss0, long max_kib)
{
	long grew = tcpd_rss_kib() - rss0;

#if defined(__SANITIZE_ADDRESS__)
	cr_log_info("RSS bound (%ld KiB) not checked under ASan; grew %ld KiB",
	    max_kib, grew);
#else
	cr_assert_lt(grew, max_kib, "tcpd grew by %ld KiB (bound %ld KiB)", grew,
	    max_kib);
#endif
}

void
send_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		cr_assert_gt(w, 0, "send: %s", strerror(errno));
		s += w;
		n -= (size_t)w;
	}
}

size_t
recv_all(int fd, void *dst, size_t max)
{
	char *d = dst;
	size_t got = 0;
	ssize_t r;

	while (got < max) {
		r = recv(fd, d + got, max - got, 0);
		if (r == -1 && errno == EINTR)
			continue;
		cr_assert_geq(r, 0, "recv after %zu bytes: %s", got, strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return got;
}

void
recv_exact(int fd, void *dst, size_t n)
{
	size_t got = recv_all(fd, dst, n);

	cr_assert_eq(got, n, "wanted %zu bytes, got %zu before EOF", n, got);
}

bool
recv_eof(int fd)
{
	char c;
	ssize_t r;

	do
		r = recv(fd, &c, 1, 0);
	while (r == -1 && errno == EINTR);
	return r == 0;
}

size_t
pump(int fd, const void *out, size_t n, bool shut, void *in, size_t max)
{
	const char *o = out;
	char *d = in;
	size_t sent = 0, got = 0;
	time_t deadline = time(NULL) + 60;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (sent < n)
			pfd.events |= POLLOUT;
		cr_assert_lt(time(NULL), deadline, "pump: no progress in 60 s");
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((pfd.revents & POLLOUT) && sent < n) {
			r = send(fd, o + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0) {
				sent += (size_t)r;
				if (sent == n && shut)
					shutdown(fd, SHUT_WR);
			} else {
				cr_assert(r == -1 && (errno == EAGAIN || errno == EINTR),
				    "send: %s", strerror(errno));
			}
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = recv(fd, d + got, max - got, MSG_DONTWAIT);
			if (r == 0)
				break;
			if (r > 0) {
				got += (size_t)r;
				if (got == max)
					break;
			} else {
				cr_assert(errno == EAGAIN || errno == EINTR, "recv: %s",
				    strerror(errno));
			}
		}
	}
	cr_assert_eq(sent, n, "pump: the peer closed after %zu of %zu bytes", sent, n);
	return got;
}

void
assert_ping(int fd)
{
	char in[8];

	send_all(fd, "PING\r\n", 6);
	recv_exact(fd, in, 7);
	assert_reply(in, 7, "+PONG\r\n");
}

void
ping_ok(void)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	assert_ping(fd);
	close(fd);
}

const char *
tcpd_info(void)
{
	return tcpd_info_section("");
}

const char *
tcpd_info_section(const char *section)
{
	static char text[8192];
	char head[16], req[64];
	size_t i = 0;
	int fd = tcp_connect(tcpd.port[P_COMMAND]), len;

	snprintf(req, sizeof(req), "INFO%s%s\r\n", section[0] != '\0' ? " " : "", section);
	send_all(fd, req, strlen(req));
	/* "$<len>\r\n", then exactly len bytes and CRLF. */
	do
		recv_exact(fd, head + i, 1);
	while (head[i] != '\n' && ++i < sizeof(head) - 1);
	cr_assert_eq(sscanf(head, "$%d", &len), 1);
	cr_assert(len > 0 && (size_t)len < sizeof(text) - 2);
	recv_exact(fd, text, (size_t)len + 2);
	text[len] = '\0';
	close(fd);
	return text;
}

size_t
send_until_blocked(int fd, const void *p, size_t n)
{
	const char *s = p;
	size_t sent = 0;
	ssize_t w;

	while (sent < n) {
		w = send(fd, s + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == -1 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, 300) == 0)
				break;
			continue;
		}
		cr_assert_gt(w, 0, "send: %s", strerror(errno));
		sent += (size_t)w;
	}
	return sent;
}

const char *
exchange_to_eof(uint16_t port, const char *request, char *out, size_t size)
{
	int fd = tcp_connect(port);
	size_t n;

	send_all(fd, request, strlen(request));
	n = recv_all(fd, out, size - 1);
	out[n] = '\0';
	close(fd);
	return out;
}

void
die_with_test(pid_t test, int sig)
{
	/* A test that died before the prctl() sent nothing: gone already. */
	if (prctl(PR_SET_PDEATHSIG, sig) == -1 || getppid() != test)
		_exit(127);
}

pid_t
test_fork(int sig)
{
	pid_t test = getpid(), pid = fork();

	if (pid == 0)
		die_with_test(test, sig);
	return pid;
}

pid_t
spawn_logged(const char *const argv[], const char *log)
{
	pid_t pid = test_fork(SIGKILL);
	int fd;

	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	return pid;
}

pid_t
run_piped(const char *const argv[], int *to_child, int *from_child)
{
	int outp[2], inp[2];
	pid_t pid;

	cr_assert_eq(pipe(outp), 0);
	cr_assert_eq(pipe(inp), 0);
	/*
	 * A test that fails before it stops its child must not leave it running.
	 * SIGTERM, not SIGKILL: a script (bench.sh) then runs its EXIT trap, which
	 * stops the servers it started.
	 */
	if ((pid = test_fork(SIGTERM)) == 0) {
		dup2(inp[0], STDIN_FILENO);
		dup2(outp[1], STDOUT_FILENO);
		dup2(outp[1], STDERR_FILENO);
		close(inp[1]);
		close(outp[0]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	close(inp[0]);
	close(outp[1]);
	*to_child = inp[1];
	*from_child = outp[0];
	return pid;
}

int
run_capture_input(const char *const argv[], const char *input, size_t len,
    char *out, size_t size)
{
	int outp[2], inp[2], status;
	size_t got = 0;
	ssize_t r;
	pid_t pid = run_piped(argv, &inp[1], &outp[0]);
	/* A child may exit before it has read all its input: EPIPE, not a killed test. */
	void (*old_sigpipe)(int) = signal(SIGPIPE, SIG_IGN);

	/* Feed and read at once: a child that answers as it reads never blocks on us. */
	if (input == NULL || len == 0) {
		close(inp[1]);
		inp[1] = -1;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = outp[0], .events = POLLIN },
		    { .fd = inp[1], .events = POLLOUT } };
		char sink[4096];

		if (poll(p, 2, -1) == -1)
			continue;
		if (p[1].revents != 0) {
			r = write(inp[1], input, len > 65536 ? 65536 : len);
			if (r > 0) {
				input += r;
				len -= (size_t)r;
			}
			if (r <= 0 || len == 0) {
				close(inp[1]);
				inp[1] = -1;
			}
		}
		if (p[0].revents == 0)
			continue;
		if (got + 1 < size)
			r = read(outp[0], out + got, size - 1 - got);
		else
			r = read(outp[0], sink, sizeof(sink));
		if (r <= 0)
			break;
		if (got + 1 < size)
			got += (size_t)r;
	}
	if (inp[1] != -1)
		close(inp[1]);
	out[got] = '\0';
	close(outp[0]);
	signal(SIGPIPE, old_sigpipe);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
run_capture(const char *const argv[], char *out, size_t size)
{
	return run_capture_input(argv, NULL, 0, out, size);
}

static void
escape(char *dst, size_t size, const unsigned char *p, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 8 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			dst[o++] = (char)p[i];
		else
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", p[i]);
	}
	dst[o] = '\0';
}

void
assert_bytes(const void *got, size_t gotlen, const void *expect, size_t len)
{
	char g[1024], e[1024];

	if (gotlen == len && memcmp(got, expect, len) == 0)
		return;
	escape(g, sizeof(g), got, gotlen);
	escape(e, sizeof(e), expect, len);
	cr_assert_fail("got %zu bytes \"%s\"\nexpected %zu bytes \"%s\"", gotlen, g,
	    len, e);
}

const char *
slurp(const char *path)
{
	static char text[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s is missing", path);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

void
temp_dir_make(char *dir, size_t size, const char *prefix)
{
	snprintf(dir, size, "/tmp/%s.XXXXXX", prefix);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

void
temp_dir_remove(const char *dir)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

pid_t
redis_server_start(uint16_t port, const char *const *extra)
{
	char p[8], log[128], in[8];
	const char *argv[24] = { "redis-server", "--port", p, "--bind", "127.0.0.1",
	    "--save", "", "--appendonly", "no", NULL };
	pid_t pid;
	int i, fd, n = 9;

	if (system("command -v redis-server >/dev/null") != 0)
		return 0;
	while (extra != NULL && *extra != NULL && n < 23)
		argv[n++] = *extra++;
	argv[n] = NULL;
	snprintf(p, sizeof(p), "%u", port);
	snprintf(log, sizeof(log), "%s/redis-%s.log", tcpd.dir, p);
	pid = spawn_logged(argv, log);
	for (i = 0; i < 500; i++) {
		if ((fd = tcp_try_connect(port)) != -1) {
			send_all(fd, "PING\r\n", 6);
			if (recv(fd, in, sizeof(in), 0) > 0) {
				close(fd);
				return pid;
			}
			close(fd);
		}
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	cr_assert_fail("redis-server did not answer on port %s within 5 s", p);
	return 0;
}

void
tcp_buffers(uint16_t local, uint16_t remote, int *rcvbuf, int *sndbuf)
{
	struct {
		struct nlmsghdr		h;
		struct inet_diag_req_v2	r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST },
		.r = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP,
		    .idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1), .idiag_states = ~0u,
		    .id = { .idiag_sport = htons(local), .idiag_dport = htons(remote),
		    .idiag_src = { htonl(INADDR_LOOPBACK) },
		    .idiag_dst = { htonl(INADDR_LOOPBACK) },
		    .idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE } } },
	};
	/* Aligned for the headers it holds. */
	union {
		struct nlmsghdr	h;
		char		bytes[4096];
	} in;
	struct nlmsghdr *h = &in.h;
	struct rtattr *a;
	const uint32_t *mem;
	ssize_t n;
	int fd, len;

	cr_assert_geq(fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), 0,
	    "netlink socket: %s", strerror(errno));
	cr_assert_eq(send(fd, &req, sizeof(req), 0), (ssize_t)sizeof(req), "sock_diag: %s",
	    strerror(errno));
	n = recv(fd, &in, sizeof(in), 0);
	close(fd);
	cr_assert(n > 0 && NLMSG_OK(h, (size_t)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY,
	    "no TCP socket 127.0.0.1:%u to 127.0.0.1:%u (%s)", local, remote,
	    h->nlmsg_type == NLMSG_ERROR ? strerror(-((struct nlmsgerr *)NLMSG_DATA(h))->error) :
	    "no answer");
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(struct inet_diag_msg)));
	for (a = (struct rtattr *)((char *)NLMSG_DATA(h) + sizeof(struct inet_diag_msg));
	    RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != INET_DIAG_SKMEMINFO ||
		    RTA_PAYLOAD(a) < SK_MEMINFO_VARS * sizeof(uint32_t))
			continue;
		mem = RTA_DATA(a);
		*rcvbuf = (int)mem[SK_MEMINFO_RCVBUF];
		*sndbuf = (int)mem[SK_MEMINFO_SNDBUF];
		return;
	}
	cr_assert_fail("sock_diag gave no memory figures for 127.0.0.1:%u", local);
}

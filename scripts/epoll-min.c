/* SPDX-License-Identifier: MIT */
/*
 * epoll-min: the least a TCP server can do per request, as a benchmark peer
 * for scripts/bench.sh, so tcpd's figures can be read against what any epoll
 * server reaches on the same machine.
 *
 * usage: epoll-min pong|echo PORT
 *
 * One level-triggered epoll loop on 127.0.0.1:PORT (0: any free port); it
 * prints "port N" once listening and exits 0 on SIGTERM or SIGINT. Each
 * readiness event on a connection costs one read and one write:
 *   echo  writes back what it read.
 *   pong  parses nothing: it counts the newlines it read and writes one
 *         "+PONG\r\n" for every three, the newlines of the RESP request
 *         "*1\r\n$4\r\nPING\r\n" that tcpd-cli bench sends (the count left
 *         over is carried to the connection's next read).
 * A write the socket does not take whole keeps its rest, and the connection
 * reads nothing more until that is written: no buffer grows past one read's
 * reply.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_SIZE		(64 * 1024)	/* as tcpd's read chunk */
#define NEWLINES_PER_PING	3
#define PONG			"+PONG\r\n"
#define PONG_LEN		(sizeof(PONG) - 1)
#define MAX_PONGS		(READ_SIZE / NEWLINES_PER_PING + 1)
#define MAX_EVENTS		256
#define MAX_FDS			(1 << 20)

/* What a connection still owes its client from its last read. */
struct pending {
	char *data;
	size_t off, len;
	unsigned newlines;	/* counted, not yet a whole request */
};

static bool echo_mode;
static int ep, lfd;
static bool accept_paused;
static struct pending *conns;	/* by fd */
static size_t nconns;
static char in[READ_SIZE];
static char pongs[MAX_PONGS * PONG_LEN];

static int
watch(int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(ep, op, fd, &ev) == -1) {
		perror("epoll-min: epoll_ctl");
		return -1;
	}
	return 0;
}

static void
conn_close(int fd)
{
	free(conns[fd].data);
	memset(&conns[fd], 0, sizeof(conns[fd]));
	if (close(fd) == -1 && errno != EINTR)
		perror("epoll-min: close");
	/* A descriptor is free again: take connections once more. */
	if (accept_paused && watch(EPOLL_CTL_ADD, lfd, EPOLLIN) == 0)
		accept_paused = false;
}

static void
on_accept(void)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Level-triggered: the listener would wake us in a loop. */
			if (watch(EPOLL_CTL_DEL, lfd, 0) == 0)
				accept_paused = true;
		} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
			perror("epoll-min: accept4");
		}
		return;
	}
	if ((size_t)fd >= nconns) {
		fprintf(stderr, "epoll-min: descriptor %d past the table\n", fd);
		close(fd);
		return;
	}
	if (watch(EPOLL_CTL_ADD, fd, EPOLLIN) == -1)
		close(fd);
}

/* Sends p..p+len; what the socket does not take waits for EPOLLOUT. */
static void
send_reply(int fd, const char *p, size_t len)
{
	struct pending *c = &conns[fd];
	ssize_t n = write(fd, p, len);

	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			conn_close(fd);
			return;
		}
		n = 0;
	}
	if ((size_t)n == len)
		return;
	if ((c->data = malloc(len - (size_t)n)) == NULL) {
		perror("epoll-min: malloc");
		conn_close(fd);
		return;
	}
	memcpy(c->data, p + n, len - (size_t)n);
	c->off = 0;
	c->len = len - (size_t)n;
	if (watch(EPOLL_CTL_MOD, fd, EPOLLOUT) == -1)
		conn_close(fd);
}

static void
on_readable(int fd)
{
	struct pending *c = &conns[fd];
	ssize_t n = read(fd, in, sizeof(in));
	const char *p, *end;
	size_t k;

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {	/* the end, or a reset */
		conn_close(fd);
		return;
	}
	if (echo_mode) {
		send_reply(fd, in, (size_t)n);
		return;
	}
	for (p = in, end = in + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		c->newlines++;
	k = c->newlines / NEWLINES_PER_PING;
	c->newlines %= NEWLINES_PER_PING;
	if (k > 0)
		send_reply(fd, pongs, k * PONG_LEN);
}

static void
on_writable(int fd)
{
	struct pending *c = &conns[fd];
	ssize_t n = write(fd, c->data + c->off, c->len - c->off);

	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(fd);
		return;
	}
	c->off += (size_t)n;
	if (c->off < c->len)
		return;
	free(c->data);
	c->data = NULL;
	if (watch(EPOLL_CTL_MOD, fd, EPOLLIN) == -1)
		conn_close(fd);
}

static int
listen_on(const char *port_arg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	char *end;
	unsigned long port;
	int on = 1;

	errno = 0;
	port = strtoul(port_arg, &end, 10);
	if (errno != 0 || end == port_arg || *end != '\0' || port > 65535) {
		fprintf(stderr, "epoll-min: bad port '%s'\n", port_arg);
		return -1;
	}
	sin.sin_port = htons((in_port_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		perror("epoll-min: listen");
		return -1;
	}
	/* bench.sh and the tests learn the port from this line. */
	if (printf("port %u\n", ntohs(sin.sin_port)) < 0 || fflush(stdout) == EOF) {
		perror("epoll-min: stdout");
		return -1;
	}
	return 0;
}

/* SIGTERM and SIGINT as a descriptor the loop watches. */
static int
signal_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		perror("epoll-min: signalfd");
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct epoll_event events[MAX_EVENTS];
	struct rlimit rl;
	int sfd, i, n;
	size_t k;

	if (argc != 3 || (strcmp(argv[1], "pong") != 0 && strcmp(argv[1], "echo") != 0)) {
		fprintf(stderr, "usage: epoll-min pong|echo PORT\n");
		return 2;
	}
	echo_mode = strcmp(argv[1], "echo") == 0;
	for (k = 0; k < MAX_PONGS; k++)
		memcpy(pongs + k * PONG_LEN, PONG, PONG_LEN);
	/* A client gone while we write is an error from write, not a signal. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		perror("epoll-min: setup");
		return 1;
	}
	nconns = rl.rlim_cur < MAX_FDS ? (size_t)rl.rlim_cur : MAX_FDS;
	if ((conns = calloc(nconns, sizeof(*conns))) == NULL) {
		perror("epoll-min: calloc");
		return 1;
	}
	if ((sfd = signal_fd()) == -1 || listen_on(argv[2]) == -1)
		return 1;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("epoll-min: epoll_create1");
		return 1;
	}
	if (watch(EPOLL_CTL_ADD, lfd, EPOLLIN) == -1 || watch(EPOLL_CTL_ADD, sfd, EPOLLIN) == -1)
		return 1;
	for (;;) {
		if ((n = epoll_wait(ep, events, MAX_EVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			perror("epoll-min: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == sfd)
				return 0;
			if (fd == lfd)
				on_accept();
			else if (conns[fd].data != NULL)
				on_writable(fd);
			else
				on_readable(fd);
		}
	}
}

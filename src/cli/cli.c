/* SPDX-License-Identifier: MIT */
/* tcpd-cli: a client for tcpd (and any RESP server or plain TCP service). */
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpd_build.h"
#include "cli/bench.h"
#include "cli/reply.h"
#include "tcpd/buf.h"
#include "tcpd/net.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

#define CLI_REPLY_MAX	(512u << 20)	/* the largest reply accepted, by default */
#define CLI_LINE_MAX	(64 * 1024)
#define CLI_CHUNK	(64 * 1024)
#define CLI_READ_AHEAD	(1u << 20)	/* commands queued ahead of the server */

enum { EXIT_OK = 0, EXIT_ERROR_REPLY = 1, EXIT_CONNECTION = 2, EXIT_USAGE = 3 };

struct cli {
	const char	*host;
	const char	*port;
	int		 connect_timeout_ms;
	int		 timeout_ms;	/* 0 = wait for a reply as long as it takes */
	int		 fd;
	size_t		 max_reply;
	struct buf	 in;		/* received, not yet printed */
	struct reply_state reply;	/* how much of in is checked */
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tcpd-cli [-h HOST] [-p PORT] [--connect-timeout MS] [--timeout MS] [CMD [ARG...]]\n"
	    "       tcpd-cli [-h HOST] [-p PORT] --raw\n"
	    "       tcpd-cli bench [options]   (tcpd-cli bench --help)\n"
	    "  -h, --host HOST          server name or address (default 127.0.0.1)\n"
	    "  -p, --port PORT          server port (default 7070)\n"
	    "      --connect-timeout MS give up connecting after MS ms (default 5000)\n"
	    "      --timeout MS         give up waiting for a reply after MS ms (default: never)\n"
	    "      --max-reply BYTES    refuse a reply larger than this (default 536870912)\n"
	    "      --raw                copy stdin to the server and the server to stdout\n"
	    "  -v, --version            print the version\n"
	    "      --help               this text\n"
	    "With CMD, send it and print the reply. Without, read commands from the\n"
	    "terminal (a prompt) or, when stdin is not a terminal, one per line.\n"
	    "HOST may be an IPv6 address in brackets, as [::1].\n"
	    "Exit status: 0 ok, 1 error reply, 2 connection failure or timeout,\n"
	    "3 usage error.\n");
}

static bool
cli_connect(struct cli *c, bool quiet)
{
	struct net_addr used;
	char err[256];

	c->fd = net_dial(c->host, c->port, c->connect_timeout_ms, &used, err, sizeof(err));
	if (c->fd == -1 && !quiet)
		fprintf(stderr, "tcpd-cli: %s\n", err);
	return c->fd != -1;
}

static void
cli_disconnect(struct cli *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_consume(&c->in, buf_len(&c->in));
	c->reply = (struct reply_state){ 0 };
}

/* Waits for events on fd; false (with a message) on timeout or error. */
static bool
wait_fd(struct cli *c, short events, const char *what)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, c->timeout_ms > 0 ? c->timeout_ms : -1);
	while (rc == -1 && errno == EINTR);
	if (rc == 0)
		fprintf(stderr, "tcpd-cli: no %s within %d ms\n", what, c->timeout_ms);
	else if (rc == -1)
		fprintf(stderr, "tcpd-cli: poll: %s\n", strerror(errno));
	return rc > 0;
}

static bool
send_bytes(struct cli *c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EAGAIN) {
			if (!wait_fd(c, POLLOUT, "progress sending"))
				return false;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			fprintf(stderr, "tcpd-cli: send: %s\n", strerror(errno));
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads what has arrived into c->in; false on EOF, error or a reply too large (said why). */
static bool
recv_some(struct cli *c)
{
	size_t room = c->in.max - buf_len(&c->in);
	char *dst;
	ssize_t n;

	if (room > CLI_CHUNK)
		room = CLI_CHUNK;
	if (room == 0 || (dst = buf_reserve(&c->in, room)) == NULL) {
		fprintf(stderr, "tcpd-cli: reply larger than %zu bytes (--max-reply)\n",
		    c->max_reply);
		return false;
	}
	do
		n = recv(c->fd, dst, room, MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		fprintf(stderr, "tcpd-cli: the server closed the connection\n");
		return false;
	}
	if (n == -1) {
		if (errno == EAGAIN)
			return true;
		fprintf(stderr, "tcpd-cli: recv: %s\n", strerror(errno));
		return false;
	}
	buf_commit(&c->in, (size_t)n);
	return true;
}

/* Waits for and reads more bytes; false on EOF, error or timeout (said why). */
static bool
receive(struct cli *c)
{
	return wait_fd(c, POLLIN, "reply") && recv_some(c);
}

/* Prints the complete reply at the front of c->in; returns its exit status. */
static int
print_reply(struct cli *c, size_t len)
{
	struct buf text;
	int rc = reply_is_error(buf_data(&c->in)) ? EXIT_ERROR_REPLY : EXIT_OK;

	buf_init(&text, SIZE_MAX);
	if (reply_format(&text, buf_data(&c->in), len) == 0)
		fwrite(buf_data(&text), 1, buf_len(&text), stdout);
	fflush(stdout);
	buf_free(&text);
	buf_consume(&c->in, len);
	return rc;
}

/*
 * The next complete reply in c->in: its length, RESP_INCOMPLETE, or
 * RESP_ERROR (said why). What was checked is not checked again.
 */
static ssize_t
next_reply(struct cli *c)
{
	ssize_t len = reply_parse(&c->reply, buf_data(&c->in), buf_len(&c->in));

	if (len == RESP_ERROR)
		fprintf(stderr, "tcpd-cli: the server's reply is not RESP\n");
	return len;
}

/* Reads and prints one reply; EXIT_CONNECTION when none came. */
static int
await_reply(struct cli *c)
{
	ssize_t len;

	while ((len = next_reply(c)) == RESP_INCOMPLETE)
		if (!receive(c))
			return EXIT_CONNECTION;
	if (len == RESP_ERROR)
		return EXIT_CONNECTION;
	return print_reply(c, (size_t)len);
}

static int
encode(struct buf *out, int argc, char **argv)
{
	int i, rc = resp_add_array(out, (size_t)argc);

	for (i = 0; i < argc && rc == 0; i++)
		rc = resp_add_bulk(out, argv[i], strlen(argv[i]));
	return rc;
}

/*
 * The next line of stdin into line (CLI_LINE_MAX + 2 bytes). Returns 1, 0 at
 * the end, or -1 for a line longer than CLI_LINE_MAX: skipped whole, said so.
 */
static int
next_line(char *line)
{
	size_t n;
	int ch;

	if (fgets(line, CLI_LINE_MAX + 2, stdin) == NULL)
		return 0;
	n = strlen(line);
	if (n <= CLI_LINE_MAX || line[n - 1] == '\n')
		return 1;
	while ((ch = getchar()) != EOF && ch != '\n')
		continue;
	fprintf(stderr, "tcpd-cli: line longer than %d bytes, skipped\n", CLI_LINE_MAX);
	return -1;
}

/* Splits a typed line into a request with the daemon's own inline parser. */
static int
encode_line(struct buf *out, const char *line, size_t *argc)
{
	struct resp_state st = { 0 };
	struct resp_request req;
	char text[CLI_LINE_MAX + 2];
	size_t n = strcspn(line, "\r\n"), i;
	int rc;

	memcpy(text, line, n);
	text[n] = '\n';
	if (resp_parse(&st, &req, text, n + 1, CLI_LINE_MAX) < 0) {
		fprintf(stderr, "tcpd-cli: invalid arguments: %s\n", req.error);
		return -1;
	}
	*argc = req.argc;
	if (req.argc == 0)
		return 0;
	if (req.argc > RESP_MAX_ARGS) {
		fprintf(stderr, "tcpd-cli: at most %d arguments per command\n", RESP_MAX_ARGS);
		return -1;
	}
	rc = resp_add_array(out, req.argc);
	for (i = 0; i < req.argc && rc == 0; i++)
		rc = resp_add_bulk(out, req.argv[i].ptr, req.argv[i].len);
	return rc;
}

static int
run_command(struct cli *c, int argc, char **argv)
{
	struct buf out;
	int rc;

	if (!cli_connect(c, false))
		return EXIT_CONNECTION;
	buf_init(&out, SIZE_MAX);
	encode(&out, argc, argv);
	rc = send_bytes(c, buf_data(&out), buf_len(&out)) ? await_reply(c) : EXIT_CONNECTION;
	buf_free(&out);
	return rc;
}

static bool
is_quit(const char *line)
{
	char word[8];

	return sscanf(line, " %7s", word) == 1 &&
	    (strcasecmp(word, "quit") == 0 || strcasecmp(word, "exit") == 0);
}

/* A prompt; the connection is made again when the server went away. */
static int
run_interactive(struct cli *c)
{
	char line[CLI_LINE_MAX + 2];
	int rc = EXIT_OK, attempt, got;
	size_t argc;

	cli_connect(c, false);
	for (;;) {
		struct buf out;

		if (c->fd != -1)
			printf("%s:%s> ", c->host, c->port);
		else
			printf("not connected> ");
		fflush(stdout);
		if ((got = next_line(line)) == 0 || (got == 1 && is_quit(line)))
			break;
		buf_init(&out, SIZE_MAX);
		if (got == -1 || encode_line(&out, line, &argc) == -1 || argc == 0) {
			buf_free(&out);
			continue;
		}
		/* A second try after reconnecting, for a server that restarted. */
		for (attempt = 0; attempt < 2; attempt++) {
			if (c->fd == -1 && !cli_connect(c, false))
				break;
			if (send_bytes(c, buf_data(&out), buf_len(&out)) &&
			    (rc = await_reply(c)) != EXIT_CONNECTION)
				break;
			cli_disconnect(c);
		}
		buf_free(&out);
	}
	cli_disconnect(c);
	return EXIT_OK;
}

/*
 * Splits stdin into lines as it arrives, encoding each as a request into
 * out; a line longer than CLI_LINE_MAX is skipped whole, said once.
 */
struct line_reader {
	char	 line[CLI_LINE_MAX];
	size_t	 len;
	bool	 too_long;
	size_t	 requests;	/* encoded, not yet answered */
	bool	 bad;		/* a line was refused */
};

static void
take_line(struct line_reader *r, struct buf *out)
{
	char text[CLI_LINE_MAX + 1];
	size_t argc;

	if (r->too_long) {
		fprintf(stderr, "tcpd-cli: line longer than %d bytes, skipped\n",
		    CLI_LINE_MAX);
		r->bad = true;
	} else {
		memcpy(text, r->line, r->len);
		text[r->len] = '\0';
		if (encode_line(out, text, &argc) == -1)
			r->bad = true;
		else
			r->requests += argc > 0;
	}
	r->len = 0;
	r->too_long = false;
}

static void
take_input(struct line_reader *r, struct buf *out, const char *p, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (!r->too_long && r->len + k <= CLI_LINE_MAX) {
			memcpy(r->line + r->len, p, k);
			r->len += k;
		} else {
			r->too_long = true;
		}
		if (nl == NULL)
			return;
		take_line(r, out);
		p += k + 1;
		n -= k + 1;
	}
}

/*
 * Every line of stdin is a command, sent pipelined, the replies printed in
 * order as they come. stdin is read in the same poll loop as the server, so
 * a script that pauses gets its replies meanwhile; at most CLI_READ_AHEAD
 * bytes of commands wait to be sent.
 */
static int
run_pipe(struct cli *c)
{
	static struct line_reader r;
	char chunk[CLI_CHUNK];
	struct buf out;
	bool more_input = true;
	int rc = EXIT_OK, ready;
	ssize_t len, n;

	if (!cli_connect(c, false))
		return EXIT_CONNECTION;
	buf_init(&out, SIZE_MAX);
	while (more_input || r.requests > 0) {
		struct pollfd p[2] = {
			{ .fd = c->fd, .events = POLLIN | (buf_len(&out) > 0 ? POLLOUT : 0) },
			/* A closed stdin leaves the set, or its POLLHUP would spin. */
			{ .fd = more_input && buf_len(&out) < CLI_READ_AHEAD ? STDIN_FILENO : -1,
			  .events = POLLIN },
		};

		ready = poll(p, 2, r.requests > 0 && c->timeout_ms > 0 ? c->timeout_ms : -1);
		if (ready == -1 && errno == EINTR)
			continue;
		if (ready == 0) {
			fprintf(stderr, "tcpd-cli: no reply within %d ms\n", c->timeout_ms);
			rc = EXIT_CONNECTION;
			break;
		}
		if (p[1].revents != 0) {
			do
				n = read(STDIN_FILENO, chunk, sizeof(chunk));
			while (n == -1 && errno == EINTR);
			if (n > 0) {
				take_input(&r, &out, chunk, (size_t)n);
			} else if (n == 0 || errno != EAGAIN) {
				if (r.len > 0 || r.too_long)
					take_line(&r, &out);	/* a last line without a newline */
				more_input = false;
			}
		}
		if ((p[0].revents & POLLOUT) && buf_len(&out) > 0) {
			n = send(c->fd, buf_data(&out), buf_len(&out),
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				buf_consume(&out, (size_t)n);
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (!recv_some(c)) {
			rc = EXIT_CONNECTION;
			break;
		}
		while (r.requests > 0 && (len = next_reply(c)) != RESP_INCOMPLETE) {
			if (len == RESP_ERROR) {
				rc = EXIT_CONNECTION;
				goto done;
			}
			if (print_reply(c, (size_t)len) == EXIT_ERROR_REPLY)
				rc = EXIT_ERROR_REPLY;
			r.requests--;
		}
	}
	if (r.bad && rc == EXIT_OK)
		rc = EXIT_ERROR_REPLY;
done:
	buf_free(&out);
	cli_disconnect(c);
	return rc;
}

/*
 * A byte pipe: stdin to the server, the server to stdout, like nc. It never
 * stops reading the server while it has bytes to send, and stops reading
 * stdin while a chunk waits to go out, so neither side can wedge the other.
 */
static int
run_raw(struct cli *c)
{
	char chunk[CLI_CHUNK], pending[CLI_CHUNK];
	size_t npending = 0, off = 0;
	bool stdin_open = true, sent_fin = false;
	ssize_t n;

	if (!cli_connect(c, false))
		return EXIT_CONNECTION;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->fd, .events = POLLIN | (npending > 0 ? POLLOUT : 0) },
			/* A closed stdin leaves the set, or its POLLHUP would spin. */
			{ .fd = stdin_open && npending == 0 ? STDIN_FILENO : -1, .events = POLLIN },
		};
		int rc = poll(p, 2, c->timeout_ms > 0 ? c->timeout_ms : -1);

		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == 0) {
			fprintf(stderr, "tcpd-cli: nothing from the server within %d ms\n",
			    c->timeout_ms);
			return EXIT_CONNECTION;
		}
		if (p[1].revents != 0) {
			do
				n = read(STDIN_FILENO, pending, sizeof(pending));
			while (n == -1 && errno == EINTR);
			if (n > 0) {
				npending = (size_t)n;
				off = 0;
			} else if (n == 0 || errno != EAGAIN) {
				stdin_open = false;
			}
		}
		if ((p[0].revents & POLLOUT) && npending > 0) {
			n = send(c->fd, pending + off, npending, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n == -1 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "tcpd-cli: send: %s\n", strerror(errno));
				return EXIT_CONNECTION;
			}
			if (n > 0) {
				off += (size_t)n;
				npending -= (size_t)n;
			}
		}
		/* Our half-close once all of stdin is out: the server still sends what it owes. */
		if (!stdin_open && npending == 0 && !sent_fin) {
			shutdown(c->fd, SHUT_WR);
			sent_fin = true;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(c->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
			if (n == 0)
				break;
			if (n == -1 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "tcpd-cli: recv: %s\n", strerror(errno));
				return EXIT_CONNECTION;
			}
			if (n > 0 && fwrite(chunk, 1, (size_t)n, stdout) != (size_t)n)
				return EXIT_CONNECTION;
			fflush(stdout);
		}
	}
	cli_disconnect(c);
	return EXIT_OK;
}

static int
parse_ms(const char *s, int *ms)
{
	int64_t v;

	if (num_parse_str(s, 0, 86400000, &v) == -1)
		return -1;
	*ms = (int)v;
	return 0;
}

int
main(int argc, char *argv[])
{
	enum { OPT_CONNECT_TIMEOUT = 256, OPT_TIMEOUT, OPT_MAX_REPLY, OPT_RAW, OPT_HELP };
	static const struct option options[] = {
		{ "host",		required_argument,	NULL, 'h' },
		{ "port",		required_argument,	NULL, 'p' },
		{ "connect-timeout",	required_argument,	NULL, OPT_CONNECT_TIMEOUT },
		{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
		{ "max-reply",		required_argument,	NULL, OPT_MAX_REPLY },
		{ "raw",		no_argument,		NULL, OPT_RAW },
		{ "help",		no_argument,		NULL, OPT_HELP },
		{ "version",		no_argument,		NULL, 'v' },
		{ NULL,			0,			NULL, 0 },
	};
	struct cli c = { .host = "127.0.0.1", .port = "7070",
	    .connect_timeout_ms = 5000, .fd = -1, .max_reply = CLI_REPLY_MAX };
	int64_t v;
	bool raw = false;
	int ch, rc;

	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return bench_main(argc - 1, argv + 1);
	/* '+' stops at the command, so its own arguments may start with '-'. */
	while ((ch = getopt_long(argc, argv, "+h:p:v", options, NULL)) != -1) {
		switch (ch) {
		case 'h':
			c.host = optarg;
			/* [::1], as an address is written beside a port, means ::1. */
			if (c.host[0] == '[' && c.host[strlen(c.host) - 1] == ']') {
				optarg[strlen(optarg) - 1] = '\0';
				c.host = optarg + 1;
			}
			break;
		case 'p':
			c.port = optarg;
			break;
		case OPT_CONNECT_TIMEOUT:
		case OPT_TIMEOUT:
			if (parse_ms(optarg, ch == OPT_TIMEOUT ? &c.timeout_ms :
			    &c.connect_timeout_ms) == -1) {
				fprintf(stderr, "tcpd-cli: invalid milliseconds '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAX_REPLY:
			if (num_parse_str(optarg, 16, INT64_MAX, &v) == -1) {
				fprintf(stderr, "tcpd-cli: invalid --max-reply '%s'\n", optarg);
				return EXIT_USAGE;
			}
			c.max_reply = (size_t)v;
			break;
		case OPT_RAW:
			raw = true;
			break;
		case OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		case 'v':
			printf("tcpd-cli %s\n", TCPD_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	buf_init(&c.in, c.max_reply);
	if (raw)
		rc = run_raw(&c);
	else if (optind < argc)
		rc = run_command(&c, argc - optind, argv + optind);
	else if (isatty(STDIN_FILENO))
		rc = run_interactive(&c);
	else
		rc = run_pipe(&c);
	buf_free(&c.in);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/* tcpd-cli: a client for tcpd (and any RESP server or plain TCP service). */
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "tcpd_build.h"
#include "cli/args.h"
#include "cli/bench.h"
#include "cli/reply.h"
#include "cli/toxi.h"
#include "cli/toxicmd.h"
#include "cli/uri.h"
#include "tcpd/buf.h"
#include "tcpd/net.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

#define CLI_REPLY_MAX	(512u << 20)	/* the largest reply accepted, by default */
#define CLI_LINE_MAX	(64 * 1024)
#define CLI_CHUNK	(64 * 1024)
#define CLI_READ_AHEAD	(1u << 20)	/* commands queued ahead of the server */
#define CLI_STDIN_ARG_MAX (512u << 20)	/* -x: Redis's own largest bulk string */
#define CLI_HISTORY_MAX	1000
#define CLI_LATENCY_SAMPLE_MS	10	/* --latency: a PING every 10 ms, as redis-cli */
#define CLI_LATENCY_RANGE_MS	15000	/* --latency-history's range without -i */
#define CLI_LATENCY_PLAIN_MS	1000	/* --latency into a pipe: how long it samples */
#define CLI_CONTROL_PORT	"8474"	/* proxy and toxic: Toxiproxy's API port */

enum { EXIT_OK = 0, EXIT_ERROR_REPLY = 1, EXIT_CONNECTION = 2, EXIT_USAGE = 3 };

struct cli {
	const char	*host;
	const char	*port;
	int		 connect_timeout_ms;
	int		 timeout_ms;	/* 0 = wait for a reply as long as it takes */
	int		 fd;
	size_t		 max_reply;
	bool		 plain;		/* redis-cli --raw: for pipes and scripts */
	int64_t		 repeat;	/* -r: times to send the command, -1 forever */
	int64_t		 interval_ns;	/* -i: pause between repeats */
	bool		 last_from_stdin;	/* -x */
	struct buf	 in;		/* received, not yet printed */
	struct reply_state reply;	/* how much of in is checked */
	bool		 spoke_resp;	/* a whole reply came on this connection */
	bool		 push_output;	/* RESP3 push messages shown: stdout is a terminal */
	/* Said at each connect, as redis-cli does: AUTH, SELECT, HELLO 3. */
	bool		 handshake;	/* not for the byte pipe: raw services */
	const char	*user;		/* --user, -u */
	const char	*pass;		/* -a, --pass, -u, REDISCLI_AUTH */
	int64_t		 db;		/* -u's /db, selected when not 0 */
	bool		 resp3;		/* -3 */
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tcpd-cli [options] [CMD [ARG...]]\n"
	    "       tcpd-cli [-h HOST] [-p PORT] [--timeout MS] pipe\n"
	    "       tcpd-cli bench [options]   (tcpd-cli bench --help)\n");
	toxicmd_usage(out);
	fprintf(out,
	    "  -h, --host HOST          server name or address (default 127.0.0.1)\n"
	    "  -p, --port PORT          server port (default 7070; 8474 for proxy and toxic)\n"
	    "      --connect-timeout MS give up connecting after MS ms (default 5000)\n"
	    "      --timeout MS         give up waiting for a reply after MS ms (default: never)\n"
	    "      --max-reply BYTES    refuse a reply larger than this (default 536870912)\n"
	    "  -r, --repeat COUNT       send CMD COUNT times (-1: until interrupted)\n"
	    "  -i, --interval SECONDS   wait this long between repeats (fractions allowed);\n"
	    "                           --latency's time, --latency-history's range\n"
	    "  -x, --stdin-arg          read the last argument from stdin (at most 512 MiB)\n"
	    "  -a, --pass PASSWORD      send AUTH PASSWORD at connect (REDISCLI_AUTH too)\n"
	    "      --user USERNAME      with -a: send AUTH USERNAME PASSWORD\n"
	    "      --no-auth-warning    no warning for a password on the command line\n"
	    "  -u URI                   redis://[[USER:]PASSWORD@][HOST][:PORT][/DB]\n"
	    "                           (percent-encoded; a DB but 0 is sent as SELECT)\n"
	    "  -3                       speak RESP3: HELLO 3 at connect\n"
	    "      --latency            PING every 10 ms and show min, max, average ms;\n"
	    "                           into a pipe, one line after -i seconds (default 1)\n"
	    "      --latency-history    the same, a line per -i seconds (default 15)\n"
	    "      --raw                print replies plain, as for a pipe (the default\n"
	    "                           when stdout is not a terminal)\n"
	    "      --no-raw             print replies as on a terminal, even into a pipe\n"
	    "  -v, --version            print the version\n"
	    "      --help               this text\n"
	    "With CMD, send it and print the reply. Without, read commands from the\n"
	    "terminal (a prompt with line editing and ~/.tcpdcli_history, or the file\n"
	    "TCPDCLI_HISTFILE names) or, when stdin is not a terminal, one per line.\n"
	    "Words split as redis-cli splits them: \"...\" with \\n \\r \\t \\xHH \\\" \\\\\n"
	    "escapes, '...' literal.\n"
	    "pipe copies stdin to the server and the server to stdout, byte for\n"
	    "byte, for the services that do not speak RESP (echo, chargen, ...).\n"
	    "HOST may be an IPv6 address in brackets, as [::1].\n"
	    "At each connect (and reconnect) AUTH, SELECT and HELLO 3 go first, as in\n"
	    "redis-cli; the first to fail says so, and the command is sent all the same.\n"
	    "pipe sends none of them.\n"
	    "Exit status: 0 ok, 1 error reply, 2 connection failure or timeout,\n"
	    "3 usage error.\n");
}

static bool handshake(struct cli *);

/* Dials the server and says what redis-cli says at connect; false (said why) when that fails. */
static bool
cli_connect(struct cli *c, bool quiet)
{
	struct net_addr used;
	char err[256];

	c->fd = net_dial(c->host, c->port, c->connect_timeout_ms, &used, err, sizeof(err));
	if (c->fd == -1 && !quiet)
		fprintf(stderr, "tcpd-cli: %s\n", err);
	return c->fd != -1 && (!c->handshake || handshake(c));
}

static void
cli_disconnect(struct cli *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_consume(&c->in, buf_len(&c->in));
	c->reply = (struct reply_state){ 0 };
	c->spoke_resp = false;
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

/*
 * Prints the complete reply at the front of c->in, bulk strings unquoted
 * when is_text; returns its exit status.
 */
static int
print_reply(struct cli *c, size_t len, bool is_text)
{
	int rc = reply_is_error(buf_data(&c->in), len) ? EXIT_ERROR_REPLY : EXIT_OK;
	enum reply_style style = is_text ? REPLY_VERBATIM : c->plain ? REPLY_PLAIN : REPLY_TTY;

	reply_print(stdout, buf_data(&c->in), len, style);
	fflush(stdout);
	buf_consume(&c->in, len);
	return rc;
}

/*
 * Says what the bytes in c->in that are not a reply most likely are: the
 * way out of `tcpd-cli pipe` only for a service that never spoke RESP.
 */
static void
say_not_resp(const struct cli *c)
{
	static const char *const why[] = {
		[REPLY_PEER_RESP] = "protocol error: the server's reply is not RESP",
		[REPLY_PEER_HTTP] = "the server speaks HTTP, not RESP",
		[REPLY_PEER_RAW] = ("the server's reply is not RESP (for a raw service use "
		    "`tcpd-cli pipe`)"),
	};
	enum reply_peer peer = c->spoke_resp ? REPLY_PEER_RESP :
	    reply_guess_peer(buf_data(&c->in), buf_len(&c->in));

	fprintf(stderr, "tcpd-cli: %s\n", why[peer]);
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
		say_not_resp(c);
	else if (len > 0)
		c->spoke_resp = true;
	return len;
}

/*
 * A RESP3 push message at the front of c->in, len bytes, taken: shown as
 * redis-cli shows it, in the reply format, only when stdout is a terminal.
 */
static void
take_push(struct cli *c, size_t len)
{
	if (c->push_output) {
		reply_print(stdout, buf_data(&c->in), len, c->plain ? REPLY_PLAIN : REPLY_TTY);
		fflush(stdout);
	}
	buf_consume(&c->in, len);
}

/*
 * Waits for the next reply, push messages taken on the way: its length in
 * *len, at the front of c->in; EXIT_CONNECTION (said why) when none came.
 */
static int
take_reply(struct cli *c, size_t *len)
{
	ssize_t n;

	for (;;) {
		while ((n = next_reply(c)) == RESP_INCOMPLETE)
			if (!receive(c))
				return EXIT_CONNECTION;
		if (n == RESP_ERROR)
			return EXIT_CONNECTION;
		if (reply_type(buf_data(&c->in), (size_t)n) != '>')
			break;
		take_push(c, (size_t)n);
	}
	*len = (size_t)n;
	return EXIT_OK;
}

/* Reads and prints one reply; EXIT_CONNECTION when none came. */
static int
await_reply(struct cli *c, bool is_text)
{
	size_t len;

	if (take_reply(c, &len) != EXIT_OK)
		return EXIT_CONNECTION;
	return print_reply(c, len, is_text);
}

/*
 * One request of the handshake, named what in its failure's message: 1 when
 * it went through, 0 when the server refused it (said as redis-cli says it),
 * -1 when the connection failed (said why).
 */
static int
handshake_step(struct cli *c, const char *what, const char *const words[], size_t n)
{
	const char *text;
	struct buf out;
	size_t i, len, tlen;
	int rc = 1;

	buf_init(&out, SIZE_MAX);
	rc = resp_add_array(&out, n);
	for (i = 0; i < n; i++)
		rc |= resp_add_bulk(&out, words[i], strlen(words[i]));
	if (rc != 0 || !send_bytes(c, buf_data(&out), buf_len(&out)) ||
	    take_reply(c, &len) != EXIT_OK) {
		buf_free(&out);
		return -1;
	}
	buf_free(&out);
	rc = 1;
	if (reply_is_error(buf_data(&c->in), len)) {
		/* redis-cli prints the error as a C string: up to a NUL. */
		tlen = reply_text(buf_data(&c->in), len, &text);
		fprintf(stderr, "%s failed: %.*s\n", what, (int)strnlen(text, tlen), text);
		rc = 0;
	}
	buf_consume(&c->in, len);
	return rc;
}

/*
 * What redis-cli 7 says at each connect: AUTH [USER] PASSWORD, SELECT DB
 * (not for 0), HELLO 3, each only when asked for, up to the first the
 * server refuses; the command goes after them all the same. False when the
 * connection failed meanwhile (closed then).
 */
static bool
handshake(struct cli *c)
{
	char db[24], select[32];
	const char *auth[] = { "AUTH", c->user, c->pass };
	const char *sel[] = { "SELECT", db }, *hello[] = { "HELLO", "3" };
	int rc = 1;

	snprintf(db, sizeof(db), "%lld", (long long)c->db);
	snprintf(select, sizeof(select), "SELECT %s", db);
	if (c->pass != NULL)
		rc = c->user != NULL ? handshake_step(c, "AUTH", auth, 3) :
		    handshake_step(c, "AUTH", (const char *[]){ "AUTH", c->pass }, 2);
	if (rc == 1 && c->db > 0)
		rc = handshake_step(c, select, sel, 2);
	if (rc == 1 && c->resp3)
		rc = handshake_step(c, "HELLO 3", hello, 2);
	if (rc == -1)
		cli_disconnect(c);
	return rc != -1;
}

/* Reads all of stdin into in, for -x; false (said why) past its limit or on error. */
static bool
read_stdin_arg(struct buf *in)
{
	char *dst;
	ssize_t n;

	do {
		if ((dst = buf_reserve(in, CLI_CHUNK)) == NULL) {
			fprintf(stderr, "tcpd-cli: -x: stdin is larger than %zu bytes\n", in->max);
			return false;
		}
		while ((n = read(STDIN_FILENO, dst, CLI_CHUNK)) == -1 && errno == EINTR)
			continue;
		if (n > 0)
			buf_commit(in, (size_t)n);
	} while (n > 0);
	if (n == -1)
		fprintf(stderr, "tcpd-cli: -x: reading stdin: %s\n", strerror(errno));
	return n == 0;
}

/*
 * The next line of stdin into line (CLI_LINE_MAX + 2 bytes) after showing
 * prompt. Returns 1, 0 at the end, or -1 for a line longer than
 * CLI_LINE_MAX: skipped whole, said so.
 */
static int
next_line(const char *prompt, char *line)
{
	size_t n;
#ifdef HAVE_LIBEDIT
	char *typed = readline(prompt);

	if (typed == NULL)
		return 0;
	n = strlen(typed);
	if (n > CLI_LINE_MAX) {
		free(typed);
		fprintf(stderr, "tcpd-cli: line longer than %d bytes, skipped\n", CLI_LINE_MAX);
		return -1;
	}
	memcpy(line, typed, n + 1);
	free(typed);
	return 1;
#else
	int ch;

	fputs(prompt, stdout);
	fflush(stdout);
	if (fgets(line, CLI_LINE_MAX + 2, stdin) == NULL)
		return 0;
	n = strlen(line);
	if (n <= CLI_LINE_MAX || line[n - 1] == '\n')
		return 1;
	while ((ch = getchar()) != EOF && ch != '\n')
		continue;
	fprintf(stderr, "tcpd-cli: line longer than %d bytes, skipped\n", CLI_LINE_MAX);
	return -1;
#endif
}

/* Splits a typed line into a request appended to out; -1 (said why) when it cannot be. */
static int
encode_line(struct buf *out, const char *line, size_t *argc)
{
	const char *why;
	long n = args_encode(out, line, strcspn(line, "\r\n"), &why);

	if (n == -1) {
		fprintf(stderr, "tcpd-cli: invalid arguments: %s\n", why);
		return -1;
	}
	*argc = (size_t)n;
	return 0;
}

static void
pause_between_repeats(const struct cli *c)
{
	struct timespec left = { .tv_sec = c->interval_ns / 1000000000,
	    .tv_nsec = c->interval_ns % 1000000000 };

	while (nanosleep(&left, &left) == -1 && errno == EINTR)
		continue;
}

/* CMD from the command line, -r times, -x taking the last argument from stdin. */
static int
run_command(struct cli *c, int argc, char **argv)
{
	struct resp_arg words[2] = { { argv[0], strlen(argv[0]) },
	    { argc > 1 ? argv[1] : "", argc > 1 ? strlen(argv[1]) : 0 } };
	bool is_text = args_reply_is_text((size_t)argc, words);
	struct buf out, last;
	int rc = EXIT_OK, got, i;
	int64_t sent;

	buf_init(&last, CLI_STDIN_ARG_MAX);
	if (c->last_from_stdin && !read_stdin_arg(&last)) {
		buf_free(&last);
		return EXIT_USAGE;
	}
	buf_init(&out, SIZE_MAX);
	got = resp_add_array(&out, (size_t)argc + c->last_from_stdin);
	for (i = 0; i < argc; i++)
		got |= resp_add_bulk(&out, argv[i], strlen(argv[i]));
	if (c->last_from_stdin)
		got |= resp_add_bulk(&out, buf_data(&last), buf_len(&last));
	buf_free(&last);
	if (got != 0) {
		fprintf(stderr, "tcpd-cli: out of memory\n");
		buf_free(&out);
		return EXIT_CONNECTION;
	}
	if (!cli_connect(c, false)) {
		buf_free(&out);
		return EXIT_CONNECTION;
	}
	for (sent = 0; c->repeat < 0 || sent < c->repeat; sent++) {
		if (sent > 0 && c->interval_ns > 0)
			pause_between_repeats(c);
		if (!send_bytes(c, buf_data(&out), buf_len(&out))) {
			rc = EXIT_CONNECTION;
			break;
		}
		if ((got = await_reply(c, is_text)) == EXIT_CONNECTION) {
			rc = EXIT_CONNECTION;
			break;
		}
		if (got == EXIT_ERROR_REPLY)
			rc = EXIT_ERROR_REPLY;
	}
	buf_free(&out);
	cli_disconnect(c);
	return rc;
}

static bool
is_quit(const char *line)
{
	char word[8];

	return sscanf(line, " %7s", word) == 1 &&
	    (strcasecmp(word, "quit") == 0 || strcasecmp(word, "exit") == 0);
}

/* True when line is word alone, in any case. */
static bool
is_only(const char *line, const char *word)
{
	char first[8], more;

	return sscanf(line, " %7s %c", first, &more) == 1 && strcasecmp(first, word) == 0;
}

/* False when the server closed or reset the connection while the prompt waited. */
static bool
still_open(const struct cli *c)
{
	char b;
	ssize_t n;

	do
		n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	return n > 0 || (n == -1 && errno == EAGAIN);
}

#ifdef HAVE_LIBEDIT
/* TCPDCLI_HISTFILE, else ~/.tcpdcli_history; NULL (none kept) without either. */
static const char *
history_path(char *path, size_t size)
{
	const char *file = getenv("TCPDCLI_HISTFILE"), *home = getenv("HOME");

	if (file != NULL)
		return file[0] != '\0' ? file : NULL;
	if (home == NULL || home[0] == '\0' ||
	    (size_t)snprintf(path, size, "%s/.tcpdcli_history", home) >= size)
		return NULL;
	return path;
}
#endif

/* Remembers a typed line in the prompt's history, and in its file at once. */
static void
remember(const char *history, const char *line)
{
#ifdef HAVE_LIBEDIT
	if (line[strspn(line, " \t")] == '\0')
		return;
	add_history(line);
	/* Written after every line, as redis-cli does: a killed client loses nothing. */
	if (history != NULL && write_history(history) != 0)
		fprintf(stderr, "tcpd-cli: cannot write %s: %s\n", history, strerror(errno));
#else
	(void)history;
	(void)line;
#endif
}

/* A prompt; the connection is made again when the server went away. */
static int
run_interactive(struct cli *c)
{
	char line[CLI_LINE_MAX + 2], prompt[300];
	const char *history = NULL;
	int got;
	size_t argc;
#ifdef HAVE_LIBEDIT
	char path[4096];

	history = history_path(path, sizeof(path));
	stifle_history(CLI_HISTORY_MAX);
	if (history != NULL)
		read_history(history);	/* none yet is normal */
#endif
	cli_connect(c, false);
	for (;;) {
		struct buf out;
		bool is_text;

		if (c->fd != -1)
			snprintf(prompt, sizeof(prompt), "%s:%s> ", c->host, c->port);
		else
			snprintf(prompt, sizeof(prompt), "not connected> ");
		if ((got = next_line(prompt, line)) == 0 || (got == 1 && is_quit(line)))
			break;
		if (got == 1)
			remember(history, line);
		/* As in redis-cli: the prompt's own word, never sent. */
		if (got == 1 && is_only(line, "clear")) {
			fputs("\x1b[H\x1b[2J", stdout);
			fflush(stdout);
			continue;
		}
		buf_init(&out, SIZE_MAX);
		if (got == -1 || encode_line(&out, line, &argc) == -1 || argc == 0) {
			buf_free(&out);
			continue;
		}
		is_text = args_request_reply_is_text(buf_data(&out), buf_len(&out));
		/*
		 * A server gone while the prompt waited (restarted, idle timeout)
		 * is dialled again quietly. A command is sent once: sent again after
		 * a failure it could run twice, and its error would show twice.
		 */
		if (c->fd != -1 && !still_open(c))
			cli_disconnect(c);
		if ((c->fd != -1 || cli_connect(c, false)) &&
		    (!send_bytes(c, buf_data(&out), buf_len(&out)) ||
		    await_reply(c, is_text) == EXIT_CONNECTION))
			cli_disconnect(c);
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
	struct buf is_text;	/* a byte per request not yet answered: print it as text? */
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
		size_t before = buf_len(out);
		char kind;

		memcpy(text, r->line, r->len);
		text[r->len] = '\0';
		if (encode_line(out, text, &argc) == -1) {
			r->bad = true;
		} else if (argc > 0) {
			kind = args_request_reply_is_text(buf_data(out) + before,
			    buf_len(out) - before);
			if (buf_append(&r->is_text, &kind, 1) == -1)
				r->bad = true;
		}
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
	bool is_text;
	struct buf out;
	bool more_input = true;
	int rc = EXIT_OK, ready;
	ssize_t len, n;

	if (!cli_connect(c, false))
		return EXIT_CONNECTION;
	buf_init(&out, SIZE_MAX);
	buf_init(&r.is_text, SIZE_MAX);
	while (more_input || buf_len(&r.is_text) > 0) {
		struct pollfd p[2] = {
			{ .fd = c->fd, .events = POLLIN | (buf_len(&out) > 0 ? POLLOUT : 0) },
			/* A closed stdin leaves the set, or its POLLHUP would spin. */
			{ .fd = more_input && buf_len(&out) < CLI_READ_AHEAD ? STDIN_FILENO : -1,
			  .events = POLLIN },
		};

		ready = poll(p, 2, buf_len(&r.is_text) > 0 && c->timeout_ms > 0 ?
		    c->timeout_ms : -1);
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
		while (buf_len(&r.is_text) > 0 && (len = next_reply(c)) != RESP_INCOMPLETE) {
			if (len == RESP_ERROR) {
				rc = EXIT_CONNECTION;
				goto done;
			}
			if (reply_type(buf_data(&c->in), (size_t)len) == '>') {
				take_push(c, (size_t)len);
				continue;
			}
			is_text = buf_data(&r.is_text)[0];
			buf_consume(&r.is_text, 1);
			if (print_reply(c, (size_t)len, is_text) == EXIT_ERROR_REPLY)
				rc = EXIT_ERROR_REPLY;
		}
	}
	if (r.bad && rc == EXIT_OK)
		rc = EXIT_ERROR_REPLY;
done:
	buf_free(&r.is_text);
	buf_free(&out);
	cli_disconnect(c);
	return rc;
}

/*
 * tcpd-cli pipe: stdin to the server, the server to stdout, like nc. It never
 * stops reading the server while it has bytes to send, and stops reading
 * stdin while a chunk waits to go out, so neither side can wedge the other.
 */
static int
run_byte_pipe(struct cli *c)
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

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * --latency and --latency-history, as redis-cli 7 runs them: a PING every
 * 10 ms, each timed in whole milliseconds. On a terminal one line redrawn
 * after each (history: kept, with the range's length, every -i seconds);
 * into a pipe --latency prints "min max avg count" once after -i seconds
 * and ends, --latency-history a line per PING and the range lines.
 */
static int
run_latency(struct cli *c, bool history)
{
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";
	long long interval = c->interval_ns / 1000000, since, start, latency;
	long long range = interval > 0 ? interval : CLI_LATENCY_RANGE_MS;
	long long plain_for = interval > 0 ? interval : CLI_LATENCY_PLAIN_MS;
	long long min = 0, max = 0, tot = 0, count = 0;
	struct timespec pause = { .tv_nsec = CLI_LATENCY_SAMPLE_MS * 1000000L };
	double avg;
	size_t len;

	if (!cli_connect(c, false))
		return EXIT_CONNECTION;
	since = now_ms();
	for (;;) {
		start = now_ms();
		if (!send_bytes(c, ping, sizeof(ping) - 1) || take_reply(c, &len) != EXIT_OK) {
			cli_disconnect(c);
			return EXIT_CONNECTION;
		}
		buf_consume(&c->in, len);
		latency = now_ms() - start;
		if (count++ == 0 || latency < min)
			min = latency;
		if (count == 1 || latency > max)
			max = latency;
		tot += latency;
		avg = (double)tot / (double)count;
		if (!c->plain) {
			printf("\x1b[0G\x1b[2Kmin: %lld, max: %lld, avg: %.2f (%lld samples)", min,
			    max, avg, count);
		} else if (history) {
			printf("%lld %lld %.2f %lld\n", min, max, avg, count);
		} else if (now_ms() - since > plain_for) {
			printf("%lld %lld %.2f %lld\n", min, max, avg, count);
			fflush(stdout);
			cli_disconnect(c);
			return EXIT_OK;
		}
		if (history && now_ms() - since > range) {
			printf(" -- %.2f seconds range\n", (double)(now_ms() - since) / 1000);
			since = now_ms();
			min = max = tot = count = 0;
		}
		/* Flushed at once, pipe or not: a script reads each line as it comes. */
		fflush(stdout);
		nanosleep(&pause, NULL);
	}
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

/* -i SECONDS: a non-negative decimal number of seconds, fractions allowed. */
static int
parse_interval(const char *s, int64_t *ns)
{
	double v;

	if (num_parse_real(s, 0, 86400, &v) == -1)
		return -1;
	*ns = (int64_t)(v * 1e9);
	return 0;
}

int
main(int argc, char *argv[])
{
	enum { OPT_CONNECT_TIMEOUT = 256, OPT_TIMEOUT, OPT_MAX_REPLY, OPT_RAW, OPT_NO_RAW,
	    OPT_HELP, OPT_USER, OPT_NO_AUTH_WARNING, OPT_LATENCY, OPT_LATENCY_HISTORY };
	static const struct option options[] = {
		{ "host",		required_argument,	NULL, 'h' },
		{ "port",		required_argument,	NULL, 'p' },
		{ "connect-timeout",	required_argument,	NULL, OPT_CONNECT_TIMEOUT },
		{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
		{ "max-reply",		required_argument,	NULL, OPT_MAX_REPLY },
		{ "repeat",		required_argument,	NULL, 'r' },
		{ "interval",		required_argument,	NULL, 'i' },
		{ "stdin-arg",		no_argument,		NULL, 'x' },
		{ "pass",		required_argument,	NULL, 'a' },
		{ "user",		required_argument,	NULL, OPT_USER },
		{ "no-auth-warning",	no_argument,		NULL, OPT_NO_AUTH_WARNING },
		{ "latency",		no_argument,		NULL, OPT_LATENCY },
		{ "latency-history",	no_argument,		NULL, OPT_LATENCY_HISTORY },
		{ "raw",		no_argument,		NULL, OPT_RAW },
		{ "no-raw",		no_argument,		NULL, OPT_NO_RAW },
		{ "help",		no_argument,		NULL, OPT_HELP },
		{ "version",		no_argument,		NULL, 'v' },
		{ NULL,			0,			NULL, 0 },
	};
	struct cli c = { .host = "127.0.0.1", .port = "7070", .connect_timeout_ms = 5000,
	    .fd = -1, .max_reply = CLI_REPLY_MAX, .repeat = 1,
	    .plain = !isatty(STDOUT_FILENO) };
	static struct uri uri;
	const char *why;
	int64_t v;
	bool byte_pipe = false, auth_warning = true, port_given = false, uri_given = false;
	bool control;
	int ch, rc, latency = 0;

	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return bench_main(argc - 1, argv + 1);
	/* '+' stops at the command, so its own arguments may start with '-'. */
	for (;;) {
		ch = getopt_long(argc, argv, "+h:p:r:i:xva:u:3", options, NULL);
		/* "pipe" may come before or after the options it takes. */
		if (ch == -1 && !byte_pipe && optind < argc && strcmp(argv[optind], "pipe") == 0) {
			byte_pipe = true;
			optind++;
			continue;
		}
		if (ch == -1)
			break;
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
			if (num_parse_str(optarg, 1, 65535, &v) == -1) {
				fprintf(stderr, "tcpd-cli: invalid port '%s': a number from 1 to "
				    "65535\n", optarg);
				return EXIT_USAGE;
			}
			c.port = optarg;
			port_given = true;
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
		case 'r':
			if (num_parse_str(optarg, -1, INT64_MAX, &c.repeat) == -1) {
				fprintf(stderr, "tcpd-cli: invalid -r '%s' (a count, or -1 for "
				    "ever)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'i':
			if (parse_interval(optarg, &c.interval_ns) == -1) {
				fprintf(stderr, "tcpd-cli: invalid -i '%s' (seconds, as 0.5)\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'x':
			c.last_from_stdin = true;
			break;
		case 'a':
			c.pass = optarg;
			break;
		case OPT_USER:
			c.user = optarg;
			break;
		case OPT_NO_AUTH_WARNING:
			auth_warning = false;
			break;
		case 'u':
			if (uri_parse(optarg, &uri, &why) == -1) {
				fprintf(stderr, "tcpd-cli: -u: %s\n", why);
				return EXIT_USAGE;
			}
			uri_given = true;
			/* What the URI names; what it leaves out stays as it was. */
			if (uri.host[0] != '\0')
				c.host = uri.host;
			if (uri.port[0] != '\0')
				c.port = uri.port;
			if (uri.has_user)
				c.user = uri.user;
			if (uri.has_pass)
				c.pass = uri.pass;
			if (uri.db != -1)
				c.db = uri.db;
			break;
		case '3':
			c.resp3 = true;
			break;
		case OPT_LATENCY:
		case OPT_LATENCY_HISTORY:
			latency = ch;
			break;
		case OPT_RAW:
		case OPT_NO_RAW:
			c.plain = ch == OPT_RAW;
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
	if (byte_pipe && optind < argc) {
		fprintf(stderr, "tcpd-cli: pipe takes no command words (got '%s'): it copies "
		    "stdin to the server\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (latency != 0 && (byte_pipe || optind < argc)) {
		fprintf(stderr, "tcpd-cli: --latency and --latency-history take no command\n");
		return EXIT_USAGE;
	}
	if ((c.last_from_stdin || c.repeat != 1) && (byte_pipe || optind == argc)) {
		fprintf(stderr, "tcpd-cli: -r and -x go with a command: tcpd-cli -r 3 PING\n");
		return EXIT_USAGE;
	}
	control = !byte_pipe && optind < argc &&
	    (strcmp(argv[optind], "proxy") == 0 || strcmp(argv[optind], "toxic") == 0);
	if (control && (c.repeat != 1 || c.last_from_stdin || c.pass != NULL || c.user != NULL ||
	    c.resp3 || uri_given)) {
		fprintf(stderr, "tcpd-cli: proxy and toxic take -h, -p, --connect-timeout and "
		    "--timeout only\n");
		return EXIT_USAGE;
	}
	if (control) {
		struct toxi_server s = { .host = c.host,
		    .port = port_given ? c.port : CLI_CONTROL_PORT,
		    .connect_timeout_ms = c.connect_timeout_ms, .timeout_ms = c.timeout_ms };

		return toxicmd_main(&s, argc - optind, argv + optind);
	}
	/* As redis-cli: the warning for a password typed, then the variable's when none was. */
	if (c.pass != NULL && auth_warning)
		fputs("Warning: Using a password with '-a' or '-u' option on the command line "
		    "interface may not be safe.\n", stderr);
	if (c.pass == NULL)
		c.pass = getenv("REDISCLI_AUTH");
	c.push_output = isatty(STDOUT_FILENO);
	c.handshake = !byte_pipe;
	buf_init(&c.in, c.max_reply);
	if (latency != 0)
		rc = run_latency(&c, latency == OPT_LATENCY_HISTORY);
	else if (byte_pipe)
		rc = run_byte_pipe(&c);
	else if (optind < argc)
		rc = run_command(&c, argc - optind, argv + optind);
	else if (isatty(STDIN_FILENO))
		rc = run_interactive(&c);
	else
		rc = run_pipe(&c);
	buf_free(&c.in);
	return rc;
}

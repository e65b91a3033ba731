/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <sys/un.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tcpd/log.h"

#define S(lit) lit, sizeof(lit) - 1

static void
assert_entry(const char *got, size_t n, const char *expect, size_t len)
{
	cr_assert_eq(n, len, "length %zu, expected %zu", n, len);
	cr_assert_eq(memcmp(got, expect, len), 0);
}

Test(journal, entry_with_fields)
{
	struct log_field f[2] = { { "TCPD_PEER", "10.1.2.3" }, { "TCPD_CONN_ID", "7" } };
	char out[256];
	size_t n = log_journal_entry(out, sizeof(out), LOG_LEVEL_WARNING, "hello", f, 2);

	assert_entry(out, n, S("PRIORITY=4\nSYSLOG_IDENTIFIER=tcpd\nMESSAGE=hello\n"
	    "TCPD_PEER=10.1.2.3\nTCPD_CONN_ID=7\n"));
}

Test(journal, value_with_a_newline_uses_the_binary_form)
{
	char out[256];
	size_t n = log_journal_entry(out, sizeof(out), LOG_LEVEL_DEBUG, "a\nb", NULL, 0);

	assert_entry(out, n, S("PRIORITY=7\nSYSLOG_IDENTIFIER=tcpd\n"
	    "MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n"));
}

Test(journal, too_small_a_buffer_gives_nothing)
{
	char out[40];

	cr_assert_eq(log_journal_entry(out, sizeof(out), LOG_LEVEL_ERROR,
	    "a message that does not fit", NULL, 0), 0);
}

Test(log, targets_and_levels_parse)
{
	enum log_target t;
	enum log_level l;

	cr_assert_eq(log_target_parse("auto", &t), 0);
	cr_assert_eq(t, LOG_TARGET_AUTO);
	cr_assert_eq(log_target_parse("journal", &t), 0);
	cr_assert_eq(t, LOG_TARGET_JOURNAL);
	cr_assert_eq(log_target_parse("stderr", &t), 0);
	cr_assert_eq(t, LOG_TARGET_STDERR);
	cr_assert_eq(log_target_parse("syslog", &t), -1);
	cr_assert_eq(log_level_parse("WARNING", &l), 0);
	cr_assert_eq(l, LOG_LEVEL_WARNING);
	cr_assert_eq(log_level_parse("verbose", &l), -1);
}

Test(log, escape_peer_bytes)
{
	char out[64];

	cr_assert_str_eq(log_escape(out, sizeof(out), "a\r\n\t\"\\\x01\xff", 8),
	    "a\\r\\n\\t\\\"\\\\\\x01\\xff");
	cr_assert_str_eq(log_escape(out, 12, "abcdefghijklmnop", 16), "abcdefgh...");
}

Test(log_rate, one_line_a_second_with_the_held_back_count)
{
	struct log_rate r = { 0 };
	unsigned held = 99;
	int i;

	cr_assert(log_rate_ok(&r, 1000, &held));
	cr_assert_eq(held, 0);
	for (i = 0; i < 5; i++)
		cr_assert_not(log_rate_ok(&r, 1500, &held));
	cr_assert(log_rate_ok(&r, 2000, &held));
	cr_assert_eq(held, 5);
	cr_assert(log_rate_ok(&r, 3001, &held));
	cr_assert_eq(held, 0);
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* stderr becomes a pipe that nobody reads yet. */
static int
stderr_to_stalled_pipe(void)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	return p[0];
}

static void
log_a_lot(void)
{
	struct timespec t0;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 2000; i++)
		log_msg(LOG_LEVEL_WARNING, "line %d, long enough to fill a pipe soon: "
		    "%0200d", i, 0);
	/* A blocking write would never return: the test's timeout would fire. */
	cr_assert_lt(seconds_since(&t0), 2.0);
}

Test(log, a_stalled_stderr_drops_and_counts_lines, .timeout = 10)
{
	int rd = stderr_to_stalled_pipe();
	uint64_t before = log_dropped();
	char got[8192];
	ssize_t n;

	log_init();
	log_set_journal(NULL);
	log_a_lot();
	cr_assert_gt(log_dropped(), before + 1000);
	cr_assert_lt(log_dropped(), before + 2000, "only lines count, not the notices");

	/* Once the reader is back, the count comes first, then the line. */
	fcntl(rd, F_SETFL, O_NONBLOCK);
	while (read(rd, got, sizeof(got)) > 0)
		;
	log_msg(LOG_LEVEL_WARNING, "after");
	n = read(rd, got, sizeof(got) - 1);
	cr_assert_gt(n, 0);
	got[n] = '\0';
	cr_assert_not_null(strstr(got, " log lines dropped: the log was not reading\n"),
	    "%s", got);
	cr_assert_not_null(strstr(got, "warning: after\n"), "%s", got);
	close(rd);
}

Test(log, a_stalled_journal_and_stderr_never_block, .timeout = 10)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int rd = stderr_to_stalled_pipe(), journal;
	uint64_t before = log_dropped();

	snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/tcpd-test-journal.%d",
	    (int)getpid());
	unlink(sun.sun_path);
	journal = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert_eq(bind(journal, (struct sockaddr *)&sun, sizeof(sun)), 0);
	log_set_journal(sun.sun_path);
	log_a_lot();
	cr_assert_gt(log_dropped(), before);
	log_set_journal(NULL);
	unlink(sun.sun_path);
	close(journal);
	close(rd);
}

Test(log, a_stalled_stderr_stream_socket_never_blocks, .timeout = 10)
{
	uint64_t before = log_dropped();
	int sv[2];

	/* journald's stderr stream is a socket: a full one must not stop the loop. */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(dup2(sv[1], STDERR_FILENO), STDERR_FILENO);
	close(sv[1]);
	log_init();
	log_set_journal(NULL);
	log_a_lot();
	cr_assert_gt(log_dropped(), before);
	close(sv[0]);
}

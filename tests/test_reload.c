/* SPDX-License-Identifier: MIT */
/* SIGHUP: the running daemon moves to the new config, or keeps the old one. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(reload, .fini = tcpd_teardown, .timeout = 60);

static bool
refused(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool no = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno == ECONNREFUSED;

	close(fd);
	return no;
}

static void
echo_round(int fd, const char *text)
{
	char in[64];
	size_t n = strlen(text);

	send_all(fd, text, n);
	recv_exact(fd, in, n);
	assert_bytes(in, n, text, n);
}

Test(reload, listeners_added_removed_and_rebound_while_clients_keep_going)
{
	char text[8192];
	uint16_t fresh[2];
	int echo, cmd, added;

	tcpd_start(NULL);
	echo = tcp_connect(tcpd.port[P_ECHO]);
	echo_round(echo, "before reload");
	cmd = tcp_connect(tcpd.port[P_COMMAND]);
	assert_ping(cmd);

	/* Drop discard, move echo to a new port, add a second echo listener. */
	free_ports(fresh, 2);
	snprintf(text, sizeof(text),
	    "[tcpd]\nlog_level = debug\n"
	    "[listener.echo]\nbind = 127.0.0.1:%u\nservice = echo\n"
	    "[listener.echo2]\nbind = 127.0.0.1:%u\nservice = echo\n"
	    "[listener.command]\nbind = 127.0.0.1:%u\nservice = command\n",
	    fresh[0], fresh[1], tcpd.port[P_COMMAND]);
	cr_assert_eq(tcpd_reload(text), 0);

	/* Established connections are untouched, even on a port now closed. */
	echo_round(echo, "after reload");
	assert_ping(cmd);
	cr_assert(refused(tcpd.port[P_ECHO]), "the old echo port is closed");
	cr_assert(refused(tcpd.port[P_DISCARD]), "discard is gone");
	added = tcp_connect(fresh[1]);
	echo_round(added, "new listener");
	close(added);
	added = tcp_connect(fresh[0]);
	echo_round(added, "rebound");
	close(added);
	ping_ok();
	cr_assert_eq(tcpd_log_count("listener discard: no longer serving 127.0.0.1:"), 1);
	close(echo);
	close(cmd);
}

Test(reload, broken_config_changes_nothing)
{
	char text[8192];
	int echo;

	tcpd_start(NULL);
	echo = tcp_connect(tcpd.port[P_ECHO]);
	cr_assert_eq(tcpd_reload("[tcpd]\nmax_line = tiny\n[listener.x]\n"
	    "bind = 127.0.0.1:99999\nservice = echo\n"), -1);
	snprintf(text, sizeof(text), "error: %s:2: invalid max_line 'tiny'", tcpd.conf);
	cr_assert_eq(tcpd_log_count(text), 1, "each error is logged with file:line");
	snprintf(text, sizeof(text), "error: %s:4: invalid bind address", tcpd.conf);
	cr_assert_eq(tcpd_log_count(text), 1);
	echo_round(echo, "still here");
	close(echo);
	ping_ok();
	echo = tcp_connect(tcpd.port[P_DISCARD]);
	close(echo);
}

Test(reload, a_bind_that_fails_rolls_everything_back)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char text[8192], extra[256];
	uint16_t taken;
	int busy;

	tcpd_start(NULL);
	free_ports(&taken, 1);
	busy = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = htons(taken);
	cr_assert_eq(bind(busy, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(busy, 1), 0);
	/* Valid, but one address is held by someone else; discard also goes. */
	tcpd_config_text(text, sizeof(text), "max_connections = 1", NULL);
	snprintf(extra, sizeof(extra), "[listener.more]\nbind = 127.0.0.1:%u\n"
	    "service = echo\n", taken);
	strcat(text, extra);
	cr_assert_eq(tcpd_reload(text), -1);
	cr_assert_eq(tcpd_log_count("Address already in use; keeping the running "
	    "configuration"), 1);
	/* max_connections was not lowered to 1: two clients still get in. */
	{
		int a = tcp_connect_admitted(tcpd.port[P_COMMAND]);
		int b = tcp_connect_admitted(tcpd.port[P_COMMAND]);

		close(a);
		close(b);
	}
	close(busy);
}

Test(reload, limits_and_log_level_apply_to_new_connections)
{
	char text[8192], in[64];
	int old1, old2, fresh;
	size_t n;

	tcpd_start("log_level = info");
	old1 = tcp_connect_admitted(tcpd.port[P_COMMAND]);
	old2 = tcp_connect_admitted(tcpd.port[P_COMMAND]);
	cr_assert_eq(tcpd_log_count("debug: conn "), 0);
	tcpd_config_text(text, sizeof(text), "log_level = debug\nmax_connections = 2", NULL);
	cr_assert_eq(tcpd_reload(text), 0);
	fresh = tcp_connect(tcpd.port[P_COMMAND]);
	n = recv_all(fresh, in, sizeof(in));
	assert_reply(in, n, "-ERR max number of clients reached\r\n");
	close(fresh);
	assert_ping(old1);
	assert_ping(old2);
	close(old1);
	close(old2);
	fresh = tcp_connect(tcpd.port[P_ECHO]);
	echo_round(fresh, "x");
	close(fresh);
	cr_assert_gt(tcpd_log_count("debug: conn "), 0, "debug logging is on now");
}

Test(reload, access_lists_update_in_place)
{
	char text[8192];
	int fd;
	char c;

	tcpd_start(NULL);
	fd = tcp_connect_from("127.0.0.2", tcpd.port[P_ECHO]);
	echo_round(fd, "admitted");
	tcpd_config_text(text, sizeof(text), NULL, "deny = 127.0.0.2");
	cr_assert_eq(tcpd_reload(text), 0);
	echo_round(fd, "still admitted: open connections are untouched");
	close(fd);
	fd = tcp_connect_from("127.0.0.2", tcpd.port[P_ECHO]);
	send_all(fd, "x", 1);
	/* Closed unread: EOF, or a reset since the byte was never read. */
	cr_assert_leq(recv(fd, &c, 1, 0), 0, "new connections meet the new rules");
	close(fd);
}

Test(reload, moving_a_port_between_wildcard_and_specific_says_restart)
{
	char text[1024];
	uint16_t port, cmd;
	int fd;

	free_ports(&port, 1);
	tcpd_start(NULL);
	cmd = tcpd.port[P_COMMAND];
	snprintf(text, sizeof(text), "[listener.command]\nbind = 127.0.0.1:%u\n"
	    "service = command\n[listener.x]\nbind = 0.0.0.0:%u\nservice = echo\n",
	    cmd, port);
	cr_assert_eq(tcpd_reload(text), 0);
	snprintf(text, sizeof(text), "[listener.command]\nbind = 127.0.0.1:%u\n"
	    "service = command\n[listener.x]\nbind = 127.0.0.1:%u\nservice = echo\n",
	    cmd, port);
	cr_assert_eq(tcpd_reload(text), -1);
	cr_assert_eq(tcpd_log_count("(a reload cannot move a port between a wildcard and "
	    "a specific address): restart tcpd for this change"), 1);
	/* The running configuration stays: the wildcard still serves echo. */
	fd = tcp_connect(port);
	echo_round(fd, "still here");
	close(fd);
}

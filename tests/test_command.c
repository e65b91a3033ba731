/* SPDX-License-Identifier: MIT */
/* The command protocol over real loopback sockets against the built tcpd. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "tcpd_build.h"

TestSuite(command, .init = tcpd_setup, .fini = tcpd_teardown, .timeout = 60);

/* Sends a request and checks the exact reply; the connection stays open. */
static void
exchange(int fd, const char *req, size_t reqlen, const char *reply, size_t len)
{
	char in[4096];

	send_all(fd, req, reqlen);
	recv_exact(fd, in, len);
	assert_bytes(in, len, reply, len);
}

#define EXCHANGE(fd, req, reply) exchange(fd, req, sizeof(req) - 1, reply, sizeof(reply) - 1)

/* Sends a request and checks the exact reply, followed by the server closing. */
static void
final_exchange(const char *req, size_t reqlen, const char *reply, size_t len)
{
	char in[4096];
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	size_t n;

	send_all(fd, req, reqlen);
	n = recv_all(fd, in, sizeof(in));
	assert_bytes(in, n, reply, len);
	close(fd);
}

#define FINAL(req, reply) final_exchange(req, sizeof(req) - 1, reply, sizeof(reply) - 1)

Test(command, ping_echo_inline_and_resp)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	EXCHANGE(fd, "ping\n", "+PONG\r\n");
	EXCHANGE(fd, "PING \"hi there\"\r\n", "$8\r\nhi there\r\n");
	EXCHANGE(fd, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
	EXCHANGE(fd, "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", "$5\r\nhello\r\n");
	EXCHANGE(fd, "EcHo\tword\r\n", "$4\r\nword\r\n");
	EXCHANGE(fd, "*2\r\n$4\r\nECHO\r\n$4\r\n\0\r\n\xff\r\n", "$4\r\n\0\r\n\xff\r\n");
	close(fd);
}

Test(command, pipelined_in_one_segment)
{
	static const char req[] = "PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nA\r\nECHO B\n"
	    "NOPE\r\n\r\n*1\r\n$4\r\nPING\r\nPING C\r\n";
	static const char reply[] = "+PONG\r\n$1\r\nA\r\n$1\r\nB\r\n"
	    "-ERR unknown command 'NOPE'\r\n+PONG\r\n$1\r\nC\r\n";
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	EXCHANGE(fd, req, reply);
	close(fd);
}

Test(command, request_split_byte_by_byte)
{
	static const char req[] = "*2\r\n$4\r\nECHO\r\n$5\r\nsplit\r\n";
	char in[32];
	int fd = tcp_connect(tcpd.port[P_COMMAND]), one = 1;
	size_t i;
	struct timespec ts = { 0, 2000000 };

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < sizeof(req) - 1; i++) {
		send_all(fd, req + i, 1);
		nanosleep(&ts, NULL);
	}
	recv_exact(fd, in, 11);
	assert_reply(in, 11, "$5\r\nsplit\r\n");
	close(fd);
}

Test(command, quit_replies_then_closes)
{
	FINAL("PING\r\nQUIT\r\nPING\r\n", "+PONG\r\n+OK\r\n");
}

Test(command, unknown_and_arity_errors_keep_the_connection)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	EXCHANGE(fd, "GET key\r\n", "-ERR unknown command 'GET'\r\n");
	EXCHANGE(fd, "ECHO\r\n", "-ERR wrong number of arguments for 'echo' command\r\n");
	EXCHANGE(fd, "ECHO a b\r\n", "-ERR wrong number of arguments for 'echo' command\r\n");
	EXCHANGE(fd, "TIME now\r\n", "-ERR wrong number of arguments for 'time' command\r\n");
	EXCHANGE(fd, "WHOAMI x\r\n", "-ERR wrong number of arguments for 'whoami' command\r\n");
	EXCHANGE(fd, "HELP x\r\n", "-ERR wrong number of arguments for 'help' command\r\n");
	EXCHANGE(fd, "INFO server nosuch\r\n", "-ERR unknown INFO section 'nosuch'\r\n");
	EXCHANGE(fd, "CONFIG GET\r\n", "-ERR wrong number of arguments for 'config|get' command\r\n");
	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	close(fd);
}

Test(command, protocol_errors_reply_then_close)
{
	FINAL("*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n");
	FINAL("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n");
	FINAL("*1\r\n$1099511627776\r\n", "-ERR Protocol error: invalid bulk length\r\n");
	FINAL("*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
	FINAL("*1000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
	FINAL("*2\r\n*1\r\n", "-ERR Protocol error: expected '$', got '*'\r\n");
	FINAL("*1\r\n$4\r\nPINGPONG\r\n",
	    "-ERR Protocol error: bulk string not followed by CRLF\r\n");
	FINAL("ECHO \"open\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
	FINAL("PING\r\n*1\r\n$x\r\nPING\r\n",
	    "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
}

Test(command, line_over_max_line_is_refused_before_its_newline)
{
	char *big = malloc(2048), in[256];
	int fd, i;
	size_t n;

	tcpd_stop();
	tcpd_start("max_line = 1024");
	memset(big, 'a', 2048);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, big, 1500);	/* no newline at all */
	n = recv_all(fd, in, sizeof(in));
	assert_reply(in, n, "-ERR Protocol error: too big inline request\r\n");
	close(fd);

	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "*2\r\n$4\r\nECHO\r\n$1025\r\n", 21);
	n = recv_all(fd, in, sizeof(in));
	assert_reply(in, n, "-ERR Protocol error: invalid bulk length\r\n");
	close(fd);

	/* Small bulks, but more than max_line + 128 KiB in one request. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "*100000\r\n", 9);
	for (i = 0; i < 30000; i++)
		send_all(fd, "$1\r\nx\r\n", 7);
	n = recv_all(fd, in, sizeof(in));
	assert_reply(in, n, "-ERR Protocol error: too big request\r\n");
	close(fd);

	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "*2\r\n$4\r\nECHO\r\n$1024\r\n", 21);
	send_all(fd, big, 1024);
	send_all(fd, "\r\n", 2);
	recv_exact(fd, in, 8);
	assert_reply(in, 8, "$1024\r\na");
	close(fd);
	free(big);
}

Test(command, whoami_names_the_connection)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char in[256], expect[256];
	unsigned long long id;
	int fd = tcp_connect(tcpd.port[P_COMMAND]), n, hdr;

	getsockname(fd, (struct sockaddr *)&me, &len);
	send_all(fd, "WHOAMI\r\n", 8);
	n = (int)recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	cr_assert_eq(sscanf(in, "$%d\r\nid=%llu ", &hdr, &id), 2, "got '%s'", in);
	snprintf(expect, sizeof(expect), "id=%llu addr=127.0.0.1:%u laddr=127.0.0.1:%u "
	    "listener=command", id, ntohs(me.sin_port), tcpd.port[P_COMMAND]);
	cr_assert_eq(hdr, (int)strlen(expect));
	cr_assert_str_eq(strchr(in, '\n') + 1, strcat(expect, "\r\n"));
	close(fd);
}

Test(command, whoami_on_a_wildcard_bind_names_the_address_reached, .init = NULL)
{
	char extra[160], in[256], want[64];
	uint16_t any;
	int fd, n;

	/* Only loopback is let in, though the socket listens on every address. */
	free_ports(&any, 1);
	snprintf(extra, sizeof(extra), "[listener.any]\nbind = 0.0.0.0:%u\nservice = command\n"
	    "allow = 127.0.0.0/8\n", any);
	tcpd_start(extra);
	fd = tcp_connect(any);
	send_all(fd, "WHOAMI\r\n", 8);
	n = (int)recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	snprintf(want, sizeof(want), " laddr=127.0.0.1:%u listener=any\r\n", any);
	cr_assert_not_null(strstr(in, want), "got '%s'", in);
	close(fd);
}

Test(command, over_ipv6)
{
	char in[256];
	int fd = tcp_connect6(tcpd.port[P_COMMAND]), n;

	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	send_all(fd, "WHOAMI\r\n", 8);
	n = (int)recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	cr_assert_not_null(strstr(in, " addr=[::1]:"), "got '%s'", in);
	cr_assert_not_null(strstr(in, " laddr=[::1]:"), "got '%s'", in);
	close(fd);
}

Test(command, info_counts_connections_and_commands)
{
	char x;
	int e = tcp_connect(tcpd.port[P_ECHO]), fd;
	const char *in;

	send_all(e, "x", 1);
	recv_exact(e, &x, 1);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	close(fd);
	in = tcpd_info();
	/* The harness's probe and the PING connection came before this one. */
	cr_assert_not_null(strstr(in, "total_connections_received:4\r\n"), "%s", in);
	cr_assert_not_null(strstr(in, "total_commands_processed:2\r\n"), "%s", in);
	cr_assert_not_null(strstr(in, "service_echo:connected=1,total=1\r\n"), "%s", in);
	cr_assert_not_null(strstr(in, "service_command:connected=1,total=3\r\n"), "%s", in);
	close(e);
}

Test(command, pipelining_client_that_reads_late_gets_every_reply)
{
	/*
	 * Two million PINGs (12 MB) with a 64 KiB output_limit: the client
	 * writes until tcpd stops reading, only then reads. tcpd must pause
	 * instead of buffering, then answer every request in order.
	 */
	enum { N = 2000000 };
	size_t len = 6 * (size_t)N, sent, got, i;
	char *req = malloc(len), *in = malloc(7 * (size_t)N + 1);
	int fd;

	tcpd_stop();
	tcpd_start("output_limit = 65536");
	for (i = 0; i < N; i++)
		memcpy(req + 6 * i, "PING\r\n", 6);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	sent = send_until_blocked(fd, req, len);
	cr_assert_lt(sent, len, "tcpd read all %zu bytes without the client "
	    "reading a reply", len);
	got = pump(fd, req + sent, len - sent, true, in, 7 * (size_t)N + 1);
	cr_assert_eq(got, 7 * (size_t)N, "%zu replies", got / 7);
	for (i = 0; i < N; i++)
		cr_assert_eq(memcmp(in + 7 * i, "+PONG\r\n", 7), 0, "reply %zu", i);
	close(fd);
	free(req);
	free(in);
}

Test(command, redis_cli_talks_to_tcpd)
{
	char out[256], port[8];
	const char *argv[] = { "/usr/bin/redis-cli", "-p", port, "ECHO", "hi there", NULL };

	if (access(argv[0], X_OK) != 0)
		cr_skip_test("redis-cli is not installed");
	snprintf(port, sizeof(port), "%u", tcpd.port[P_COMMAND]);
	cr_assert_eq(run_capture(argv, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "hi there\n");
}

/* The connection's id, as CLIENT ID says it. */
static unsigned long long
client_id(int fd)
{
	char in[64];
	unsigned long long id;
	ssize_t n;

	send_all(fd, "CLIENT ID\r\n", 11);
	n = recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	cr_assert_eq(sscanf(in, ":%llu\r\n", &id), 1, "%s", in);
	return id;
}

/* HELLO 3 switches the connection to RESP3, as redis-server 7 answers it; HELLO 2 back. */
Test(command, hello_switches_the_protocol)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	unsigned long long id = client_id(fd);
	char want[512], in[512];
	int n;

	n = snprintf(want, sizeof(want), "%%7\r\n$6\r\nserver\r\n$4\r\ntcpd\r\n$7\r\nversion\r\n"
	    "$%zu\r\n%s\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:%llu\r\n$4\r\nmode\r\n$10\r\n"
	    "standalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
	    strlen(TCPD_VERSION), TCPD_VERSION, id);
	send_all(fd, "HELLO 3\r\n", 9);
	recv_exact(fd, in, (size_t)n);
	assert_bytes(in, (size_t)n, want, (size_t)n);
	/* RESP3's types from now on: a null, a map, verbatim text. */
	EXCHANGE(fd, "CLIENT GETNAME\r\n", "_\r\n");
	EXCHANGE(fd, "CONFIG GET appendonly\r\n", "%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
	send_all(fd, "INFO server\r\n", 13);
	recv_exact(fd, in, 1);
	cr_assert_eq(in[0], '=');
	close(fd);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	EXCHANGE(fd, "HELLO 4\r\n", "-NOPROTO unsupported protocol version\r\n");
	EXCHANGE(fd, "HELLO x\r\n", "-ERR Protocol version is not an integer or out of range\r\n");
	EXCHANGE(fd, "HELLO 3 FOO\r\n", "-ERR Syntax error in HELLO option 'FOO'\r\n");
	EXCHANGE(fd, "*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$7\r\nSETNAME\r\n$3\r\na b\r\n",
	    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
	/* Checked whole before any of it takes effect: still RESP2, still no name. */
	EXCHANGE(fd, "CLIENT GETNAME\r\n", "$-1\r\n");
	send_all(fd, "HELLO 2 SETNAME app\r\n", 21);
	recv_exact(fd, in, 5);
	assert_bytes(in, 5, "*14\r\n", 5);
	close(fd);
}

/* A listener with a password: the lines of its section after bind and service. */
static uint16_t
start_with_password(const char *lines)
{
	char extra[512];
	uint16_t port;

	free_ports(&port, 1);
	snprintf(extra, sizeof(extra), "[listener.auth]\nbind = 127.0.0.1:%u\n"
	    "service = command\n%s\n", port, lines);
	tcpd_start(extra);
	return port;
}

/* requirepass: nothing runs before AUTH, a wrong password is counted and logged. */
Test(command, auth_against_requirepass, .init = NULL)
{
	uint16_t port = start_with_password("requirepass = s3cret");
	int fd = tcp_connect(port);
	const char *info;
	char in[512];
	size_t n;

	EXCHANGE(fd, "PING\r\n", "-NOAUTH Authentication required.\r\n");
	EXCHANGE(fd, "FAULT DELAY 1\r\n", "-NOAUTH Authentication required.\r\n");
	EXCHANGE(fd, "HELLO 3\r\n", "-NOAUTH HELLO must be called with the client already "
	    "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used "
	    "to authenticate the client and select the RESP protocol version at the same "
	    "time\r\n");
	EXCHANGE(fd, "AUTH wrong\r\n",
	    "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
	EXCHANGE(fd, "AUTH other s3cret\r\n",
	    "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
	/* The same length, one byte off; a prefix. */
	EXCHANGE(fd, "AUTH s3creX\r\nAUTH s3cr\r\n",
	    "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
	    "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
	EXCHANGE(fd, "AUTH s3cret\r\nPING\r\n", "+OK\r\n+PONG\r\n");
	/* RESET forgets it; AUTH default works as AUTH alone. */
	EXCHANGE(fd, "RESET\r\nPING\r\n", "+RESET\r\n-NOAUTH Authentication required.\r\n");
	EXCHANGE(fd, "AUTH default s3cret\r\nPING\r\n", "+OK\r\n+PONG\r\n");
	close(fd);
	fd = tcp_connect(port);
	EXCHANGE(fd, "HELLO 3 AUTH default nope\r\n",
	    "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
	send_all(fd, "HELLO 3 AUTH default s3cret\r\nPING\r\nQUIT\r\n", 41);
	n = recv_all(fd, in, sizeof(in) - 1);
	in[n] = '\0';
	cr_assert_eq(strncmp(in, "%7\r\n", 4), 0, "%s", in);
	cr_assert_not_null(strstr(in, "$7\r\nmodules\r\n*0\r\n+PONG\r\n+OK\r\n"), "%s", in);
	close(fd);
	info = tcpd_info();
	cr_assert_not_null(strstr(info, "\r\nacl_access_denied_auth:5\r\n"), "%s", info);
	cr_assert_geq(tcpd_log_count("AUTH failed"), 1);
	/* Without a password, AUTH says so, as Redis does; the default user takes any. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	EXCHANGE(fd, "AUTH x\r\n", "-ERR AUTH <password> called without any password "
	    "configured for the default user. Are you sure your configuration is correct?\r\n");
	EXCHANGE(fd, "AUTH default x\r\n", "+OK\r\n");
	close(fd);
}

/* CLIENT: this connection's id, name, library, line; the others' lines; KILL; REPLY. */
Test(command, client_subcommands)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]), other = tcp_connect(tcpd.port[P_COMMAND]);
	unsigned long long id = client_id(fd), other_id = client_id(other);
	char req[128], in[4096];
	ssize_t n;

	EXCHANGE(fd, "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\na b\r\n", "-ERR Client "
	    "names cannot contain spaces, newlines or special characters.\r\n");
	EXCHANGE(fd, "CLIENT SETNAME app\r\nCLIENT GETNAME\r\n", "+OK\r\n$3\r\napp\r\n");
	EXCHANGE(fd, "CLIENT SETINFO LIB-NAME redis-py\r\nCLIENT SETINFO lib-ver 4.3\r\n",
	    "+OK\r\n+OK\r\n");
	EXCHANGE(fd, "CLIENT SETINFO LIB-COLOR x\r\n", "-ERR Unrecognized option 'LIB-COLOR'\r\n");
	EXCHANGE(fd, "CLIENT NO-EVICT on\r\nCLIENT NO-TOUCH off\r\nCLIENT NO-EVICT maybe\r\n",
	    "+OK\r\n+OK\r\n-ERR syntax error\r\n");
	send_all(fd, "CLIENT INFO\r\n", 13);
	n = recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	snprintf(req, sizeof(req), "id=%llu addr=127.0.0.1:", id);
	cr_assert_not_null(strstr(in, req), "%s", in);
	cr_assert_not_null(strstr(in, " name=app age=0 idle=0 flags=N db=0 "), "%s", in);
	cr_assert_not_null(strstr(in, " cmd=client user=default redir=-1 resp=2 "
	    "lib-name=redis-py lib-ver=4.3 listener=command\n\r\n"), "%s", in);
	/* LIST: both; LIST ID: the one asked for. */
	send_all(other, "CLIENT LIST\r\n", 13);
	n = recv(other, in, sizeof(in) - 1, 0);
	in[n > 0 ? n : 0] = '\0';
	cr_assert_not_null(strstr(in, req), "%s", in);
	snprintf(req, sizeof(req), "id=%llu addr=", other_id);
	cr_assert_not_null(strstr(in, req), "%s", in);
	snprintf(req, sizeof(req), "CLIENT LIST ID %llu\r\n", id);
	send_all(other, req, strlen(req));
	n = recv(other, in, sizeof(in) - 1, 0);
	in[n > 0 ? n : 0] = '\0';
	cr_assert_not_null(strstr(in, "name=app"), "%s", in);
	snprintf(req, sizeof(req), "id=%llu ", other_id);
	cr_assert_null(strstr(in, req), "%s", in);
	EXCHANGE(other, "CLIENT LIST TYPE pubsub\r\n", "$0\r\n\r\n");
	/* REPLY OFF: nothing until ON; SKIP: the next one only. */
	EXCHANGE(fd, "CLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY ON\r\n", "+OK\r\n");
	EXCHANGE(fd, "CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\n", "$1\r\nb\r\n");
	/* KILL by id from the other connection: :1, and this one is closed. */
	snprintf(req, sizeof(req), "CLIENT KILL ID %llu\r\n", id);
	exchange(other, req, strlen(req), ":1\r\n", 4);
	cr_assert(recv_eof(fd));
	close(fd);
	/* Not itself, unless SKIPME no says so. */
	snprintf(req, sizeof(req), "CLIENT KILL ID %llu\r\nPING\r\n", other_id);
	exchange(other, req, strlen(req), ":0\r\n+PONG\r\n", 11);
	EXCHANGE(other, "CLIENT KILL 1.2.3.4:5\r\n", "-ERR No such client\r\n");
	EXCHANGE(other, "CLIENT KILL ADDR 1.2.3.4:5 SKIPME no\r\n", ":0\r\n");
	EXCHANGE(other, "CLIENT KILL ID x\r\n", "-ERR syntax error\r\n");
	EXCHANGE(other, "CLIENT FOO\r\n", "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
	/* Itself, with SKIPME no: the reply first, then the close. */
	snprintf(req, sizeof(req), "CLIENT KILL ID %llu SKIPME no\r\n", other_id);
	exchange(other, req, strlen(req), ":1\r\n", 4);
	cr_assert(recv_eof(other));
	close(other);
}

/* WHOAMI names a named connection. */
Test(command, whoami_shows_the_name)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	char in[256];
	ssize_t n;

	EXCHANGE(fd, "CLIENT SETNAME worker-7\r\n", "+OK\r\n");
	send_all(fd, "WHOAMI\r\n", 8);
	n = recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	cr_assert_not_null(strstr(in, " listener=command name=worker-7\r\n"), "%s", in);
	close(fd);
}

/* FAULT NAME: every fault under one word; the bare RESET is Redis's. */
Test(command, faults_under_one_word, .init = NULL)
{
	int fd;
	char in[4096];
	ssize_t n;

	tcpd_start_with(NULL, "faults = loopback", 0);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	EXCHANGE(fd, "FAULT DELAY 50 10\r\nFAULT TRUNCATE\r\nFAULT LIST\r\n",
	    "+OK\r\n+OK\r\n*2\r\n$23\r\nTRUNCATE the next reply\r\n$11\r\nDELAY 50 10\r\n");
	EXCHANGE(fd, "FAULT CLEAR\r\nFAULTS\r\n", "+OK\r\n*0\r\n");
	EXCHANGE(fd, "FAULT NOPE\r\n", "-ERR unknown fault 'NOPE'. Try HELP.\r\n");
	EXCHANGE(fd, "FAULT\r\n", "-ERR wrong number of arguments for 'fault' command\r\n");
	EXCHANGE(fd, "FAULT SLEEP\r\n", "-ERR syntax: FAULT SLEEP ms\r\n");
	EXCHANGE(fd, "RESET\r\nPING\r\n", "+RESET\r\n+PONG\r\n");
	/* COMMAND shows FAULT here, its subcommands from the faults' table. */
	EXCHANGE(fd, "COMMAND COUNT\r\n", ":16\r\n");
	send_all(fd, "COMMAND INFO fault\r\n", 20);
	n = recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	cr_assert_not_null(strstr(in, "$11\r\nfault|delay\r\n:-3\r\n"), "%s", in);
	/* HELP lists them where the listener lets this client use them. */
	send_all(fd, "HELP\r\nQUIT\r\n", 12);
	n = (ssize_t)recv_all(fd, in, sizeof(in) - 1);
	in[n] = '\0';
	cr_assert_not_null(strstr(in, "\r\nFAULT RESET [AFTER bytes|250ms|2s]\r\n"), "%s", in);
	close(fd);
}

/* The commands tcpd shares with Redis, in RESP2 and RESP3, beside a real redis-server. */
Test(command, reply_shapes_match_redis_server)
{
	char script[512], tp[8], rp[8], out[8192];
	const char *argv[] = { "/usr/bin/python3", script, tp, rp, NULL };
	uint16_t port;

	free_ports(&port, 1);
	if (redis_server_start(port, NULL) == 0)
		cr_skip_test("redis-server is not installed");
	snprintf(script, sizeof(script), "%s/tests/clients/resp_shapes.py", source_root());
	snprintf(tp, sizeof(tp), "%u", tcpd.port[P_COMMAND]);
	snprintf(rp, sizeof(rp), "%u", port);
	cr_assert_eq(run_capture(argv, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "RESP3 HELLO 3: same\n"), "%s", out);
}

/* redis-cli -3, a client nobody here wrote: RESP3 from its first command, a password, a wrong one. */
Test(command, redis_cli_in_resp3, .init = NULL)
{
	char out[4096], auth[8], p[8], script[] = "CLIENT SETNAME cli3\nCLIENT GETNAME\n";
	uint16_t port = start_with_password("requirepass = s3cret");
	const char *const ping[] = { "/usr/bin/redis-cli", "-3", "-p", p, "PING", NULL };
	const char *const echo[] = { "/usr/bin/redis-cli", "-3", "-p", p, "ECHO", "a\tb c", NULL };
	const char *const name[] = { "/usr/bin/redis-cli", "-3", "--no-raw", "-p", p, "CLIENT", "GETNAME",
	    NULL };
	const char *const hello[] = { "/usr/bin/redis-cli", "-3", "--no-raw", "-p", p, "HELLO", "3", NULL };
	const char *const named[] = { "/usr/bin/redis-cli", "-3", "-p", p, NULL };
	const char *const good[] = { "/usr/bin/redis-cli", "-3", "-a", "s3cret", "--no-auth-warning", "-p",
	    auth, "PING", NULL };
	const char *const bad[] = { "/usr/bin/redis-cli", "-3", "-a", "nope", "--no-auth-warning", "-p",
	    auth, "PING", NULL };

	snprintf(p, sizeof(p), "%u", tcpd.port[P_COMMAND]);
	snprintf(auth, sizeof(auth), "%u", port);
	cr_assert_eq(run_capture(ping, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	cr_assert_eq(run_capture(echo, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a\tb c\n");
	cr_assert_eq(run_capture(name, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "(nil)\n");
	cr_assert_eq(run_capture(hello, out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "1# \"server\" => \"tcpd\"\n2# \"version\" => ", 38), 0, "%s", out);
	cr_assert_not_null(strstr(out, "3# \"proto\" => (integer) 3\n"), "%s", out);
	cr_assert_eq(run_capture_input(named, script, strlen(script), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "OK\ncli3\n");
	cr_assert_eq(run_capture(good, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	run_capture(bad, out, sizeof(out));
	cr_assert_not_null(strstr(out, "AUTH failed: WRONGPASS invalid username-password pair or "
	    "user is disabled.\n"), "%s", out);
	cr_assert_not_null(strstr(out, "NOAUTH Authentication required.\n"), "%s", out);
}

/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon/activation.h"
#include "daemon/channel.h"
#include "daemon/config.h"
#include "daemon/notify.h"
#include "daemon/services/service.h"
#include "daemon/sockets.h"

/*
 * A datagram socket of the test's own, standing in for systemd's. Either
 * way the address is offsetof(sun_path) + len + 1: a trailing NUL after a
 * path, the leading NUL before an abstract name.
 */
static int
listen_dgram(const char *name, bool abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	size_t len = strlen(name);
	struct timeval tv = { 2, 0 };

	cr_assert_geq(fd, 0);
	memcpy(sun.sun_path + (abstract ? 1 : 0), name, len);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, (socklen_t)(offsetof(struct
	    sockaddr_un, sun_path) + len + 1)), 0, "%s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void
expect_datagram(int fd, const char *state)
{
	char in[512];
	ssize_t n = recv(fd, in, sizeof(in) - 1, 0);

	cr_assert_gt(n, 0, "no datagram: %s", strerror(errno));
	in[n] = '\0';
	cr_assert_str_eq(in, state);
}

Test(notify, nothing_to_do_without_notify_socket)
{
	unsetenv("NOTIFY_SOCKET");
	notify_reset();
	cr_assert_eq(notify_send("READY=1"), 0);
}

Test(notify, path_socket)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/tcpd-notify-%d", (int)getpid());
	unlink(path);
	fd = listen_dgram(path, false);
	setenv("NOTIFY_SOCKET", path, 1);
	notify_reset();
	cr_assert_eq(notify_send("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	cr_assert_eq(notify_send("RELOADING=1\nMONOTONIC_USEC=42"), 1);
	expect_datagram(fd, "RELOADING=1\nMONOTONIC_USEC=42");
	close(fd);
	unlink(path);
}

Test(notify, abstract_socket_uses_the_exact_name_length)
{
	char name[64], env[66];
	int fd;

	/* Bound with its exact length: a NUL-padded sun_path would miss it. */
	snprintf(name, sizeof(name), "tcpd-notify-test-%d", (int)getpid());
	fd = listen_dgram(name, true);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	notify_reset();
	cr_assert_eq(notify_send("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
}

Test(notify, errors_are_returned_not_raised)
{
	setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
	notify_reset();
	cr_assert_eq(notify_send("READY=1"), -ENOENT);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	cr_assert_eq(notify_send("READY=1"), -EINVAL);
}

Test(notify, watchdog_interval)
{
	char pid[16];

	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	cr_assert_eq(notify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "3000000", 1);
	cr_assert_eq(notify_watchdog_usec(), 3000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	cr_assert_eq(notify_watchdog_usec(), 3000000);
	setenv("WATCHDOG_PID", "1", 1);
	cr_assert_eq(notify_watchdog_usec(), 0, "meant for another process");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "soon", 1);
	cr_assert_eq(notify_watchdog_usec(), 0);
}

/*
 * activation_take() works on descriptors 3 and up, which the test runner
 * uses itself: each case runs in a child that reports through its status.
 */
static int
in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
two_named_sockets(void)
{
	struct activation a;
	char pid[16];
	int s;

	for (s = 3; s <= 4; s++)
		if (dup2(socket(AF_INET, SOCK_STREAM, 0), s) != s)
			return 10;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", "echo:command", 1);
	if (activation_take(&a) != 2 || a.n != 2)
		return 11;
	if (a.fds[0] != 3 || a.fds[1] != 4)
		return 12;
	if (strcmp(a.names[0], "echo") != 0 || strcmp(a.names[1], "command") != 0)
		return 13;
	if (getenv("LISTEN_FDS") || getenv("LISTEN_PID") || getenv("LISTEN_FDNAMES"))
		return 14;	/* children must not inherit them */
	if (!(fcntl(3, F_GETFD) & FD_CLOEXEC))
		return 15;
	return 0;
}

static int
names_default_to_unknown(void)
{
	struct activation a;
	char pid[16];

	dup2(socket(AF_INET, SOCK_STREAM, 0), 3);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	unsetenv("LISTEN_FDNAMES");
	if (activation_take(&a) != 1 || strcmp(a.names[0], "unknown") != 0)
		return 20;
	return 0;
}

static int
other_process_or_garbage(void)
{
	struct activation a;

	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	if (activation_take(&a) != 0 || a.n != 0 || getenv("LISTEN_FDS"))
		return 30;
	setenv("LISTEN_PID", "12x", 1);
	setenv("LISTEN_FDS", "1", 1);
	if (activation_take(&a) != -EINVAL)
		return 31;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	if (activation_take(&a) != 0)
		return 32;
	return 0;
}

Test(activation, takes_named_sockets_and_clears_the_environment)
{
	cr_assert_eq(in_child(two_named_sockets), 0);
}

Test(activation, unnamed_sockets_are_unknown)
{
	cr_assert_eq(in_child(names_default_to_unknown), 0);
}

Test(activation, ignores_what_is_meant_for_another_process)
{
	cr_assert_eq(in_child(other_process_or_garbage), 0);
}

/* A worker's notifications go to its channel, one message each, not to $NOTIFY_SOCKET. */
Test(channel, notifications_go_to_the_channel)
{
	char text[64];
	struct config none;
	bool got;
	int ch[2];

	setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
	cr_assert_eq(channel_pair(ch), 0);
	notify_set_fd(ch[1]);
	cr_assert_eq(notify_send("READY=1"), 1);
	cr_assert_eq(notify_send(CHANNEL_APPLIED), 1);
	cr_assert_eq(channel_recv(ch[0], text, sizeof(text), &none, &got), 7);
	cr_assert_str_eq(text, "READY=1");
	cr_assert_not(got);
	cr_assert_gt(channel_recv(ch[0], text, sizeof(text), &none, &got), 0);
	cr_assert_str_eq(text, CHANNEL_APPLIED);
	cr_assert_eq(channel_recv(ch[0], text, sizeof(text), &none, &got), -1);
	cr_assert_eq(errno, EAGAIN);
	notify_reset();
	cr_assert_eq(notify_send("READY=1"), -ENOENT, "back to $NOTIFY_SOCKET");
	close(ch[1]);
	cr_assert_eq(channel_recv(ch[0], text, sizeof(text), &none, &got), 0, "closed");
	close(ch[0]);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* What the supervisor parsed is what the worker gets: pointers remade, nothing re-read. */
Test(channel, a_configuration_arrives_as_parsed)
{
	struct config_errors errs;
	struct config cfg, got;
	char dir[64], path[128], text[64];
	bool has;
	int ch[2];
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/tcpd-channel-%d", (int)getpid());
	snprintf(path, sizeof(path), "mkdir -p %s/conf.d", dir);
	cr_assert_eq(system(path), 0);
	snprintf(path, sizeof(path), "%s/conf.d/b.conf", dir);
	put(path, "[listener.b]\nbind = 127.0.0.1:13\nservice = daytime\n");
	snprintf(path, sizeof(path), "%s/tcpd.conf", dir);
	put(path, "[tcpd]\nmax_connections = 77\ninclude = conf.d/*.conf\n[listener.a]\n"
	    "bind = 127.0.0.1:7 [::1]:7\nservice = echo\nallow = 10.0.0.0/8\n");
	cr_assert_eq(config_load_file(&cfg, path, &errs), 0, "%s", errs.err[0].msg);
	cr_assert_eq(channel_pair(ch), 0);
	cr_assert_eq(channel_send_config(ch[0], &cfg), 0);
	/* Nothing on disk is read again. */
	snprintf(path, sizeof(path), "rm -r %s", dir);
	cr_assert_eq(system(path), 0);
	cr_assert_eq(channel_recv(ch[1], text, sizeof(text), &got, &has), 11);
	cr_assert(has);
	cr_assert_eq(got.max_connections, 77);
	cr_assert_eq(got.nlisteners, 2);
	cr_assert_eq(got.nfiles, 1);
	cr_assert_str_eq(got.files[0], cfg.files[0]);
	for (i = 0; i < 2; i++) {
		const struct listener_config *a = &cfg.listeners[i], *b = &got.listeners[i];

		cr_assert_str_eq(b->name, a->name);
		cr_assert_eq(b->service, a->service);
		cr_assert_eq(b->nbinds, a->nbinds);
		cr_assert(net_addr_equal(&b->binds[b->nbinds - 1], &a->binds[a->nbinds - 1]));
		cr_assert_eq(memcmp(&b->allow, &a->allow, sizeof(a->allow)), 0);
		cr_assert_eq(memcmp(&b->profile, &a->profile, sizeof(a->profile)), 0);
	}
	/* The include comes first. */
	cr_assert_str_eq(got.listeners[0].name, "b");
	cr_assert_eq(got.listeners[0].service, service_find("daytime", 7));
	cr_assert_eq(got.listeners[1].service, service_find("echo", 4));
	/* The included listener names its file, in the copy's own list. */
	cr_assert_eq(got.listeners[0].file, got.files[0]);
	cr_assert_null(got.listeners[1].file);
	config_free(&got);
	config_free(&cfg);
	close(ch[0]);
	close(ch[1]);
}

/* A configuration message without its memfd is refused, not half read. */
Test(channel, a_configuration_without_its_file_is_refused)
{
	struct config none;
	char text[64];
	bool got;
	int ch[2];

	cr_assert_eq(channel_pair(ch), 0);
	cr_assert_eq(send(ch[0], "TCPD_CONFIG", 11, 0), 11);
	cr_assert_eq(channel_recv(ch[1], text, sizeof(text), &none, &got), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_not(got);
	close(ch[0]);
	close(ch[1]);
}

static void
load(struct config *cfg, const char *text)
{
	struct config_errors errs;

	cr_assert_eq(config_load_string(cfg, text, &errs), 0, "%s", errs.err[0].msg);
}

static bool
listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

static void
close_all(struct activation *a)
{
	while (a->n > 0)
		close(a->fds[--a->n]);
}

/* A supervisor's sockets: each listener's addresses bound once, named by listener. */
Test(sockets, each_address_is_bound_once_and_named)
{
	struct activation none = { .n = 0 }, out;
	struct config cfg;
	char err[256];

	load(&cfg, "[listener.a]\nbind = 127.0.0.1:0 [::1]:0\nservice = echo\n"
	    "[listener.b]\nbind = 127.0.0.1:0 -[2001:db8::1]:0\nservice = daytime\n");
	cr_assert_eq(sockets_open(&cfg, &none, &out, err, sizeof(err)), 0, "%s", err);
	/* b's optional address is not on this host: skipped, not fatal. */
	cr_assert_eq(out.n, 3);
	cr_assert_str_eq(out.names[0], "a");
	cr_assert_str_eq(out.names[1], "a");
	cr_assert_str_eq(out.names[2], "b");
	cr_assert(listening(out.fds[0]) && listening(out.fds[1]) && listening(out.fds[2]));
	close_all(&out);
	config_free(&cfg);
}

/*
 * Sockets systemd passed replace the binds of the listener named after them;
 * one no listener is named after fails the start with nothing left open.
 */
Test(sockets, passed_sockets_replace_binds_and_must_match_a_listener)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct activation passed = { .n = 1 }, out;
	struct config cfg;
	char err[256];
	int fd;

	cr_assert_geq(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	passed.fds[0] = fd;
	snprintf(passed.names[0], sizeof(passed.names[0]), "a");
	load(&cfg, "[listener.a]\nbind = 127.0.0.1:0 [::1]:0\nservice = echo\n");
	cr_assert_eq(sockets_open(&cfg, &passed, &out, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(out.n, 1, "the passed socket only");
	cr_assert_eq(out.fds[0], fd);
	close_all(&out);

	cr_assert_geq(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 8), 0);
	passed.fds[0] = fd;
	snprintf(passed.names[0], sizeof(passed.names[0]), "zzz");
	cr_assert_eq(sockets_open(&cfg, &passed, &out, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "the socket systemd passed as 'zzz' (127.0.0.1:"), "%s",
	    err);
	cr_assert_not_null(strstr(err, ") matches no listener"), "%s", err);
	cr_assert_eq(out.n, 0);
	cr_assert_eq(fcntl(fd, F_GETFD), -1, "the passed socket is closed");
	cr_assert_eq(errno, EBADF);
	config_free(&cfg);
}

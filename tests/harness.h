/* SPDX-License-Identifier: MIT */
#ifndef TCPD_TEST_HARNESS_H
#define TCPD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The daemon under test: one listener per service on free loopback ports. */
enum { P_ECHO, P_DISCARD, P_CHARGEN, P_DAYTIME, P_TIME, P_COMMAND, NPORTS };

struct tcpd_proc {
	pid_t		pid;
	uint16_t	port[NPORTS];	/* each on 127.0.0.1 and ::1 */
	char		dir[64];
	char		conf[96];
	char		log[96];
};

extern struct tcpd_proc tcpd;

const char *tcpd_bin(void);
/* n ports free on both 127.0.0.1 and ::1 right now (n <= NPORTS). */
void	free_ports(uint16_t *ports, size_t n);
const char *source_root(void);

/* Writes a config ([tcpd] gets global_extra) and starts the daemon on it. */
void	tcpd_start(const char *global_extra);
/*
 * The same, adding listener_extra to every listener section right after its
 * bind line (so an indented line continues the bind list; %u there is the
 * listener's port), and running the daemon with RLIMIT_NOFILE of nofile
 * when that is not 0.
 */
void	tcpd_start_with(const char *global_extra, const char *listener_extra,
	    unsigned nofile);
/*
 * Replaces the running daemon's config file with text, sends SIGHUP and
 * waits for the outcome in the log. Returns 0 when tcpd reported the reload
 * done, -1 when it reported it failed.
 */
int	tcpd_reload(const char *text);
/* The standard config text (as tcpd_start_with() writes), for editing. */
void	tcpd_config_text(char *dst, size_t size, const char *global_extra,
	    const char *listener_extra);
/* How many times needle occurs in the daemon's log so far. */
int	tcpd_log_count(const char *needle);
/* Waits up to 5 s for n lines with needle (tcpd logs after it listens); returns the count. */
int	tcpd_log_await(const char *needle, int n);
/* The daemon's log so far, NUL-terminated; free() it. */
char	*tcpd_log_text(void);
/* CPU seconds the daemon has used (user + system). */
double	tcpd_cpu_seconds(void);
/* SIGTERM, then tcpd_await_exit(). */
int	tcpd_stop(void);
/* Waits up to 10 s for the daemon to exit; returns its exit status (or 128 + signal). */
int	tcpd_await_exit(void);
/*
 * Starts bin on the standard config (with global_extra and listener_extra) as tcpd_start_with()
 * does, but tolerates its exiting at start: false then, with the wait
 * status in *status.
 */
bool	tcpd_try_start(const char *bin, const char *global_extra, const char *listener_extra,
	    int *status);
/* tcpd_start_with(NULL, NULL, nofile) with stderr a pipe nobody will ever read. */
void	tcpd_start_stderr_broken(unsigned nofile);
/* Starts tcpd again on the config and ports of the last start (after a stop). */
void	tcpd_restart_same_ports(void);
/*
 * Starts wrapper[0] wrapper[1]... tcpd --config FILE (e.g. under
 * systemd-socket-activate), and first connects to trigger_port, where the
 * wrapper listens, to get tcpd launched.
 */
void	tcpd_start_activated(const char *const *wrapper, uint16_t trigger_port);
/* The same, for a start that may fail: false with *status when tcpd exited. */
bool	tcpd_try_start_activated(const char *const *wrapper, uint16_t trigger_port,
	    int *status);
/*
 * Criterion fixtures: start with defaults / stop and require exit 0 (unless
 * the test reaped tcpd itself).
 */
void	tcpd_setup(void);
void	tcpd_teardown(void);
/* Resident memory of the daemon, KiB. */
long	tcpd_rss_kib(void);
/*
 * Asserts the daemon grew by less than max_kib since rss0. Under ASan the
 * check is skipped with a note: its quarantine keeps freed memory resident
 * by design, so there RSS measures the sanitizer, not tcpd. The plain build
 * runs the same tests with the check.
 */
void	assert_rss_growth_below(long rss0, long max_kib);

/* A listening socket on 127.0.0.1, on a port the kernel picks (*port). */
int	tcp_listen_loopback(uint16_t *port, int backlog);
/* The next connection to a test's own listening socket within 5 s: blocking, 10 s timeouts. */
int	accept_peer(int lfd);
/* Blocking client sockets with a 10 s receive and send timeout. */
int	tcp_connect(uint16_t port);
/* To 127.0.0.1:port, or -1 when nothing listens there (yet). */
int	tcp_try_connect(uint16_t port);
int	tcp_connect6(uint16_t port);
/*
 * A command connection that tcpd admitted (PING answered), retried for a
 * while: right after start, the harness's own probe may still count against
 * a small max_connections.
 */
int	tcp_connect_admitted(uint16_t port);
/* From a chosen loopback source address, e.g. "127.0.0.2". */
int	tcp_connect_from(const char *source, uint16_t port);
/* With a 4 KiB receive buffer, so what tcpd sends backs up inside tcpd. */
int	tcp_connect_small_window(uint16_t port);
/*
 * The receive and send buffer sizes (as SO_RCVBUF and SO_SNDBUF give them)
 * of any process's TCP socket from 127.0.0.1:local to 127.0.0.1:remote, as
 * sock_diag reports them: how tests size what tcpd's sockets can hold.
 */
void	tcp_buffers(uint16_t local, uint16_t remote, int *rcvbuf, int *sndbuf);
void	send_all(int fd, const void *p, size_t n);
/* Reads until EOF or max bytes; returns the count. */
size_t	recv_all(int fd, void *dst, size_t max);
/* Reads exactly n bytes or fails the test. */
void	recv_exact(int fd, void *dst, size_t n);
/* True when the peer has closed: read returns 0 within the timeout. */
bool	recv_eof(int fd);

/*
 * Sends all of out (then shuts down writing when shut) while reading into in,
 * until EOF or max bytes. Returns the bytes received.
 */
size_t	pump(int fd, const void *out, size_t n, bool shut, void *in, size_t max);

/* Closes with an RST (SO_LINGER 0) instead of a FIN. */
void	rst_close(int fd);
/* Requires the next read to fail with ECONNRESET, within the socket's timeout. */
void	assert_reset(int fd);
/* n bytes from rand(); free() them. */
char	*random_bytes(size_t n);
/* The monotonic clock, in ms. */
double	now_ms(void);
/* A ping from client c to server s and its pong back, through a proxy, in ms. */
double	pair_round_trip_ms(int c, int s);
/* Bytes both ways through the proxy on port to the test's server lfd (ping, pong). */
void	assert_proxies(uint16_t port, int lfd);
/* A connect to 127.0.0.1:port: 0, or the errno it failed with (ECONNREFUSED). */
int	connect_errno(uint16_t port);
/* Sends PING on fd and requires +PONG. */
void	assert_ping(int fd);
/* The same on a new command connection, closed after. */
void	ping_ok(void);
/* The INFO text, over a new command connection; a static buffer. */
const char *tcpd_info(void);
/* The same for one section ("proxies"; "" for the default ones). */
const char *tcpd_info_section(const char *section);
/*
 * Sends without blocking until the socket stays unwritable for 300 ms (the
 * peer stopped reading) or all n bytes are sent. Returns the bytes sent.
 */
size_t	send_until_blocked(int fd, const void *p, size_t n);

/* Runs argv with stdout and stderr into out (NUL-terminated); returns exit status. */
int	run_capture(const char *const argv[], char *out, size_t size);
/* The same with input (len bytes) on its stdin, then EOF. */
int	run_capture_input(const char *const argv[], const char *input, size_t len,
	    char *out, size_t size);
/*
 * Sends request on a new connection to 127.0.0.1:port and reads until the
 * server closes (or size - 1 bytes); returns out, NUL-ended.
 */
const char *exchange_to_eof(uint16_t port, const char *request, char *out, size_t size);
/*
 * fork(), the child dying with the test: it gets sig when the process that
 * forked it dies (the kernel's PR_SET_PDEATHSIG), and exits at once when
 * that process is gone already. Every process a test starts comes from
 * here, or calls die_with_test(pid of the forker, sig) after forkpty(), so
 * none outlives its test.
 */
pid_t	test_fork(int sig);
void	die_with_test(pid_t test, int sig);
/*
 * Starts argv (argv[0] searched in PATH when it has no '/') with stdout and
 * stderr into the file log, killed if the test dies.
 */
pid_t	spawn_logged(const char *const argv[], const char *log);
/*
 * Debian's redis-server on 127.0.0.1:port with the options in extra
 * (NULL-ended, or NULL), answering (an error reply counts: a password may
 * be due), killed if the test dies (its log in tcpd.dir); 0 when it is not
 * installed.
 */
pid_t	redis_server_start(uint16_t port, const char *const *extra);
/*
 * Starts argv with its stdin, stdout and stderr on pipes; our ends in
 * *to_child and *from_child. Returns its pid. It gets SIGTERM if the test
 * dies, so a script stops what it started.
 */
pid_t	run_piped(const char *const argv[], int *to_child, int *from_child);

/* A new directory /tmp/PREFIX.XXXXXX, its path in dir; and its removal, contents and all. */
void	temp_dir_make(char *dir, size_t size, const char *prefix);
void	temp_dir_remove(const char *dir);
/* A file's text, in a buffer the next call reuses; fails the test when missing. */
const char *slurp(const char *path);
/* Asserts a received buffer equals the expected bytes, showing both escaped. */
void	assert_bytes(const void *got, size_t gotlen, const void *expect, size_t len);
#define assert_reply(got, gotlen, lit) assert_bytes(got, gotlen, lit, sizeof(lit) - 1)

#endif

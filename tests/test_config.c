/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "daemon/config.h"
#include "daemon/services/service.h"
#include "daemon/supervisor.h"
#include "tcpd/net.h"

#define LISTENER "[listener.e]\nbind = 127.0.0.1:7007\nservice = echo\n"
/* How a duration and a size key say what they expect (one syntax for each). */
#define SEC "expected seconds (30) or a duration (250ms, 1.5s, 5m, 1h), whole seconds from "
#define BY "expected bytes (65536) or a size (64k, 1M, 1G: powers of 1024) from "

static struct config cfg;
static struct config_errors errs;

static void
teardown(void)
{
	config_free(&cfg);
}

TestSuite(config, .fini = teardown);

/* Asserts that text fails with exactly this one error. */
static void
expect_error(const char *text, unsigned line, const char *msg)
{
	cr_assert_eq(config_load_string(&cfg, text, &errs), -1, "accepted: %s", text);
	cr_assert_eq(errs.count, 1, "%zu errors, first: %u: %s", errs.count,
	    errs.err[0].line, errs.err[0].msg);
	cr_assert_eq(errs.err[0].line, line, "line %u: %s", errs.err[0].line,
	    errs.err[0].msg);
	cr_assert_str_eq(errs.err[0].msg, msg);
}

Test(config, defaults)
{
	cr_assert_eq(config_load_string(&cfg, LISTENER, &errs), 0);
	cr_assert_eq(cfg.log_level, LOG_LEVEL_INFO);
	cr_assert_eq(cfg.log_target, LOG_TARGET_AUTO);
	cr_assert_eq(cfg.max_connections, 10000);
	cr_assert_eq(cfg.idle_timeout, 300);
	cr_assert_eq(cfg.max_line, 65536);
	cr_assert_eq(cfg.output_limit, 1048576);
	cr_assert_eq(cfg.request_timeout, 30);
	cr_assert_eq(cfg.shutdown_timeout, 10);
	cr_assert_eq(cfg.nlisteners, 1);
	cr_assert_eq(cfg.listeners[0].max_connections_per_ip, 0);
	cr_assert_eq(cfg.listeners[0].allow.n, 0);
	cr_assert_eq(cfg.listeners[0].deny.n, 0);
	cr_assert_not(cfg.listeners[0].bind_optional[0]);
	cr_assert_str_eq(cfg.listeners[0].name, "e");
	cr_assert_eq(cfg.listeners[0].backlog, 511);
	cr_assert_str_eq(cfg.listeners[0].service->name, "echo");
	cr_assert_eq(cfg.listeners[0].nbinds, 1);
}

Test(config, the_documented_example)
{
	static const char text[] =
	    "[tcpd]\n"
	    "log_level = debug            ; debug | info\n"
	    "max_connections = 5\n"
	    "idle_timeout = 0          ; seconds, 0 = never\n"
	    "max_line = 100\n"
	    "output_limit = 2048\n"
	    "\n"
	    "[listener.echo]\n"
	    "bind = 127.0.0.1:7007 [::1]:7007   ; one or more\n"
	    "service = echo              ; echo | discard\n"
	    "backlog = 10\n"
	    "[listener.cmd-2]\n"
	    "bind = 127.0.0.1:7070,[::1]:7070\n"
	    "  127.0.0.2:7070\n"
	    "service = command\n";
	char text_addr[NET_ADDRSTRLEN];

	cr_assert_eq(config_load_string(&cfg, text, &errs), 0, "%u: %s",
	    errs.err[0].line, errs.err[0].msg);
	cr_assert_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	cr_assert_eq(cfg.max_connections, 5);
	cr_assert_eq(cfg.idle_timeout, 0);
	cr_assert_eq(cfg.max_line, 100);
	cr_assert_eq(cfg.output_limit, 2048);
	cr_assert_eq(cfg.nlisteners, 2);
	cr_assert_eq(cfg.listeners[0].backlog, 10);
	cr_assert_eq(cfg.listeners[0].nbinds, 2);
	net_addr_format(&cfg.listeners[0].binds[1], text_addr, sizeof(text_addr));
	cr_assert_str_eq(text_addr, "[::1]:7007");
	cr_assert_eq(cfg.listeners[1].nbinds, 3, "an indented line continues bind");
	cr_assert_str_eq(cfg.listeners[1].service->name, "command");
	net_addr_format(&cfg.listeners[1].binds[2], text_addr, sizeof(text_addr));
	cr_assert_str_eq(text_addr, "127.0.0.2:7070");
}

Test(config, every_service_name)
{
	static const char *const names[] = { "echo", "discard", "chargen",
	    "daytime", "time", "command" };
	char text[200];
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "[listener.x]\nbind = 127.0.0.1:1\n"
		    "service = %s\n", names[i]);
		cr_assert_eq(config_load_string(&cfg, text, &errs), 0);
		cr_assert_eq(cfg.listeners[0].service, service_at((size_t)i));
		cr_assert_str_eq(service_at((size_t)i)->name, names[i]);
		config_free(&cfg);
	}
}

Test(config, unknown_section)
{
	expect_error(LISTENER "[server]\n", 4,
	    "unknown section [server]: expected [tcpd] or [listener.NAME]");
}

Test(config, unknown_keys)
{
	expect_error("[tcpd]\nport = 5\n" LISTENER, 2, "unknown key 'port' in [tcpd]");
	expect_error(LISTENER "servce = echo\n", 4,
	    "unknown key 'servce' in a listener section");
}

Test(config, key_outside_section)
{
	expect_error("log_level = info\n" LISTENER, 1,
	    "'log_level' is outside any section; put it under [tcpd]");
	expect_error("backlog = 5\n" LISTENER, 1,
	    "'backlog' is outside any section; put it under [listener.NAME]");
	expect_error("port = 5\n" LISTENER, 1,
	    "'port' is outside any section; put it under [tcpd] or [listener.NAME]");
}

Test(config, bad_values)
{
	expect_error("[tcpd]\nlog_level = loud\n" LISTENER, 2,
	    "invalid log_level 'loud': expected debug, info, notice, warning or error");
	expect_error("[tcpd]\nlog_target = syslog\n" LISTENER, 2,
	    "invalid log_target 'syslog': expected auto, journal or stderr");
	expect_error("[tcpd]\nmax_connections = 0\n" LISTENER, 2,
	    "invalid max_connections '0': expected an integer from 1 to 1000000");
	expect_error("[tcpd]\nidle_timeout = -1\n" LISTENER, 2,
	    "invalid idle_timeout '-1': " SEC "0 to 31536000");
	expect_error("[tcpd]\nmax_line = 10q\n" LISTENER, 2,
	    "invalid max_line '10q': " BY "64 to 1073741824");
	expect_error("[tcpd]\noutput_limit = 99999999999999999999\n" LISTENER, 2,
	    "invalid output_limit '99999999999999999999': expected bytes (1048576) or a "
	    "size (64k, 1M, 1G: powers of 1024) from 1024 to 1073741824");
	expect_error("[tcpd]\nmax_line =\n" LISTENER, 2,
	    "invalid max_line '': " BY "64 to 1073741824");
	expect_error(LISTENER "backlog = 70000\n", 4,
	    "invalid backlog '70000': expected an integer from 1 to 65535");
	expect_error("[listener.e]\nbind = 127.0.0.1:7\nservice = ssh\n", 3,
	    "invalid service 'ssh': expected echo, discard, chargen, daytime, "
	    "time, command, metrics, agent, proxy or control");
}

Test(config, bad_binds)
{
	expect_error("[listener.e]\nservice = echo\nbind = 127.0.0.1\n", 3,
	    "invalid bind address '127.0.0.1': missing ':PORT' after address");
	expect_error("[listener.e]\nservice = echo\nbind = ::1:7\n", 3,
	    "invalid bind address '::1:7': IPv6 addresses must be written in "
	    "brackets, as [::1]:PORT");
	expect_error("[listener.e]\nservice = echo\nbind = [::1:7\n", 3,
	    "invalid bind address '[::1:7': missing ']' after IPv6 address");
	expect_error("[listener.e]\nservice = echo\nbind = 127.0.0.1:65536\n", 3,
	    "invalid bind address '127.0.0.1:65536': port must be a number from 0 to 65535 "
	    "(0: any free port)");
	expect_error("[listener.e]\nservice = echo\nbind = db.example:7\n", 3,
	    "invalid bind address 'db.example:7': a host name; write an IP address (tcpd "
	    "resolves no names: a reload must not wait on DNS), localhost or *");
	expect_error("[listener.e]\nservice = echo\nbind = *:x\n", 3,
	    "invalid bind address '*:x': port must be a number from 0 to 65535 "
	    "(0: any free port)");
	expect_error("[listener.e]\nservice = echo\nbind = 300.0.0.1:7\n", 3,
	    "invalid bind address '300.0.0.1:7': invalid IPv4 address");
	expect_error("[listener.e]\nservice = echo\nbind = [fe80::zz]:7\n", 3,
	    "invalid bind address '[fe80::zz]:7': invalid IPv6 address");
	expect_error("[listener.e]\nservice = echo\nbind =\n", 3,
	    "bind needs at least one ADDR:PORT");
}

Test(config, duplicates)
{
	expect_error(LISTENER "service = discard\n", 4,
	    "duplicate key 'service' (first set at line 3)");
	expect_error(LISTENER "[listener.e]\nbind = 127.0.0.1:8\nservice = echo\n", 4,
	    "duplicate listener 'e' (first defined at line 1)");
	expect_error("[tcpd]\n[tcpd]\n" LISTENER, 2, "duplicate section [tcpd]");
	expect_error(LISTENER "[listener.f]\nbind = 127.0.0.1:7007\nservice = echo\n", 5,
	    "address 127.0.0.1:7007 is already bound by listener 'e' (line 2)");
	expect_error("[listener.e]\nbind = [::1]:7 [::1]:7\nservice = echo\n", 2,
	    "address [::1]:7 is already bound by listener 'e' (line 2)");
}

static void
assert_binds(const char *bind, const char *const want[], size_t n)
{
	char text[256], got[NET_ADDRSTRLEN];
	size_t i;

	snprintf(text, sizeof(text), "[listener.e]\nservice = echo\nbind = %s\n", bind);
	cr_assert_eq(config_load_string(&cfg, text, &errs), 0, "%s: %s", bind,
	    errs.err[0].msg);
	cr_assert_eq(cfg.listeners[0].nbinds, n, "%s", bind);
	for (i = 0; i < n; i++) {
		net_addr_format(&cfg.listeners[0].binds[i], got, sizeof(got));
		cr_assert_str_eq(got, want[i], "%s", bind);
	}
	config_free(&cfg);
}

/* localhost and * without a lookup; port 0 for any free port, never a duplicate. */
Test(config, localhost_star_and_port_zero)
{
	assert_binds("localhost:7070", (const char *const[]){ "127.0.0.1:7070", "[::1]:7070" },
	    2);
	assert_binds("*:7070", (const char *const[]){ "0.0.0.0:7070", "[::]:7070" }, 2);
	assert_binds("-LOCALHOST:7", (const char *const[]){ "127.0.0.1:7", "[::1]:7" }, 2);
	assert_binds("127.0.0.1:0 127.0.0.1:0", (const char *const[]){ "127.0.0.1:0",
	    "127.0.0.1:0" }, 2);
}

/* A PROXY listener names who may send the header: never anyone. */
Test(config, proxy_protocol_needs_proxy_trusted)
{
	expect_error(LISTENER "proxy_protocol = v2\n", 4, "proxy_protocol needs proxy_trusted: "
	    "the addresses of the load balancers that may send the header");
	expect_error(LISTENER "proxy_protocol = v3\n", 4,
	    "invalid proxy_protocol 'v3': expected off, v1, v2 or any");
	expect_error(LISTENER "proxy_protocol = any\nproxy_trusted = 10.0.0.1\n"
	    "proxy_timeout = 2\n", 6, "invalid proxy_timeout '2': " SEC "3 to 3600");
	cr_assert_eq(config_load_string(&cfg, LISTENER "proxy_protocol = v1\n"
	    "proxy_trusted = 10.0.0.1 ::1\n", &errs), 0, "%s", errs.err[0].msg);
	cr_assert_eq(cfg.listeners[0].proxy_protocol, 1);
	cr_assert_eq(cfg.listeners[0].proxy_trusted.n, 2);
	cr_assert_eq(cfg.listeners[0].proxy_timeout, 5);
}

Test(config, incomplete_listeners)
{
	expect_error("[listener.e]\nservice = echo\n", 1, "listener 'e' has no bind");
	expect_error("[listener.e]\nbind = 127.0.0.1:7\n", 1,
	    "listener 'e' has no service");
	expect_error("[tcpd]\n", 0, "no [listener.NAME] section: nothing to serve");
	expect_error("", 0, "no [listener.NAME] section: nothing to serve");
	expect_error("[listener.]\n" LISTENER, 1, "invalid listener name '': use "
	    "1-31 letters, digits, '-' or '_'");
	expect_error("[listener.a b]\n" LISTENER, 1, "invalid listener name 'a b': "
	    "use 1-31 letters, digits, '-' or '_'");
}

Test(config, syntax_errors)
{
	expect_error(LISTENER "just words\n", 4, "syntax error: expected "
	    "'key = value', '[section]' or a comment");
	expect_error("[tcpd\n" LISTENER, 1, "syntax error: expected "
	    "'key = value', '[section]' or a comment");
}

Test(config, long_line)
{
	char text[600];

	memset(text, 0, sizeof(text));
	strcpy(text, LISTENER "; ");
	memset(text + strlen(text), 'x', 300);
	strcat(text, "\n");
	expect_error(text, 4, "line too long (at most 198 characters)");
}

Test(config, several_errors_each_with_its_line)
{
	static const char text[] =
	    "[tcpd]\n"
	    "max_line = 1\n"
	    "colour = blue\n"
	    "[listener.e]\n"
	    "bind = nowhere\n"
	    "service = echo\n";

	cr_assert_eq(config_load_string(&cfg, text, &errs), -1);
	cr_assert_eq(errs.count, 3, "a bad bind is reported once, not also as missing");
	cr_assert_eq(errs.err[0].line, 2);
	cr_assert_eq(errs.err[1].line, 3);
	cr_assert_eq(errs.err[2].line, 5);
}

Test(config, missing_file)
{
	cr_assert_eq(config_load_file(&cfg, "/nonexistent/tcpd.conf", &errs), -1);
	cr_assert_eq(errs.count, 1);
	cr_assert_eq(errs.err[0].line, 0);
	cr_assert_str_eq(errs.err[0].msg, "cannot open: No such file or directory");
}

Test(config, limits_and_access_lists)
{
	static const char text[] =
	    "[tcpd]\n"
	    "request_timeout = 5\n"
	    "shutdown_timeout = 0\n"
	    "[listener.e]\n"
	    "bind = 127.0.0.1:7 -[::1]:7\n"
	    "service = echo\n"
	    "max_connections_per_ip = 3\n"
	    "allow = 127.0.0.0/8, ::1\n"
	    "   10.0.0.0/8\n"
	    "deny = 127.0.0.2\n";

	cr_assert_eq(config_load_string(&cfg, text, &errs), 0, "%u: %s",
	    errs.err[0].line, errs.err[0].msg);
	cr_assert_eq(cfg.request_timeout, 5);
	cr_assert_eq(cfg.shutdown_timeout, 0);
	cr_assert_eq(cfg.listeners[0].nbinds, 2);
	cr_assert_not(cfg.listeners[0].bind_optional[0]);
	cr_assert(cfg.listeners[0].bind_optional[1], "'-' marks an optional address");
	cr_assert_eq(cfg.listeners[0].max_connections_per_ip, 3);
	cr_assert_eq(cfg.listeners[0].allow.n, 3, "allow continues on indented lines");
	cr_assert_eq(cfg.listeners[0].deny.n, 1);
	cr_assert_eq(cfg.listeners[0].deny.v[0].prefix, 128);
}

Test(config, access_list_errors)
{
	expect_error(LISTENER "allow =\n", 4, "allow needs at least one "
	    "ADDRESS[/PREFIX]; leave it out to allow everyone");
	expect_error(LISTENER "deny = 10.0.0.1/8\n", 4, "invalid deny block "
	    "'10.0.0.1/8': address has bits set beyond the prefix");
	expect_error(LISTENER "allow = 10.0.0.0/40\n", 4, "invalid allow block "
	    "'10.0.0.0/40': prefix must be 0-32");
	expect_error(LISTENER "max_connections_per_ip = -1\n", 4,
	    "invalid max_connections_per_ip '-1': expected an integer from 0 to 1000000");
	expect_error("[tcpd]\nshutdown_timeout = 7200\n" LISTENER, 2,
	    "invalid shutdown_timeout '7200': " SEC "0 to 3600");
	expect_error(LISTENER "backlog = 5\n  6\n", 5, "unexpected indented line: "
	    "only bind, allow and deny take lists that continue on indented lines");
}

Test(config, a_byte_order_mark_before_the_first_section)
{
	cr_assert_eq(config_load_string(&cfg, "\xef\xbb\xbf" "[tcpd]\nmax_line = 100\n"
	    LISTENER, &errs), 0, "%u: %s", errs.err[0].line, errs.err[0].msg);
	cr_assert_eq(cfg.max_line, 100);
}

Test(config, indented_keys_are_named_as_such)
{
	cr_assert_eq(config_load_string(&cfg, "[listener.e]\n  bind = 127.0.0.1:7\n"
	    "  service = echo\n", &errs), -1);
	cr_assert_eq(errs.err[0].line, 3);
	cr_assert_str_eq(errs.err[0].msg, "indented line continues the value of 'bind' "
	    "above it: start each key at the beginning of its line");
}

Test(config, file_bytes_are_escaped_in_messages)
{
	expect_error("[tcpd]\nlog_level = \x1b[31mred\x07\n" LISTENER, 2,
	    "invalid log_level '\\x1b[31mred\\x07': expected debug, info, notice, "
	    "warning or error");
	expect_error(LISTENER "\x1b]0;title\x07 = 1\n", 4,
	    "unknown key '\\x1b]0;title\\x07' in a listener section");
}

Test(config, junk_after_a_section_header)
{
	expect_error("[tcpd] junk\n" LISTENER, 1, "unexpected 'junk' after [tcpd]");
	cr_assert_eq(config_load_string(&cfg, "[tcpd] ; a comment\n" LISTENER, &errs), 0);
}

Test(config, an_ipv4_mapped_bind_is_refused)
{
	expect_error("[listener.e]\nservice = echo\nbind = [::ffff:127.0.0.1]:7\n", 3,
	    "invalid bind address '[::ffff:127.0.0.1]:7': an IPv4-mapped IPv6 address; "
	    "write the IPv4 address itself");
}

/* Not a regular file: never opened for reading, as a FIFO's open would block a reload. */
Test(config, only_a_regular_file_is_read)
{
	cr_assert_eq(config_load_file(&cfg, "/dev/zero", &errs), -1);
	cr_assert_str_eq(errs.err[0].msg, "cannot open: not a regular file");
	cr_assert_eq(config_load_file(&cfg, "/tmp", &errs), -1);
	cr_assert_str_eq(errs.err[0].msg, "cannot open: not a regular file");
}

Test(config, an_endless_file_is_refused_in_bounded_memory, .timeout = 20)
{
	char path[] = "/tmp/tcpd-big-XXXXXX";
	int fd = mkstemp(path), i;
	FILE *f;

	cr_assert_geq(fd, 0);
	cr_assert_not_null(f = fdopen(fd, "w"));
	for (i = 0; i < 200000; i++)	/* 2 MB of comments */
		fputs("; comment\n", f);
	fclose(f);
	cr_assert_eq(config_load_file(&cfg, path, &errs), -1);
	unlink(path);
	cr_assert_geq(errs.count, 1);
	cr_assert_eq(errs.err[errs.count - 1 < CONFIG_MAX_ERRORS ? errs.count - 1 :
	    CONFIG_MAX_ERRORS - 1].line, 0);
	cr_assert_str_eq(errs.err[errs.count - 1 < CONFIG_MAX_ERRORS ? errs.count - 1 :
	    CONFIG_MAX_ERRORS - 1].msg, "too long (at most 1048576 bytes)");
}

static void
put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"), "%s", path);
	fputs(text, f);
	fclose(f);
}

/* include = a glob: packages add listeners in files of their own. */
Test(config, include_reads_each_file_in_sorted_order)
{
	char dir[] = "/tmp/tcpd-include-XXXXXX", path[512], sub[512];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	put_file(dir, "tcpd.conf", "[tcpd]\ninclude = conf.d/*.conf\nmax_connections = 7\n"
	    "include = none.d/*.conf\n" LISTENER);
	put_file(sub, "20-b.conf", "[listener.b]\nbind = 127.0.0.1:7009\nservice = discard\n");
	put_file(sub, "10-a.conf", "; a package's listener\n[listener.a]\n"
	    "bind = 127.0.0.1:7008\nservice = chargen\n");
	put_file(sub, "ignored.txt", "[junk\n");
	snprintf(path, sizeof(path), "%s/tcpd.conf", dir);
	cr_assert_eq(config_load_file(&cfg, path, &errs), 0, "%s", errs.err[0].msg);
	cr_assert_eq(cfg.max_connections, 7);
	cr_assert_eq(cfg.nlisteners, 3);
	cr_assert_str_eq(cfg.listeners[0].name, "a");
	cr_assert_str_eq(cfg.listeners[1].name, "b");
	cr_assert_str_eq(cfg.listeners[2].name, "e");
	config_free(&cfg);

	/* Errors name the included file and its line. */
	put_file(sub, "30-c.conf", "[listener.c]\nbind = 127.0.0.1:7008\nservice = echo\n"
	    "colour = blue\n[tcpd]\n");
	cr_assert_eq(config_load_file(&cfg, path, &errs), -1);
	cr_assert_eq(errs.count, 3);
	snprintf(sub, sizeof(sub), "%s/conf.d/30-c.conf", dir);
	cr_assert_str_eq(errs.err[0].file, sub);
	cr_assert_eq(errs.err[0].line, 4);
	cr_assert_str_eq(errs.err[0].msg, "unknown key 'colour' in a listener section");
	cr_assert_str_eq(errs.err[1].file, sub);
	cr_assert_eq(errs.err[1].line, 5);
	cr_assert_str_eq(errs.err[1].msg, "[tcpd] belongs in the main file; an included file "
	    "holds [listener.NAME] sections");
	cr_assert_str_eq(errs.err[2].file, sub);
	cr_assert_eq(errs.err[2].line, 2);
	{
		char msg[CONFIG_ERRLEN];

		snprintf(msg, sizeof(msg), "address 127.0.0.1:7008 is already bound by "
		    "listener 'a' (%s/conf.d/10-a.conf:3)", dir);
		cr_assert_str_eq(errs.err[2].msg, msg);
	}
	config_free(&cfg);

	/* A duplicate listener names the file and line of both. */
	unlink(sub);
	put_file(dir, "tcpd.conf", "[tcpd]\ninclude = conf.d/*.conf\n"
	    "[listener.b]\nbind = 127.0.0.1:7010\nservice = echo\n");
	cr_assert_eq(config_load_file(&cfg, path, &errs), -1);
	cr_assert_eq(errs.count, 1, "%s", errs.err[0].msg);
	cr_assert_str_eq(errs.err[0].file, "");
	cr_assert_eq(errs.err[0].line, 3);
	{
		char msg[CONFIG_ERRLEN];

		snprintf(msg, sizeof(msg), "duplicate listener 'b' (first defined at "
		    "%s/conf.d/20-b.conf:1)", dir);
		cr_assert_str_eq(errs.err[0].msg, msg);
	}
	config_free(&cfg);
	put_file(dir, "tcpd.conf", "[tcpd]\n" LISTENER "include = conf.d/*.conf\n");
	cr_assert_eq(config_load_file(&cfg, path, &errs), -1);
	cr_assert_eq(errs.count, 1, "%s", errs.err[0].msg);
	cr_assert_str_eq(errs.err[0].msg, "unknown key 'include' in a listener section; it "
	    "belongs under [tcpd] (include is read there only)");
	config_free(&cfg);
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	put_file(sub, "40-d.conf", "[listener.e]\nbind = 127.0.0.1:7011\nservice = echo\n");
	put_file(dir, "tcpd.conf", "[tcpd]\ninclude = conf.d/40-d.conf\n" LISTENER);
	cr_assert_eq(config_load_file(&cfg, path, &errs), -1);
	cr_assert_eq(errs.count, 1, "%s", errs.err[0].msg);
	cr_assert_eq(errs.err[0].line, 3);
	{
		char msg[CONFIG_ERRLEN];

		snprintf(msg, sizeof(msg), "duplicate listener 'e' (first defined at "
		    "%s/conf.d/40-d.conf:1)", dir);
		cr_assert_str_eq(errs.err[0].msg, msg);
	}
	config_free(&cfg);
	put_file(dir, "tcpd.conf", "[tcpd]\ninclude = conf.d/*.conf\n" LISTENER);

	snprintf(sub, sizeof(sub), "%s/conf.d/40-d.conf", dir);
	unlink(sub);
	/* Text has no directory to read from. */
	expect_error("[tcpd]\ninclude = /etc/tcpd.d/*.conf\n" LISTENER, 2,
	    "include is read only from a configuration file");
	/* A name without wildcards must exist. */
	put_file(dir, "tcpd.conf", "[tcpd]\ninclude = missing.conf\n" LISTENER);
	cr_assert_eq(config_load_file(&cfg, path, &errs), -1);
	cr_assert_str_eq(errs.err[0].file, "");
	cr_assert_eq(errs.err[0].line, 2);
	cr_assert_str_eq(errs.err[0].msg, "include 'missing.conf': no such file");
	config_free(&cfg);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	cr_assert_eq(system(sub), 0);
}

/* A listener's fault profile: values as written, in the units they name. */
Test(config, fault_profile_values)
{
	const struct pace_profile *pp;

	cr_assert_eq(config_load_string(&cfg, LISTENER "delay = 50ms\njitter = 20\n"
	    "rate = 1000\nslice = 3\nslice_gap = 1s\nreset_after = 2s\nreset_probability = 1%\n"
	    "stall_after = 4096\naccept_delay = 250\nseed = 42\n", &errs), 0,
	    "%u: %s", errs.err[0].line, errs.err[0].msg);
	pp = &cfg.listeners[0].profile;
	cr_assert_eq(pp->delay_ms, 50);
	cr_assert_eq(pp->jitter_ms, 20);
	cr_assert_eq(pp->rate, 1000);
	cr_assert_eq(pp->slice, 3);
	cr_assert_eq(pp->slice_gap_ms, 1000);
	cr_assert_eq(pp->end, PACE_END_RESET);
	cr_assert_eq(pp->end_ms, 2000);
	cr_assert_eq(pp->end_bytes, PACE_NEVER);
	cr_assert_eq(pp->ppm[PACE_RESET], 10000);
	cr_assert_eq(pp->stall_bytes, 4096);
	cr_assert_eq(pp->stall_ms, PACE_NEVER);
	cr_assert_eq(pp->accept_delay_ms, 250);
	cr_assert(pp->seeded && pp->seed == 42);
	config_free(&cfg);
	/* An end alone is certain; a probability alone resets at once. */
	cr_assert_eq(config_load_string(&cfg, LISTENER "close_after = 100\n", &errs), 0);
	pp = &cfg.listeners[0].profile;
	cr_assert(pp->end == PACE_END_CLOSE && pp->end_bytes == 100 && pp->ppm[PACE_CLOSE] == PACE_CERTAIN);
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, LISTENER "reset_probability = 0.25\n", &errs), 0);
	pp = &cfg.listeners[0].profile;
	cr_assert(pp->end == PACE_END_RESET && pp->end_bytes == 0 && pp->ppm[PACE_RESET] == 250000);
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, LISTENER, &errs), 0);
	cr_assert(pace_profile_empty(&cfg.listeners[0].profile));
	cr_assert(pace_profile_empty(&cfg.listeners[0].upstream));
	config_free(&cfg);
	/* The upstream direction has keys of its own, and replays from the same seed. */
	cr_assert_eq(config_load_string(&cfg, LISTENER "upstream_delay = 50ms\n"
	    "upstream_jitter = 20\nupstream_rate = 1k\nupstream_slice = 3\n"
	    "upstream_slice_gap = 1s\nseed = 42\n", &errs), 0);
	pp = &cfg.listeners[0].upstream;
	cr_assert(pp->delay_ms == 50 && pp->jitter_ms == 20 && pp->rate == 1024 &&
	    pp->slice == 3 && pp->slice_gap_ms == 1000);
	cr_assert(pp->seeded && pp->seed != 42, "a sequence of its own");
	cr_assert(pace_profile_empty(&cfg.listeners[0].profile));
}

Test(config, fault_profile_errors_name_their_line)
{
	expect_error(LISTENER "jitter = 30\ndelay = 20\n", 4,
	    "jitter 30 ms is more than delay 20 ms: a reply cannot come before its request");
	expect_error(LISTENER "jitter = 5\n", 4,
	    "jitter 5 ms is more than delay 0 ms: a reply cannot come before its request");
	expect_error(LISTENER "slice_gap = 5\n", 4, "slice_gap needs slice: the bytes per write");
	expect_error(LISTENER "close_after = 5\nreset_after = 1s\n", 5,
	    "reset_after and close_after exclude each other: a connection ends once");
	expect_error(LISTENER "reset_probability = 2%\nclose_after = 5\n", 4,
	    "reset_probability chooses the connections reset_after resets; it does not go "
	    "with close_after");
	expect_error(LISTENER "seed = 3\n", 4, "seed without a fault to replay: set delay, "
	    "rate, slice, close_after, reset_after, reset_probability, stall_after, "
	    "accept_delay or an upstream_ key");
	expect_error(LISTENER "upstream_jitter = 30\nupstream_delay = 20\n", 4,
	    "upstream_jitter 30 ms is more than upstream_delay 20 ms: bytes cannot arrive "
	    "before they are sent");
	expect_error(LISTENER "upstream_slice_gap = 5\n", 4, "upstream_slice_gap needs "
	    "upstream_slice: the bytes the service is shown at a time");
	expect_error(LISTENER "delay = 2d\n", 4, "invalid delay '2d': expected milliseconds "
	    "(250) or a duration (250ms, 1.5s, 5m, 1h), at most 86400000 ms");
	expect_error(LISTENER "delay = 0.5ms\n", 4, "invalid delay '0.5ms': expected "
	    "milliseconds (250) or a duration (250ms, 1.5s, 5m, 1h), at most 86400000 ms");
	expect_error(LISTENER "rate = 0\n", 4, "invalid rate '0': expected bytes (1000) or a "
	    "size (64k, 1M, 1G: powers of 1024) from 1 to 1099511627776");
	expect_error(LISTENER "close_after = 10m\n", 4, "invalid close_after '10m': expected "
	    "bytes (1000), a size (64k, 1M, 1G: powers of 1024) or a duration (250ms, 1.5s, "
	    "5m, 1h); for 10 minutes write 10min, for 10 MiB 10M");
	expect_error(LISTENER "reset_probability = 1.5\n", 4, "invalid reset_probability "
	    "'1.5': expected a fraction from 0 to 1 (0.01) or a percentage (1%)");
	expect_error(LISTENER "reset_probability = 101%\n", 4, "invalid reset_probability "
	    "'101%': expected a fraction from 0 to 1 (0.01) or a percentage (1%)");
	expect_error(LISTENER "seed = -1\n", 4,
	    "invalid seed '-1': expected an integer from 0 to 9223372036854775807");
	/* Checked per section, the last one too, before the next begins. */
	expect_error(LISTENER "jitter = 5\n[listener.f]\nbind = 127.0.0.1:7008\nservice = echo\n",
	    4, "jitter 5 ms is more than delay 0 ms: a reply cannot come before its request");
}

/* Every fault in both directions, Toxiproxy's included, each with its probability. */
Test(config, every_fault_both_ways_with_probabilities)
{
	const struct pace_profile *pp, *up;
	char line[512];

	cr_assert_eq(config_load_string(&cfg, LISTENER "delay = 100ms\njitter = 10ms\n"
	    "delay_probability = 50%\nslice = 8\nslice_variation = 3\nslow_close = 1s\n"
	    "timeout = 2s\ntimeout_probability = 0.25\nupstream_limit_data = 1000\n"
	    "upstream_close_probability = 0\nupstream_stall_after = 5s\n"
	    "upstream_slow_close = 300\nupstream_slice = 2\nupstream_slice_variation = 1\n"
	    "seed = 7\n", &errs), 0, "%u: %s", errs.err[0].line, errs.err[0].msg);
	pp = &cfg.listeners[0].profile;
	up = &cfg.listeners[0].upstream;
	cr_assert_eq(pp->ppm[PACE_DELAY], 500000);
	cr_assert_eq(pp->ppm[PACE_RATE], PACE_CERTAIN);
	cr_assert(pp->slice == 8 && pp->slice_variation == 3);
	cr_assert(pp->slow_close_ms == 1000 && pp->timeout_ms == 2000);
	cr_assert_eq(pp->ppm[PACE_TIMEOUT], 250000);
	cr_assert(up->end == PACE_END_CLOSE && up->end_bytes == 1000 && up->end_ms == PACE_NEVER);
	cr_assert_eq(up->ppm[PACE_CLOSE], 0);
	cr_assert(up->stall_ms == 5000 && up->stall_bytes == PACE_NEVER);
	cr_assert(up->slow_close_ms == 300 && up->slice == 2 && up->slice_variation == 1);
	cr_assert_eq(pp->end, PACE_END_NONE);
	/* The profile as the log shows it: the keys' own names, the one table's. */
	config_format_faults(&cfg.listeners[0], line, sizeof(line));
	cr_assert_str_eq(line, "downstream delay=100ms jitter=10ms slice=8 slice_variation=3 "
	    "slow_close=1000ms timeout=2000ms delay_probability=50% timeout_probability=25%; "
	    "upstream slice=2 slice_variation=1 limit_data=1000 stall_after=5000ms "
	    "slow_close=300ms close_probability=0%; seed 7");
	config_free(&cfg);
	/* timeout never (Toxiproxy's 0): dropped for good; close_after in time; a reset at once. */
	cr_assert_eq(config_load_string(&cfg, LISTENER "timeout = never\n"
	    "upstream_timeout = 0\n", &errs), 0);
	cr_assert_eq(cfg.listeners[0].profile.timeout_ms, 0);
	cr_assert_eq(cfg.listeners[0].upstream.timeout_ms, 0);
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, LISTENER "close_after = 2s\n"
	    "upstream_reset_probability = 10%\n", &errs), 0);
	config_format_faults(&cfg.listeners[0], line, sizeof(line));
	cr_assert_str_eq(line, "downstream close_after=2000ms; upstream reset_after=0 "
	    "reset_probability=10%");
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, LISTENER "timeout = never\n", &errs), 0);
	config_format_faults(&cfg.listeners[0], line, sizeof(line));
	cr_assert_str_eq(line, "downstream timeout=never");
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, LISTENER, &errs), 0);
	cr_assert_eq(config_format_faults(&cfg.listeners[0], line, sizeof(line)), 0);
	cr_assert_str_eq(line, "");
}

Test(config, new_fault_keys_errors_name_their_line)
{
	expect_error(LISTENER "delay_probability = 50%\n", 4,
	    "delay_probability without a delay fault to choose connections for");
	expect_error(LISTENER "upstream_stall_probability = 1\n", 4,
	    "upstream_stall_probability without a stall fault to choose connections for");
	expect_error(LISTENER "upstream_reset_probability = 2%\nupstream_close_after = 5\n", 4,
	    "upstream_reset_probability chooses the connections upstream_reset_after resets; "
	    "it does not go with upstream_close_after");
	expect_error(LISTENER "slice_variation = 3\n", 4,
	    "slice_variation needs slice: the average bytes per write");
	expect_error(LISTENER "upstream_slice_variation = 3\n", 4,
	    "upstream_slice_variation needs upstream_slice: the average bytes per write");
	expect_error(LISTENER "limit_data = 5\nclose_after = 5\n", 4, "limit_data is "
	    "Toxiproxy's name for close_after and excludes reset_after: a connection ends once");
	expect_error(LISTENER "upstream_timeout = 5\nupstream_reset_after = 5\n", 4,
	    "upstream_timeout ends the connection itself: not with upstream_close_after, "
	    "upstream_limit_data or upstream_reset_after");
	expect_error(LISTENER "limit_data = 5s\n", 4, "invalid limit_data '5s': expected "
	    "bytes (1000) or a size (64k, 1M, 1G: powers of 1024) up to 1125899906842624");
	expect_error(LISTENER "timeout = soon\n", 4, "invalid timeout 'soon': expected never, "
	    "milliseconds (250) or a duration (250ms, 1.5s, 5m, 1h), at most 86400000 ms");
	expect_error(LISTENER "upstream_rate_probability = 2\nupstream_rate = 5\n", 4,
	    "invalid upstream_rate_probability '2': expected a fraction from 0 to 1 (0.01) "
	    "or a percentage (1%)");
}

Test(config, workers_a_number_or_auto)
{
	cr_assert_eq(config_load_string(&cfg, "[tcpd]\n" LISTENER, &errs), 0);
	cr_assert_eq(cfg.workers, 1, "one process by default");
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, "[tcpd]\nworkers = auto\n" LISTENER, &errs), 0);
	cr_assert_eq(cfg.workers, 0);
	cr_assert_geq(supervisor_workers(cfg.workers), 1, "auto: the CPUs we may use");
	cr_assert_eq(supervisor_workers(3), 3);
	config_free(&cfg);
	expect_error("[tcpd]\nworkers = 0\n" LISTENER, 2, "invalid workers '0': expected auto "
	    "(one per CPU) or an integer from 1 to 256");
	expect_error("[tcpd]\nworkers = 257\n" LISTENER, 2, "invalid workers '257': expected "
	    "auto (one per CPU) or an integer from 1 to 256");
}

/* One duration syntax and one size syntax, for every key that takes one. */
Test(config, durations_and_sizes_share_one_syntax)
{
	const struct pace_profile *pp;

	cr_assert_eq(config_load_string(&cfg, "[tcpd]\nidle_timeout = 5m\n"
	    "request_timeout = 1.5m\nshutdown_timeout = 2\nshutdown_delay = 1000ms\n"
	    "max_line = 64k\noutput_limit = 2M\n" LISTENER "proxy_timeout = 1m\n"
	    "proxy_protocol = v1\nproxy_trusted = 10.0.0.1\n"
	    "delay = 1.5s\njitter = 250\nrate = 10k\nslice = 1K\nslice_gap = 0.25s\n"
	    "close_after = 64k\nstall_after = 2min\naccept_delay = 1h\n", &errs), 0,
	    "%u: %s", errs.err[0].line, errs.err[0].msg);
	cr_assert_eq(cfg.idle_timeout, 300);
	cr_assert_eq(cfg.request_timeout, 90);
	cr_assert_eq(cfg.shutdown_timeout, 2, "a bare number keeps the key's unit");
	cr_assert_eq(cfg.shutdown_delay, 1);
	cr_assert_eq(cfg.max_line, 65536);
	cr_assert_eq(cfg.output_limit, 2 << 20);
	cr_assert_eq(cfg.listeners[0].proxy_timeout, 60);
	pp = &cfg.listeners[0].profile;
	cr_assert_eq(pp->delay_ms, 1500);
	cr_assert_eq(pp->jitter_ms, 250, "a bare number keeps the key's unit");
	cr_assert_eq(pp->rate, 10240);
	cr_assert_eq(pp->slice, 1024);
	cr_assert_eq(pp->slice_gap_ms, 250);
	cr_assert_eq(pp->end_bytes, 65536);
	cr_assert_eq(pp->stall_ms, 120000);
	cr_assert_eq(pp->accept_delay_ms, 3600000);
	config_free(&cfg);
	/* A key in whole seconds takes no part of one: it would be cut silently. */
	expect_error("[tcpd]\nidle_timeout = 1.5s\n" LISTENER, 2,
	    "invalid idle_timeout '1.5s': " SEC "0 to 31536000");
	expect_error("[tcpd]\nidle_timeout = 1.s\n" LISTENER, 2,
	    "invalid idle_timeout '1.s': " SEC "0 to 31536000");
	expect_error("[tcpd]\nmax_line = 1.5k\n" LISTENER, 2,
	    "invalid max_line '1.5k': " BY "64 to 1073741824");
	expect_error("[tcpd]\nmax_line = 2G\n" LISTENER, 2,
	    "invalid max_line '2G': " BY "64 to 1073741824");
	expect_error("[tcpd]\nshutdown_delay = 2h\n" LISTENER, 2,
	    "invalid shutdown_delay '2h': " SEC "0 to 3600");
}

/* Where a key outside any section, or in the wrong one, belongs. */
Test(config, include_outside_a_section_says_where_it_goes)
{
	expect_error("include = conf.d/*.conf\n" LISTENER, 1, "'include' is outside any "
	    "section; put it under [tcpd] (include is read there only)");
	expect_error("[tcpd]\n" LISTENER "idle_timeout = 5\n", 5, "unknown key "
	    "'idle_timeout' in a listener section; it belongs under [tcpd]");
}

/*
 * Many listeners: names and addresses are checked once each (a hash and a
 * sort), so 5,000 cost what 5 do times 1,000, not a million comparisons; the
 * duplicates are still found, each once, at the later one.
 */
Test(config, many_listeners_duplicates_found_each_once)
{
	enum { N = 5000 };
	static char text[N * 80];
	size_t i, n = 0;

	for (i = 0; i < N; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[listener.l%zu]\n"
		    "bind = 127.0.%zu.%zu:7\nservice = echo\n", i, i / 250, i % 250 + 1);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[listener.l17]\nbind = "
	    "127.0.0.1:8\nservice = echo\n[listener.z]\nbind = 127.0.19.249:7 "
	    "127.0.0.3:7\nservice = echo\n");
	cr_assert_lt(n, sizeof(text));
	cr_assert_eq(config_load_string(&cfg, text, &errs), -1);
	cr_assert_eq(errs.count, 3, "%zu: %s", errs.count, errs.err[0].msg);
	cr_assert_eq(errs.err[0].line, 3 * N + 1);
	cr_assert_str_eq(errs.err[0].msg, "duplicate listener 'l17' (first defined at "
	    "line 52)");
	cr_assert_eq(errs.err[1].line, 3 * N + 5);
	cr_assert_str_eq(errs.err[1].msg, "address 127.0.19.249:7 is already bound by "
	    "listener 'l4998' (line 14996)");
	cr_assert_str_eq(errs.err[2].msg, "address 127.0.0.3:7 is already bound by "
	    "listener 'l2' (line 8)");
}

/*
 * --listen/--service build listeners directly: no byte of an option can add
 * a key, a section or a listener, and errors name the option, not a line of
 * a text the user never wrote.
 */
Test(config, command_line_listeners_are_built_not_pasted)
{
	const struct config_option good[] = { { "listen", "0" }, { "service", "echo" },
	    { "listen", "[::1]:7007" }, { "service", "command" },
	    { "listen", "127.0.0.1:7008" }, { "service", "discard" } };
	const struct config_option bad[] = { { "listen", "127.0.0.1:99999" },
	    { "service", "echo" }, { "listen", "127.0.0.1:0\n[listener.x]" },
	    { "service", "echo" }, { "listen", "127.0.0.1:7008" },
	    { "service", "command\nfaults = on" }, { "listen", "127.0.0.1:7008" },
	    { "service", "echo" } };

	cr_assert_eq(config_load_options(&cfg, good, 6, &errs), 0, "%s: %s",
	    errs.err[0].file, errs.err[0].msg);
	cr_assert_eq(cfg.nlisteners, 3);
	cr_assert_str_eq(cfg.listeners[0].name, "cli0");
	cr_assert_eq(cfg.listeners[0].nbinds, 1);
	cr_assert_eq(net_addr_port(&cfg.listeners[0].binds[0]), 0);
	cr_assert_eq(cfg.listeners[1].faults, FAULTS_OFF);
	cr_assert_str_eq(cfg.listeners[1].service->name, "command");
	config_free(&cfg);

	cr_assert_eq(config_load_options(&cfg, bad, 8, &errs), -1);
	cr_assert_eq(errs.count, 4);
	cr_assert_str_eq(errs.err[0].file, "--listen 127.0.0.1:99999");
	cr_assert_eq(errs.err[0].line, 0);
	cr_assert_str_eq(errs.err[0].msg, "invalid bind address '127.0.0.1:99999': port "
	    "must be a number from 0 to 65535 (0: any free port)");
	cr_assert_str_eq(errs.err[1].file, "--listen 127.0.0.1:0\\n[listener.x]");
	cr_assert_str_eq(errs.err[2].file, "--service command\\nfaults = on");
	cr_assert_eq(strncmp(errs.err[2].msg, "invalid service 'command\\nfaults = on': "
	    "expected echo, ", 55), 0, "%s", errs.err[2].msg);
	cr_assert_str_eq(errs.err[3].file, "--listen 127.0.0.1:7008");
	cr_assert_eq(errs.err[3].line, 0);
	cr_assert_str_eq(errs.err[3].msg, "address 127.0.0.1:7008 is already bound by "
	    "listener 'cli2' (--listen 127.0.0.1:7008)");
}

/* --set, --fault, --upstream and --seed: the file's keys, to the last --listen. */
Test(config, command_line_sets_any_listener_key)
{
	const struct config_option opts[] = { { "listen", "0" }, { "service", "echo" },
	    { "listen", "0" }, { "service", "proxy" }, { "upstream", "127.0.0.1:5432" },
	    { "fault", "delay=100ms,jitter=10ms" }, { "seed", "7" },
	    { "set", "backlog=17" }, { "set", "allow=127.0.0.0/8, ::1" } };

	cr_assert_eq(config_load_options(&cfg, opts, 9, &errs), 0, "%s: %s",
	    errs.err[0].file, errs.err[0].msg);
	cr_assert_eq(cfg.nlisteners, 2);
	cr_assert_eq(cfg.listeners[0].backlog, 511);
	cr_assert(pace_profile_empty(&cfg.listeners[0].profile));
	cr_assert_str_eq(cfg.listeners[1].service->name, "proxy");
	cr_assert_eq(net_addr_port(&cfg.listeners[1].upstream_addr), 5432);
	cr_assert_eq(cfg.listeners[1].profile.delay_ms, 100);
	cr_assert_eq(cfg.listeners[1].profile.jitter_ms, 10);
	cr_assert(cfg.listeners[1].profile.seeded);
	cr_assert_eq(cfg.listeners[1].profile.seed, 7);
	cr_assert_eq(cfg.listeners[1].backlog, 17);
	cr_assert_eq(cfg.listeners[1].allow.n, 2);
}

/* Every value goes through the file's checks; the error names the option. */
Test(config, command_line_keys_are_checked_like_a_files)
{
	const struct config_option opts[] = { { "set", "backlog=3" }, { "listen", "0" },
	    { "service", "echo" }, { "set", "backlog=0" }, { "set", "nosuch=1" },
	    { "fault", "delay=5,backlog=3" }, { "set", "delay" }, { "fault", "delay=7" },
	    { "fault", "jitter=9\nfaults = on" }, { "upstream", "127.0.0.1:1" },
	    { "set", "upstream_proxy_protocol=any" }, { "listen", "0" },
	    { "fault", "jitter=10ms" } };
	static const char *const expect[][2] = {
		{ "--set backlog=3", "comes before any --listen: put it after the --listen "
		    "of the listener it is for" },
		{ "--set backlog=0", "invalid backlog '0': expected an integer from 1 to 65535" },
		{ "--set nosuch=1", "unknown listener key 'nosuch'" },
		{ "--fault delay=5,backlog=3", "backlog is not a fault key: set it with "
		    "--set backlog=VALUE" },
		{ "--set delay", "'delay' is not KEY=VALUE" },
		{ "--fault delay=7", "delay is set twice for this listener" },
		{ "--fault jitter=9\\nfaults = on", "invalid jitter '9\\nfaults = on': "
		    "expected milliseconds (250) or a duration (250ms, 1.5s, 5m, 1h), at most " },
		{ "--set upstream_proxy_protocol=any", "invalid upstream_proxy_protocol 'any': "
		    "expected off, v1 or v2" },
		{ "--listen 0", "needs a --service after it" },
		{ "--listen 0", "jitter 10 ms is more than delay 0 ms: a reply cannot come "
		    "before its request" },
		{ "--listen 0", "upstream is for a proxy listener (this one serves echo)" },
	};
	size_t i;

	cr_assert_eq(config_load_options(&cfg, opts, 13, &errs), -1);
	cr_assert_eq(errs.count, sizeof(expect) / sizeof(expect[0]));
	for (i = 0; i < errs.count; i++) {
		cr_assert_str_eq(errs.err[i].file, expect[i][0], "error %zu", i);
		cr_assert_eq(strncmp(errs.err[i].msg, expect[i][1], strlen(expect[i][1])), 0,
		    "error %zu: %s", i, errs.err[i].msg);
		cr_assert_eq(errs.err[i].line, 0);
	}
}

/* An included file's name is outside text: its errors carry it escaped. */
Test(config, an_included_files_name_is_escaped_in_its_errors)
{
	char dir[] = "/tmp/tcpd-include-XXXXXX", path[512], sub[512], expect[512];

	cr_assert_not_null(mkdtemp(dir));
	put_file(dir, "tcpd.conf", "[tcpd]\ninclude = *.d.conf\n" LISTENER);
	put_file(dir, "x\n2026 error: forged\x1b[2J.d.conf", "[listener.f]\nbind = "
	    "127.0.0.1:7008\nservice = echo\ncolour = blue\n");
	snprintf(path, sizeof(path), "%s/tcpd.conf", dir);
	cr_assert_eq(config_load_file(&cfg, path, &errs), -1);
	cr_assert_eq(errs.count, 1, "%s", errs.err[0].msg);
	snprintf(expect, sizeof(expect), "%s/x\\n2026 error: forged\\x1b[2J.d.conf", dir);
	cr_assert_str_eq(errs.err[0].file, expect);
	cr_assert_eq(errs.err[0].line, 4);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	cr_assert_eq(system(sub), 0);
}

#define COMMAND_LISTENER "[listener.c]\nbind = 127.0.0.1:7070\nservice = command\n"

/* A password: inline, or the first line of a file only its owner may read. */
Test(config, requirepass_inline_or_from_a_private_file)
{
	char path[] = "/tmp/tcpd-pass-XXXXXX", text[512], conf[512];
	int fd = mkstemp(path);

	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, "from-file\nsecond line\n", 22), 22);
	close(fd);
	cr_assert_eq(config_load_string(&cfg, COMMAND_LISTENER "requirepass = s3cret\n", &errs), 0);
	cr_assert_str_eq(cfg.listeners[0].requirepass, "s3cret");
	config_free(&cfg);
	snprintf(text, sizeof(text), COMMAND_LISTENER "requirepass_file = %s\n", path);
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(config_load_string(&cfg, text, &errs), 0, "%s", errs.err[0].msg);
	cr_assert_str_eq(cfg.listeners[0].requirepass, "from-file");
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, COMMAND_LISTENER, &errs), 0);
	cr_assert_str_eq(cfg.listeners[0].requirepass, "");
	config_free(&cfg);
	snprintf(text, sizeof(text), COMMAND_LISTENER "requirepass = a\nrequirepass_file = %s\n",
	    path);
	expect_error(text, 5, "requirepass and requirepass_file exclude each other");
	/* Readable by its group: refused, with the fix. */
	cr_assert_eq(chmod(path, 0640), 0);
	snprintf(conf, sizeof(conf), COMMAND_LISTENER "requirepass_file = %s\n", path);
	snprintf(text, sizeof(text), "requirepass_file '%s' may be read by others (mode 0640): "
	    "chmod 600 it", path);
	expect_error(conf, 4, text);
	unlink(path);
	expect_error(COMMAND_LISTENER "requirepass_file = pass.txt\n", 4,
	    "requirepass_file 'pass.txt' is not an absolute path");
	expect_error(LISTENER "requirepass = a\n", 4,
	    "a password is for a command listener (this one serves echo)");
}

#define PROXY_LISTENER "[listener.p]\nbind = 127.0.0.1:7008\nservice = proxy\n"
/* A path of 106 bytes after its '/', and one of 107: one too long for sun_path. */
#define LONG_PATH_1	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/s"
#define LONG_PATH	LONG_PATH_1 "x"

Test(config, proxy_upstream_and_connect_timeout)
{
	char text[NET_ADDRSTRLEN];

	cr_assert_eq(config_load_string(&cfg, PROXY_LISTENER "upstream = 127.0.0.1:6379\n",
	    &errs), 0, "%s", errs.err[0].msg);
	net_addr_format(&cfg.listeners[0].upstream_addr, text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:6379");
	cr_assert_eq(cfg.listeners[0].connect_timeout, 5000);
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, PROXY_LISTENER "upstream = [::1]:6379\n"
	    "connect_timeout = 1.5s\n", &errs), 0, "%s", errs.err[0].msg);
	net_addr_format(&cfg.listeners[0].upstream_addr, text, sizeof(text));
	cr_assert_str_eq(text, "[::1]:6379");
	cr_assert_eq(cfg.listeners[0].connect_timeout, 1500);
	config_free(&cfg);
	cr_assert_eq(config_load_string(&cfg, PROXY_LISTENER "upstream = localhost:5432\n"
	    "connect_timeout = 250\n", &errs), 0, "%s", errs.err[0].msg);
	net_addr_format(&cfg.listeners[0].upstream_addr, text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:5432");
	cr_assert_eq(cfg.listeners[0].connect_timeout, 250);
	config_free(&cfg);
	/* 107 bytes, the most sun_path holds with its NUL. */
	cr_assert_eq(config_load_string(&cfg, PROXY_LISTENER "upstream = unix:/" LONG_PATH_1
	    "\n", &errs), 0, "%s", errs.err[0].msg);
	cr_assert_eq(cfg.listeners[0].upstream_addr.u.sa.sa_family, AF_UNIX);
	cr_assert_str_eq(cfg.listeners[0].upstream_addr.u.un.sun_path, "/" LONG_PATH_1);
}

Test(config, proxy_upstream_errors)
{
	expect_error(PROXY_LISTENER, 3, "service proxy needs upstream: the ADDR:PORT of the "
	    "server to pass each client to");
	expect_error(LISTENER "upstream = 127.0.0.1:6379\n", 4,
	    "upstream is for a proxy listener (this one serves echo)");
	expect_error(PROXY_LISTENER "upstream = db.example:5432\n", 4, "invalid upstream "
	    "'db.example:5432': a host name; write an IP address, localhost or unix:PATH (tcpd "
	    "resolves no names)");
	expect_error(PROXY_LISTENER "upstream = unix:run/pg.sock\n", 4, "invalid upstream "
	    "'unix:run/pg.sock': the path must be absolute");
	/* The value cut to fit the message, as every shown value is. */
	expect_error(PROXY_LISTENER "upstream = unix:/" LONG_PATH "\n", 4, "invalid upstream "
	    "'unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': the path is longer than a Unix socket's 107 bytes");
	expect_error(PROXY_LISTENER "upstream = 127.0.0.1:0\n", 4, "invalid upstream "
	    "'127.0.0.1:0': port 0 names no server: write a port from 1 to 65535");
	expect_error(PROXY_LISTENER "upstream = localhost:99999\n", 4, "invalid upstream "
	    "'localhost:99999': port must be a number from 0 to 65535 (0: any free port)");
	expect_error(PROXY_LISTENER "upstream = 127.0.0.1:6379\nconnect_timeout = 0\n", 5,
	    "invalid connect_timeout '0': expected milliseconds (500) or a duration (250ms, "
	    "1.5s, 5m, 1h), from 1 ms to 3600000 ms");
	expect_error(PROXY_LISTENER "upstream = 127.0.0.1:6379\nconnect_timeout = 2x\n", 5,
	    "invalid connect_timeout '2x': expected milliseconds (500) or a duration (250ms, "
	    "1.5s, 5m, 1h), from 1 ms to 3600000 ms");
}

/* The proxies a control listener makes live in one process. */
Test(config, control_needs_one_worker)
{
	expect_error("[tcpd]\nworkers = 2\n[listener.c]\nbind = 127.0.0.1:8474\nservice = control\n", 5,
	    "service control needs workers = 1: the proxies it makes live in one process");
	expect_error("[tcpd]\nworkers = auto\n[listener.c]\nbind = 127.0.0.1:8474\nservice = control\n",
	    5, "service control needs workers = 1: the proxies it makes live in one process");
	cr_assert_eq(config_load_string(&cfg, "[listener.c]\nbind = 127.0.0.1:8474\n"
	    "service = control\n", &errs), 0);
}

/* Where a control listener's proxies may listen besides loopback: its key only. */
Test(config, proxy_listen_allow_is_a_control_listeners)
{
	cr_assert_eq(config_load_string(&cfg, "[listener.c]\nbind = 127.0.0.1:8474\n"
	    "service = control\nproxy_listen_allow = 10.0.0.0/8, ::/0\n", &errs), 0);
	cr_assert_eq(cfg.listeners[0].proxy_listen_allow.n, 2);
	config_free(&cfg);
	expect_error(LISTENER "proxy_listen_allow = 10.0.0.0/8\n", 4,
	    "proxy_listen_allow is for a control listener (this one serves echo)");
	expect_error("[listener.c]\nbind = 127.0.0.1:8474\nservice = control\n"
	    "proxy_listen_allow =\n", 4,
	    "proxy_listen_allow needs at least one ADDRESS[/PREFIX]; leave it out for loopback "
	    "only");
}

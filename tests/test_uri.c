/* SPDX-License-Identifier: MIT */
/* tcpd-cli -u: redis-cli's URIs, parsed without a socket. */
#include <string.h>

#include <criterion/criterion.h>

#include "cli/uri.h"

static struct uri u;
static const char *why;

static void
parse_ok(const char *text)
{
	why = NULL;
	cr_assert_eq(uri_parse(text, &u, &why), 0, "'%s' refused: %s", text, why);
}

static void
parse_bad(const char *text, const char *expect)
{
	why = NULL;
	cr_assert_eq(uri_parse(text, &u, &why), -1, "'%s' accepted", text);
	cr_assert_str_eq(why, expect, "'%s'", text);
}

Test(uri, every_part)
{
	parse_ok("redis://bob:s3cret@example.com:6380/2");
	cr_assert(u.has_user && u.has_pass);
	cr_assert_str_eq(u.user, "bob");
	cr_assert_str_eq(u.pass, "s3cret");
	cr_assert_str_eq(u.host, "example.com");
	cr_assert_str_eq(u.port, "6380");
	cr_assert_eq(u.db, 2);
}

Test(uri, parts_left_out)
{
	parse_ok("redis://");
	cr_assert(!u.has_user && !u.has_pass);
	cr_assert_str_eq(u.host, "");
	cr_assert_str_eq(u.port, "");
	cr_assert_eq(u.db, -1);
	parse_ok("REDIS://127.0.0.1");
	cr_assert_str_eq(u.host, "127.0.0.1");
	cr_assert_str_eq(u.port, "");
	parse_ok("redis://h:7/");
	cr_assert_str_eq(u.port, "7");
	cr_assert_eq(u.db, -1);
	parse_ok("redis://:9/0");
	cr_assert_str_eq(u.host, "");
	cr_assert_str_eq(u.port, "9");
	cr_assert_eq(u.db, 0);
	parse_ok("redis://h/15");
	cr_assert_eq(u.db, 15);
}

/* As redis-cli: without a ':' before the '@' it is a password alone; the first '@' ends them. */
Test(uri, user_and_password)
{
	parse_ok("redis://secret@h");
	cr_assert(!u.has_user && u.has_pass);
	cr_assert_str_eq(u.pass, "secret");
	parse_ok("redis://:pw@h");
	cr_assert(u.has_user && u.has_pass);
	cr_assert_str_eq(u.user, "");
	cr_assert_str_eq(u.pass, "pw");
	parse_ok("redis://u:p:q@h");
	cr_assert_str_eq(u.user, "u");
	cr_assert_str_eq(u.pass, "p:q");
	/* The password is "u", and "x:p@h" a host with a port that is no number. */
	parse_bad("redis://u@x:p@h", "invalid port in URI (a number from 1 to 65535)");
	parse_ok("redis://p%40@h@x");
	cr_assert_str_eq(u.pass, "p@");
	cr_assert_str_eq(u.host, "h@x");
}

Test(uri, percent_decoding)
{
	parse_ok("redis://b%3Ab:p%40ss%25%2fW%2F@h:1");
	cr_assert_str_eq(u.user, "b:b");
	cr_assert_str_eq(u.pass, "p@ss%/W/");
	parse_ok("redis://%41@h");
	cr_assert_str_eq(u.pass, "A");
	parse_bad("redis://ab%4@h", "Incomplete URI encoding");
	parse_bad("redis://ab%@h", "Incomplete URI encoding");
	parse_bad("redis://a%g1@h", "Illegal character in URI encoding");
	parse_bad("redis://a%1g@h", "Illegal character in URI encoding");
	parse_bad("redis://u%zz:p@h", "Illegal character in URI encoding");
}

Test(uri, ipv6_in_brackets)
{
	parse_ok("redis://[::1]:6379/1");
	cr_assert_str_eq(u.host, "::1");
	cr_assert_str_eq(u.port, "6379");
	cr_assert_eq(u.db, 1);
	parse_ok("redis://[fe80::1]");
	cr_assert_str_eq(u.host, "fe80::1");
	cr_assert_str_eq(u.port, "");
	parse_bad("redis://[::1", "invalid [IPv6 address] in URI");
	parse_bad("redis://[::1]x", "invalid [IPv6 address] in URI");
}

Test(uri, refused)
{
	parse_bad("rediss://h:6379", "rediss:// is not supported: tcpd-cli speaks no TLS");
	parse_bad("REDISS://h", "rediss:// is not supported: tcpd-cli speaks no TLS");
	parse_bad("http://h", "Invalid URI scheme");
	parse_bad("redis:/h", "Invalid URI scheme");
	parse_bad("h:6379", "Invalid URI scheme");
	parse_bad("redis://h:0", "invalid port in URI (a number from 1 to 65535)");
	parse_bad("redis://h:65536", "invalid port in URI (a number from 1 to 65535)");
	parse_bad("redis://h:", "invalid port in URI (a number from 1 to 65535)");
	parse_bad("redis://h:6x", "invalid port in URI (a number from 1 to 65535)");
	parse_bad("redis://h:6379/x", "invalid database number in URI");
	parse_bad("redis://h:6379/-1", "invalid database number in URI");
	parse_bad("redis://h:6379/1/2", "invalid database number in URI");
	parse_ok("redis://h:65535/2147483647");
	cr_assert_eq(u.db, 2147483647);
	parse_bad("redis://h/2147483648", "invalid database number in URI");
}

Test(uri, lengths_are_bounded)
{
	char text[3 * URI_PART_MAX + 64];
	size_t n;

	strcpy(text, "redis://");
	n = strlen(text);
	memset(text + n, 'p', URI_PART_MAX - 1);
	strcpy(text + n + URI_PART_MAX - 1, "@h");
	parse_ok(text);
	cr_assert_eq(strlen(u.pass), URI_PART_MAX - 1);
	memset(text + n, 'p', URI_PART_MAX);
	strcpy(text + n + URI_PART_MAX, "@h");
	parse_bad(text, "user name or password too long in URI");
	/* Percent-encoded, the text may be three times as long. */
	for (size_t i = 0; i < URI_PART_MAX - 1; i++)
		memcpy(text + n + 3 * i, "%41", 3);
	strcpy(text + n + 3 * (URI_PART_MAX - 1), "@h");
	parse_ok(text);
	cr_assert_eq(strlen(u.pass), URI_PART_MAX - 1);
	memset(text + n, 'h', 255);
	strcpy(text + n + 255, ":1");
	parse_ok(text);
	cr_assert_eq(strlen(u.host), 255);
	memset(text + n, 'h', 256);
	strcpy(text + n + 256, ":1");
	parse_bad(text, "host too long in URI");
}

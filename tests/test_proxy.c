/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/proxy.h"
#include "tcpd/net.h"

#define S(lit) (const uint8_t *)lit, sizeof(lit) - 1

static struct proxy_parser parser;

/*
 * Feeds buf whole, then a byte at a time: both must agree on the status,
 * the bytes used and the header. Returns the status; *used the bytes.
 */
static enum proxy_status
parse(unsigned versions, const uint8_t *buf, size_t len, size_t *used)
{
	static struct proxy_parser bytewise;
	enum proxy_status whole, one = PROXY_MORE;
	size_t n = 0, i;

	proxy_init(&parser, versions);
	*used = proxy_feed(&parser, buf, len, &whole);
	proxy_init(&bytewise, versions);
	for (i = 0; i < len && one == PROXY_MORE; i++)
		n += proxy_feed(&bytewise, buf + i, 1, &one);
	cr_assert_eq(one, whole, "a byte at a time: %d, whole: %d", one, whole);
	cr_assert_eq(n, *used, "a byte at a time used %zu, whole %zu", n, *used);
	if (whole == PROXY_DONE)
		cr_assert_eq(memcmp(&bytewise.h, &parser.h, sizeof(parser.h)), 0);
	return whole;
}

static const char *
addr(const struct net_addr *a)
{
	static char text[2][NET_ADDRSTRLEN];
	static int k;

	k ^= 1;
	net_addr_format(a, text[k], sizeof(text[k]));
	return text[k];
}

Test(proxy, v1_tcp4_then_application_bytes)
{
	size_t used;

	cr_assert_eq(parse(PROXY_ANY, S("PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\nPING\r\n"),
	    &used), PROXY_DONE);
	cr_assert_eq(used, 43);
	cr_assert_not(parser.h.local);
	cr_assert_str_eq(addr(&parser.h.src), "192.168.0.1:56324");
	cr_assert_str_eq(addr(&parser.h.dst), "10.0.0.2:443");
}

Test(proxy, v1_tcp6_unknown_and_the_longest)
{
	static const char longest[] = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	size_t used;

	cr_assert_eq(sizeof(longest) - 1, 104);
	cr_assert_eq(parse(PROXY_V1, S(longest), &used), PROXY_DONE);
	cr_assert_str_eq(addr(&parser.h.src), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	cr_assert_eq(parse(PROXY_V1, S("PROXY UNKNOWN\r\n"), &used), PROXY_DONE);
	cr_assert(parser.h.local);
	cr_assert_eq(parse(PROXY_V1, S("PROXY UNKNOWN ffff:: ffff:: 1 2\r\n"), &used), PROXY_DONE);
	cr_assert(parser.h.local);
	cr_assert_eq(parse(PROXY_V1, S("PROXY TCP4 1.2.3.4 5.6.7.8 0 0\r\n"), &used), PROXY_DONE);
}

/* 107 bytes with the CRLF is the most: one more is refused before its end. */
Test(proxy, v1_length_limit)
{
	char line[128];
	size_t used, n;

	n = (size_t)snprintf(line, sizeof(line), "PROXY UNKNOWN %0*d\r\n", 91, 0);
	cr_assert_eq(n, 107);
	cr_assert_eq(parse(PROXY_V1, (const uint8_t *)line, n, &used), PROXY_DONE);
	n = (size_t)snprintf(line, sizeof(line), "PROXY UNKNOWN %0*d\r\n", 92, 0);
	cr_assert_eq(parse(PROXY_V1, (const uint8_t *)line, n, &used), PROXY_INVALID);
	cr_assert_str_eq(parser.why, "v1: no CRLF within 107 bytes");
	cr_assert_eq(parse(PROXY_V1, (const uint8_t *)line, 106, &used), PROXY_MORE);
	cr_assert_eq(parse(PROXY_V1, (const uint8_t *)line, 107, &used), PROXY_INVALID);
}

Test(proxy, v1_malformed)
{
	static const char *const bad[] = {
		"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",	/* leading zero */
		"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
		"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",	/* two spaces */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
		"PROXY TCP4 ::1 ::1 1 2\r\n",
		"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",	/* LF alone */
		"PROXY TCP4 1.2.3.4 5.6.7.8 1\r2\r\n",	/* CR alone */
		"PROXY UNKNOWNX\r\n",
		"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"GET / HTTP/1.1\r\n",
		"PROXY\r\n",
	};
	size_t i, used;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(PROXY_ANY, (const uint8_t *)bad[i], strlen(bad[i]), &used),
		    PROXY_INVALID, "accepted %s", bad[i]);
		cr_assert_not_null(parser.why);
	}
}

/* A v2 header: signature, version/command, family, length, then body. */
static size_t
v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, uint16_t n)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
	    0x55, 0x49, 0x54, 0x0a };

	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(n >> 8);
	out[15] = (uint8_t)n;
	if (n > 0)
		memcpy(out + 16, body, n);
	return 16u + n;
}

Test(proxy, v2_tcp4_tcp6_local_and_unspec)
{
	static const uint8_t in4[12] = { 192, 168, 0, 1, 10, 0, 0, 2, 0xdc, 0x04, 0x01, 0xbb };
	uint8_t in6[36] = { 0x20, 0x01, 0x0d, 0xb8 }, buf[512];
	size_t n, used;

	n = v2(buf, 0x21, 0x11, in4, sizeof(in4));
	memcpy(buf + n, "PING\r\n", 6);
	cr_assert_eq(parse(PROXY_V2, buf, n + 6, &used), PROXY_DONE);
	cr_assert_eq(used, 28);
	cr_assert_str_eq(addr(&parser.h.src), "192.168.0.1:56324");
	cr_assert_str_eq(addr(&parser.h.dst), "10.0.0.2:443");
	in6[17] = 1;
	in6[32] = 0x30;
	in6[33] = 0x39;
	cr_assert_eq(parse(PROXY_ANY, buf, v2(buf, 0x21, 0x21, in6, 36), &used), PROXY_DONE);
	cr_assert_str_eq(addr(&parser.h.src), "[2001:db8::]:12345");
	/* LOCAL (a health check): the socket's own addresses; the body still skipped. */
	cr_assert_eq(parse(PROXY_V2, buf, v2(buf, 0x20, 0x11, in4, 12), &used), PROXY_DONE);
	cr_assert(parser.h.local);
	cr_assert_eq(used, 28);
	cr_assert_eq(parse(PROXY_V2, buf, v2(buf, 0x21, 0x00, NULL, 0), &used), PROXY_DONE);
	cr_assert(parser.h.local);
	/* UNIX: 216 bytes of addresses, no TCP peer to report. */
	memset(buf + 16, 'x', 216);
	cr_assert_eq(parse(PROXY_V2, buf, v2(buf, 0x21, 0x31, buf + 16, 216), &used), PROXY_DONE);
	cr_assert(parser.h.local);
}

Test(proxy, v2_tlvs_kept_skipped_and_the_crc)
{
	uint8_t body[256], buf[512];
	uint32_t crc;
	size_t n = 12, used, total;

	memcpy(body, (const uint8_t[]){ 127, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0, 81 }, 12);
	memcpy(body + n, "\x02\x00\x0b" "example.com", 14);	/* AUTHORITY */
	n += 14;
	memcpy(body + n, "\x05\x00\x03" "abc", 6);		/* UNIQUE_ID */
	n += 6;
	memcpy(body + n, "\x20\x00\x02" "zz", 5);		/* SSL: skipped */
	n += 5;
	memcpy(body + n, "\x03\x00\x04\x00\x00\x00\x00", 7);	/* CRC32C, zeroed */
	n += 7;
	total = v2(buf, 0x21, 0x11, body, (uint16_t)n);
	crc = proxy_crc32c(0, buf, total);
	buf[total - 4] = (uint8_t)(crc >> 24);
	buf[total - 3] = (uint8_t)(crc >> 16);
	buf[total - 2] = (uint8_t)(crc >> 8);
	buf[total - 1] = (uint8_t)crc;
	cr_assert_eq(parse(PROXY_V2, buf, total, &used), PROXY_DONE, "%s", parser.why);
	cr_assert_eq(used, total);
	cr_assert_str_eq(parser.h.authority, "example.com");
	cr_assert_str_eq(parser.h.unique_id, "abc");
	buf[20] ^= 1;	/* an address bit: the CRC no longer matches */
	cr_assert_eq(parse(PROXY_V2, buf, total, &used), PROXY_INVALID);
	cr_assert_str_eq(parser.why, "v2: CRC32C mismatch");
}

/* The AUTHORITY is the peer's text: what reaches the log cannot forge a line. */
Test(proxy, v2_authority_is_kept_escaped)
{
	uint8_t body[512], buf[600];
	size_t n = 12, used, total;

	memcpy(body, (const uint8_t[]){ 127, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0, 81 }, 12);
	memcpy(body + n, "\x02\x00\x18" "a\n2026 error: \x1b[31mx\\\"\0z", 27);
	n += 27;
	total = v2(buf, 0x21, 0x11, body, (uint16_t)n);
	cr_assert_eq(parse(PROXY_V2, buf, total, &used), PROXY_DONE, "%s", parser.why);
	cr_assert_str_eq(parser.h.authority, "a\\n2026 error: \\x1b[31mx\\\\\\\"\\x00z");
	/* The longest, every byte a control byte: cut with "...", never overrun. */
	n = 12;
	memcpy(body + n, "\x02\x00\xff", 3);
	memset(body + n + 3, '\n', 255);
	n += 258;
	total = v2(buf, 0x21, 0x11, body, (uint16_t)n);
	cr_assert_eq(parse(PROXY_V2, buf, total, &used), PROXY_DONE, "%s", parser.why);
	cr_assert_eq(strlen(parser.h.authority), 255, "%s", parser.h.authority);
	cr_assert_eq(strncmp(parser.h.authority, "\\n\\n", 4), 0);
	cr_assert_str_eq(parser.h.authority + 252, "...");
}

Test(proxy, crc32c_check_value)
{
	cr_assert_eq(proxy_crc32c(0, (const uint8_t *)"123456789", 9), 0xe3069283u);
}

/* The largest header there is: 16 + 65535 bytes, taken with fixed state. */
Test(proxy, v2_the_longest_header)
{
	static uint8_t buf[16 + 65535 + 4], body[65535];
	size_t used, total;

	memset(body, 0, sizeof(body));
	memcpy(body, (const uint8_t[]){ 127, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0, 81 }, 12);
	body[12] = 0x04;	/* NOOP, filling the rest */
	body[13] = (uint8_t)((65535 - 15) >> 8);
	body[14] = (uint8_t)(65535 - 15);
	total = v2(buf, 0x21, 0x11, body, 65535);
	memcpy(buf + total, "PING", 4);
	cr_assert_eq(parse(PROXY_V2, buf, total + 4, &used), PROXY_DONE, "%s", parser.why);
	cr_assert_eq(used, 16 + 65535);
}

Test(proxy, v2_malformed)
{
	static const uint8_t in4[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2 };
	uint8_t buf[128];
	size_t n, used;

	n = v2(buf, 0x11, 0x11, in4, 12);		/* version 1 */
	cr_assert_eq(parse(PROXY_V2, buf, n, &used), PROXY_INVALID);
	n = v2(buf, 0x22, 0x11, in4, 12);		/* command 2 */
	cr_assert_eq(parse(PROXY_V2, buf, n, &used), PROXY_INVALID);
	n = v2(buf, 0x21, 0x11, in4, 8);		/* shorter than its addresses */
	cr_assert_eq(parse(PROXY_V2, buf, n, &used), PROXY_INVALID);
	cr_assert_str_eq(parser.why, "v2: the length is shorter than the addresses");
	memcpy(buf + 16 + 12, "\x01\x00\x09" "ab", 5);	/* a TLV past the length */
	n = v2(buf, 0x21, 0x11, buf + 16, 17);
	cr_assert_eq(parse(PROXY_V2, buf, n, &used), PROXY_INVALID);
	memcpy(buf + 16 + 12, "\x03\x00\x02" "ab", 5);	/* a CRC32C of 2 bytes */
	n = v2(buf, 0x21, 0x11, buf + 16, 17);
	cr_assert_eq(parse(PROXY_V2, buf, n, &used), PROXY_INVALID);
	n = v2(buf, 0x21, 0x11, in4, 12);
	buf[5] = 0x0c;					/* a signature byte */
	cr_assert_eq(parse(PROXY_V2, buf, n, &used), PROXY_INVALID);
	cr_assert_str_eq(parser.why, "v2: bad signature");
	/* The listener's version is required: never guessed. */
	n = v2(buf, 0x21, 0x11, in4, 12);
	cr_assert_eq(parse(PROXY_V1, buf, n, &used), PROXY_INVALID);
	cr_assert_eq(parse(PROXY_V2, S("PROXY UNKNOWN\r\n"), &used), PROXY_INVALID);
}

static void
assert_bytes(const uint8_t *got, size_t n, const void *expect, size_t len)
{
	cr_assert_eq(n, len, "%zu bytes, not %zu", n, len);
	cr_assert_eq(memcmp(got, expect, n), 0);
}

static void
assert_bytes_eq(const uint8_t *got, size_t n, const char *expect)
{
	cr_assert_eq(n, strlen(expect), "'%.*s'", (int)n, (const char *)got);
	cr_assert_eq(memcmp(got, expect, n), 0, "'%.*s'", (int)n, (const char *)got);
}

static struct net_addr
address(const char *text)
{
	struct net_addr a;
	const char *why;

	cr_assert_eq(net_addr_parse(&a, text, strlen(text), &why), 0, "%s", text);
	return a;
}

/* What proxy_format() wrote, parsed back: the same addresses, every byte used. */
static void
assert_round_trip(const uint8_t *buf, size_t len, unsigned version, const char *src,
    const char *dst)
{
	size_t used;

	cr_assert_eq(parse(version, buf, len, &used), PROXY_DONE, "%s", parser.why);
	cr_assert_eq(used, len);
	cr_assert_eq(parser.h.version, version);
	if (src == NULL) {
		cr_assert(parser.h.local);
		return;
	}
	cr_assert_not(parser.h.local);
	cr_assert_str_eq(addr(&parser.h.src), src);
	cr_assert_str_eq(addr(&parser.h.dst), dst);
}

Test(proxy, format_v1_byte_for_byte)
{
	uint8_t out[PROXY_FORMAT_MAX];
	struct net_addr a = address("192.0.2.10:51234"), b = address("127.0.0.1:7000");
	struct net_addr c = address("[2001:db8::1]:443"), d = address("[::1]:65535");
	struct net_addr e = address("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	size_t n;

	n = proxy_format(out, PROXY_V1, &a, &b);
	assert_bytes_eq(out, n, "PROXY TCP4 192.0.2.10 127.0.0.1 51234 7000\r\n");
	assert_round_trip(out, n, PROXY_V1, "192.0.2.10:51234", "127.0.0.1:7000");
	n = proxy_format(out, PROXY_V1, &c, &d);
	assert_bytes_eq(out, n, "PROXY TCP6 2001:db8::1 ::1 443 65535\r\n");
	assert_round_trip(out, n, PROXY_V1, "[2001:db8::1]:443", "[::1]:65535");
	/* One family per header: the IPv4 one is written IPv4-mapped. */
	n = proxy_format(out, PROXY_V1, &a, &d);
	assert_bytes_eq(out, n, "PROXY TCP6 ::ffff:192.0.2.10 ::1 51234 65535\r\n");
	assert_round_trip(out, n, PROXY_V1, "[::ffff:192.0.2.10]:51234", "[::1]:65535");
	n = proxy_format(out, PROXY_V1, NULL, &b);
	assert_bytes_eq(out, n, "PROXY UNKNOWN\r\n");
	assert_round_trip(out, n, PROXY_V1, NULL, NULL);
	/* The longest there is fits the spec's 107 bytes. */
	n = proxy_format(out, PROXY_V1, &e, &e);
	cr_assert_eq(n, 104);
	assert_round_trip(out, n, PROXY_V1, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

Test(proxy, format_v2_byte_for_byte)
{
	static const uint8_t v4[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"
	    "\xc0\x00\x02\x0a\x7f\x00\x00\x01\xc8\x22\x1b\x58";
	static const uint8_t v6[] = "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01"
	    "\x01\xbb\x1b\x58";
	static const uint8_t local[] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";
	uint8_t out[PROXY_FORMAT_MAX];
	struct net_addr a = address("192.0.2.10:51234"), b = address("127.0.0.1:7000");
	struct net_addr c = address("[2001:db8::1]:443");
	size_t n;

	n = proxy_format(out, PROXY_V2, &a, &b);
	assert_bytes(out, n, v4, sizeof(v4) - 1);
	assert_round_trip(out, n, PROXY_V2, "192.0.2.10:51234", "127.0.0.1:7000");
	n = proxy_format(out, PROXY_V2, &c, &b);
	assert_bytes(out, n, v6, sizeof(v6) - 1);
	assert_round_trip(out, n, PROXY_V2, "[2001:db8::1]:443", "[::ffff:127.0.0.1]:7000");
	n = proxy_format(out, PROXY_V2, &a, NULL);
	assert_bytes(out, n, local, sizeof(local) - 1);
	assert_round_trip(out, n, PROXY_V2, NULL, NULL);
}

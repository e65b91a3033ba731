/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "daemon/proxy.h"
#include "tcpd/log.h"

static const uint8_t v2_signature[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

enum { PH_START, PH_V1, PH_V2_FIXED, PH_V2_ADDR, PH_V2_TLVS, PH_DONE, PH_INVALID };

enum {
	TLV_AUTHORITY = 0x02,
	TLV_CRC32C = 0x03,
	TLV_UNIQUE_ID = 0x05,
};

uint32_t
proxy_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	int k;

	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

void
proxy_init(struct proxy_parser *p, unsigned versions)
{
	memset(p, 0, sizeof(*p));
	p->versions = versions;
	p->phase = PH_START;
}

static size_t
invalid(struct proxy_parser *p, const char *why, size_t used, enum proxy_status *status)
{
	p->phase = PH_INVALID;
	p->why = why;
	*status = PROXY_INVALID;
	return used;
}

/* A decimal port: 0-65535, no sign, no leading zero. */
static int
parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
parse_host(int family, const char *s, size_t n, struct net_addr *a)
{
	char text[64];

	if (n == 0 || n >= sizeof(text))
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		a->u.in.sin_family = AF_INET;
		a->len = sizeof(a->u.in);
		return inet_pton(AF_INET, text, &a->u.in.sin_addr) == 1 ? 0 : -1;
	}
	a->u.in6.sin6_family = AF_INET6;
	a->len = sizeof(a->u.in6);
	return inet_pton(AF_INET6, text, &a->u.in6.sin6_addr) == 1 ? 0 : -1;
}

static void
set_port(struct net_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in.sin_port = htons(port);
	else
		a->u.in6.sin6_port = htons(port);
}

/* "PROXY TCP4 src dst sport dport" or "PROXY UNKNOWN[ ...]", without the CRLF. */
static const char *
parse_v1(struct proxy_header *h, const char *s, size_t n)
{
	const char *field[4], *end = s + n, *sp;
	size_t len[4], i;
	uint16_t sport, dport;
	int family;

	h->version = 1;
	if (n >= 13 && memcmp(s, "PROXY UNKNOWN", 13) == 0 && (n == 13 || s[13] == ' ')) {
		h->local = true;
		return NULL;
	}
	if (n < 11 || (memcmp(s, "PROXY TCP4 ", 11) != 0 && memcmp(s, "PROXY TCP6 ", 11) != 0))
		return "v1: expected TCP4, TCP6 or UNKNOWN after PROXY";
	family = s[9] == '4' ? AF_INET : AF_INET6;
	s += 11;
	for (i = 0; i < 4; i++) {
		sp = i < 3 ? memchr(s, ' ', (size_t)(end - s)) : end;
		if (sp == NULL)
			return "v1: expected four fields separated by single spaces";
		field[i] = s;
		len[i] = (size_t)(sp - s);
		s = sp + (i < 3);
	}
	if (parse_host(family, field[0], len[0], &h->src) == -1 ||
	    parse_host(family, field[1], len[1], &h->dst) == -1)
		return family == AF_INET ? "v1: invalid IPv4 address" : "v1: invalid IPv6 address";
	if (parse_port(field[2], len[2], &sport) == -1 || parse_port(field[3], len[3], &dport) == -1)
		return "v1: invalid port";
	set_port(&h->src, sport);
	set_port(&h->dst, dport);
	return NULL;
}

/* The v1 line, a byte at a time: CRLF ends it, a bare CR or LF is invalid. */
static size_t
feed_v1(struct proxy_parser *p, const uint8_t *buf, size_t len, enum proxy_status *status)
{
	const char *why;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = (char)buf[i];

		if (p->line_len > 0 && p->line[p->line_len - 1] == '\r') {
			if (c != '\n')
				return invalid(p, "v1: a CR not followed by LF", i + 1, status);
			if ((why = parse_v1(&p->h, p->line, p->line_len - 1)) != NULL)
				return invalid(p, why, i + 1, status);
			p->phase = PH_DONE;
			*status = PROXY_DONE;
			return i + 1;
		}
		if (c == '\n')
			return invalid(p, "v1: a LF without CR", i + 1, status);
		if (c == '\0')
			return invalid(p, "v1: a NUL byte", i + 1, status);
		if (p->line_len + 1 >= PROXY_V1_MAX)
			return invalid(p, "v1: no CRLF within 107 bytes", i + 1, status);
		p->line[p->line_len++] = c;
	}
	*status = PROXY_MORE;
	return len;
}

static void
v2_addresses(struct proxy_parser *p)
{
	const uint8_t *a = p->fixed + 16;
	uint8_t fam = p->fixed[13];
	struct proxy_header *h = &p->h;

	if ((p->fixed[12] & 0x0f) == 0 || (fam != 0x11 && fam != 0x21)) {
		h->local = true;	/* LOCAL, or no TCP address the socket could have */
		return;
	}
	memset(&h->src, 0, sizeof(h->src));
	memset(&h->dst, 0, sizeof(h->dst));
	if (fam == 0x11) {
		h->src.u.in.sin_family = h->dst.u.in.sin_family = AF_INET;
		h->src.len = h->dst.len = sizeof(h->src.u.in);
		memcpy(&h->src.u.in.sin_addr, a, 4);
		memcpy(&h->dst.u.in.sin_addr, a + 4, 4);
		memcpy(&h->src.u.in.sin_port, a + 8, 2);
		memcpy(&h->dst.u.in.sin_port, a + 10, 2);
	} else {
		h->src.u.in6.sin6_family = h->dst.u.in6.sin6_family = AF_INET6;
		h->src.len = h->dst.len = sizeof(h->src.u.in6);
		memcpy(&h->src.u.in6.sin6_addr, a, 16);
		memcpy(&h->dst.u.in6.sin6_addr, a + 16, 16);
		memcpy(&h->src.u.in6.sin6_port, a + 32, 2);
		memcpy(&h->dst.u.in6.sin6_port, a + 34, 2);
	}
}

/* Bytes of the address block each family has; the rest of the header is TLVs. */
static size_t
v2_address_size(uint8_t fam)
{
	switch (fam >> 4) {
	case 1: return 12;
	case 2: return 36;
	case 3: return 216;
	default: return 0;
	}
}

/* One TLV value byte: kept when it is one tcpd reports, folded into the CRC. */
static void
tlv_byte(struct proxy_parser *p, uint8_t b)
{
	uint8_t zero = 0;
	uint32_t pos = p->tlv_pos++;

	switch (p->tlv[0]) {
	case TLV_CRC32C:
		p->crc_sent = p->crc_sent << 8 | b;
		p->crc = proxy_crc32c(p->crc, &zero, 1);	/* computed with the field zeroed */
		return;
	case TLV_UNIQUE_ID:
		p->h.unique_id[pos] = (char)b;
		p->h.unique_id_len = pos + 1;
		break;
	case TLV_AUTHORITY:
		p->h.authority[pos] = (char)b;
		break;
	}
	p->crc = proxy_crc32c(p->crc, &b, 1);
}

/*
 * The AUTHORITY's len bytes, as read, made printable: it is the peer's text
 * and goes to the log, where a newline or an ESC must not forge a line.
 */
static void
escape_authority(struct proxy_header *h, size_t len)
{
	char shown[sizeof(h->authority)];

	log_escape(shown, sizeof(shown), h->authority, len);
	memset(h->authority, 0, sizeof(h->authority));
	memcpy(h->authority, shown, strlen(shown));
}

/* The TLVs after the addresses, until the header's length is used up. */
static size_t
feed_tlvs(struct proxy_parser *p, const uint8_t *buf, size_t len, enum proxy_status *status)
{
	size_t i = 0;
	uint32_t n;

	while (p->left > 0 && i < len) {
		if (p->tlv_have < 3) {
			p->tlv[p->tlv_have++] = buf[i];
			p->crc = proxy_crc32c(p->crc, &buf[i], 1);
			p->left--;
			i++;
			if (p->tlv_have < 3)
				continue;
			n = (uint32_t)p->tlv[1] << 8 | p->tlv[2];
			if (n > p->left)
				return invalid(p, "v2: a TLV runs past the header's length", i, status);
			if ((p->tlv[0] == TLV_CRC32C && n != 4) ||
			    (p->tlv[0] == TLV_UNIQUE_ID && n > PROXY_UNIQUE_ID_MAX) ||
			    (p->tlv[0] == TLV_AUTHORITY && n > PROXY_AUTHORITY_MAX))
				return invalid(p, "v2: a CRC32C, UNIQUE_ID or AUTHORITY TLV of a "
				    "wrong length", i, status);
			p->crc_present |= p->tlv[0] == TLV_CRC32C;
			p->tlv_left = n;
			p->tlv_pos = 0;
		} else {
			tlv_byte(p, buf[i]);
			p->left--;
			i++;
			p->tlv_left--;
		}
		if (p->tlv_have == 3 && p->tlv_left == 0) {
			if (p->tlv[0] == TLV_AUTHORITY)
				escape_authority(&p->h, (size_t)p->tlv[1] << 8 | p->tlv[2]);
			p->tlv_have = 0;	/* the next TLV */
		}
	}
	if (p->left > 0) {
		*status = PROXY_MORE;
		return i;
	}
	if (p->tlv_have != 0)
		return invalid(p, "v2: a TLV cut short by the header's length", i, status);
	if (p->crc_present && p->crc != p->crc_sent)
		return invalid(p, "v2: CRC32C mismatch", i, status);
	p->phase = PH_DONE;
	*status = PROXY_DONE;
	return i;
}

/* The 16 fixed bytes, then the address block, kept in p->fixed. */
static size_t
feed_v2(struct proxy_parser *p, const uint8_t *buf, size_t len, enum proxy_status *status)
{
	size_t i = 0, want, take, addr;

	while (p->phase != PH_V2_TLVS) {
		addr = p->have >= 16 ? v2_address_size(p->fixed[13]) : 0;
		want = (p->phase == PH_V2_FIXED ? 16 : 16 + addr) - p->have;
		take = want < len - i ? want : len - i;
		memcpy(p->fixed + p->have, buf + i, take);
		p->crc = proxy_crc32c(p->crc, buf + i, take);
		p->have += take;
		i += take;
		if (take < want) {
			*status = PROXY_MORE;
			return i;
		}
		if (p->phase == PH_V2_FIXED) {
			if ((p->fixed[12] & 0xf0) != 0x20)
				return invalid(p, "v2: version is not 2", i, status);
			if ((p->fixed[12] & 0x0f) > 1)
				return invalid(p, "v2: command is neither LOCAL nor PROXY", i, status);
			p->left = (uint32_t)p->fixed[14] << 8 | p->fixed[15];
			addr = v2_address_size(p->fixed[13]);
			if (p->left < addr)
				return invalid(p, "v2: the length is shorter than the addresses",
				    i, status);
			p->left -= (uint32_t)addr;
			p->phase = PH_V2_ADDR;
		} else {
			v2_addresses(p);
			p->phase = PH_V2_TLVS;
		}
	}
	return i + feed_tlvs(p, buf + i, len - i, status);
}

size_t
proxy_feed(struct proxy_parser *p, const uint8_t *buf, size_t len, enum proxy_status *status)
{
	size_t i = 0;

	if (p->phase == PH_DONE || p->phase == PH_INVALID) {
		*status = p->phase == PH_DONE ? PROXY_DONE : PROXY_INVALID;
		return 0;
	}
	/* The first bytes tell the version: never guessed past them. */
	while (p->phase == PH_START && i < len) {
		uint8_t c = buf[i];

		if (p->have == 0 && c == v2_signature[0]) {
			if (!(p->versions & PROXY_V2))
				return invalid(p, "a v2 header where only v1 is accepted", 1, status);
			p->phase = PH_V2_FIXED;
			p->h.version = 2;
		} else if (p->have == 0 && c == 'P') {
			if (!(p->versions & PROXY_V1))
				return invalid(p, "a v1 header where only v2 is accepted", 1, status);
			p->phase = PH_V1;
		} else {
			return invalid(p, "not a PROXY protocol header", 1, status);
		}
	}
	if (p->phase == PH_V1) {
		/* "PROXY " before anything else. */
		for (; i < len && p->line_len < 6; i++) {
			if (buf[i] != (uint8_t)"PROXY "[p->line_len])
				return invalid(p, "v1: does not start with \"PROXY \"", i + 1, status);
			p->line[p->line_len++] = (char)buf[i];
		}
		if (p->line_len < 6) {
			*status = PROXY_MORE;
			return i;
		}
		return i + feed_v1(p, buf + i, len - i, status);
	}
	if (p->phase == PH_V2_FIXED && p->have < 12) {
		/* The signature, checked as it arrives. */
		for (; i < len && p->have < 12; i++) {
			if (buf[i] != v2_signature[p->have])
				return invalid(p, "v2: bad signature", i + 1, status);
			p->fixed[p->have++] = buf[i];
			p->crc = proxy_crc32c(p->crc, &buf[i], 1);
		}
		if (p->have < 12) {
			*status = PROXY_MORE;
			return i;
		}
	}
	if (i == len && p->phase != PH_V2_TLVS) {
		*status = PROXY_MORE;
		return i;
	}
	return i + feed_v2(p, buf + i, len - i, status);
}

/* a as IPv6 (IPv4 as ::ffff:a.b.c.d), for a header whose other address is IPv6. */
static struct net_addr
as_v6(const struct net_addr *a)
{
	struct net_addr v6;

	if (a->u.sa.sa_family == AF_INET6)
		return *a;
	memset(&v6, 0, sizeof(v6));
	v6.u.in6.sin6_family = AF_INET6;
	v6.u.in6.sin6_port = a->u.in.sin_port;
	v6.u.in6.sin6_addr.s6_addr[10] = v6.u.in6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&v6.u.in6.sin6_addr.s6_addr[12], &a->u.in.sin_addr, 4);
	v6.len = sizeof(v6.u.in6);
	return v6;
}

size_t
proxy_format(uint8_t *out, unsigned version, const struct net_addr *src,
    const struct net_addr *dst)
{
	struct net_addr s, d;
	char shost[INET6_ADDRSTRLEN], dhost[INET6_ADDRSTRLEN];
	bool v4;
	int n;

	if (src == NULL || dst == NULL) {
		if (version == PROXY_V1) {
			memcpy(out, "PROXY UNKNOWN\r\n", 15);
			return 15;
		}
		memcpy(out, v2_signature, 12);
		memcpy(out + 12, "\x20\x00\x00\x00", 4);	/* v2 LOCAL, UNSPEC, no address */
		return 16;
	}
	v4 = src->u.sa.sa_family == AF_INET && dst->u.sa.sa_family == AF_INET;
	s = v4 ? *src : as_v6(src);
	d = v4 ? *dst : as_v6(dst);
	if (version == PROXY_V1) {
		net_addr_host(&s, shost, sizeof(shost));
		net_addr_host(&d, dhost, sizeof(dhost));
		n = snprintf((char *)out, PROXY_FORMAT_MAX, "PROXY TCP%c %s %s %u %u\r\n",
		    v4 ? '4' : '6', shost, dhost, net_addr_port(&s), net_addr_port(&d));
		return (size_t)n;
	}
	memcpy(out, v2_signature, 12);
	out[12] = 0x21;			/* v2, PROXY */
	out[13] = v4 ? 0x11 : 0x21;	/* TCP over IPv4 or IPv6 */
	out[14] = 0;
	out[15] = v4 ? 12 : 36;
	if (v4) {
		memcpy(out + 16, &s.u.in.sin_addr, 4);
		memcpy(out + 20, &d.u.in.sin_addr, 4);
		memcpy(out + 24, &s.u.in.sin_port, 2);
		memcpy(out + 26, &d.u.in.sin_port, 2);
		return 28;
	}
	memcpy(out + 16, &s.u.in6.sin6_addr, 16);
	memcpy(out + 32, &d.u.in6.sin6_addr, 16);
	memcpy(out + 48, &s.u.in6.sin6_port, 2);
	memcpy(out + 50, &d.u.in6.sin6_port, 2);
	return 52;
}

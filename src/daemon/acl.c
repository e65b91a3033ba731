/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "daemon/acl.h"
#include "tcpd/net.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void
map_v4(uint8_t key[16], const void *in_addr)
{
	memcpy(key, v4_mapped_prefix, 12);
	memcpy(key + 12, in_addr, 4);
}

int
cidr_parse(struct cidr *cidr, const char *s, size_t len, const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = memchr(s, '/', len);
	size_t hostlen = slash ? (size_t)(slash - s) : len;
	unsigned prefix = 0, max, i;
	uint8_t v4[4];
	bool is_v4;

	memset(cidr, 0, sizeof(*cidr));
	if (hostlen == 0 || hostlen >= sizeof(host)) {
		*why = "expected an address or ADDRESS/PREFIX";
		return -1;
	}
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	if (inet_pton(AF_INET, host, v4) == 1) {
		is_v4 = true;
		map_v4(cidr->addr, v4);
	} else if (inet_pton(AF_INET6, host, cidr->addr) == 1) {
		is_v4 = false;
	} else {
		*why = "invalid IPv4 or IPv6 address";
		return -1;
	}
	max = is_v4 ? 32 : 128;
	if (slash == NULL) {
		prefix = max;
	} else {
		const char *p = slash + 1, *end = s + len;

		if (p == end || end - p > 3) {
			*why = is_v4 ? "prefix must be 0-32" : "prefix must be 0-128";
			return -1;
		}
		for (; p < end; p++) {
			if (*p < '0' || *p > '9') {
				*why = is_v4 ? "prefix must be 0-32" : "prefix must be 0-128";
				return -1;
			}
			prefix = prefix * 10 + (unsigned)(*p - '0');
		}
		if (prefix > max) {
			*why = is_v4 ? "prefix must be 0-32" : "prefix must be 0-128";
			return -1;
		}
	}
	cidr->prefix = (uint8_t)(prefix + (is_v4 ? 96 : 0));
	for (i = cidr->prefix; i < 128; i++) {
		if (cidr->addr[i / 8] & (0x80 >> (i % 8))) {
			*why = "address has bits set beyond the prefix";
			return -1;
		}
	}
	return 0;
}

void
cidr_key(const struct net_addr *addr, uint8_t key[16])
{
	if (addr->u.sa.sa_family == AF_INET)
		map_v4(key, &addr->u.in.sin_addr);
	else
		memcpy(key, &addr->u.in6.sin6_addr, 16);
}

bool
cidr_match(const struct cidr *cidr, const uint8_t key[16])
{
	unsigned full = cidr->prefix / 8, rest = cidr->prefix % 8;

	/*
	 * An IPv4 peer only meets blocks inside ::ffff:0:0/96: "deny = ::/0",
	 * written to mean "no IPv6", must not refuse every IPv4 client too.
	 */
	if (cidr->prefix < 96 && memcmp(key, v4_mapped_prefix, 12) == 0)
		return false;
	if (memcmp(cidr->addr, key, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((cidr->addr[full] ^ key[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

void
cidr_format(const struct cidr *cidr, char *dst, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	bool is_v4 = cidr->prefix >= 96 && memcmp(cidr->addr, v4_mapped_prefix, 12) == 0;

	inet_ntop(is_v4 ? AF_INET : AF_INET6, cidr->addr + (is_v4 ? 12 : 0), host,
	    sizeof(host));
	snprintf(dst, size, "%s/%u", host, cidr->prefix - (is_v4 ? 96u : 0u));
}

bool
acl_permits(const struct cidr *allow, size_t nallow, const struct cidr *deny,
    size_t ndeny, const uint8_t key[16], const struct cidr **rule)
{
	size_t i;

	*rule = NULL;
	for (i = 0; i < ndeny; i++) {
		if (cidr_match(&deny[i], key)) {
			*rule = &deny[i];
			return false;
		}
	}
	if (nallow == 0)
		return true;
	for (i = 0; i < nallow; i++) {
		if (cidr_match(&allow[i], key)) {
			*rule = &allow[i];
			return true;
		}
	}
	return false;
}

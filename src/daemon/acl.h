/* SPDX-License-Identifier: MIT */
#ifndef TCPD_ACL_H
#define TCPD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct net_addr;

/*
 * An address block. IPv4 blocks are kept in the IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d, prefix + 96), so one comparison serves both families and
 * an IPv4-mapped peer on an IPv6 socket matches IPv4 rules. An IPv6 block
 * wider than ::ffff:0:0/96 (::/0, ::/1 ...) never matches an IPv4 peer: the
 * families stay apart unless a block is written inside the mapped space.
 */
struct cidr {
	uint8_t		addr[16];
	uint8_t		prefix;		/* 0-128, over the 16-byte form */
};

/*
 * Parses "10.0.0.0/8", "::1/128" or a bare address (a single host); len bytes
 * of s. A block with bits set after the prefix is refused, as it is likely a
 * typo. Returns 0, or -1 with *why set to a static explanation.
 */
int	cidr_parse(struct cidr *cidr, const char *s, size_t len, const char **why);

/* Writes the 16-byte form of an IPv4 or IPv6 socket address's host part. */
void	cidr_key(const struct net_addr *addr, uint8_t key[16]);

bool	cidr_match(const struct cidr *cidr, const uint8_t key[16]);

/* "10.0.0.0/8", "::1/128": an IPv4 block in its own form. */
void	cidr_format(const struct cidr *cidr, char *dst, size_t size);
#define CIDR_STRLEN	(INET6_ADDRSTRLEN + 4)

/*
 * Whether a peer may connect: no deny block matches, and the allow list is
 * empty or one of its blocks matches. *rule is the block that decided: the
 * deny block that matched, the allow block that matched, or NULL (no allow
 * list, or not in it).
 */
bool	acl_permits(const struct cidr *allow, size_t nallow,
	    const struct cidr *deny, size_t ndeny, const uint8_t key[16],
	    const struct cidr **rule);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef TCPD_IPCOUNT_H
#define TCPD_IPCOUNT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Open connections per peer address (16-byte keys from cidr_key()): an
 * open-addressing hash table that holds only addresses with a count above 0.
 */
struct ipcount {
	struct ipcount_slot	*slots;
	size_t			 cap;		/* a power of two, or 0 */
	size_t			 used;
};

/* Count for key, 0 when absent. */
unsigned	ipcount_get(const struct ipcount *t, const uint8_t key[16]);
/* Adds one; returns 0, or -1 (ENOMEM) leaving the table unchanged. */
int		ipcount_inc(struct ipcount *t, const uint8_t key[16]);
/* Takes one away; the key leaves the table at 0. */
void		ipcount_dec(struct ipcount *t, const uint8_t key[16]);
void		ipcount_free(struct ipcount *t);

/* The keyed hash of a key (random per process); tests build collisions with it. */
uint64_t	ipcount_hash(const uint8_t key[16]);
/* The farthest any key sits from its home slot: how long a lookup can take. */
size_t		ipcount_longest_probe(const struct ipcount *t);

#endif

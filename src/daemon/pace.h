/* SPDX-License-Identifier: MIT */
#ifndef TCPD_PACE_H
#define TCPD_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * When a connection's output may be written and its input read: the
 * transport side of the timed faults (delay, rate, slices, stalls, a close or
 * reset at a byte or a moment). Pure: output positions (bytes written since
 * the connection opened) and loop_now() milliseconds in, decisions out.
 */

#define PACE_NEVER	UINT64_MAX
/* Replies held at distinct moments; a full table stops reading until one goes. */
#define PACE_MARKS	16

/* The highest rate in bytes per second: a million ms of credit at it fits 64 bits. */
#define PACE_RATE_MAX	(1ull << 40)

enum pace_end { PACE_END_NONE, PACE_END_CLOSE, PACE_END_RESET };

/*
 * The faults of a profile, each with a die of its own: the order a
 * connection casts them in, and their names in counters, logs and the
 * <name>_probability keys.
 */
enum pace_fault {
	PACE_DELAY, PACE_RATE, PACE_SLICE, PACE_CLOSE, PACE_RESET, PACE_STALL,
	PACE_SLOW_CLOSE, PACE_TIMEOUT, PACE_ACCEPT_DELAY, PACE_FAULTS
};
extern const char *const pace_fault_names[PACE_FAULTS];

/* A probability of one, in the profile's parts per million. */
#define PACE_CERTAIN	1000000u

/*
 * A listener's faults for one direction of every connection it accepts
 * (the config's delay, jitter, rate, slice, slice_gap, slice_variation,
 * close_after or limit_data / reset_after, stall_after, slow_close,
 * timeout, accept_delay, each fault's probability, seed). Zero = none.
 */
struct pace_profile {
	uint64_t	 delay_ms;
	uint64_t	 jitter_ms;
	uint64_t	 rate;		/* bytes per second */
	uint64_t	 slice;		/* bytes per write, on average... */
	uint64_t	 slice_variation;	/* ...each drawn from slice +- this */
	uint64_t	 slice_gap_ms;
	enum pace_end	 end;
	uint64_t	 end_bytes;	/* PACE_NEVER: not by bytes */
	uint64_t	 end_ms;	/* PACE_NEVER: not by time */
	uint64_t	 stall_bytes;	/* PACE_NEVER: not by bytes */
	uint64_t	 stall_ms;	/* PACE_NEVER: not by time */
	uint64_t	 slow_close_ms;	/* the FIN held this long */
	uint64_t	 timeout_ms;	/* PACE_NEVER: none; 0: bytes dropped, never closed */
	uint64_t	 accept_delay_ms;
	uint32_t	 ppm[PACE_FAULTS];	/* connections that get each, per million */
	bool		 seeded;
	uint64_t	 seed;
};

/* A profile with no fault: the "never" values set, every fault certain. */
void	pace_profile_init(struct pace_profile *pp);
bool	pace_profile_empty(const struct pace_profile *pp);
/* Field by field: the padding of two copies may differ. */
bool	pace_profile_equal(const struct pace_profile *a, const struct pace_profile *b);
/* Whether pp holds fault f at all, whatever its probability. */
bool	pace_profile_has(const struct pace_profile *pp, enum pace_fault f);

struct pace {
	/* Output from pos on waits until at; in stream order, at never decreasing. */
	struct {
		uint64_t	pos, at;
	}		 marks[PACE_MARKS];
	unsigned	 first, count;
	uint64_t	 delay_ms;	/* each read's replies wait this long... */
	uint64_t	 jitter_ms;	/* ...plus or minus up to this */
	uint64_t	 sleep_ms;	/* the next request's replies only wait this too */
	uint64_t	 rate;		/* bytes per second, 0 = unpaced... */
	uint64_t	 rate_from;	/* ...for output from this position... */
	uint64_t	 rate_until;	/* ...to this one (PACE_NEVER: on), then: */
	uint64_t	 rate_after;
	uint64_t	 credit;	/* thousandths of a byte */
	uint64_t	 refilled;	/* when credit was last added */
	uint64_t	 slice;		/* bytes per write, 0 = any, for output... */
	uint64_t	 slice_from;	/* ...from this position... */
	uint64_t	 slice_until;	/* ...to this one (PACE_NEVER: on), then: */
	uint64_t	 slice_after, slice_gap_after;
	uint64_t	 slice_gap_ms;
	uint64_t	 slice_variation;	/* each slice drawn from slice +- this */
	uint64_t	 slice_now;	/* the next write's slice */
	uint64_t	 next_write;	/* the slice gap: no write before */
	enum pace_end	 end;
	uint64_t	 end_pos;	/* the end comes at this position... */
	uint64_t	 end_at;	/* ...or at this moment, whichever is first */
	uint64_t	 stall_pos;	/* a stall forever starts at this position */
	uint64_t	 stall_from;	/* no reading or writing from... */
	uint64_t	 stall_until;	/* ...until (PACE_NEVER: for good) */
	uint64_t	 reads_from;	/* accept_delay: nothing read before */
	uint64_t	 slow_close_ms;
	uint64_t	 fin_at;	/* when the FIN may go; PACE_NEVER: not ready yet */
	bool		 dropping;	/* timeout: bytes dropped, none passed */
	unsigned	 applied;	/* 1 << enum pace_fault: the faults this one got */
	uint64_t	 random;	/* the jitter's and slices' generator state */
};

/* No fault; random seeds the jitter. */
void	pace_init(struct pace *p, uint64_t random);

/*
 * Connection number k (0, 1, ...) of a listener with profile pp, opened at
 * now: each fault's die cast, in enum pace_fault's order, from random, or
 * from the profile's seed and k, which makes connection k's faults the same
 * on every run. p->applied says which it got.
 */
void	pace_start(struct pace *p, const struct pace_profile *pp, uint64_t k,
	    uint64_t now, uint64_t random);

/*
 * The same connection, open, given pp's faults instead (a proxy's toxic
 * added, changed or taken off): cast anew as pace_start() does, counting
 * from pos (the direction's next byte) and now, as if it started there;
 * output held keeps its moment, a FIN's hold and accept_delay (the accept
 * is past) stay. Returns the faults this cast gave; p->applied keeps every
 * fault the connection has had, for its close line.
 */
unsigned pace_restart(struct pace *p, const struct pace_profile *pp, uint64_t k, uint64_t pos,
	    uint64_t now, uint64_t random);

/* Output from pos on waits until at, or until everything before it has gone. */
void	pace_hold(struct pace *p, uint64_t pos, uint64_t at);
/* A request was read at now: what it makes, from pos on, waits the delay. */
void	pace_request(struct pace *p, uint64_t pos, uint64_t now);
void	pace_set_delay(struct pace *p, uint64_t ms, uint64_t jitter_ms);
void	pace_sleep_next(struct pace *p, uint64_t ms);
/*
 * A fault set by a request applies from its own reply on, at output
 * position from; what is queued before it, from position pos (the next
 * byte to write), goes as it would have: unpaced, or under the rate or the
 * slicing it was queued under.
 */
void	pace_set_rate(struct pace *p, uint64_t bytes_per_s, uint64_t now, uint64_t pos,
	    uint64_t from);
void	pace_set_slice(struct pace *p, uint64_t bytes, uint64_t gap_ms, uint64_t pos,
	    uint64_t from);
/*
 * A rate for output in [from, until) only (a STREAM's), then the one before
 * it again; output queued before from goes unpaced.
 */
void	pace_set_rate_span(struct pace *p, uint64_t bytes_per_s, uint64_t now, uint64_t from,
	    uint64_t until);
/* how at position pos or at moment at (PACE_NEVER for either: not that way). */
void	pace_set_end(struct pace *p, enum pace_end how, uint64_t pos, uint64_t at);
/* Neither read nor write from now until until (PACE_NEVER: for good). */
void	pace_stall(struct pace *p, uint64_t now, uint64_t until);

/* Bytes that may be written now from pos: 0 = wait for pace_wake(). */
uint64_t pace_allow(struct pace *p, uint64_t pos, uint64_t now);
/* n bytes were written, reaching pos. */
void	pace_wrote(struct pace *p, uint64_t pos, uint64_t n, uint64_t now);
/* Whether input may be read now. */
bool	pace_reads(struct pace *p, uint64_t now);
/*
 * Whether reading waits for accept_delay alone, as a client's bytes and FIN
 * wait in a slow server's accept queue (a stall is a server that hangs).
 */
bool	pace_accept_delayed(const struct pace *p, uint64_t now);
/*
 * The FIN, ready to go at now: whether it may go yet. The first call
 * starts slow_close's hold; pace_wake() tells when it ends.
 */
bool	pace_fin_may_go(struct pace *p, uint64_t now);
/* timeout: whether the bytes are dropped rather than passed. */
bool	pace_drops(const struct pace *p);
/* The close or reset due at pos now, or PACE_END_NONE. */
enum pace_end pace_ending(const struct pace *p, uint64_t pos, uint64_t now);
/*
 * The next moment any answer above changes without a write, at pos and
 * given whether output is queued (now when an end is due already);
 * PACE_NEVER when only a write can change one.
 */
uint64_t pace_wake(struct pace *p, uint64_t pos, bool queued, uint64_t now);

/* The longest duration a fault takes, in ms: a day. */
#define PACE_MS_MAX	86400000u
/* The most bytes a fault counts to: 2^50. */
#define PACE_BYTES_MAX	(1ull << 50)

/*
 * A duration as num_parse_duration() reads it, a bare number in ms ("250",
 * "1.5s"), at most max ms. Returns 0, or -1 with errno EINVAL or ERANGE.
 */
int	pace_parse_ms(const char *s, size_t len, uint64_t max, uint64_t *ms);
/*
 * When an end or a stall comes: a size ("1000", "64k", num_parse_size()) or
 * a duration with its unit ("250ms", "2min"); the other is set to
 * PACE_NEVER. A lone "m" is refused: minutes or MiB? Returns 0, or -1 as
 * pace_parse_ms().
 */
int	pace_parse_after(const char *s, size_t len, uint64_t *bytes, uint64_t *ms);

/* The next number of a splitmix64 sequence: seeds that differ by one diverge. */
uint64_t pace_next_random(uint64_t *state);

#endif

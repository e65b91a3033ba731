/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "daemon/pace.h"
#include "tcpd/num.h"

/* The credit a quiet connection may save up: 10 ms of its rate, at least a byte. */
#define BURST_MS	10

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
pace_next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

const char *const pace_fault_names[PACE_FAULTS] = {
	[PACE_DELAY] = "delay",
	[PACE_RATE] = "rate",
	[PACE_SLICE] = "slice",
	[PACE_CLOSE] = "close",
	[PACE_RESET] = "reset",
	[PACE_STALL] = "stall",
	[PACE_SLOW_CLOSE] = "slow_close",
	[PACE_TIMEOUT] = "timeout",
	[PACE_ACCEPT_DELAY] = "accept_delay",
};

void
pace_profile_init(struct pace_profile *pp)
{
	unsigned f;

	*pp = (struct pace_profile){ .end_bytes = PACE_NEVER, .end_ms = PACE_NEVER,
	    .stall_bytes = PACE_NEVER, .stall_ms = PACE_NEVER, .timeout_ms = PACE_NEVER };
	for (f = 0; f < PACE_FAULTS; f++)
		pp->ppm[f] = PACE_CERTAIN;
}

bool
pace_profile_has(const struct pace_profile *pp, enum pace_fault f)
{
	switch (f) {
	case PACE_DELAY:
		return pp->delay_ms != 0;
	case PACE_RATE:
		return pp->rate != 0;
	case PACE_SLICE:
		return pp->slice != 0;
	case PACE_CLOSE:
		return pp->end == PACE_END_CLOSE;
	case PACE_RESET:
		return pp->end == PACE_END_RESET;
	case PACE_STALL:
		return pp->stall_bytes != PACE_NEVER || pp->stall_ms != PACE_NEVER;
	case PACE_SLOW_CLOSE:
		return pp->slow_close_ms != 0;
	case PACE_TIMEOUT:
		return pp->timeout_ms != PACE_NEVER;
	default:	/* PACE_ACCEPT_DELAY */
		return pp->accept_delay_ms != 0;
	}
}

bool
pace_profile_empty(const struct pace_profile *pp)
{
	unsigned f;

	for (f = 0; f < PACE_FAULTS; f++)
		if (pace_profile_has(pp, f))
			return false;
	return true;
}

bool
pace_profile_equal(const struct pace_profile *a, const struct pace_profile *b)
{
	return a->delay_ms == b->delay_ms && a->jitter_ms == b->jitter_ms &&
	    a->rate == b->rate && a->slice == b->slice &&
	    a->slice_variation == b->slice_variation && a->slice_gap_ms == b->slice_gap_ms &&
	    a->end == b->end && a->end_bytes == b->end_bytes && a->end_ms == b->end_ms &&
	    a->stall_bytes == b->stall_bytes && a->stall_ms == b->stall_ms &&
	    a->slow_close_ms == b->slow_close_ms && a->timeout_ms == b->timeout_ms &&
	    a->accept_delay_ms == b->accept_delay_ms &&
	    memcmp(a->ppm, b->ppm, sizeof(a->ppm)) == 0 && a->seeded == b->seeded &&
	    a->seed == b->seed;
}

void
pace_init(struct pace *p, uint64_t random)
{
	*p = (struct pace){ .end_pos = PACE_NEVER, .end_at = PACE_NEVER, .rate_until = PACE_NEVER,
	    .slice_until = PACE_NEVER,
	    .stall_pos = PACE_NEVER, .stall_from = PACE_NEVER, .stall_until = PACE_NEVER,
	    .fin_at = PACE_NEVER, .random = random };
}

/* The next write's slice: slice +- the variation, uniformly, at least a byte. */
static void
draw_slice(struct pace *p)
{
	uint64_t low = p->slice > p->slice_variation ? p->slice - p->slice_variation : 1;

	p->slice_now = p->slice_variation == 0 ? p->slice :
	    low + pace_next_random(&p->random) % (p->slice + p->slice_variation - low + 1);
}

/* Offset by pos: a count from there, or still never. */
static uint64_t
from_pos(uint64_t pos, uint64_t bytes)
{
	return bytes == PACE_NEVER ? PACE_NEVER : pos + bytes;
}

/*
 * pp's faults onto p (fresh from pace_init()), for output from pos on and
 * moments from now on. Returns the faults the dice gave.
 */
static unsigned
cast(struct pace *p, const struct pace_profile *pp, uint64_t k, uint64_t pos, uint64_t now,
    uint64_t random)
{
	uint64_t state = pp->seeded ? pp->seed ^ (k * 0xd1342543de82ef95u) : random;
	unsigned f, on = 0;

	p->random = pace_next_random(&state);
	/*
	 * Every die is cast, certain or not, in the same order: a fault added
	 * or made likelier leaves the other faults' draws and the jitter alone.
	 */
	for (f = 0; f < PACE_FAULTS; f++)
		if (pace_next_random(&state) % PACE_CERTAIN < pp->ppm[f] && pace_profile_has(pp, f))
			on |= 1u << f;
	if (on & 1u << PACE_DELAY)
		pace_set_delay(p, pp->delay_ms, pp->jitter_ms);
	if (on & 1u << PACE_RATE)
		pace_set_rate(p, pp->rate, now, pos, pos);
	if (on & 1u << PACE_SLICE) {
		pace_set_slice(p, pp->slice, pp->slice_gap_ms, pos, pos);
		p->slice_variation = pp->slice_variation;
		draw_slice(p);
	}
	if (on & (1u << PACE_CLOSE | 1u << PACE_RESET))
		pace_set_end(p, pp->end, from_pos(pos, pp->end_bytes),
		    pp->end_ms == PACE_NEVER ? PACE_NEVER : now + pp->end_ms);
	if (on & 1u << PACE_STALL) {
		p->stall_pos = from_pos(pos, pp->stall_bytes);
		if (pp->stall_ms != PACE_NEVER)
			p->stall_from = now + pp->stall_ms;
	}
	if (on & 1u << PACE_SLOW_CLOSE)
		p->slow_close_ms = pp->slow_close_ms;
	/* Toxiproxy's timeout: nothing passes, and after timeout_ms (not 0) a close. */
	if (on & 1u << PACE_TIMEOUT) {
		p->dropping = true;
		if (pp->timeout_ms != 0)
			pace_set_end(p, PACE_END_CLOSE, PACE_NEVER, now + pp->timeout_ms);
	}
	return on;
}

void
pace_start(struct pace *p, const struct pace_profile *pp, uint64_t k, uint64_t now,
    uint64_t random)
{
	pace_init(p, 0);
	p->applied = cast(p, pp, k, 0, now, random);
	if (p->applied & 1u << PACE_ACCEPT_DELAY) {
		p->reads_from = now + pp->accept_delay_ms;
		pace_hold(p, 0, p->reads_from);	/* a greeting waits too */
	}
}

unsigned
pace_restart(struct pace *p, const struct pace_profile *pp, uint64_t k, uint64_t pos,
    uint64_t now, uint64_t random)
{
	struct pace was = *p;
	unsigned on;

	pace_init(p, 0);
	on = cast(p, pp, k, pos, now, random) & ~(1u << PACE_ACCEPT_DELAY);
	/* What is held keeps its moment: no byte goes early, none out of order. */
	memcpy(p->marks, was.marks, sizeof(p->marks));
	p->first = was.first;
	p->count = was.count;
	p->fin_at = was.fin_at;
	p->reads_from = was.reads_from;
	p->applied = was.applied | on;
	return on;
}

void
pace_hold(struct pace *p, uint64_t pos, uint64_t at)
{
	unsigned last;

	if (p->count > 0) {
		last = (p->first + p->count - 1) % PACE_MARKS;
		/* Replies keep their order: none goes before the one ahead of it. */
		if (at < p->marks[last].at)
			at = p->marks[last].at;
		/* Same place, or no room: the later moment covers both, so none is early. */
		if (p->marks[last].pos == pos || p->count == PACE_MARKS) {
			p->marks[last].at = at;
			return;
		}
	}
	last = (p->first + p->count) % PACE_MARKS;
	p->marks[last].pos = pos;
	p->marks[last].at = at;
	p->count++;
}

void
pace_request(struct pace *p, uint64_t pos, uint64_t now)
{
	uint64_t wait = p->delay_ms, spread;

	if (wait == 0 && p->sleep_ms == 0)
		return;
	if (p->jitter_ms != 0) {
		/* Uniform over [delay - jitter, delay + jitter]. */
		spread = pace_next_random(&p->random) % (2 * p->jitter_ms + 1);
		wait = wait + spread >= p->jitter_ms ? wait + spread - p->jitter_ms : 0;
	}
	/*
	 * now is whole milliseconds, read when the loop woke, before the request
	 * was; the timer fires on the same clock. One more ms keeps every reply
	 * from coming early.
	 */
	pace_hold(p, pos, now + wait + p->sleep_ms + 1);
	p->sleep_ms = 0;
}

void
pace_sleep_next(struct pace *p, uint64_t ms)
{
	p->sleep_ms = ms;
}

void
pace_set_delay(struct pace *p, uint64_t ms, uint64_t jitter_ms)
{
	p->delay_ms = ms;
	p->jitter_ms = jitter_ms;
}

static void
start_rate(struct pace *p, uint64_t bytes_per_s, uint64_t now, uint64_t from)
{
	p->rate = bytes_per_s;
	p->rate_from = from;
	p->rate_until = PACE_NEVER;
	p->credit = 0;
	p->refilled = now;
}

void
pace_set_rate(struct pace *p, uint64_t bytes_per_s, uint64_t now, uint64_t pos,
    uint64_t from)
{
	/* Output queued under a rate keeps it: that rate becomes a span ending at from. */
	if (p->rate != 0 && pos < from && p->rate_until == PACE_NEVER) {
		p->rate_until = from;
		p->rate_after = bytes_per_s;
		return;
	}
	/* After a STREAM's span, the new rate is the one to come back to. */
	if (p->rate_until != PACE_NEVER && from >= p->rate_until) {
		p->rate_after = bytes_per_s;
		return;
	}
	start_rate(p, bytes_per_s, now, from);
}

void
pace_set_rate_span(struct pace *p, uint64_t bytes_per_s, uint64_t now, uint64_t from,
    uint64_t until)
{
	/* A span inside a span comes back to the rate outside both. */
	uint64_t after = p->rate_until == PACE_NEVER ? p->rate : p->rate_after;

	start_rate(p, bytes_per_s, now, from);
	p->rate_until = until;
	p->rate_after = after;
}

static void
start_slice(struct pace *p, uint64_t bytes, uint64_t gap_ms, uint64_t from)
{
	p->slice = bytes;
	p->slice_now = bytes;
	p->slice_variation = 0;
	p->slice_from = from;
	p->slice_until = PACE_NEVER;
	p->slice_gap_ms = gap_ms;
	p->next_write = 0;
}

void
pace_set_slice(struct pace *p, uint64_t bytes, uint64_t gap_ms, uint64_t pos, uint64_t from)
{
	/* Output queued under a slicing keeps it, up to from. */
	if (p->slice != 0 && pos < from) {
		p->slice_until = from;
		p->slice_after = bytes;
		p->slice_gap_after = gap_ms;
		return;
	}
	start_slice(p, bytes, gap_ms, from);
}

/* Past a span's end, what comes after it. */
static void
end_spans(struct pace *p, uint64_t pos, uint64_t now)
{
	if (pos >= p->rate_until)
		start_rate(p, p->rate_after, now, 0);
	if (pos >= p->slice_until)
		start_slice(p, p->slice_after, p->slice_gap_after, p->slice_until);
}

/* A write stops at a position where a fault starts: the bytes after it obey it. */
static uint64_t
up_to(uint64_t limit, uint64_t pos, uint64_t from)
{
	return pos < from ? min64(limit, from - pos) : limit;
}

void
pace_set_end(struct pace *p, enum pace_end how, uint64_t pos, uint64_t at)
{
	p->end = how;
	p->end_pos = pos;
	p->end_at = at;
}

void
pace_stall(struct pace *p, uint64_t now, uint64_t until)
{
	p->stall_from = now;
	p->stall_until = until;
}

static bool
stalled(const struct pace *p, uint64_t now)
{
	return now >= p->stall_from && now < p->stall_until;
}

/* Marks whose moment has come let their replies go. */
static void
release(struct pace *p, uint64_t now)
{
	while (p->count > 0 && p->marks[p->first].at <= now) {
		p->first = (p->first + 1) % PACE_MARKS;
		p->count--;
	}
}

static void
refill(struct pace *p, uint64_t now)
{
	uint64_t burst = p->rate * BURST_MS > 1000 ? p->rate * BURST_MS : 1000;
	/* Past a thousand seconds any rate has filled its bucket; the cap keeps the product in range. */
	uint64_t elapsed = min64(now - p->refilled, 1000000);

	p->credit = min64(p->credit + p->rate * elapsed, burst);
	p->refilled = now;
}

uint64_t
pace_allow(struct pace *p, uint64_t pos, uint64_t now)
{
	uint64_t limit = PACE_NEVER;

	if (stalled(p, now) || now < p->next_write)
		return 0;
	release(p, now);
	if (p->count > 0)
		limit = p->marks[p->first].pos > pos ? p->marks[p->first].pos - pos : 0;
	if (p->end != PACE_END_NONE && p->end_pos != PACE_NEVER)
		limit = min64(limit, p->end_pos > pos ? p->end_pos - pos : 0);
	if (p->stall_pos != PACE_NEVER)
		limit = min64(limit, p->stall_pos > pos ? p->stall_pos - pos : 0);
	end_spans(p, pos, now);
	if (p->slice != 0)
		limit = pos < p->slice_from ? up_to(limit, pos, p->slice_from) :
		    up_to(min64(limit, p->slice_now), pos, p->slice_until);
	if (p->rate != 0 && pos < p->rate_from) {
		limit = up_to(limit, pos, p->rate_from);
	} else if (p->rate != 0) {
		refill(p, now);
		limit = min64(limit, p->credit / 1000);
		if (p->rate_until != PACE_NEVER)
			limit = min64(limit, p->rate_until - pos);
	}
	return limit;
}

void
pace_wrote(struct pace *p, uint64_t pos, uint64_t n, uint64_t now)
{
	/* A write never straddles where a fault starts: up_to() stops it there. */
	if (p->rate != 0 && pos - n >= p->rate_from)
		p->credit -= min64(p->credit, n * 1000);
	if (p->slice != 0 && n > 0 && pos - n >= p->slice_from) {
		p->next_write = now + p->slice_gap_ms;
		draw_slice(p);
	}
	end_spans(p, pos, now);
	if (pos >= p->stall_pos) {
		pace_stall(p, now, PACE_NEVER);
		p->stall_pos = PACE_NEVER;
	}
}

bool
pace_reads(struct pace *p, uint64_t now)
{
	release(p, now);
	return !stalled(p, now) && now >= p->reads_from && p->count < PACE_MARKS;
}

bool
pace_accept_delayed(const struct pace *p, uint64_t now)
{
	return now < p->reads_from && !stalled(p, now);
}

bool
pace_fin_may_go(struct pace *p, uint64_t now)
{
	if (p->fin_at == PACE_NEVER)
		p->fin_at = now + p->slow_close_ms;
	return now >= p->fin_at;
}

bool
pace_drops(const struct pace *p)
{
	return p->dropping;
}

enum pace_end
pace_ending(const struct pace *p, uint64_t pos, uint64_t now)
{
	if (p->end != PACE_END_NONE && (pos >= p->end_pos || now >= p->end_at))
		return p->end;
	return PACE_END_NONE;
}

uint64_t
pace_wake(struct pace *p, uint64_t pos, bool queued, uint64_t now)
{
	uint64_t wake = PACE_NEVER, need;

	release(p, now);
	if (p->end != PACE_END_NONE)
		wake = pos >= p->end_pos ? now : p->end_at;
	if (p->fin_at != PACE_NEVER && p->fin_at > now)
		wake = min64(wake, p->fin_at);
	if (p->stall_from > now)
		wake = min64(wake, p->stall_from);
	else if (stalled(p, now))
		return min64(wake, p->stall_until);
	if (p->reads_from > now)
		wake = min64(wake, p->reads_from);
	if (p->count > 0)
		wake = min64(wake, p->marks[p->first].at);
	if (!queued)
		return wake;
	if (p->next_write > now)
		wake = min64(wake, p->next_write);
	if (p->rate != 0 && pos >= p->rate_from && p->credit < 1000) {
		need = 1000 - p->credit;
		wake = min64(wake, now + (need + p->rate - 1) / p->rate);
	}
	return wake;
}

int
pace_parse_ms(const char *s, size_t len, uint64_t max, uint64_t *ms)
{
	return num_parse_duration(s, len, 1, max, ms);
}

int
pace_parse_after(const char *s, size_t len, uint64_t *bytes, uint64_t *ms)
{
	/* "10m": ten minutes or ten MiB? Neither guessed: 10min or 10M says which. */
	if (len > 1 && s[len - 1] == 'm' && s[len - 2] >= '0' && s[len - 2] <= '9') {
		errno = EINVAL;
		return -1;
	}
	if (num_has_duration_unit(s, len)) {
		*bytes = PACE_NEVER;
		return num_parse_duration(s, len, 0, PACE_MS_MAX, ms);
	}
	*ms = PACE_NEVER;
	return num_parse_size(s, len, 0, PACE_BYTES_MAX, bytes);
}

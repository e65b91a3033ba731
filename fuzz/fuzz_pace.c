/* SPDX-License-Identifier: MIT */
/*
 * The pacing behind the timed faults, driven by arbitrary operations: the
 * first line is a fault argument (a duration, or bytes or a duration), the
 * rest is a program of holds, rates, slices, stalls, ends, clock steps and
 * writes, after an optional listener profile ('P' and its fields: slices
 * of random size, slow_close, timeout, each fault's probability, a seed).
 * Whatever the program, no byte leaves before its hold's moment, past an
 * end, during a stall, faster than the rate or larger than a slice and its
 * variation (from the position each starts at, never across it), a FIN
 * never before slow_close has passed, a fault of probability 0 is never
 * given and one of 1 always, and a wake-up is never now or past unless an
 * end is due.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/pace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every hold as asked, before any merging: none may release early. */
static struct {
	uint64_t pos, at;
} asked[4096];

static uint64_t
take(const uint8_t **p, const uint8_t *end, unsigned bytes)
{
	uint64_t v = 0;

	while (bytes-- > 0 && *p < end)
		v = v << 8 | *(*p)++;
	return v;
}

static void
check_arguments(const uint8_t *data, size_t len)
{
	uint64_t ms, bytes;

	if (pace_parse_ms((const char *)data, len, PACE_MS_MAX, &ms) == 0 && ms > PACE_MS_MAX)
		abort();
	if (pace_parse_after((const char *)data, len, &bytes, &ms) == 0 &&
	    (bytes == PACE_NEVER) == (ms == PACE_NEVER))
		abort();
}

/*
 * A listener's profile from the input, started as connection k: each
 * fault's die, at probability 0 or 1, must have given it or not.
 */
static void
start_profile(struct pace *pc, const uint8_t **p, const uint8_t *end, uint64_t now)
{
	struct pace_profile pp;
	uint64_t k, v;
	unsigned f;

	pace_profile_init(&pp);
	pp.delay_ms = take(p, end, 1);
	pp.jitter_ms = pp.delay_ms / 2;
	pp.rate = take(p, end, 2);
	pp.slice = take(p, end, 1);
	pp.slice_variation = take(p, end, 1);
	pp.slice_gap_ms = take(p, end, 1);
	pp.slow_close_ms = take(p, end, 2);
	if ((v = take(p, end, 2)) != 0xffff)
		pp.timeout_ms = v;
	if ((v = take(p, end, 2)) & 1) {
		pp.end = v & 2 ? PACE_END_RESET : PACE_END_CLOSE;
		pp.end_bytes = v >> 2;
	}
	for (f = 0; f < PACE_FAULTS; f++) {
		v = take(p, end, 1);
		pp.ppm[f] = v == 0 ? 0 : v == 255 ? PACE_CERTAIN : (uint32_t)v * 3921;
	}
	pp.seeded = take(p, end, 1) & 1;
	pp.seed = take(p, end, 4);
	k = take(p, end, 2);
	pace_start(pc, &pp, k, now, take(p, end, 4));
	for (f = 0; f < PACE_FAULTS; f++)
		if ((pp.ppm[f] == 0 && (pc->applied & 1u << f)) ||
		    (pp.ppm[f] == PACE_CERTAIN && pace_profile_has(&pp, f) &&
		    !(pc->applied & 1u << f)) ||
		    (!pace_profile_has(&pp, f) && (pc->applied & 1u << f)))
			abort();
	if (pc->slice != 0 && (pc->slice_now == 0 ||
	    pc->slice_now > pc->slice + pc->slice_variation))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl = memchr(data, '\n', size);
	struct pace pc;
	uint64_t now = 1000, pos = 0, queued = 0, allow, n, wake, last_write = 0;
	uint64_t rate_since = 0, rate_sent = 0, rate_from = 0, slice_from = 0, i, nasked = 0;
	uint64_t fin_ready = PACE_NEVER;
	bool wrote_once = false;

	if (nl != NULL) {
		check_arguments(data, (size_t)(nl - data));
		p = nl + 1;
	}
	pace_init(&pc, take(&p, end, 2));
	if (p < end && *p == 'P') {
		p++;
		start_profile(&pc, &p, end, now);
		rate_since = now;
	}
	while (p < end) {
		switch (*p++ % 10) {
		case 0:		/* a request's reply, held */
			n = take(&p, end, 2);
			if (nasked < sizeof(asked) / sizeof(asked[0])) {
				asked[nasked].pos = pos + queued;
				asked[nasked++].at = now + n;
			}
			pace_hold(&pc, pos + queued, now + n);
			queued += take(&p, end, 1) + 1;
			break;
		case 1:		/* set by a request: from its own reply on */
			rate_from = pos + queued;
			pace_set_rate(&pc, take(&p, end, 3), now, rate_from, rate_from);
			rate_since = now;
			rate_sent = 0;
			break;
		case 2:
			slice_from = pos + queued;
			n = take(&p, end, 1);
			pace_set_slice(&pc, n, take(&p, end, 1), slice_from, slice_from);
			wrote_once = false;	/* a new slicing starts without a gap */
			break;
		case 3:
			n = take(&p, end, 2);
			pace_stall(&pc, now, n == 0xffff ? PACE_NEVER : now + n);
			break;
		case 4:
			n = take(&p, end, 2);
			pace_set_end(&pc, n & 1 ? PACE_END_RESET : PACE_END_CLOSE,
			    n & 2 ? pos + queued + (n >> 2) : PACE_NEVER,
			    n & 2 ? PACE_NEVER : now + (n >> 2));
			break;
		case 5:
			now += take(&p, end, 2);
			break;
		case 6:
			pace_set_delay(&pc, take(&p, end, 1), 0);
			pace_request(&pc, pos + queued, now);
			queued += 1;
			break;
		case 7:
			queued += take(&p, end, 2);
			break;
		case 8:		/* the FIN is ready: slow_close holds it from the first ask */
			if (fin_ready == PACE_NEVER)
				fin_ready = now;
			if (pace_fin_may_go(&pc, now) && now < fin_ready + pc.slow_close_ms)
				abort();
			break;
		default:	/* the transport writes what it may */
			if (pace_ending(&pc, pos, now) != PACE_END_NONE)
				return 0;	/* the connection ends here */
			allow = pace_allow(&pc, pos, now);
			n = allow < queued ? allow : queued;
			if (n == 0)
				break;
			if ((pc.stall_from <= now && now < pc.stall_until) ||
			    (pc.end != PACE_END_NONE && pos + n > pc.end_pos) ||
			    (pc.slice != 0 && pos < slice_from && pos + n > slice_from) ||
			    (pc.slice != 0 && pos >= slice_from && (n > pc.slice +
			    pc.slice_variation ||
			    (wrote_once && now < last_write + pc.slice_gap_ms))) ||
			    (pc.rate != 0 && pos < rate_from && pos + n > rate_from))
				abort();
			for (i = 0; i < nasked; i++)
				if (asked[i].pos < pos + n && asked[i].at > now)
					abort();
			if (pc.rate != 0 && pos >= rate_from &&
			    (rate_sent + n) * 1000 > pc.rate * (now - rate_since))
				abort();
			if (pos >= rate_from)
				rate_sent += n;
			if (pos >= slice_from) {
				last_write = now;
				wrote_once = true;
			}
			pos += n;
			queued -= n;
			pace_wrote(&pc, pos, n, now);
		}
		if (pc.count >= PACE_MARKS && pace_reads(&pc, now) && pc.count >= PACE_MARKS)
			abort();
		wake = pace_wake(&pc, pos, queued > 0, now);
		if (wake <= now && pace_ending(&pc, pos, now) == PACE_END_NONE)
			abort();
	}
	return 0;
}

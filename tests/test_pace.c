/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/pace.h"

static struct pace p;

Test(pace, nothing_set_allows_everything_and_never_wakes)
{
	pace_init(&p, 1);
	cr_assert_eq(pace_allow(&p, 0, 5), PACE_NEVER);
	cr_assert(pace_reads(&p, 5));
	cr_assert_eq(pace_ending(&p, 1u << 30, 1u << 30), PACE_END_NONE);
	cr_assert_eq(pace_wake(&p, 0, true, 5), PACE_NEVER);
}

Test(pace, a_hold_keeps_bytes_from_its_position_until_its_moment)
{
	pace_init(&p, 1);
	pace_hold(&p, 10, 100);
	cr_assert_eq(pace_allow(&p, 0, 50), 10, "bytes before the mark are free");
	cr_assert_eq(pace_allow(&p, 10, 99), 0);
	cr_assert_eq(pace_wake(&p, 0, true, 99), 100);
	cr_assert_eq(pace_allow(&p, 10, 100), PACE_NEVER);
	cr_assert_eq(pace_wake(&p, 0, true, 100), PACE_NEVER);
}

Test(pace, replies_keep_their_order_even_when_a_later_one_is_due_sooner)
{
	pace_init(&p, 1);
	pace_hold(&p, 0, 200);
	pace_hold(&p, 5, 150);	/* jitter made it sooner: it still waits for the first */
	cr_assert_eq(pace_allow(&p, 0, 199), 0);
	cr_assert_eq(pace_allow(&p, 0, 200), PACE_NEVER);
}

Test(pace, successive_holds_release_one_after_another)
{
	pace_init(&p, 1);
	pace_hold(&p, 0, 100);
	pace_hold(&p, 5, 120);
	cr_assert_eq(pace_allow(&p, 0, 100), 5);
	cr_assert_eq(pace_allow(&p, 5, 119), 0);
	cr_assert_eq(pace_wake(&p, 0, true, 119), 120);
	cr_assert_eq(pace_allow(&p, 5, 120), PACE_NEVER);
}

Test(pace, a_full_table_stops_reading_and_merges_late_never_early)
{
	unsigned i;

	pace_init(&p, 1);
	for (i = 0; i < PACE_MARKS; i++)
		pace_hold(&p, i * 10, 100 + i);
	cr_assert_not(pace_reads(&p, 50), "a full table stops reading");
	pace_hold(&p, 1000, 500);
	cr_assert_eq(pace_allow(&p, (PACE_MARKS - 1) * 10, 100 + PACE_MARKS), 0,
	    "the last mark took the later moment");
	cr_assert(pace_reads(&p, 100), "the first mark's release makes room");
}

Test(pace, a_request_waits_the_delay_within_the_jitter)
{
	uint64_t at;
	unsigned i;
	bool below = false, above = false;

	for (i = 0; i < 200; i++) {
		pace_init(&p, i);
		pace_set_delay(&p, 100, 20);
		pace_request(&p, 0, 1000);
		at = pace_wake(&p, 0, true, 1000);
		/* One ms more than asked: the clock is whole ms, read before the request. */
		cr_assert(at >= 1081 && at <= 1121, "%llu", (unsigned long long)at);
		below |= at < 1101;
		above |= at > 1101;
	}
	cr_assert(below && above, "the jitter goes both ways");
	pace_init(&p, 1);
	pace_request(&p, 0, 1000);
	cr_assert_eq(pace_wake(&p, 0, true, 1000), PACE_NEVER, "no delay, no hold");
}

Test(pace, rate_allows_its_bytes_per_millisecond_and_no_burst_beyond_10ms)
{
	pace_init(&p, 1);
	pace_set_rate(&p, 1000000, 0, 0, 0);
	cr_assert_eq(pace_allow(&p, 0, 0), 0, "the bucket starts empty");
	cr_assert_eq(pace_wake(&p, 0, true, 0), 1);
	cr_assert_eq(pace_allow(&p, 0, 1), 1000);
	pace_wrote(&p, 400, 400, 1);
	cr_assert_eq(pace_allow(&p, 400, 1), 600);
	cr_assert_eq(pace_allow(&p, 400, 5000), 10000, "saved credit is capped");
	pace_wrote(&p, 10400, 10000, 5000);
	cr_assert_eq(pace_allow(&p, 10400, 5000), 0);
}

Test(pace, a_slow_rate_waits_for_a_whole_byte)
{
	pace_init(&p, 1);
	pace_set_rate(&p, 10, 0, 0, 0);
	cr_assert_eq(pace_wake(&p, 0, true, 0), 100);
	cr_assert_eq(pace_allow(&p, 0, 99), 0);
	cr_assert_eq(pace_allow(&p, 0, 100), 1);
}

Test(pace, slices_cap_each_write_and_keep_their_gap)
{
	pace_init(&p, 1);
	pace_set_slice(&p, 3, 20, 0, 0);
	cr_assert_eq(pace_allow(&p, 0, 0), 3);
	pace_wrote(&p, 3, 3, 0);
	cr_assert_eq(pace_allow(&p, 3, 19), 0);
	cr_assert_eq(pace_wake(&p, 0, true, 19), 20);
	cr_assert_eq(pace_wake(&p, 0, false, 19), PACE_NEVER, "nothing queued, no wake");
	cr_assert_eq(pace_allow(&p, 3, 20), 3);
}

Test(pace, a_fault_starts_at_its_position_and_output_before_it_goes_whole)
{
	pace_init(&p, 1);
	pace_set_slice(&p, 1, 50, 0, 100);
	cr_assert_eq(pace_allow(&p, 0, 0), 100, "an earlier reply in one write, up to the slicing");
	pace_wrote(&p, 100, 100, 0);
	cr_assert_eq(pace_allow(&p, 100, 0), 1, "no gap before the first slice");
	pace_wrote(&p, 101, 1, 0);
	cr_assert_eq(pace_allow(&p, 101, 49), 0);
	pace_init(&p, 1);
	pace_set_rate(&p, 1000, 0, 0, 40);
	cr_assert_eq(pace_allow(&p, 0, 0), 40, "an earlier reply is not rated");
	pace_wrote(&p, 40, 40, 0);
	cr_assert_eq(pace_allow(&p, 40, 0), 0, "from its position, the rate");
	cr_assert_eq(pace_allow(&p, 40, 5), 5);
}

Test(pace, output_queued_under_a_rate_or_a_slicing_keeps_it)
{
	uint64_t i;

	pace_init(&p, 1);
	pace_set_rate(&p, 1000, 0, 0, 0);
	pace_set_rate(&p, 1000000, 0, 0, 50);	/* RATE pipelined behind 50 queued bytes */
	for (i = 0; i < 5; i++) {
		cr_assert_eq(pace_allow(&p, 10 * i, 10 * (i + 1)), 10,
		    "the first 50 bytes at 1000 bytes/s");
		pace_wrote(&p, 10 * (i + 1), 10, 10 * (i + 1));
	}
	cr_assert_eq(p.rate, 1000000, "then the new rate");
	pace_init(&p, 1);
	pace_set_slice(&p, 2, 100, 0, 0);
	pace_set_slice(&p, 0, 0, 0, 6);	/* SLICE 0 behind 6 queued bytes */
	cr_assert_eq(pace_allow(&p, 0, 0), 2);
	pace_wrote(&p, 2, 2, 0);
	cr_assert_eq(pace_allow(&p, 2, 50), 0, "the queued bytes keep their gap");
	cr_assert_eq(pace_allow(&p, 2, 100), 2);
	pace_wrote(&p, 4, 2, 100);
	pace_wrote(&p, 6, 2, 200);
	cr_assert_eq(p.slice, 0, "then no slicing");
	cr_assert_eq(pace_allow(&p, 6, 200), PACE_NEVER);
}

Test(pace, a_streams_rate_ends_with_the_stream)
{
	pace_init(&p, 1);
	pace_set_rate(&p, 100000, 0, 0, 0);
	pace_set_rate_span(&p, 1000, 0, 10, 30);
	cr_assert_eq(pace_allow(&p, 0, 0), 10, "up to the span");
	pace_wrote(&p, 10, 10, 1);
	cr_assert_eq(pace_allow(&p, 10, 100), 10, "10 ms of burst at 1000 bytes/s");
	pace_wrote(&p, 20, 10, 100);
	cr_assert_eq(pace_allow(&p, 20, 1000), 10, "never past the span's end");
	pace_wrote(&p, 30, 10, 1000);
	cr_assert_eq(p.rate, 100000, "then the rate from before it");
	cr_assert_eq(pace_allow(&p, 30, 1000), 0, "its bucket starts anew");
}

Test(pace, only_accept_delay_waits_like_an_accept_queue)
{
	struct pace_profile pp;

	pace_profile_init(&pp);
	pp.accept_delay_ms = 500;
	pace_start(&p, &pp, 0, 1000, 1);
	cr_assert(pace_accept_delayed(&p, 1000));
	cr_assert_not(pace_accept_delayed(&p, 1500));
	pace_stall(&p, 1100, 1200);
	cr_assert_not(pace_accept_delayed(&p, 1100), "a stall is not an accept queue");
}

Test(pace, an_end_by_bytes_stops_output_at_its_position)
{
	pace_init(&p, 1);
	pace_set_end(&p, PACE_END_CLOSE, 100, PACE_NEVER);
	cr_assert_eq(pace_allow(&p, 60, 0), 40);
	cr_assert_eq(pace_ending(&p, 99, 0), PACE_END_NONE);
	cr_assert_eq(pace_ending(&p, 100, 0), PACE_END_CLOSE);
}

Test(pace, an_end_by_time_wakes_at_its_moment)
{
	pace_init(&p, 1);
	pace_set_end(&p, PACE_END_RESET, PACE_NEVER, 300);
	cr_assert_eq(pace_wake(&p, 0, false, 10), 300);
	cr_assert_eq(pace_ending(&p, 1u << 20, 299), PACE_END_NONE);
	cr_assert_eq(pace_ending(&p, 0, 300), PACE_END_RESET);
}

Test(pace, a_stall_stops_reading_and_writing_until_it_ends)
{
	pace_init(&p, 1);
	pace_stall(&p, 10, 60);
	cr_assert_not(pace_reads(&p, 10));
	cr_assert_eq(pace_allow(&p, 0, 59), 0);
	cr_assert_eq(pace_wake(&p, 0, true, 59), 60);
	cr_assert(pace_reads(&p, 60));
	cr_assert_eq(pace_allow(&p, 0, 60), PACE_NEVER);
	pace_stall(&p, 70, PACE_NEVER);
	cr_assert_not(pace_reads(&p, 1u << 30), "a stall without an end is for good");
	cr_assert_eq(pace_wake(&p, 0, true, 70), PACE_NEVER);
}

Test(pace, a_stall_by_bytes_starts_once_they_are_written)
{
	pace_init(&p, 1);
	p.stall_pos = 8;
	cr_assert_eq(pace_allow(&p, 5, 0), 3);
	pace_wrote(&p, 7, 2, 0);
	cr_assert(pace_reads(&p, 1));
	pace_wrote(&p, 8, 1, 1);
	cr_assert_not(pace_reads(&p, 2));
	cr_assert_eq(pace_allow(&p, 8, 2), 0);
}

static struct pace_profile
profile(void)
{
	struct pace_profile pp;

	pace_profile_init(&pp);
	return pp;
}

Test(pace, an_empty_profile_is_empty_and_each_key_is_not)
{
	struct pace_profile pp = profile();

	cr_assert(pace_profile_empty(&pp));
	pp.stall_ms = 5;
	cr_assert_not(pace_profile_empty(&pp));
	pp = profile();
	pp.accept_delay_ms = 5;
	cr_assert_not(pace_profile_empty(&pp));
}

Test(pace, accept_delay_holds_reading_and_any_greeting)
{
	struct pace_profile pp = profile();

	pp.accept_delay_ms = 250;
	pace_start(&p, &pp, 0, 1000, 7);
	cr_assert_not(pace_reads(&p, 1249));
	cr_assert_eq(pace_allow(&p, 0, 1249), 0);
	cr_assert_eq(pace_wake(&p, 0, false, 1000), 1250);
	cr_assert(pace_reads(&p, 1250));
	cr_assert_eq(pace_allow(&p, 0, 1250), PACE_NEVER);
}

Test(pace, a_profile_sets_stalls_and_ends_from_the_open)
{
	struct pace_profile pp = profile();

	pp.stall_ms = 40;
	pp.end = PACE_END_CLOSE;
	pp.end_ms = 90;
	pace_start(&p, &pp, 3, 1000, 7);
	cr_assert(pace_reads(&p, 1039));
	cr_assert_not(pace_reads(&p, 1040));
	cr_assert_eq(pace_ending(&p, 0, 1089), PACE_END_NONE);
	cr_assert_eq(pace_ending(&p, 0, 1090), PACE_END_CLOSE);
}

/* How many of n connections a profile ends, and at which numbers. */
static unsigned
ended(const struct pace_profile *pp, unsigned n, uint64_t random, bool *which)
{
	unsigned k, count = 0;

	for (k = 0; k < n; k++) {
		pace_start(&p, pp, k, 0, random + k);
		which[k] = pace_ending(&p, 0, 0) != PACE_END_NONE;
		count += which[k];
	}
	return count;
}

Test(pace, a_seed_replays_the_same_connections_and_probability_holds)
{
	struct pace_profile pp = profile();
	static bool first[10000], second[10000];
	unsigned a, b, k;

	pp.end = PACE_END_RESET;
	pp.end_bytes = 0;
	pp.ppm[PACE_RESET] = 10000;	/* 1 % */
	pp.seeded = true;
	pp.seed = 42;
	a = ended(&pp, 10000, 1, first);
	b = ended(&pp, 10000, 999, second);
	cr_assert(a > 60 && a < 140, "about 1 %% of 10,000: %u", a);
	cr_assert_eq(a, b);
	for (k = 0; k < 10000; k++)
		cr_assert_eq(first[k], second[k], "connection %u", k);
	pp.seed = 43;
	ended(&pp, 10000, 1, second);
	cr_assert(memcmp(first, second, sizeof(first)) != 0, "another seed, other connections");
	pp.seeded = false;
	ended(&pp, 10000, 1, first);
	ended(&pp, 10000, 2, second);
	cr_assert(memcmp(first, second, sizeof(first)) != 0, "unseeded: random");
}

Test(pace, a_seeded_jitter_is_replayed)
{
	struct pace_profile pp = profile();
	uint64_t at[2];
	unsigned run;

	pp.delay_ms = 50;
	pp.jitter_ms = 20;
	pp.seeded = true;
	pp.seed = 9;
	for (run = 0; run < 2; run++) {
		pace_start(&p, &pp, 17, 0, run);
		pace_request(&p, 0, 0);
		at[run] = pace_wake(&p, 0, true, 0);
	}
	cr_assert_eq(at[0], at[1]);
}

Test(pace, a_due_end_wakes_at_once)
{
	pace_init(&p, 1);
	pace_set_end(&p, PACE_END_RESET, 0, PACE_NEVER);
	cr_assert_eq(pace_wake(&p, 0, false, 77), 77);
	cr_assert_eq(pace_wake(&p, 0, false, 77), 77);
}

static int
ms(const char *s, uint64_t max, uint64_t *out)
{
	return pace_parse_ms(s, strlen(s), max, out);
}

Test(pace, durations_take_ms_or_s_and_refuse_the_rest)
{
	uint64_t v;

	cr_assert(ms("250", 1000, &v) == 0 && v == 250);
	cr_assert(ms("250ms", 1000, &v) == 0 && v == 250);
	cr_assert(ms("2s", 2000, &v) == 0 && v == 2000);
	cr_assert(ms("0", 1000, &v) == 0 && v == 0);
	cr_assert_eq(ms("3s", 2000, &v), -1);
	cr_assert_eq(ms("1001", 1000, &v), -1);
	cr_assert_eq(ms("ms", 1000, &v), -1);
	cr_assert_eq(ms("s", 1000, &v), -1);
	cr_assert_eq(ms("", 1000, &v), -1);
	cr_assert_eq(ms("1m", 1000, &v), -1);
	cr_assert_eq(ms("-1", 1000, &v), -1);
	cr_assert_eq(ms("1 s", 1000, &v), -1);
}

Test(pace, an_after_is_bytes_or_a_duration)
{
	uint64_t bytes, t;

	cr_assert_eq(pace_parse_after("1000", 4, &bytes, &t), 0);
	cr_assert(bytes == 1000 && t == PACE_NEVER);
	cr_assert_eq(pace_parse_after("250ms", 5, &bytes, &t), 0);
	cr_assert(bytes == PACE_NEVER && t == 250);
	cr_assert_eq(pace_parse_after("3s", 2, &bytes, &t), 0);
	cr_assert(bytes == PACE_NEVER && t == 3000);
	cr_assert_eq(pace_parse_after("1125899906842624", 16, &bytes, &t), 0, "2^50");
	cr_assert_eq(pace_parse_after("1125899906842625", 16, &bytes, &t), -1);
	cr_assert_eq(pace_parse_after("86401s", 6, &bytes, &t), -1, "over a day");
	cr_assert_eq(pace_parse_after("10k", 3, &bytes, &t), 0, "a size, as every size key");
	cr_assert(bytes == 10240 && t == PACE_NEVER);
	cr_assert_eq(pace_parse_after("2min", 4, &bytes, &t), 0);
	cr_assert(bytes == PACE_NEVER && t == 120000);
	cr_assert_eq(pace_parse_after("2m", 2, &bytes, &t), -1, "minutes or MiB: refused");
}

Test(pace, a_later_hold_never_moves_an_earlier_one_sooner)
{
	unsigned i;

	pace_init(&p, 1);
	pace_hold(&p, 0, 200);
	pace_hold(&p, 0, 100);	/* same place, sooner: the later moment stands */
	cr_assert_eq(pace_allow(&p, 0, 150), 0);
	pace_init(&p, 1);
	for (i = 0; i < PACE_MARKS; i++)
		pace_hold(&p, i * 10, 500);
	pace_hold(&p, 1000, 100);	/* no room: merged, and not sooner */
	cr_assert_eq(pace_allow(&p, 0, 499), 0);
}

/* Which of n connections a profile gives fault f, as a bit each. */
static unsigned
given(const struct pace_profile *pp, enum pace_fault f, unsigned n, uint64_t random,
    bool *which)
{
	unsigned k, count = 0;

	for (k = 0; k < n; k++) {
		pace_start(&p, pp, k, 0, random + k);
		which[k] = (p.applied & 1u << f) != 0;
		count += which[k];
	}
	return count;
}

/* Each fault's die is its own: every fault, at 50 %, on about half, the same half per seed. */
Test(pace, every_fault_has_its_own_seeded_probability)
{
	struct pace_profile pp = profile();
	static bool first[2000], second[2000], other[2000];
	unsigned f, a;

	pp.delay_ms = 10;
	pp.rate = 1000;
	pp.slice = 4;
	pp.end = PACE_END_CLOSE;
	pp.end_bytes = 100;
	pp.stall_ms = 10;
	pp.slow_close_ms = 10;
	pp.accept_delay_ms = 10;
	pp.seeded = true;
	for (f = 0; f < PACE_FAULTS; f++) {
		if (f == PACE_RESET || f == PACE_TIMEOUT)
			continue;	/* the end is a close here; a timeout is tried below */
		pp.ppm[f] = PACE_CERTAIN / 2;
		pp.seed = 7;
		a = given(&pp, f, 2000, 1, first);
		cr_assert(a > 900 && a < 1100, "%s: about half of 2,000: %u",
		    pace_fault_names[f], a);
		cr_assert_eq(given(&pp, f, 2000, 99, second), a);
		cr_assert(memcmp(first, second, sizeof(first)) == 0, "%s: the seed replays",
		    pace_fault_names[f]);
		pp.seed = 8;
		given(&pp, f, 2000, 1, other);
		cr_assert(memcmp(first, other, sizeof(first)) != 0, "%s: another seed",
		    pace_fault_names[f]);
		pp.ppm[f] = 0;
		cr_assert_eq(given(&pp, f, 2000, 1, other), 0, "%s: 0 never", pace_fault_names[f]);
		pp.ppm[f] = PACE_CERTAIN;
		cr_assert_eq(given(&pp, f, 2000, 1, other), 2000, "%s: 1 always",
		    pace_fault_names[f]);
	}
}

/* A fault's die decides for it alone: the others keep theirs. */
Test(pace, a_fault_not_drawn_leaves_the_others)
{
	struct pace_profile pp = profile();

	pp.delay_ms = 100;
	pp.rate = 1000;
	pp.ppm[PACE_DELAY] = 0;
	pace_start(&p, &pp, 0, 0, 5);
	cr_assert_eq(p.applied, 1u << PACE_RATE);
	pace_request(&p, 0, 0);
	cr_assert_eq(p.count, 0, "no delay held");
	cr_assert_eq(p.rate, 1000);
	pp.delay_ms = 0;
	pp.ppm[PACE_DELAY] = PACE_CERTAIN;
	pace_start(&p, &pp, 0, 0, 5);
	cr_assert_eq(p.applied, 1u << PACE_RATE, "a fault not set is not applied");
}

/* slice_variation: each write's slice drawn in [slice - v, slice + v], at least 1, all of them seen. */
Test(pace, slices_vary_around_their_average)
{
	struct pace_profile pp = profile();
	bool seen[16] = { false };
	uint64_t pos = 0, n, sum = 0;
	unsigned i;

	pp.slice = 8;
	pp.slice_variation = 3;
	pp.seeded = true;
	pp.seed = 1;
	pace_start(&p, &pp, 0, 0, 0);
	for (i = 0; i < 1000; i++) {
		n = pace_allow(&p, pos, 0);
		cr_assert(n >= 5 && n <= 11, "%llu", (unsigned long long)n);
		cr_assert_eq(pace_allow(&p, pos, 0), n, "asking again changes nothing");
		seen[n] = true;
		sum += n;
		pos += n;
		pace_wrote(&p, pos, n, 0);
	}
	for (i = 5; i <= 11; i++)
		cr_assert(seen[i], "slice %u never drawn", i);
	cr_assert(sum > 7500 && sum < 8500, "average about 8: %llu", (unsigned long long)sum);
	/* A variation wider than the slice: at least one byte. */
	pp.slice = 2;
	pp.slice_variation = 5;
	pace_start(&p, &pp, 0, 0, 0);
	for (i = 0, pos = 0; i < 200; i++) {
		n = pace_allow(&p, pos, 0);
		cr_assert(n >= 1 && n <= 7, "%llu", (unsigned long long)n);
		pos += n;
		pace_wrote(&p, pos, n, 0);
	}
}

/* slow_close: the FIN, once ready, waits its time, and the wake-up says when. */
Test(pace, slow_close_holds_the_fin)
{
	struct pace_profile pp = profile();

	pace_init(&p, 1);
	cr_assert(pace_fin_may_go(&p, 50), "no fault: at once");
	pp.slow_close_ms = 300;
	pace_start(&p, &pp, 0, 0, 1);
	cr_assert_eq(pace_wake(&p, 0, false, 10), PACE_NEVER, "nothing until the FIN is ready");
	cr_assert_not(pace_fin_may_go(&p, 100));
	cr_assert_eq(pace_wake(&p, 0, false, 100), 400);
	cr_assert_not(pace_fin_may_go(&p, 399), "counted from when it was first ready");
	cr_assert(pace_fin_may_go(&p, 400));
	cr_assert_eq(pace_wake(&p, 0, false, 400), PACE_NEVER);
}

/* timeout: bytes dropped from the start, then a close; 0 drops for good. */
Test(pace, a_timeout_drops_then_closes)
{
	struct pace_profile pp = profile();

	pace_init(&p, 1);
	cr_assert_not(pace_drops(&p));
	pp.timeout_ms = 500;
	pace_start(&p, &pp, 0, 1000, 1);
	cr_assert(pace_drops(&p));
	cr_assert_eq(pace_ending(&p, 0, 1499), PACE_END_NONE);
	cr_assert_eq(pace_ending(&p, 0, 1500), PACE_END_CLOSE);
	cr_assert_eq(p.applied, 1u << PACE_TIMEOUT);
	pp.timeout_ms = 0;
	pace_start(&p, &pp, 0, 1000, 1);
	cr_assert(pace_drops(&p));
	cr_assert_eq(pace_ending(&p, 0, PACE_NEVER - 1), PACE_END_NONE, "never closed");
	cr_assert_eq(pace_wake(&p, 0, true, 1000), PACE_NEVER);
	cr_assert_not(pace_profile_empty(&pp));
}

/* A toxic put on an open connection: its counts start where the stream is. */
Test(pace, a_restart_counts_from_the_stream_as_it_is)
{
	struct pace_profile pp = profile(), none = profile();
	unsigned got;

	pp.end = PACE_END_CLOSE;
	pp.end_bytes = 7;
	pp.stall_ms = 40;
	pace_start(&p, &none, 0, 1000, 7);
	got = pace_restart(&p, &pp, 5, 10, 2000, 7);
	cr_assert_eq(got, 1u << PACE_CLOSE | 1u << PACE_STALL);
	cr_assert_eq(pace_ending(&p, 16, 2000), PACE_END_NONE);
	cr_assert_eq(pace_ending(&p, 17, 2000), PACE_END_CLOSE);
	cr_assert(pace_reads(&p, 2039));
	cr_assert_not(pace_reads(&p, 2040));
	/* Taken off again: nothing ends it, and the close line still names what it had. */
	cr_assert_eq(pace_restart(&p, &none, 5, 12, 2050, 7), 0);
	cr_assert_eq(pace_ending(&p, 17, 2050), PACE_END_NONE);
	cr_assert(pace_reads(&p, 2050));
	cr_assert_eq(p.applied, 1u << PACE_CLOSE | 1u << PACE_STALL);
}

Test(pace, a_restart_keeps_what_is_held_and_the_accept_behind_it)
{
	struct pace_profile pp = profile(), none = profile();

	pp.accept_delay_ms = 250;
	pp.delay_ms = 100;
	pace_start(&p, &none, 0, 1000, 7);
	pace_hold(&p, 5, 1500);
	cr_assert_eq(pace_restart(&p, &pp, 0, 5, 1100, 7), 1u << PACE_DELAY);
	cr_assert(pace_reads(&p, 1100));
	cr_assert_eq(pace_allow(&p, 5, 1499), 0);
	cr_assert_eq(pace_allow(&p, 5, 1500), PACE_NEVER);
	/* The delay reaches the next request. */
	pace_request(&p, 9, 1600);
	cr_assert_eq(pace_allow(&p, 9, 1700), 0);
	cr_assert_eq(pace_allow(&p, 9, 1701), PACE_NEVER);
}

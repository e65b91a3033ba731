/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>

#include <stdint.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tcpd/loop.h"

struct record {
	int		calls;
	unsigned	events;
	int		order[8];
	int		norder;
};

static void
on_fd(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct record *r = arg;
	char b[16];

	(void)loop;
	r->calls++;
	r->events |= events;
	if (events & LOOP_READABLE)
		(void)read(fd, b, sizeof(b));
}

Test(loop, readable_and_writable)
{
	struct loop *loop = loop_new();
	struct record r = { 0 };
	int sv[2];

	cr_assert_not_null(loop);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	cr_assert_eq(loop_add_fd(loop, sv[0], LOOP_READABLE, on_fd, &r), 0);
	cr_assert_eq(loop_add_fd(loop, sv[0], LOOP_READABLE, on_fd, &r), -1);
	cr_assert_eq(loop_run_once(loop, 0), 0, "nothing to read yet");
	cr_assert_eq(write(sv[1], "x", 1), 1);
	cr_assert_eq(loop_run_once(loop, 1000), 1);
	cr_assert_eq(r.events, LOOP_READABLE);

	r = (struct record){ 0 };
	cr_assert_eq(loop_set_mask(loop, sv[0], LOOP_WRITABLE), 0);
	cr_assert_eq(loop_run_once(loop, 1000), 1);
	cr_assert_eq(r.events, LOOP_WRITABLE);

	r = (struct record){ 0 };
	cr_assert_eq(loop_set_mask(loop, sv[0], 0), 0);
	cr_assert_eq(write(sv[1], "y", 1), 1);
	cr_assert_eq(loop_run_once(loop, 0), 0, "no interest, no callback");
	cr_assert_eq(r.calls, 0);

	loop_del_fd(loop, sv[0]);
	close(sv[0]);
	close(sv[1]);
	loop_free(loop);
}

struct victim {
	struct loop	*loop;
	int		 fds[2];	/* both readable in the same batch */
	int		 calls;
};

/* Whichever fd runs first closes the other: its queued event must not fire. */
static void
on_close_other(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct victim *v = arg;
	int other = fd == v->fds[0] ? v->fds[1] : v->fds[0];

	(void)events;
	v->calls++;
	loop_del_fd(loop, other);
	close(other);
	loop_del_fd(loop, fd);
}

Test(loop, events_of_a_closed_fd_are_dropped)
{
	struct loop *loop = loop_new();
	struct victim v = { .loop = loop };
	int a[2], b[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
	v.fds[0] = a[0];
	v.fds[1] = b[0];
	cr_assert_eq(loop_add_fd(loop, a[0], LOOP_READABLE, on_close_other, &v), 0);
	cr_assert_eq(loop_add_fd(loop, b[0], LOOP_READABLE, on_close_other, &v), 0);
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "x", 1), 1);
	loop_run_once(loop, 1000);
	cr_assert_eq(v.calls, 1);
	close(a[1]);
	close(b[1]);
	close(v.fds[0] == a[0] ? a[0] : b[0]);
	loop_free(loop);
}

static struct record timer_record;

static void
on_timer(struct loop *loop, struct loop_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	timer_record.order[timer_record.norder++] = (int)(intptr_t)arg;
}

Test(loop, timers_fire_in_deadline_order)
{
	struct loop *loop = loop_new();
	struct loop_timer t[5];
	static const int delays[5] = { 30, 10, 50, 20, 40 };
	int i;

	timer_record = (struct record){ 0 };
	for (i = 0; i < 5; i++) {
		loop_timer_init(&t[i], on_timer, (void *)(intptr_t)delays[i]);
		cr_assert_eq(loop_timer_start(loop, &t[i], (uint64_t)delays[i]), 0);
	}
	loop_timer_stop(loop, &t[4]);
	cr_assert_not(loop_timer_active(&t[4]));
	while (timer_record.norder < 4)
		loop_run_once(loop, -1);
	cr_assert_eq(timer_record.order[0], 10);
	cr_assert_eq(timer_record.order[1], 20);
	cr_assert_eq(timer_record.order[2], 30);
	cr_assert_eq(timer_record.order[3], 50);
	for (i = 0; i < 5; i++)
		cr_assert_not(loop_timer_active(&t[i]));
	loop_free(loop);
}

Test(loop, many_timers_stay_a_heap)
{
	struct loop *loop = loop_new();
	static struct loop_timer t[300];
	int i;

	timer_record = (struct record){ 0 };
	for (i = 0; i < 300; i++) {
		loop_timer_init(&t[i], on_timer, NULL);
		loop_timer_start(loop, &t[i], 100000 + (uint64_t)((i * 7919) % 300));
	}
	/* Stop every other one, then restart a few sooner. */
	for (i = 0; i < 300; i += 2)
		loop_timer_stop(loop, &t[i]);
	for (i = 1; i < 300; i += 2)
		cr_assert(loop_timer_active(&t[i]));
	loop_timer_start(loop, &t[1], 0);
	loop_run_once(loop, 0);
	cr_assert_eq(timer_record.norder, 1, "only the restarted one is due");
	loop_free(loop);
}

static int hook_calls;

static void
on_hook(struct loop *loop, void *arg)
{
	(void)arg;
	if (++hook_calls == 3)
		loop_stop(loop);
}

static void
rearm(struct loop *loop, struct loop_timer *t, void *arg)
{
	(void)arg;
	loop_timer_start(loop, t, 1);
}

Test(loop, before_sleep_runs_each_iteration_and_stop_ends_run)
{
	struct loop *loop = loop_new();
	struct loop_timer t;

	hook_calls = 0;
	loop_timer_init(&t, rearm, NULL);
	loop_timer_start(loop, &t, 1);
	loop_set_before_sleep(loop, on_hook, NULL);
	cr_assert_eq(loop_run(loop), 0);
	cr_assert_eq(hook_calls, 3);
	loop_free(loop);
}

static void
stop_now(struct loop *loop, void *arg)
{
	(void)arg;
	loop_stop(loop);
}

Test(loop, stop_from_the_hook_does_not_wait_for_timers)
{
	struct loop *loop = loop_new();
	struct loop_timer far;
	struct timespec t0, t1;

	loop_timer_init(&far, rearm, NULL);
	loop_timer_start(loop, &far, 5000);
	loop_set_before_sleep(loop, stop_now, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(loop_run(loop), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "loop_run waited for the timer");
	loop_free(loop);
}

static void
on_timer_rearm_now(struct loop *loop, struct loop_timer *t, void *arg)
{
	(void)arg;
	timer_record.calls++;
	cr_assert_eq(loop_timer_start(loop, t, 0), 0);
}

Test(loop, timer_rearmed_for_now_fires_once_per_pass, .timeout = 5)
{
	struct loop *loop = loop_new();
	struct loop_timer t;

	timer_record = (struct record){ 0 };
	loop_timer_init(&t, on_timer_rearm_now, NULL);
	cr_assert_eq(loop_timer_start(loop, &t, 0), 0);
	/* Before the fix this pass never returned. */
	loop_run_once(loop, 0);
	cr_assert_eq(timer_record.calls, 1);
	loop_run_once(loop, 0);
	cr_assert_eq(timer_record.calls, 2);
	cr_assert(loop_timer_active(&t));
	loop_free(loop);
}

static uint64_t fired_us;

static void
note_the_clock(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct timespec ts;

	(void)loop;
	(void)t;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fired_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A deadline on loop_now()'s clock fires from the first µs of its ms on, never before. */
Test(loop, a_timer_at_a_moment_never_fires_before_it, .timeout = 5)
{
	struct loop *loop = loop_new();
	struct loop_timer t;
	uint64_t at;
	int i;

	loop_timer_init(&t, note_the_clock, NULL);
	for (i = 0; i < 20; i++) {
		fired_us = 0;
		at = loop_now(loop) + 2;
		cr_assert_eq(loop_timer_start_at(loop, &t, at), 0);
		while (fired_us == 0)
			cr_assert_geq(loop_run_once(loop, -1), 0);
		cr_assert_geq(fired_us, at * 1000, "fired %llu µs before its ms",
		    (unsigned long long)(at * 1000 - fired_us));
	}
	loop_free(loop);
}

Test(loop, equal_deadlines_fire_in_the_order_armed)
{
	struct loop *loop = loop_new();
	struct loop_timer t[8];
	int i;

	timer_record = (struct record){ 0 };
	for (i = 0; i < 8; i++) {
		loop_timer_init(&t[i], on_timer, (void *)(intptr_t)i);
		cr_assert_eq(loop_timer_start(loop, &t[i], 0), 0);
	}
	loop_run_once(loop, 0);
	cr_assert_eq(timer_record.norder, 8);
	for (i = 0; i < 8; i++)
		cr_assert_eq(timer_record.order[i], i, "position %d", i);
	loop_free(loop);
}

static struct loop_timer *victim;

static void
on_timer_stop_victim(struct loop *loop, struct loop_timer *t, void *arg)
{
	on_timer(loop, t, arg);
	loop_timer_stop(loop, victim);
}

Test(loop, a_due_timer_stopped_by_another_does_not_fire)
{
	struct loop *loop = loop_new();
	struct loop_timer t[3];

	timer_record = (struct record){ 0 };
	loop_timer_init(&t[0], on_timer_stop_victim, (void *)(intptr_t)0);
	loop_timer_init(&t[1], on_timer, (void *)(intptr_t)1);
	loop_timer_init(&t[2], on_timer, (void *)(intptr_t)2);
	victim = &t[1];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(loop_timer_start(loop, &t[i], 0), 0);
	loop_run_once(loop, 0);
	cr_assert_eq(timer_record.norder, 2);
	cr_assert_eq(timer_record.order[0], 0);
	cr_assert_eq(timer_record.order[1], 2);
	cr_assert_not(loop_timer_active(&t[1]));
	loop_free(loop);
}

/* A watch shared across processes: paused and resumed like any other. */
Test(loop, an_exclusive_watch_pauses_and_resumes)
{
	struct loop *loop = loop_new();
	struct record r = { 0 };
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	cr_assert_eq(loop_add_fd(loop, sv[0], LOOP_READABLE | LOOP_EXCLUSIVE, on_fd, &r), 0);
	cr_assert_eq(loop_set_mask(loop, sv[0], 0), 0);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	cr_assert_eq(loop_run_once(loop, 0), 0, "paused, yet woken");
	cr_assert_eq(loop_set_mask(loop, sv[0], 0), 0, "paused twice");
	cr_assert_eq(loop_set_mask(loop, sv[0], LOOP_READABLE), 0);
	cr_assert_eq(loop_run_once(loop, 0), 1);
	cr_assert_eq(r.events & LOOP_READABLE, LOOP_READABLE);
	cr_assert_eq(loop_set_mask(loop, sv[0], LOOP_READABLE), 0, "no change");
	loop_del_fd(loop, sv[0]);
	close(sv[0]);
	close(sv[1]);
	loop_free(loop);
}

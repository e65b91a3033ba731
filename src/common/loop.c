/* SPDX-License-Identifier: MIT */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpd/loop.h"

#define LOOP_MAX_EVENTS	256

struct fd_slot {
	unsigned	 mask;		/* directions registered with epoll */
	bool		 used;
	loop_fd_fn	 fn;
	void		*arg;
};

struct loop {
	int			 epfd;
	struct fd_slot		*slots;
	size_t			 nslots;
	struct loop_timer	**heap;
	size_t			 nheap;
	size_t			 heap_cap;
	loop_hook_fn		 before_sleep;
	void			*before_sleep_arg;
	uint64_t		 now_us;	/* the clock as the pass began */
	uint64_t		 timer_seq;
	struct loop_timer	*due;		/* the timers of the pass being run */
	bool			 stopped;
	struct epoll_event	 events[LOOP_MAX_EVENTS];
	int			 nevents;	/* size of the batch being dispatched */
	int			 cur_event;	/* index being dispatched */
};

/*
 * Microseconds: a timer fires when its moment comes, not up to a millisecond
 * after, so a delay fault keeps to what was asked (docs/BENCHMARKS.md).
 */
static uint64_t
read_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct loop *
loop_new(void)
{
	struct loop *loop;

	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return NULL;
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(loop);
		return NULL;
	}
	loop->now_us = read_clock_us();
	return loop;
}

void
loop_free(struct loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->epfd);
	free(loop->slots);
	free(loop->heap);
	free(loop);
}

static uint32_t
epoll_bits(unsigned mask)
{
	/* EPOLLEXCLUSIVE takes EPOLLIN and EPOLLOUT only. */
	if (mask & LOOP_EXCLUSIVE)
		return EPOLLEXCLUSIVE | ((mask & LOOP_READABLE) ? EPOLLIN : 0) |
		    ((mask & LOOP_WRITABLE) ? EPOLLOUT : 0);
	return ((mask & LOOP_READABLE) ? EPOLLIN | EPOLLRDHUP : 0) |
	    ((mask & LOOP_HANGUP) ? EPOLLRDHUP : 0) |
	    ((mask & LOOP_WRITABLE) ? EPOLLOUT : 0);
}

static int
grow_slots(struct loop *loop, int fd)
{
	size_t n = loop->nslots ? loop->nslots : 64;
	struct fd_slot *slots;

	while (n <= (size_t)fd)
		n *= 2;
	if ((slots = realloc(loop->slots, n * sizeof(*slots))) == NULL)
		return -1;
	memset(slots + loop->nslots, 0, (n - loop->nslots) * sizeof(*slots));
	loop->slots = slots;
	loop->nslots = n;
	return 0;
}

int
loop_add_fd(struct loop *loop, int fd, unsigned mask, loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = { .events = epoll_bits(mask), .data.fd = fd };

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((size_t)fd >= loop->nslots && grow_slots(loop, fd) == -1)
		return -1;
	if (loop->slots[fd].used) {
		errno = EEXIST;
		return -1;
	}
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	loop->slots[fd] = (struct fd_slot){ .mask = mask, .used = true,
	    .fn = fn, .arg = arg };
	return 0;
}

int
loop_set_mask(struct loop *loop, int fd, unsigned mask)
{
	struct epoll_event ev = { .events = epoll_bits(mask), .data.fd = fd };
	struct fd_slot *slot;

	if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].used) {
		errno = ENOENT;
		return -1;
	}
	slot = &loop->slots[fd];
	if (slot->mask & LOOP_EXCLUSIVE) {
		ev.events = epoll_bits(mask |= LOOP_EXCLUSIVE);
		if (slot->mask == mask)
			return 0;
		/*
		 * An exclusive watch cannot be modified: taken out while it
		 * watches nothing, put back with the new directions.
		 */
		if ((slot->mask & (LOOP_READABLE | LOOP_WRITABLE)) != 0 &&
		    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) == -1)
			return -1;
		slot->mask = LOOP_EXCLUSIVE;
		if ((mask & (LOOP_READABLE | LOOP_WRITABLE)) != 0 &&
		    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			return -1;
		slot->mask = mask;
		return 0;
	}
	if (slot->mask == mask)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		return -1;
	slot->mask = mask;
	return 0;
}

int
loop_rearm(struct loop *loop, int fd)
{
	struct epoll_event ev = { .data.fd = fd };
	struct fd_slot *slot;

	if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].used) {
		errno = ENOENT;
		return -1;
	}
	slot = &loop->slots[fd];
	if (!(slot->mask & LOOP_EXCLUSIVE) || !(slot->mask & (LOOP_READABLE | LOOP_WRITABLE)))
		return 0;
	ev.events = epoll_bits(slot->mask);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) == -1 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	return 0;
}

void
loop_del_fd(struct loop *loop, int fd)
{
	int i;

	if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].used)
		return;
	/* Fails only if fd is already closed, which removed it from epoll anyway. */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->slots[fd] = (struct fd_slot){ 0 };
	for (i = loop->cur_event + 1; i < loop->nevents; i++)
		if (loop->events[i].data.fd == fd)
			loop->events[i].data.fd = -1;
}

/* Timers: a binary min-heap on `when`; heap_index lets stop() find its entry. */

static bool
timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void
heap_place(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->heap_index = i + 1;
}

static void
heap_sift_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_place(loop, i, t);
}

static void
heap_sift_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= loop->nheap)
			break;
		if (child + 1 < loop->nheap &&
		    timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_place(loop, i, loop->heap[child]);
		i = child;
	}
	heap_place(loop, i, t);
}

void
loop_timer_init(struct loop_timer *timer, loop_timer_fn fn, void *arg)
{
	*timer = (struct loop_timer){ .fn = fn, .arg = arg };
}

void
loop_timer_stop(struct loop *loop, struct loop_timer *timer)
{
	size_t i;
	struct loop_timer *last;

	if (timer->due_prev != NULL) {
		*timer->due_prev = timer->due_next;
		if (timer->due_next != NULL)
			timer->due_next->due_prev = timer->due_prev;
		timer->due_next = NULL;
		timer->due_prev = NULL;
		return;
	}
	if (timer->heap_index == 0)
		return;
	i = timer->heap_index - 1;
	timer->heap_index = 0;
	last = loop->heap[--loop->nheap];
	if (i == loop->nheap)
		return;
	heap_place(loop, i, last);
	if (i > 0 && timer_before(last, loop->heap[(i - 1) / 2]))
		heap_sift_up(loop, i);
	else
		heap_sift_down(loop, i);
}

/* Arms timer for the moment when_us on the loop's clock. */
static int
timer_start_us(struct loop *loop, struct loop_timer *timer, uint64_t when_us)
{
	loop_timer_stop(loop, timer);
	if (loop->nheap == loop->heap_cap) {
		size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		struct loop_timer **heap;

		if ((heap = realloc(loop->heap, cap * sizeof(*heap))) == NULL)
			return -1;
		loop->heap = heap;
		loop->heap_cap = cap;
	}
	timer->when = when_us;
	timer->seq = loop->timer_seq++;
	heap_place(loop, loop->nheap++, timer);
	heap_sift_up(loop, loop->nheap - 1);
	return 0;
}

int
loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t ms)
{
	return timer_start_us(loop, timer, loop->now_us + ms * 1000);
}

int
loop_timer_start_at(struct loop *loop, struct loop_timer *timer, uint64_t at_ms)
{
	return timer_start_us(loop, timer, at_ms * 1000);
}

/*
 * Takes every due timer out of the heap first, then fires them in order, as
 * libuv does: a callback that re-arms its timer for "now" lands in the heap
 * for the next pass, so a pass always ends. Stopping a due timer that has
 * not fired yet takes it off the list.
 */
static void
run_timers(struct loop *loop)
{
	struct loop_timer **tail = &loop->due, *t;

	while (loop->nheap > 0 && loop->heap[0]->when <= loop->now_us) {
		t = loop->heap[0];
		loop_timer_stop(loop, t);
		t->due_prev = tail;
		*tail = t;
		tail = &t->due_next;
	}
	while ((t = loop->due) != NULL) {
		loop_timer_stop(loop, t);
		t->fn(loop, t, t->arg);
	}
}

/*
 * How long the wait may last, in µs, -1 for no limit: at most timeout_ms,
 * and until the first timer counted from the clock read now, since this
 * pass's callbacks took some of the time the pass began with.
 */
static int64_t
wait_us(const struct loop *loop, int timeout_ms)
{
	int64_t until = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000;
	uint64_t now, first;

	if (loop->stopped)
		return 0;
	if (loop->nheap > 0) {
		now = read_clock_us();
		first = loop->heap[0]->when > now ? loop->heap[0]->when - now : 0;
		if (first > INT64_MAX / 2)
			first = INT64_MAX / 2;
		if (until < 0 || (uint64_t)until > first)
			until = (int64_t)first;
	}
	return until;
}

/*
 * epoll_pwait2() sleeps to the µs; where the kernel lacks it or a seccomp
 * filter refuses it, epoll_wait() to the ms, rounded up so no timer fires
 * early.
 */
static int
wait_events(struct loop *loop, int64_t us)
{
	static bool ms_only;
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 };
	int64_t ms = (us + 999) / 1000;
	int n;

	if (!ms_only) {
		n = epoll_pwait2(loop->epfd, loop->events, LOOP_MAX_EVENTS, us < 0 ? NULL : &ts,
		    NULL);
		if (n != -1 || (errno != ENOSYS && errno != EPERM))
			return n;
		ms_only = true;
	}
	return epoll_wait(loop->epfd, loop->events, LOOP_MAX_EVENTS,
	    us < 0 ? -1 : ms > INT32_MAX ? INT32_MAX : (int)ms);
}

void
loop_set_before_sleep(struct loop *loop, loop_hook_fn fn, void *arg)
{
	loop->before_sleep = fn;
	loop->before_sleep_arg = arg;
}

int
loop_run_once(struct loop *loop, int timeout_ms)
{
	int n, handled = 0;

	if (loop->before_sleep != NULL)
		loop->before_sleep(loop, loop->before_sleep_arg);
	/* A hook that stopped the loop must not then sleep until some timer. */
	n = wait_events(loop, wait_us(loop, timeout_ms));
	if (n == -1 && errno != EINTR)
		return -1;
	loop->now_us = read_clock_us();

	loop->nevents = n > 0 ? n : 0;
	for (loop->cur_event = 0; loop->cur_event < loop->nevents; loop->cur_event++) {
		struct epoll_event *ev = &loop->events[loop->cur_event];
		struct fd_slot *slot;
		unsigned ready = 0;
		int fd = ev->data.fd;

		if (fd < 0)
			continue;
		slot = &loop->slots[fd];
		if (ev->events & (EPOLLERR | EPOLLHUP))
			ready = LOOP_READABLE | LOOP_WRITABLE | LOOP_ERROR;
		if (ev->events & (EPOLLIN | EPOLLRDHUP))
			ready |= LOOP_READABLE;
		if (ev->events & EPOLLOUT)
			ready |= LOOP_WRITABLE;
		if (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			ready |= LOOP_HANGUP;
		slot->fn(loop, fd, slot->arg, ready);
		handled++;
	}
	loop->nevents = 0;
	loop->cur_event = 0;

	run_timers(loop);
	return handled;
}

int
loop_run(struct loop *loop)
{
	loop->stopped = false;
	while (!loop->stopped)
		if (loop_run_once(loop, -1) == -1)
			return -1;
	return 0;
}

void
loop_stop(struct loop *loop)
{
	loop->stopped = true;
}

uint64_t
loop_now(const struct loop *loop)
{
	return loop->now_us / 1000;
}

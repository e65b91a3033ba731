/* SPDX-License-Identifier: MIT */
#ifndef TCPD_LOOP_H
#define TCPD_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A single-threaded epoll reactor. It knows file descriptors, timers and one
 * hook that runs before every wait; nothing about sockets or protocols.
 * Functions that can fail return -1 with errno set and log nothing.
 */
struct loop;
struct loop_timer;

#define LOOP_READABLE	0x1u
#define LOOP_WRITABLE	0x2u
/*
 * In a mask: of a socket not read now, watch only for the peer's close
 * (FIN or RST). In the events: the peer closed or reset, besides the rest.
 */
#define LOOP_HANGUP	0x4u
/*
 * With LOOP_READABLE, for a listening socket several processes watch: a
 * connection wakes one of their loops, not all (EPOLLEXCLUSIVE). Set when
 * the fd is added; it stays through later mask changes.
 */
#define LOOP_EXCLUSIVE	0x8u
/*
 * In the events only: the socket has an error (EPOLLERR) or both directions
 * are shut (EPOLLHUP). Reported whatever the mask, even 0, and for as long
 * as it lasts: the callback must close the fd or stop watching it.
 */
#define LOOP_ERROR	0x10u

/*
 * Called with the ready directions. Errors and hang-ups are reported as
 * LOOP_ERROR and as both directions, so a callback that does not look at
 * LOOP_ERROR finds them through read() or write().
 */
typedef void (*loop_fd_fn)(struct loop *loop, int fd, void *arg, unsigned events);
typedef void (*loop_timer_fn)(struct loop *loop, struct loop_timer *timer, void *arg);
typedef void (*loop_hook_fn)(struct loop *loop, void *arg);

/* Embedded in its owner, so arming a timer never allocates per timer. */
struct loop_timer {
	uint64_t	 when;		/* deadline on the loop's clock, µs */
	uint64_t	 seq;		/* start order: equal deadlines fire first-in first-out */
	size_t		 heap_index;	/* position + 1 in the heap, 0 = not in it */
	/* Due in the pass being run, not yet fired: a doubly linked list. */
	struct loop_timer *due_next, **due_prev;
	loop_timer_fn	 fn;
	void		*arg;
};

struct loop	*loop_new(void);
void		 loop_free(struct loop *loop);

/*
 * Watches fd for the directions in mask (possibly 0) with one callback.
 * Fails with EEXIST when fd is already watched.
 */
int	 loop_add_fd(struct loop *loop, int fd, unsigned mask, loop_fd_fn fn,
	    void *arg);

/*
 * An exclusive watch goes to the back of the line of processes waiting on
 * its socket, so the next connection wakes another one: re-added, as nginx
 * does (the kernel wakes the first waiter in line otherwise, every time).
 * A no-op for any other watch.
 */
int	 loop_rearm(struct loop *loop, int fd);

/* Changes the directions watched; a no-op when they are unchanged. */
int	 loop_set_mask(struct loop *loop, int fd, unsigned mask);

/*
 * Stops watching fd. Events for fd still pending in the current batch are
 * discarded, so the fd may be closed and its number reused at once.
 */
void	 loop_del_fd(struct loop *loop, int fd);

void	 loop_timer_init(struct loop_timer *timer, loop_timer_fn fn, void *arg);
/*
 * Arms (or re-arms) timer to fire once, ms from loop_now(). A timer armed
 * from a timer callback, even for 0 ms, fires in the next pass, never the
 * one running; timers due at the same ms fire in the order they were armed.
 */
int	 loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t ms);
/* The same for the moment at_ms of loop_now()'s clock, its first µs. */
int	 loop_timer_start_at(struct loop *loop, struct loop_timer *timer, uint64_t at_ms);
void	 loop_timer_stop(struct loop *loop, struct loop_timer *timer);

static inline bool
loop_timer_active(const struct loop_timer *timer)
{
	return timer->heap_index != 0 || timer->due_prev != NULL;
}

/* fn runs before every wait for events, e.g. to flush pending writes. */
void	 loop_set_before_sleep(struct loop *loop, loop_hook_fn fn, void *arg);

/*
 * Runs the hook, waits up to timeout_ms (-1 = until an event or timer),
 * dispatches ready fds then expired timers. Returns the number of fd events
 * handled, or -1 with errno when epoll_wait fails (EINTR is not a failure).
 */
int	 loop_run_once(struct loop *loop, int timeout_ms);

/* Runs until loop_stop(); returns 0, or -1 with errno. */
int	 loop_run(struct loop *loop);
void	 loop_stop(struct loop *loop);

/* Monotonic clock in ms, read once per iteration (timers keep it to the µs). */
uint64_t loop_now(const struct loop *loop);

#endif

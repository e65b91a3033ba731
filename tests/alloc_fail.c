/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the malloc-failure walk, linked only into tcpd-faulty
 * with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc: when TCPD_FAIL_ALLOC
 * is N, the Nth allocation tcpd's own code asks for fails with ENOMEM, and
 * a line on stderr says so. Every other call goes to the real allocator.
 * When TCPD_FAIL_REALLOC is K instead, the Kth realloc() fails: the growth
 * of a table (descriptors, timers), reached only under many connections,
 * walked without walking every allocation on the way there.
 *
 * With workers the count goes on across fork(): a worker's Nth allocation
 * is its supervisor's allocations before the fork plus its own, so one N
 * fails the Nth of the supervisor and of each worker it forked. A process
 * forked after any process of the tree has failed (a worker restarted) fails
 * nothing: each N fails once per process that was there to reach it, and a
 * worker that died of it is not made to die of it again forever.
 */
#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void	*__real_malloc(size_t n);
void	*__real_calloc(size_t n, size_t size);
void	*__real_realloc(void *p, size_t n);
void	*__wrap_malloc(size_t n);
void	*__wrap_calloc(size_t n, size_t size);
void	*__wrap_realloc(void *p, size_t n);

struct walk {
	const char	*env;
	const char	*what;
	long		 fail_at;	/* -1: not read yet */
	long		 calls;
};

static struct walk any_call = { "TCPD_FAIL_ALLOC", "allocation", -1, 0 };
static struct walk realloc_call = { "TCPD_FAIL_REALLOC", "realloc", -1, 0 };

/* Failures so far in the whole tree: one shared page, mapped before any fork. */
static unsigned *tree_failures;
static bool born_after_failure;

static void
at_fork_child(void)
{
	born_after_failure = tree_failures == NULL ||
	    __atomic_load_n(tree_failures, __ATOMIC_SEQ_CST) > 0;
}

static void
share_failures(void)
{
	void *p;

	if (tree_failures != NULL)
		return;
	p = mmap(NULL, sizeof(*tree_failures), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		tree_failures = p;
	(void)pthread_atfork(NULL, NULL, at_fork_child);
}

/* At the first allocation, before any fork: what to fail, and the shared count. */
static void
read_walks(void)
{
	struct walk *walks[] = { &any_call, &realloc_call };
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(walks) / sizeof(walks[0]); i++) {
		s = getenv(walks[i]->env);
		walks[i]->fail_at = s != NULL ? strtol(s, NULL, 10) : 0;
		if (walks[i]->fail_at > 0)
			share_failures();
	}
}

static bool
this_one_fails(struct walk *w)
{
	char line[64];
	int len;

	if (w->fail_at == -1)
		read_walks();
	if (++w->calls != w->fail_at || born_after_failure)
		return false;
	if (tree_failures != NULL)
		__atomic_add_fetch(tree_failures, 1, __ATOMIC_SEQ_CST);
	len = snprintf(line, sizeof(line), "alloc-fail: %s %ld fails (pid %d)\n", w->what,
	    w->calls, (int)getpid());
	(void)!write(STDERR_FILENO, line, (size_t)len);
	errno = ENOMEM;
	return true;
}

void *
__wrap_malloc(size_t n)
{
	return this_one_fails(&any_call) ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return this_one_fails(&any_call) ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return this_one_fails(&any_call) || this_one_fails(&realloc_call) ? NULL :
	    __real_realloc(p, n);
}

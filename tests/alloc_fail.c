/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the malloc-failure walk, linked only into tcpd-faulty
 * with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc: when TCPD_FAIL_ALLOC
 * is N, the Nth allocation tcpd's own code asks for fails with ENOMEM, and
 * a line on stderr says so. Every other call goes to the real allocator.
 * When TCPD_FAIL_REALLOC is K instead, the Kth realloc() fails: the growth
 * of a table (descriptors, timers), reached only under many connections,
 * walked without walking every allocation on the way there.
 */
#include <errno.h>
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

static bool
this_one_fails(struct walk *w)
{
	char line[64];
	int len;

	if (w->fail_at == -1) {
		const char *s = getenv(w->env);

		w->fail_at = s != NULL ? strtol(s, NULL, 10) : 0;
	}
	if (++w->calls != w->fail_at)
		return false;
	len = snprintf(line, sizeof(line), "alloc-fail: %s %ld fails\n", w->what, w->calls);
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

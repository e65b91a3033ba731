/* SPDX-License-Identifier: MIT */
/*
 * Fault injection for the malloc-failure walk, linked only into tcpd-faulty
 * with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc: when TCPD_FAIL_ALLOC
 * is N, the Nth allocation tcpd's own code asks for fails with ENOMEM, and
 * a line on stderr says so. Every other call goes to the real allocator.
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

static long fail_at = -1;
static long calls;

static bool
this_one_fails(void)
{
	char line[64];
	int len;

	if (fail_at == -1) {
		const char *s = getenv("TCPD_FAIL_ALLOC");

		fail_at = s != NULL ? strtol(s, NULL, 10) : 0;
	}
	if (++calls != fail_at)
		return false;
	len = snprintf(line, sizeof(line), "alloc-fail: allocation %ld fails\n", calls);
	(void)!write(STDERR_FILENO, line, (size_t)len);
	errno = ENOMEM;
	return true;
}

void *
__wrap_malloc(size_t n)
{
	return this_one_fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return this_one_fails() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return this_one_fails() ? NULL : __real_realloc(p, n);
}

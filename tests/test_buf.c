/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tcpd/buf.h"

Test(buf, starts_empty_without_memory)
{
	struct buf b;

	buf_init(&b, 100);
	cr_assert_eq(buf_len(&b), 0);
	cr_assert_null(b.data);
	buf_free(&b);
}

Test(buf, append_then_consume_in_order)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	cr_assert_eq(buf_append(&b, "hello ", 6), 0);
	cr_assert_eq(buf_append(&b, "world", 5), 0);
	cr_assert_eq(buf_len(&b), 11);
	cr_assert_eq(memcmp(buf_data(&b), "hello world", 11), 0);
	buf_consume(&b, 6);
	cr_assert_eq(buf_len(&b), 5);
	cr_assert_eq(memcmp(buf_data(&b), "world", 5), 0);
	buf_consume(&b, 5);
	cr_assert_eq(buf_len(&b), 0);
	cr_assert_not_null(b.data, "consuming keeps the memory for reuse");
	cr_assert_eq(buf_append(&b, "x", 1), 0);
	buf_shrink(&b);
	cr_assert_not_null(b.data, "shrink keeps a buffer that holds bytes");
	buf_consume(&b, 1);
	buf_shrink(&b);
	cr_assert_null(b.data, "an emptied buffer gives its memory back");
}

Test(buf, refuses_to_grow_past_max)
{
	struct buf b;
	char big[64] = { 0 };

	buf_init(&b, 100);
	cr_assert_eq(buf_append(&b, big, 64), 0);
	cr_assert_eq(buf_append(&b, big, 36), 0);
	errno = 0;
	cr_assert_eq(buf_append(&b, "x", 1), -1);
	cr_assert_eq(errno, ENOBUFS);
	cr_assert_eq(buf_len(&b), 100);
	cr_assert_leq(b.cap, 100, "capacity is clamped to max");
	buf_free(&b);
}

Test(buf, keeps_content_across_growth_and_compaction)
{
	struct buf b;
	char chunk[1000], expect[1000];
	size_t i, total = 0, eaten = 0;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 200; i++) {
		memset(chunk, 'a' + (int)(i % 26), sizeof(chunk));
		cr_assert_eq(buf_append(&b, chunk, sizeof(chunk)), 0);
		total += sizeof(chunk);
		/* Consume 700 of every 1000 so the offset keeps moving. */
		buf_consume(&b, 700);
		eaten += 700;
		cr_assert_eq(buf_len(&b), total - eaten);
	}
	for (i = 0; eaten < total; i++) {
		size_t pos = eaten % 1000, n = 1000 - pos;

		memset(expect, 'a' + (int)((eaten / 1000) % 26), n);
		cr_assert_eq(memcmp(buf_data(&b), expect, n), 0, "byte %zu", eaten);
		buf_consume(&b, n);
		eaten += n;
	}
	cr_assert_eq(buf_len(&b), 0);
	buf_free(&b);
}

Test(buf, reserve_and_commit)
{
	struct buf b;
	char *p;

	buf_init(&b, 1000);
	p = buf_reserve(&b, 10);
	cr_assert_not_null(p);
	memcpy(p, "abc", 3);
	buf_commit(&b, 3);
	cr_assert_eq(buf_len(&b), 3);
	cr_assert_eq(memcmp(buf_data(&b), "abc", 3), 0);
	cr_assert_null(buf_reserve(&b, 998));
	buf_free(&b);
}

Test(buf, appendf_short_and_long)
{
	struct buf b;
	char longtext[1000];

	memset(longtext, 'z', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	buf_init(&b, 4096);
	cr_assert_eq(buf_appendf(&b, "n=%d;", 42), 0);
	cr_assert_eq(buf_appendf(&b, "%s", longtext), 0);
	cr_assert_eq(buf_len(&b), 5 + 999);
	cr_assert_eq(memcmp(buf_data(&b), "n=42;zzz", 8), 0);
	cr_assert_eq(buf_data(&b)[buf_len(&b) - 1], 'z');
	cr_assert_eq(buf_appendf(&b, "%s%s%s%s%s", longtext, longtext, longtext,
	    longtext, longtext), -1, "over max");
	cr_assert_eq(buf_len(&b), 5 + 999, "a failed append leaves the content");
	buf_free(&b);
}

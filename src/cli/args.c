/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/args.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte a backslash escape inside double quotes stands for; *used is its length. */
static char
unescape(const char *s, size_t n, size_t *used)
{
	*used = 2;
	if (n >= 4 && s[1] == 'x' && hex_value(s[2]) >= 0 && hex_value(s[3]) >= 0) {
		*used = 4;
		return (char)(hex_value(s[2]) * 16 + hex_value(s[3]));
	}
	switch (s[1]) {
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'b': return '\b';
	case 'a': return '\a';
	default: return s[1];
	}
}

/*
 * The next word of s[*pos..n) decoded into word (room for n bytes): 1 with
 * *wlen set, 0 when only white space is left, -1 on an unbalanced quote.
 */
static int
next_word(const char *s, size_t n, size_t *pos, char *word, size_t *wlen)
{
	size_t i = *pos, k = 0, used;
	char quote = 0;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (i == n) {
		*pos = i;
		return 0;
	}
	for (; i < n; i++) {
		char c = s[i];

		if (quote == 0) {
			if (isspace((unsigned char)c))
				break;
			if (c == '"' || c == '\'')
				quote = c;
			else
				word[k++] = c;
		} else if (c == quote) {
			/* "a"b is ambiguous: a closing quote must end the word. */
			if (i + 1 < n && !isspace((unsigned char)s[i + 1]))
				return -1;
			quote = 0;
		} else if (c == '\\' && i + 1 < n && (quote == '"' || s[i + 1] == '\'')) {
			word[k++] = quote == '"' ? unescape(s + i, n - i, &used) : '\'';
			i += (quote == '"' ? used : 2) - 1;
		} else {
			word[k++] = c;
		}
	}
	if (quote != 0)
		return -1;
	*pos = i;
	*wlen = k;
	return 1;
}

long
args_encode(struct buf *out, const char *line, size_t len, const char **why)
{
	char *word = malloc(len + 1);
	size_t pos = 0, wlen;
	long count = 0;
	int got;

	*why = "out of memory";
	if (word == NULL)
		return -1;
	while ((got = next_word(line, len, &pos, word, &wlen)) == 1)
		count++;
	if (got == -1) {
		*why = "unbalanced quotes";
		count = -1;
	} else if (count > 0) {
		int rc = resp_add_array(out, (size_t)count);

		pos = 0;
		while (rc == 0 && next_word(line, len, &pos, word, &wlen) == 1)
			rc = resp_add_bulk(out, word, wlen);
		if (rc != 0)
			count = -1;
	}
	free(word);
	return count;
}

static bool
word_is(const struct resp_arg *a, const char *word)
{
	return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

bool
args_reply_is_text(size_t argc, const struct resp_arg *argv)
{
	/* redis-cli's list; a NULL second word means any. */
	static const char *const text[][2] = {
		{ "info", NULL }, { "lolwut", NULL },
		{ "client", "list" }, { "client", "info" },
		{ "cluster", "nodes" }, { "cluster", "info" },
		{ "memory", "doctor" }, { "memory", "malloc-stats" },
		{ "latency", "doctor" }, { "latency", "graph" },
	};
	size_t i;

	for (i = 0; argc > 0 && i < sizeof(text) / sizeof(text[0]); i++)
		if (word_is(&argv[0], text[i][0]) &&
		    (text[i][1] == NULL || (argc > 1 && word_is(&argv[1], text[i][1]))))
			return true;
	return false;
}

bool
args_request_reply_is_text(const char *request, size_t len)
{
	struct resp_state st = { 0 };
	struct resp_request req;

	return resp_parse(&st, &req, request, len, len) > 0 &&
	    args_reply_is_text(req.argc < RESP_MAX_ARGS ? req.argc : RESP_MAX_ARGS, req.argv);
}

/* SPDX-License-Identifier: MIT */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/channel.h"
#include "daemon/config.h"
#include "daemon/services/service.h"

#define CONFIG_MESSAGE	"TCPD_CONFIG"

/* What a listener's pointers become in the packed form. */
struct packed_refs {
	char		service[CONFIG_NAME_MAX];
	int32_t		file;		/* index in files, -1 = the main file */
};

int
channel_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds);
}

static int
write_all(int fd, const void *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The config struct as it is (its pointers mean nothing once read), each
 * listener with its service's name and its file's index, then each
 * included file's name as a length and the bytes.
 */
static int
pack(int fd, const struct config *cfg)
{
	struct packed_refs refs;
	uint32_t len;
	size_t i, j;

	if (write_all(fd, cfg, sizeof(*cfg)) == -1)
		return -1;
	for (i = 0; i < cfg->nlisteners; i++) {
		const struct listener_config *lc = &cfg->listeners[i];

		memset(&refs, 0, sizeof(refs));
		strncpy(refs.service, lc->service->name, sizeof(refs.service) - 1);
		refs.file = -1;
		for (j = 0; j < cfg->nfiles; j++)
			if (lc->file == cfg->files[j])
				refs.file = (int32_t)j;
		if (write_all(fd, lc, sizeof(*lc)) == -1 ||
		    write_all(fd, &refs, sizeof(refs)) == -1)
			return -1;
	}
	for (i = 0; i < cfg->nfiles; i++) {
		len = (uint32_t)strlen(cfg->files[i]);
		if (write_all(fd, &len, sizeof(len)) == -1 ||
		    write_all(fd, cfg->files[i], len) == -1)
			return -1;
	}
	return 0;
}

int
channel_send_config(int fd, const struct config *cfg)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (void *)(uintptr_t)CONFIG_MESSAGE, sizeof(CONFIG_MESSAGE) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
	    .msg_controllen = sizeof(control) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int mfd, saved;

	if ((mfd = memfd_create("tcpd-config", MFD_CLOEXEC)) == -1)
		return -1;
	if (pack(mfd, cfg) == -1)
		goto bad;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		goto bad;
	close(mfd);
	return 0;
bad:
	saved = errno;
	close(mfd);
	errno = saved;
	return -1;
}

/* n bytes at *off of fd into dst; false when the file ends first. */
static bool
take(int fd, off_t *off, void *dst, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = pread(fd, dst, n, *off)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return false;
		}
		dst = (char *)dst + r;
		n -= (size_t)r;
		*off += r;
	}
	return true;
}

/* Reads what pack() wrote; 0, or -1 (EBADMSG, ENOMEM) with *cfg empty. */
static int
unpack(int fd, struct config *cfg)
{
	struct packed_refs *refs = NULL;
	size_t n, nfiles, i;
	struct stat st;
	uint32_t len;
	off_t off = 0;
	int err = EBADMSG;

	if (fstat(fd, &st) == -1 || !take(fd, &off, cfg, sizeof(*cfg))) {
		memset(cfg, 0, sizeof(*cfg));
		return -1;
	}
	n = cfg->nlisteners;
	nfiles = cfg->nfiles;
	cfg->listeners = NULL;
	cfg->nlisteners = 0;
	cfg->files = NULL;
	cfg->nfiles = 0;
	if (n > (size_t)st.st_size / (sizeof(*cfg->listeners) + sizeof(*refs)) ||
	    nfiles > CONFIG_MAX_INCLUDES)
		goto bad;
	if ((n > 0 && ((cfg->listeners = calloc(n, sizeof(*cfg->listeners))) == NULL ||
	    (refs = calloc(n, sizeof(*refs))) == NULL)) ||
	    (nfiles > 0 && (cfg->files = calloc(nfiles, sizeof(*cfg->files))) == NULL)) {
		err = ENOMEM;
		goto bad;
	}
	cfg->nlisteners = n;
	for (i = 0; i < n; i++)
		if (!take(fd, &off, &cfg->listeners[i], sizeof(cfg->listeners[i])) ||
		    !take(fd, &off, &refs[i], sizeof(refs[i])))
			goto bad;
	for (i = 0; i < nfiles; i++) {
		if (!take(fd, &off, &len, sizeof(len)) || len >= PATH_MAX)
			goto bad;
		if ((cfg->files[i] = calloc(1, (size_t)len + 1)) == NULL) {
			err = ENOMEM;
			goto bad;
		}
		cfg->nfiles = i + 1;
		if (!take(fd, &off, cfg->files[i], len))
			goto bad;
	}
	for (i = 0; i < n; i++) {
		struct listener_config *lc = &cfg->listeners[i];

		refs[i].service[sizeof(refs[i].service) - 1] = '\0';
		lc->service = service_find(refs[i].service, strlen(refs[i].service));
		if (lc->service == NULL || refs[i].file < -1 || refs[i].file >= (int32_t)nfiles)
			goto bad;
		lc->file = refs[i].file >= 0 ? cfg->files[refs[i].file] : NULL;
	}
	free(refs);
	return 0;
bad:
	free(refs);
	config_free(cfg);
	memset(cfg, 0, sizeof(*cfg));
	errno = err;
	return -1;
}

ssize_t
channel_recv(int fd, char *text, size_t size, struct config *cfg, bool *got_cfg)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { text, size - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
	    .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	ssize_t n;
	int mfd = -1, rc, saved;

	*got_cfg = false;
	if ((n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) == -1)
		return -1;
	text[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&mfd, CMSG_DATA(cm), sizeof(int));
	if (mfd == -1) {
		if (strcmp(text, CONFIG_MESSAGE) == 0) {
			errno = EBADMSG;
			return -1;
		}
		return n;
	}
	rc = strcmp(text, CONFIG_MESSAGE) == 0 ? unpack(mfd, cfg) : (errno = EBADMSG, -1);
	saved = errno;
	close(mfd);
	if (rc == -1) {
		errno = saved;
		return -1;
	}
	*got_cfg = true;
	return n;
}

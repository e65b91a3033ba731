/* SPDX-License-Identifier: MIT */
/* Every service tcpd can run: adding one is a file and a line here. */
#include <stdio.h>
#include <string.h>

#include "daemon/services/service.h"

extern const struct service service_echo, service_discard, service_chargen,
    service_daytime, service_time, service_command, service_metrics,
    service_agent, service_proxy, service_control;

static const struct service *const services[] = {
	&service_echo,
	&service_discard,
	&service_chargen,
	&service_daytime,
	&service_time,
	&service_command,
	&service_metrics,
	&service_agent,
	&service_proxy,
	&service_control,
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))

const struct service *
service_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NSERVICES; i++)
		if (strlen(services[i]->name) == len &&
		    memcmp(services[i]->name, name, len) == 0)
			return services[i];
	return NULL;
}

const struct service *
service_at(size_t i)
{
	return i < NSERVICES ? services[i] : NULL;
}

void
services_list(char *dst, size_t size)
{
	const struct service *svc;
	size_t i, n = 0;

	dst[0] = '\0';
	for (i = 0; (svc = service_at(i)) != NULL && n < size; i++)
		n += (size_t)snprintf(dst + n, size - n, "%s%s",
		    i == 0 ? "" : service_at(i + 1) == NULL ? " or " : ", ", svc->name);
}

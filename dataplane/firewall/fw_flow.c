/* The flow table's life outside the fast path: made once at start-up (preallocated, so the
 * workers never allocate), counted for status pages, freed at shutdown. IPv4 and IPv6 flows
 * have a table each (an IPv6 bucket is twice the size), with the same number of buckets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"

_Static_assert(sizeof(struct fw_bucket6) == 256, "an IPv6 bucket is four cache lines");

struct fw_flowtab *fw_flowtab_create(uint32_t entries)
{
	struct fw_flowtab *ft;
	uint32_t buckets = 16;
	size_t size, size6;

	if (entries > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	while (buckets * FW_FLOW_WAYS < entries)
		buckets *= 2;
	ft = calloc(1, sizeof(*ft));
	size = (size_t)buckets * sizeof(ft->bucket[0]);
	size6 = (size_t)buckets * sizeof(ft->bucket6[0]);
	if (!ft || !(ft->bucket = aligned_alloc(64, size)) ||
		!(ft->bucket6 = aligned_alloc(64, size6))) {
		if (ft)
			free(ft->bucket);
		free(ft);
		errno = ENOMEM;
		return NULL;
	}
	memset(ft->bucket, 0, size);
	memset(ft->bucket6, 0, size6);
	ft->mask = buckets - 1;
	return ft;
}

void fw_flowtab_free(struct fw_flowtab *ft)
{
	if (!ft)
		return;
	free(ft->bucket);
	free(ft->bucket6);
	free(ft);
}

uint32_t fw_flowtab_live(const struct fw_flowtab *ft, uint32_t now)
{
	uint32_t n = 0;

	for (uint32_t b = 0; b <= ft->mask; b++)
		for (int i = 0; i < FW_FLOW_WAYS; i++) {
			const struct fw_flow *f = &ft->bucket[b][i];

			n += __atomic_load_n(&f->ports, __ATOMIC_RELAXED) &&
				(int32_t)(__atomic_load_n(&f->expires, __ATOMIC_RELAXED) - now) > 0;
		}
	for (uint32_t b = 0; b <= ft->mask; b++)
		for (int i = 0; i < FW_FLOW_WAYS; i++) {
			const struct fw_flow6 *f = &ft->bucket6[b].way[i];

			n += __atomic_load_n(&f->ports, __ATOMIC_RELAXED) &&
				(int32_t)(__atomic_load_n(&f->expires, __ATOMIC_RELAXED) - now) > 0;
		}
	return n;
}

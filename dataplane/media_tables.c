/* The SFU's per-lcore leg counters and the published table pointer (media_tables.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>

#include "media_tables.h"

struct media_tab *media_tab_current;
struct media_lcore_leg *media_lcore[RTE_MAX_LCORE];

int media_tables_add_lcore(unsigned int lcore)
{
	if (lcore >= RTE_MAX_LCORE)
		return -EINVAL;
	if (!media_lcore[lcore]) {
		media_lcore[lcore] = aligned_alloc(64, sizeof(struct media_lcore_leg) * MEDIA_MAX_LEGS);
		if (!media_lcore[lcore])
			return -ENOMEM;
		memset(media_lcore[lcore], 0, sizeof(struct media_lcore_leg) * MEDIA_MAX_LEGS);
	}
	return 0;
}

void media_leg_counters(uint16_t slot, struct media_lcore_leg *out)
{
	memset(out, 0, sizeof(*out));
	if (slot >= MEDIA_MAX_LEGS)
		return;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct media_lcore_leg *c = media_lcore[l] ? &media_lcore[l][slot] : NULL;

		if (!c)
			continue;
		out->rx_pkts += c->rx_pkts;
		out->rx_bytes += c->rx_bytes;
		out->tx_pkts += c->tx_pkts;
		out->tx_bytes += c->tx_bytes;
		out->auth_fail += c->auth_fail;
		out->replay += c->replay;
		out->keyframe_req += c->keyframe_req;
		if (c->last_pli > out->last_pli)
			out->last_pli = c->last_pli;
	}
}

void media_leg_counters_reset(uint16_t slot)
{
	if (slot >= MEDIA_MAX_LEGS)
		return;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
		if (media_lcore[l])
			memset(&media_lcore[l][slot], 0, sizeof(media_lcore[l][slot]));
}

void media_tables_fini(void)
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		free(media_lcore[l]);
		media_lcore[l] = NULL;
	}
}

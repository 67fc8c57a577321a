/* The appliance's side of the media server: started where the callbridge runs, given the
 * neighbour table to reach its legs, told of configuration changes. */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "appliance.h"
#include "edge_log.h"
#include "media/media_server.h"
#include "media_tables.h"
#include "nbr.h"

static int media_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	struct appliance *app = ctx;
	const struct nbr_entry *n;
	uint32_t nh;

	if (ifi >= app->cfg.n_ifs || !(nh = cfg_next_hop(&app->cfg.ifs[ifi], ip)))
		return -ENETUNREACH;
	n = nbr_lookup(ifi, nh);
	if (nbr_valid(n, rte_get_timer_cycles())) {
		memcpy(mac, n->mac, 6);
		return 0;
	}
	app_arp_request(app, ifi, nh);
	return -EAGAIN;
}

int app_media_start(struct appliance *app)
{
	const struct media_server_env env = { .ctx = app, .resolve = media_resolve };
	unsigned int lcore;
	char err[256];
	int ret;

	if (app->cfg.role == EDGE_ROLE_EDGE)
		return 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
		if ((ret = media_tables_add_lcore(lcore)) < 0)
			return ret;
	if ((ret = media_tables_add_lcore(rte_lcore_id())) < 0)
		return ret;
	app->mediasrv = media_server_new(app->loop, &env, err, sizeof(err));
	if (!app->mediasrv) {
		LOG_ERRX("media", "cannot start the media server: %s", err);
		return -ENOMEM;
	}
	return media_server_config(app->mediasrv, &app->cfg);
}

void app_media_config(struct appliance *app)
{
	if (app->mediasrv)
		media_server_config(app->mediasrv, &app->cfg);
}

void app_media_stop(struct appliance *app)
{
	media_server_free(app->mediasrv);
	app->mediasrv = NULL;
	media_tables_fini();
}

/* The appliance's side of the media server: started where the callbridge runs, given the
 * neighbour table to reach its legs, told of configuration changes. */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "appliance.h"
#include "edge_log.h"
#include "media/media_server.h"
#include "media_tables.h"
#include "nbr.h"

/* What the media server sends to one of our own addresses (a leg through our relay) cannot
 * go through its kernel socket, which would deliver it locally: it goes into the data plane
 * as a hairpin, from the media port, and reaches the relay's client there. */
static int media_send_own(void *ctx, uint8_t ifi, uint32_t src, uint16_t sport, uint32_t dst,
	uint16_t dport, const uint8_t *buf, size_t len)
{
	struct appliance *app = ctx;
	struct rte_mbuf *m;
	uint8_t mac[6];

	if (ifi >= app->cfg.n_ifs || !app_own_mac(app, dst, mac))
		return -EHOSTUNREACH;
	if (!(m = app_udp_frame(app, ifi, mac, src, sport, dst, dport, buf, len)))
		return -ENOBUFS;
	app_inject(app, m, app->ports[ifi].port_id);
	return 0;
}

/* media_send_own over IPv6: a leg through our relay's IPv6 relayed address */
static int media_send_own6(void *ctx, uint8_t ifi, const uint8_t src[16], uint16_t sport,
	const uint8_t dst[16], uint16_t dport, const uint8_t *buf, size_t len)
{
	struct appliance *app = ctx;
	struct rte_mbuf *m;
	uint8_t mac[6];

	if (ifi >= app->cfg.n_ifs || !app_own_mac6(app, dst, mac))
		return -EHOSTUNREACH;
	if (!(m = app_udp_frame6(app, ifi, mac, src, sport, dst, dport, buf, len)))
		return -ENOBUFS;
	app_inject(app, m, app->ports[ifi].port_id);
	return 0;
}

/* ---- the media server's counters in the metrics registry (its thread-safe snapshot) ---- */

static void mm_legs(void *ctx, struct metrics_sink *sink)
{
	struct media_server_stats st;

	media_server_stats(ctx, &st);
	for (unsigned int i = 0; i < MEDIA_N_STATES; i++) {
		const char *v[] = { media_server_state_name(i) };

		metrics_sample_u64(sink, v, st.legs[i]);
	}
}

#define MM_COUNTER(fn, field)                                                                      \
	static void fn(void *ctx, struct metrics_sink *sink)                                       \
	{                                                                                          \
		struct media_server_stats st;                                                      \
		media_server_stats(ctx, &st);                                                      \
		metrics_sample_u64(sink, NULL, st.field);                                          \
	}
MM_COUNTER(mm_ended, legs_ended)
MM_COUNTER(mm_checks, ice_checks)
MM_COUNTER(mm_check_fail, ice_auth_fail)
MM_COUNTER(mm_unknown_ufrag, unknown_ufrag)
MM_COUNTER(mm_dtls_unknown, dtls_unknown)
MM_COUNTER(mm_rtp_early, rtp_early)
MM_COUNTER(mm_not_stun, not_stun)
MM_COUNTER(mm_refused, handshakes_refused)

static const char *const mm_state_label[] = { "state", NULL };

static const struct metrics_family mm_families[] = {
	{ "edge_media_legs", "Media legs by state", METRICS_GAUGE, mm_state_label, mm_legs, NULL },
	{ "edge_media_legs_ended_total", "Media legs ended (left, consent expired, DTLS failed)",
		METRICS_COUNTER, NULL, mm_ended, NULL },
	{ "edge_media_ice_checks_total", "ICE connectivity checks answered with success",
		METRICS_COUNTER, NULL, mm_checks, NULL },
	{ "edge_media_ice_auth_failures_total",
		"ICE checks of a known username with wrong integrity (not answered)",
		METRICS_COUNTER, NULL, mm_check_fail, NULL },
	{ "edge_media_ice_unknown_username_total", "ICE checks naming no leg (not answered)",
		METRICS_COUNTER, NULL, mm_unknown_ufrag, NULL },
	{ "edge_media_dtls_unknown_path_total",
		"DTLS records from an address no check came from (dropped)", METRICS_COUNTER, NULL,
		mm_dtls_unknown, NULL },
	{ "edge_media_rtp_before_keys_total",
		"RTP/RTCP that reached the media server before its "
		"leg's keys (dropped)",
		METRICS_COUNTER, NULL, mm_rtp_early, NULL },
	{ "edge_media_garbage_total", "Datagrams on a media port that are not STUN, DTLS or RTP",
		METRICS_COUNTER, NULL, mm_not_stun, NULL },
	{ "edge_media_dtls_handshakes_refused_total", "DTLS handshakes put off: too many in flight",
		METRICS_COUNTER, NULL, mm_refused, NULL },
};

static void media_metrics(struct appliance *app, bool on)
{
	for (size_t i = 0; app->metrics && i < sizeof(mm_families) / sizeof(mm_families[0]); i++) {
		struct metrics_family f = mm_families[i];
		int ret;

		if (!on) {
			metrics_unregister(app->metrics, f.name);
			continue;
		}
		f.ctx = app->mediasrv;
		if ((ret = metrics_register(app->metrics, &f)) < 0)
			LOG_WARN("media", "metrics: %s: %s", f.name, strerror(-ret));
	}
}

static bool media_is_own(void *ctx, uint32_t ip)
{
	uint8_t mac[6];

	return app_own_mac(ctx, ip, mac);
}

static bool media_is_own6(void *ctx, const uint8_t ip[16])
{
	uint8_t mac[6];

	return app_own_mac6(ctx, ip, mac);
}

/* after app->cfg changed */
static void on_config(void *ctx)
{
	struct appliance *app = ctx;

	if (app->mediasrv)
		media_server_config(app->mediasrv, &app->cfg);
}

int app_media_start(struct appliance *app)
{
	const struct media_server_env env = { .ctx = app,
		.resolve = app_resolve,
		.send_own = media_send_own,
		.is_own = media_is_own,
		.resolve6 = app_resolve6,
		.send_own6 = media_send_own6,
		.is_own6 = media_is_own6 };
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
	media_metrics(app, true);
	if ((ret = app_on_config(app, on_config, app)) < 0)
		return ret;
	return media_server_config(app->mediasrv, &app->cfg);
}

void app_media_stop(struct appliance *app)
{
	if (app->mediasrv)
		media_metrics(app, false);
	media_server_free(app->mediasrv);
	app->mediasrv = NULL;
	media_tables_fini();
}

/* TURN's counters in the metrics registry: the server's figures (turn_server_stats(), which
 * the control thread writes) and the relayed traffic the workers count per lcore (summed on
 * read, as `turn stats` does). Collected when a writer runs, never pushed. */
#include <stddef.h>

#include "turn_metrics.h"

static struct appliance *tm_app;

static const struct turn_stats *tm_stats(void)
{
	return tm_app && tm_app->turn ? turn_server_stats(tm_app->turn) : NULL;
}

/* The plain counters of struct turn_stats, one family each. */
static const struct tm_plain {
	const char *name, *help;
	size_t off;
} tm_plain[] = {
	{"edge_turn_requests_total", "TURN requests received (UDP, TCP and TLS).",
		offsetof(struct turn_stats, requests)},
	{"edge_turn_retransmits_total", "TURN requests answered again from the cache.",
		offsetof(struct turn_stats, retransmits)},
	{"edge_turn_discarded_total", "TURN messages discarded without an answer.",
		offsetof(struct turn_stats, discarded)},
	{"edge_turn_auth_failures_total", "TURN requests refused for their credentials.",
		offsetof(struct turn_stats, auth_failures)},
	{"edge_turn_stale_nonces_total", "TURN requests answered 438 Stale Nonce.",
		offsetof(struct turn_stats, stale_nonces)},
	{"edge_turn_quota_refusals_total", "TURN allocations refused over a quota.",
		offsetof(struct turn_stats, quota_refusals)},
	{"edge_turn_forbidden_peers_total", "TURN permissions refused for their peer address.",
		offsetof(struct turn_stats, forbidden_peers)},
	{"edge_turn_challenges_dropped_total",
		"Unauthenticated TURN requests left unanswered over the per-source rate.",
		offsetof(struct turn_stats, challenges_dropped)},
};

static void tm_plain_collect(void *ctx, struct metrics_sink *sink)
{
	const struct tm_plain *p = ctx;
	const struct turn_stats *t = tm_stats();

	metrics_sample_u64(sink, NULL, t ? *(const uint64_t *)((const char *)t + p->off) : 0);
}

static const char *const result_labels[] = {"result", NULL};

static void tm_responses(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	static const char *const ok[] = {"success"}, *const err[] = {"error"};

	(void)ctx;
	metrics_sample_u64(sink, ok, t ? t->responses_ok : 0);
	metrics_sample_u64(sink, err, t ? t->responses_err : 0);
}

static const char *const code_labels[] = {"code", NULL};

static void tm_errors(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	char code[8];
	const char *v[] = {code};

	(void)ctx;
	for (int c = 300; t && c < 700; c++)
		if (t->err[c]) {
			snprintf(code, sizeof(code), "%d", c);
			metrics_sample_u64(sink, v, t->err[c]);
		}
}

static const char *const event_labels[] = {"event", NULL};

static void tm_allocs(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	static const char *const c[] = {"created"}, *const x[] = {"expired"},
				 *const d[] = {"deleted"};

	(void)ctx;
	metrics_sample_u64(sink, c, t ? t->allocations_created : 0);
	metrics_sample_u64(sink, x, t ? t->allocations_expired : 0);
	metrics_sample_u64(sink, d, t ? t->allocations_deleted : 0);
}

static void tm_allocs_now(void *ctx, struct metrics_sink *sink)
{
	(void)ctx;
	metrics_sample_u64(
		sink, NULL, tm_app && tm_app->turn ? turn_server_allocations(tm_app->turn) : 0);
}

/* The data plane's relay counters over every interface. */
static void tm_relay_sum(struct dp_if_stats *sum)
{
	struct dp_if_stats st;

	*sum = (struct dp_if_stats){0};
	for (int i = 0; tm_app && i < tm_app->cfg.n_ifs; i++) {
		dp_stats_sum(i, &st);
		sum->relay_c2p_pkts += st.relay_c2p_pkts;
		sum->relay_c2p_bytes += st.relay_c2p_bytes;
		sum->relay_p2c_pkts += st.relay_p2c_pkts;
		sum->relay_p2c_bytes += st.relay_p2c_bytes;
	}
}

static const char *const dir_tr_labels[] = {"direction", "transport", NULL};
static const char *const dir_labels[] = {"direction", NULL};

/* UDP clients' traffic as the workers relayed it; stream (TCP/TLS) clients' as the TURN
 * server framed it. */
static void tm_relay_pkts(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	struct dp_if_stats sum;
	static const char *const cu[] = {"client_to_peer", "udp"},
				 *const pu[] = {"peer_to_client", "udp"},
				 *const cs[] = {"client_to_peer", "stream"},
				 *const ps[] = {"peer_to_client", "stream"};

	(void)ctx;
	tm_relay_sum(&sum);
	metrics_sample_u64(sink, cu, sum.relay_c2p_pkts);
	metrics_sample_u64(sink, pu, sum.relay_p2c_pkts);
	metrics_sample_u64(sink, cs, t ? t->stream_c2p : 0);
	metrics_sample_u64(sink, ps, t ? t->stream_p2c : 0);
}

static void tm_relay_bytes(void *ctx, struct metrics_sink *sink)
{
	struct dp_if_stats sum;
	static const char *const c[] = {"client_to_peer"}, *const p[] = {"peer_to_client"};

	(void)ctx;
	tm_relay_sum(&sum);
	metrics_sample_u64(sink, c, sum.relay_c2p_bytes);
	metrics_sample_u64(sink, p, sum.relay_p2c_bytes);
}

static const char *const reason_labels[] = {"reason", NULL};

static void tm_relay_drops(void *ctx, struct metrics_sink *sink)
{
	struct dp_if_stats st;
	uint64_t sum[DP_DROP_MAX] = {0};

	(void)ctx;
	for (int i = 0; tm_app && i < tm_app->cfg.n_ifs; i++) {
		dp_stats_sum(i, &st);
		for (int r = DP_DROP_TURN_MALFORMED; r <= DP_DROP_TURN_RATE_LIMIT; r++)
			sum[r] += st.drops[r];
	}
	for (int r = DP_DROP_TURN_MALFORMED; r <= DP_DROP_TURN_RATE_LIMIT; r++) {
		const char *v[] = {dp_drop_name(r)};

		metrics_sample_u64(sink, v, sum[r]);
	}
}

static const struct metrics_family tm_families[] = {
	{"edge_turn_responses_total", "TURN responses sent, by result.", METRICS_COUNTER,
		result_labels, tm_responses, NULL},
	{"edge_turn_errors_total", "TURN error responses sent, by error code.", METRICS_COUNTER,
		code_labels, tm_errors, NULL},
	{"edge_turn_allocation_events_total", "TURN allocations created, expired and deleted.",
		METRICS_COUNTER, event_labels, tm_allocs, NULL},
	{"edge_turn_allocations", "TURN allocations now.", METRICS_GAUGE, NULL, tm_allocs_now,
		NULL},
	{"edge_turn_relayed_packets_total",
		"Packets relayed by TURN, by direction and client transport.", METRICS_COUNTER,
		dir_tr_labels, tm_relay_pkts, NULL},
	{"edge_turn_relayed_bytes_total",
		"Bytes relayed by the data plane for TURN's UDP clients, by direction.",
		METRICS_COUNTER, dir_labels, tm_relay_bytes, NULL},
	{"edge_turn_relay_drops_total", "Relayed packets the data plane dropped, by reason.",
		METRICS_COUNTER, reason_labels, tm_relay_drops, NULL},
};

int turn_metrics_register(struct metrics_registry *r, struct appliance *app)
{
	int ret;

	tm_app = app;
	for (size_t i = 0; i < sizeof(tm_plain) / sizeof(tm_plain[0]); i++) {
		struct metrics_family f = {tm_plain[i].name, tm_plain[i].help, METRICS_COUNTER,
			NULL, tm_plain_collect, (void *)&tm_plain[i]};

		if ((ret = metrics_register(r, &f)))
			return ret;
	}
	for (size_t i = 0; i < sizeof(tm_families) / sizeof(tm_families[0]); i++)
		if ((ret = metrics_register(r, &tm_families[i])))
			return ret;
	return 0;
}

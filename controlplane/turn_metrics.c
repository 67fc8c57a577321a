/* TURN's counters in the metrics registry: the server's figures (turn_server_stats(), which
 * the control thread writes) and the relayed traffic the workers count per lcore (summed on
 * read, as `turn stats` does). Collected when a writer runs, never pushed. */
#include <stddef.h>
#include <string.h>

#include "turn_metrics.h"
#include "turn_tables.h"

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
	{ "edge_turn_requests_total", "TURN requests received (UDP, TCP and TLS).",
		offsetof(struct turn_stats, requests) },
	{ "edge_turn_retransmits_total", "TURN requests answered again from the cache.",
		offsetof(struct turn_stats, retransmits) },
	{ "edge_turn_discarded_total", "TURN messages discarded without an answer.",
		offsetof(struct turn_stats, discarded) },
	{ "edge_turn_auth_failures_total", "TURN requests refused for their credentials.",
		offsetof(struct turn_stats, auth_failures) },
	{ "edge_turn_stale_nonces_total", "TURN requests answered 438 Stale Nonce.",
		offsetof(struct turn_stats, stale_nonces) },
	{ "edge_turn_quota_refusals_total", "TURN allocations refused over a quota.",
		offsetof(struct turn_stats, quota_refusals) },
	{ "edge_turn_forbidden_peers_total", "TURN permissions refused for their peer address.",
		offsetof(struct turn_stats, forbidden_peers) },
	{ "edge_turn_challenges_dropped_total",
		"Unauthenticated TURN requests left unanswered over the per-source rate.",
		offsetof(struct turn_stats, challenges_dropped) },
	{ "edge_turn_guest_refusals_total",
		"TURN permissions of guests refused: the peer is no meeting's media port.",
		offsetof(struct turn_stats, guest_refusals) },
	{ "edge_turn_stream_relay_drops_total",
		"Datagrams for or from TURN's TCP/TLS clients the TURN server dropped.",
		offsetof(struct turn_stats, stream_drops) },
	{ "edge_turn_reservations_refused_total",
		"EVEN-PORT reservations refused (table full) and bad RESERVATION-TOKENs.",
		offsetof(struct turn_stats, reservations_refused) },
	{ "edge_turn_reservations_expired_total", "Reserved relay ports handed back unused.",
		offsetof(struct turn_stats, reservations_expired) },
};

static void tm_plain_collect(void *ctx, struct metrics_sink *sink)
{
	const struct tm_plain *p = ctx;
	const struct turn_stats *t = tm_stats();

	metrics_sample_u64(sink, NULL, t ? *(const uint64_t *)((const char *)t + p->off) : 0);
}

static const char *const result_labels[] = { "result", NULL };

static void tm_responses(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	static const char *const ok[] = { "success" }, *const err[] = { "error" };

	(void)ctx;
	metrics_sample_u64(sink, ok, t ? t->responses_ok : 0);
	metrics_sample_u64(sink, err, t ? t->responses_err : 0);
}

static const char *const code_labels[] = { "code", NULL };

static void tm_errors(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	char code[8];
	const char *v[] = { code };

	(void)ctx;
	for (int c = 300; t && c < 700; c++)
		if (t->err[c]) {
			snprintf(code, sizeof(code), "%d", c);
			metrics_sample_u64(sink, v, t->err[c]);
		}
}

static const char *const event_labels[] = { "event", NULL };

static void tm_allocs(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	static const char *const c[] = { "created" }, *const x[] = { "expired" },
				 *const d[] = { "deleted" };

	(void)ctx;
	metrics_sample_u64(sink, c, t ? t->allocations_created : 0);
	metrics_sample_u64(sink, x, t ? t->allocations_expired : 0);
	metrics_sample_u64(sink, d, t ? t->allocations_deleted : 0);
}

static void tm_allocs_now(void *ctx, struct metrics_sink *sink)
{
	(void)ctx;
	metrics_sample_u64(sink, NULL,
		tm_app && tm_app->turn ? turn_server_allocations(tm_app->turn) : 0);
}

static const char *const table_labels[] = { "kind", NULL };

/* The data plane's TURN tables: slots and objects in use (back to their baseline when every
 * allocation is gone and the grace periods have run). */
static void tm_tables(void *ctx, struct metrics_sink *sink)
{
	static const char *const sl[] = { "slots" }, *const ob[] = { "objects" };
	uint32_t slots, objs;

	(void)ctx;
	turn_tables_in_use(&slots, &objs);
	metrics_sample_u64(sink, sl, slots);
	metrics_sample_u64(sink, ob, objs);
}

/* The data plane's relay counters over every interface. */
static void tm_relay_sum(struct dp_if_stats *sum)
{
	struct dp_if_stats st;

	*sum = (struct dp_if_stats){ 0 };
	for (int i = 0; tm_app && i < tm_app->cfg.n_ifs; i++) {
		dp_stats_sum(i, &st);
		sum->relay_c2p_pkts += st.relay_c2p_pkts;
		sum->relay_c2p_bytes += st.relay_c2p_bytes;
		sum->relay_p2c_pkts += st.relay_p2c_pkts;
		sum->relay_p2c_bytes += st.relay_p2c_bytes;
	}
}

static const char *const dir_tr_labels[] = { "direction", "transport", NULL };
static const char *const dir_labels[] = { "direction", NULL };

/* UDP clients' traffic as the workers relayed it; stream (TCP/TLS) clients' as the TURN
 * server framed it. */
static void tm_relay_pkts(void *ctx, struct metrics_sink *sink)
{
	const struct turn_stats *t = tm_stats();
	struct dp_if_stats sum;
	static const char *const cu[] = { "client_to_peer", "udp" },
				 *const pu[] = { "peer_to_client", "udp" },
				 *const cs[] = { "client_to_peer", "stream" },
				 *const ps[] = { "peer_to_client", "stream" };

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
	static const char *const c[] = { "client_to_peer" }, *const p[] = { "peer_to_client" };

	(void)ctx;
	tm_relay_sum(&sum);
	metrics_sample_u64(sink, c, sum.relay_c2p_bytes);
	metrics_sample_u64(sink, p, sum.relay_p2c_bytes);
}

static const char *const reason_labels[] = { "reason", NULL };

static void tm_relay_drops(void *ctx, struct metrics_sink *sink)
{
	struct dp_if_stats st;
	uint64_t sum[DP_DROP_MAX] = { 0 };

	(void)ctx;
	for (int i = 0; tm_app && i < tm_app->cfg.n_ifs; i++) {
		dp_stats_sum(i, &st);
		for (int r = DP_DROP_TURN_MALFORMED; r <= DP_DROP_TURN_RATE_LIMIT; r++)
			sum[r] += st.drops[r];
	}
	for (int r = DP_DROP_TURN_MALFORMED; r <= DP_DROP_TURN_RATE_LIMIT; r++) {
		const char *v[] = { dp_drop_name(r) };

		metrics_sample_u64(sink, v, sum[r]);
	}
}

/* TURN over TCP and TLS (turn_stream.c): its counters are written by the control thread
 * only, aligned, and the object lives until app_turn_stop, after the registry is gone. */
static const struct tstreams *tm_streams(void)
{
	return tm_app ? tm_app->streams : NULL;
}

static const char *const transport_labels[] = { "transport", NULL };

static void tm_stream_conns(void *ctx, struct metrics_sink *sink)
{
	const struct tstreams *t = tm_streams();
	static const char *const tcp[] = { "tcp" }, *const tls[] = { "tls" };
	unsigned int n_tcp = 0, n_tls = 0;

	(void)ctx;
	if (t)
		tstreams_open_count(t, &n_tcp, &n_tls);
	metrics_sample_u64(sink, tcp, n_tcp);
	metrics_sample_u64(sink, tls, n_tls);
}

static void tm_tls_handshakes(void *ctx, struct metrics_sink *sink)
{
	const struct tstreams *t = tm_streams();
	const struct tstream_stats *st = t ? tstreams_stats(t) : NULL;
	static const char *const ok[] = { "ok" }, *const failed[] = { "failed" },
				 *const timeout[] = { "timeout" };

	(void)ctx;
	metrics_sample_u64(sink, ok, st ? __atomic_load_n(&st->handshakes, __ATOMIC_RELAXED) : 0);
	metrics_sample_u64(sink, failed,
		st ? __atomic_load_n(&st->handshake_fails, __ATOMIC_RELAXED) : 0);
	metrics_sample_u64(sink, timeout,
		st ? __atomic_load_n(&st->tls_handshake_timeouts, __ATOMIC_RELAXED) : 0);
}

/* One sample a label value, each a field of the streams' stats. */
struct tm_field {
	const char *label;
	size_t off;
};

static void tm_stream_fields(struct metrics_sink *sink, const struct tm_field *f, size_t n)
{
	const struct tstreams *t = tm_streams();
	const struct tstream_stats *st = t ? tstreams_stats(t) : NULL;

	for (size_t i = 0; i < n; i++) {
		const char *v[] = { f[i].label };

		metrics_sample_u64(sink, v,
			st ? __atomic_load_n((const uint64_t *)((const char *)st + f[i].off),
				     __ATOMIC_RELAXED) :
			     0);
	}
}

#define TSF(label, field)                                                                          \
	{                                                                                          \
		label, offsetof(struct tstream_stats, field)                                       \
	}

static void tm_stream_accepted(void *ctx, struct metrics_sink *sink)
{
	static const struct tm_field f[] = { TSF("tcp", accepted[0]), TSF("tls", accepted[1]) };

	(void)ctx;
	tm_stream_fields(sink, f, sizeof(f) / sizeof(f[0]));
}

static void tm_stream_refused(void *ctx, struct metrics_sink *sink)
{
	static const struct tm_field f[] = { TSF("limit", refused_total),
		TSF("per_address_limit", refused_addr),
		TSF("not_a_listen_address", refused_iface) };

	(void)ctx;
	tm_stream_fields(sink, f, sizeof(f) / sizeof(f[0]));
}

static void tm_stream_closes(void *ctx, struct metrics_sink *sink)
{
	static const struct tm_field f[] = { TSF("client", closed_by_client),
		TSF("handshake_timeout", handshake_timeouts), TSF("idle_timeout", idle_timeouts),
		TSF("tls_error", tls_errors), TSF("framing_error", framing_errors) };

	(void)ctx;
	tm_stream_fields(sink, f, sizeof(f) / sizeof(f[0]));
}

static void tm_browser_port(void *ctx, struct metrics_sink *sink)
{
	static const struct tm_field f[] = { TSF("tls", mux_tls), TSF("turn", mux_tcp) };

	(void)ctx;
	tm_stream_fields(sink, f, sizeof(f) / sizeof(f[0]));
}

static void tm_stream_slow(void *ctx, struct metrics_sink *sink)
{
	static const struct tm_field f[] = { TSF("slow_reader", slow_drops),
		TSF("oversize_frame", oversize) };

	(void)ctx;
	tm_stream_fields(sink, f, sizeof(f) / sizeof(f[0]));
}

static const char *const close_labels[] = { "reason", NULL };
static const char *const protocol_labels[] = { "protocol", NULL };

/* The TURN server keeps the histograms with atomic stores (turn_server_alloc_latency). */
static void tm_alloc_latency(void *ctx, struct metrics_sink *sink)
{
	static const char *const names[TURN_ALLOC_RESULTS] = {
		[TURN_ALLOC_OK] = "success",
		[TURN_ALLOC_CHALLENGE] = "challenge",
		[TURN_ALLOC_ERROR] = "error",
	};
	uint64_t bucket[TURN_ALLOC_BOUNDS + 1];
	double sum;

	(void)ctx;
	for (int r = 0; r < TURN_ALLOC_RESULTS; r++) {
		const char *v[] = { names[r] };
		uint64_t count = 0;

		sum = 0;
		if (tm_app && tm_app->turn)
			count = turn_server_alloc_latency(tm_app->turn, (enum turn_alloc_result)r,
				bucket, &sum);
		else
			memset(bucket, 0, sizeof(bucket));
		metrics_histogram(sink, v, turn_alloc_bounds_s, bucket, TURN_ALLOC_BOUNDS, sum,
			count);
	}
}

static const struct metrics_family tm_families[] = {
	{ "edge_turn_stream_connections", "TURN connections open now over TCP and TLS.",
		METRICS_GAUGE, transport_labels, tm_stream_conns, NULL },
	{ "edge_turn_stream_accepted_total", "TURN connections accepted, by transport.",
		METRICS_COUNTER, transport_labels, tm_stream_accepted, NULL },
	{ "edge_turn_stream_refused_total", "TURN connections refused at accept, by reason.",
		METRICS_COUNTER, close_labels, tm_stream_refused, NULL },
	{ "edge_turn_stream_closes_total", "TURN connections closed, by reason.", METRICS_COUNTER,
		close_labels, tm_stream_closes, NULL },
	{ "edge_turn_browser_port_connections_total",
		"Connections to the browser port, by what their first byte said they carry.",
		METRICS_COUNTER, protocol_labels, tm_browser_port, NULL },
	{ "edge_turn_stream_datagrams_dropped_total",
		"TCP/TLS clients' datagrams dropped: peers' for a slow reader, clients' frames too "
		"large to relay.",
		METRICS_COUNTER, close_labels, tm_stream_slow, NULL },
	{ "edge_turn_tls_handshakes_total",
		"TURN TLS handshakes: completed, failed (or refused without a certificate), timed "
		"out.",
		METRICS_COUNTER, result_labels, tm_tls_handshakes, NULL },
	{ "edge_turn_allocate_seconds",
		"Time from an Allocate request reaching the TURN server to its answer built, by "
		"answer (success; challenge: 401 or 438; error). Retransmissions are not counted.",
		METRICS_HISTOGRAM, result_labels, tm_alloc_latency, NULL },
	{ "edge_turn_responses_total", "TURN responses sent, by result.", METRICS_COUNTER,
		result_labels, tm_responses, NULL },
	{ "edge_turn_errors_total", "TURN error responses sent, by error code.", METRICS_COUNTER,
		code_labels, tm_errors, NULL },
	{ "edge_turn_allocation_events_total", "TURN allocations created, expired and deleted.",
		METRICS_COUNTER, event_labels, tm_allocs, NULL },
	{ "edge_turn_allocations", "TURN allocations now.", METRICS_GAUGE, NULL, tm_allocs_now,
		NULL },
	{ "edge_turn_table_entries",
		"The data plane's TURN tables: allocation slots and objects in use (objects include "
		"removed allocations waiting out a grace period).",
		METRICS_GAUGE, table_labels, tm_tables, NULL },
	{ "edge_turn_relayed_packets_total",
		"Packets relayed by TURN, by direction and client transport.", METRICS_COUNTER,
		dir_tr_labels, tm_relay_pkts, NULL },
	{ "edge_turn_relayed_bytes_total",
		"Bytes relayed by the data plane for TURN's UDP clients, by direction.",
		METRICS_COUNTER, dir_labels, tm_relay_bytes, NULL },
	{ "edge_turn_relay_drops_total", "Relayed packets the data plane dropped, by reason.",
		METRICS_COUNTER, reason_labels, tm_relay_drops, NULL },
};

int turn_metrics_register(struct metrics_registry *r, struct appliance *app)
{
	int ret;

	tm_app = app;
	for (size_t i = 0; i < sizeof(tm_plain) / sizeof(tm_plain[0]); i++) {
		struct metrics_family f = { tm_plain[i].name, tm_plain[i].help, METRICS_COUNTER,
			NULL, tm_plain_collect, (void *)&tm_plain[i] };

		if ((ret = metrics_register(r, &f)))
			return ret;
	}
	for (size_t i = 0; i < sizeof(tm_families) / sizeof(tm_families[0]); i++)
		if ((ret = metrics_register(r, &tm_families[i])))
			return ret;
	return 0;
}

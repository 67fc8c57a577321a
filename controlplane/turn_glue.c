/* The TURN server in the appliance: its UDP requests come on the punt ring (the data plane
 * keeps ChannelData and Send indications) and its answers leave through the inject ring, its
 * TCP and TLS through the kernel mirrors; next hops resolved with the data plane's neighbour
 * table. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "appliance.h"
#include "edge_log.h"
#include "nbr.h"
#include "pki.h"
#include "turn_metrics.h"
#include "turn_tables.h"

static uint64_t env_now_ms(void *ctx)
{
	struct timespec t;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t env_unix_s(void *ctx)
{
	(void)ctx;
	return (uint64_t)time(NULL);
}

/* Whether @len bytes of a stream client's for its peer may leave through relay allocation @a
 * (NULL: not published) on @ifi: not over the MTU, within the allocation's bandwidth cap as
 * the fast path applies it (in the control plane's own bucket line). Counts a refusal. */
static bool stream_c2p_ok(struct appliance *app, uint8_t ifi, const struct turn_alloc *a,
	size_t len, size_t hdrs)
{
	struct dp_if_stats *st = &dp_stats[DP_STATS_CP].ifs[ifi];

	if (ifi >= app->cfg.n_ifs || len > RTE_ETHER_MTU - hdrs) {
		st->drops[DP_DROP_TURN_MALFORMED]++; /* would need IP fragments */
		return false;
	}
	if (a && dp_l3_current->turn_rate && turn_tab.buckets[rte_lcore_id()] &&
		!turn_bucket_take(&turn_tab.buckets[rte_lcore_id()][a - turn_tab.objs].bucket[0],
			dp_l3_current->turn_rate, dp_l3_current->turn_burst, (uint32_t)len,
			rte_rdtsc(), rte_get_tsc_hz())) {
		st->drops[DP_DROP_TURN_RATE_LIMIT]++;
		return false;
	}
	return true;
}

/* ... and out it goes (@m NULL: no mbuf), counted for the interface and the allocation. */
static void stream_c2p_send(struct appliance *app, uint8_t ifi, const struct turn_alloc *a,
	struct rte_mbuf *m, size_t len)
{
	struct dp_if_stats *st = &dp_stats[DP_STATS_CP].ifs[ifi];

	if (!m) {
		app->turn_stream_nombuf++;
		return;
	}
	st->relay_c2p_pkts++;
	st->relay_c2p_bytes += len;
	/* the allocation's own counters, in the control plane's line */
	if (a && turn_tab.buckets[rte_lcore_id()]) {
		struct turn_lcore_obj *c = &turn_tab.buckets[rte_lcore_id()][a - turn_tab.objs];

		c->pkts[0]++;
		c->bytes[0] += len;
	}
	app_inject(app, m, app->ports[ifi].port_id);
}

/* A stream client's datagram for its peer leaves through the data plane, from the relay
 * address and port, as if the fast path had relayed it. */
static void env_to_peer(void *ctx, uint8_t ifi, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t mac[6], const uint8_t *data, size_t len)
{
	struct appliance *app = ctx;
	const struct turn_alloc *a =
		ifi < EDGE_MAX_IFACES ? turn_by_relay(ifi, relay_ip, relay_port) : NULL;

	if (stream_c2p_ok(app, ifi, a, len, 28))
		stream_c2p_send(app, ifi, a,
			app_udp_frame(app, ifi, mac, relay_ip, relay_port, peer_ip, peer_port, data,
				len),
			len);
}

/* The same from an IPv6 relayed address. */
static void env_to_peer6(void *ctx, uint8_t ifi, const uint8_t relay_ip[16], uint16_t relay_port,
	const uint8_t peer_ip[16], uint16_t peer_port, const uint8_t mac[6], const uint8_t *data,
	size_t len)
{
	struct appliance *app = ctx;
	const uint32_t *ports = ifi < EDGE_MAX_IFACES ? turn_relay6_ports(ifi, relay_ip) : NULL;
	uint32_t slot =
		ports ? __atomic_load_n(&ports[rte_be_to_cpu_16(relay_port)], __ATOMIC_RELAXED) : 0;
	const struct turn_alloc *a = slot ? edge_rcu_read(turn_tab.slots[slot - 1]) : NULL;

	if (stream_c2p_ok(app, ifi, a, len, 48))
		stream_c2p_send(app, ifi, a,
			app_udp_frame6(app, ifi, mac, relay_ip, relay_port, peer_ip, peer_port,
				data, len),
			len);
}

/* A peer's datagram for a stream client (the data ring); consumes @m. */
static void turn_from_peer(void *ctx, struct rte_mbuf *m)
{
	struct appliance *app = ctx;
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uint16_t ihl = (uint16_t)((ip->version_ihl & 0xf) * 4);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);
	uint8_t frame[2048];
	uint32_t conn = 0;
	size_t n;

	if (rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
		RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		/* from an IPv6 peer: no extension headers (the fast path takes no others) */
		const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)ip;

		udp = (const struct rte_udp_hdr *)(ip6 + 1);
		ulen = rte_be_to_cpu_16(udp->dgram_len);
		if (app->turn && app->streams && ip6->proto == IPPROTO_UDP &&
			m->data_len >= RTE_ETHER_HDR_LEN + sizeof(*ip6) + ulen &&
			ulen >= sizeof(*udp) && rte_ipv6_udptcp_cksum_verify(ip6, udp) == 0) {
			n = turn_server_from_peer6(app->turn, ip6->dst_addr,
				rte_be_to_cpu_16(udp->dst_port), ip6->src_addr, udp->src_port,
				(const uint8_t *)(udp + 1), ulen - sizeof(*udp), frame,
				sizeof(frame), &conn);
			if (n)
				tstreams_send(app->streams, conn, frame, n);
		}
		rte_pktmbuf_free(m);
		return;
	}
	/* the data plane validated the headers and the lengths before it punted; the UDP
	 * checksum it left for the client to check, which a stream's client cannot */
	if (app->turn && app->streams && m->data_len >= RTE_ETHER_HDR_LEN + ihl + ulen &&
		ulen >= sizeof(*udp) &&
		(!udp->dgram_cksum || rte_ipv4_udptcp_cksum_verify(ip, udp) == 0)) {
		n = turn_server_from_peer(app->turn, ip->dst_addr, rte_be_to_cpu_16(udp->dst_port),
			ip->src_addr, udp->src_port, (const uint8_t *)(udp + 1),
			ulen - sizeof(*udp), frame, sizeof(frame), &conn);
		if (n)
			tstreams_send(app->streams, conn, frame, n);
	}
	rte_pktmbuf_free(m);
}

/* TCP relays (RFC 6062): the stream layer's, once it exists */
static int env_tcp_listen(void *ctx, uint32_t conn, uint32_t ip, uint16_t port)
{
	struct appliance *app = ctx;

	return app->streams ? tstreams_tcp_listen(app->streams, conn, ip, port) : -ENOTCONN;
}

static void env_tcp_unlisten(void *ctx, uint32_t ip, uint16_t port)
{
	struct appliance *app = ctx;

	if (app->streams)
		tstreams_tcp_unlisten(app->streams, ip, port);
}

static int env_tcp_connect(void *ctx, uint32_t conn, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t tid[12])
{
	struct appliance *app = ctx;

	return app->streams ? tstreams_tcp_connect(app->streams, conn, relay_ip, relay_port,
				      peer_ip, peer_port, tid) :
			      -ENOTCONN;
}

static uint32_t env_tcp_owner(void *ctx, uint32_t cid)
{
	struct appliance *app = ctx;

	return app->streams ? tstreams_tcp_owner(app->streams, cid) : 0;
}

static void env_tcp_bind(void *ctx, uint32_t conn, uint32_t cid)
{
	struct appliance *app = ctx;

	if (app->streams)
		tstreams_tcp_bind(app->streams, conn, cid);
}

/* The TURN listen interface holding local address @addr (IPv4 or IPv6), or -1. */
static int listen_ifi_of(void *ctx, int family, const void *addr)
{
	struct appliance *app = ctx;

	for (int i = 0; i < app->cfg.n_ifs; i++) {
		const struct cfg_iface *ifc = &app->cfg.ifs[i];

		if (!(app->cfg.turn.listen_mask & (1u << i)))
			continue;
		for (int k = 0; family == AF_INET && k < ifc->n_addrs; k++)
			if (!memcmp(&ifc->addrs[k].addr, addr, 4))
				return i;
		for (int k = 0; family == AF_INET6 && k < ifc->n_addrs6; k++)
			if (!memcmp(ifc->addrs6[k].addr, addr, 16))
				return i;
	}
	return -1;
}

/* The browser port's TCP and TLS: a listener on each address of each TURN listen interface
 * where no other component holds that TCP port (those are skipped, and said once). When
 * it is also the TLS port, these listeners serve that TLS: no listener of its own. */
static void browser_streams(struct appliance *app, struct tstream_cfg *c)
{
	static uint8_t said_skipped;
	const struct edge_cfg *cfg = &app->cfg;
	const struct cfg_turn *t = &cfg->turn;
	uint8_t mask = t->enabled ? cfg_turn_browser_tcp_mask(cfg) : 0, skipped = 0;

	for (int i = 0; i < cfg->n_ifs; i++) {
		const char *who = NULL;

		if (mask & (1u << i)) {
			for (int k = 0; k < cfg->ifs[i].n_addrs && c->n_mux < TSTREAM_MAX_MUX; k++)
				c->mux_ip[c->n_mux++] = cfg->ifs[i].addrs[k].addr;
			for (int k = 0; k < cfg->ifs[i].n_addrs6 && c->n_mux6 < TSTREAM_MAX_MUX;
				k++)
				memcpy(c->mux_ip6[c->n_mux6++], cfg->ifs[i].addrs6[k].addr, 16);
		} else if (t->enabled && t->browser_port && t->browser_port != t->port &&
			(t->listen_mask & (1u << i)) &&
			(who = cfg_tcp_port_owner(cfg, i, t->browser_port))) {
			skipped |= (uint8_t)(1u << i);
			if (!(said_skipped & (1u << i)))
				LOG_INFO_("turn",
					"browser port %u: UDP only on interface %s, "
					"whose TCP %u is %s's",
					t->browser_port, cfg->ifs[i].name, t->browser_port, who);
		}
	}
	said_skipped = skipped;
	c->mux_port = c->n_mux + c->n_mux6 ? t->browser_port : 0;
	if (c->mux_port && c->tls_port == c->mux_port)
		c->tls_port = 0;
}

static void streams_config(struct appliance *app)
{
	const struct cfg_turn *t = &app->cfg.turn;
	struct tstream_cfg c = { .tcp_port = t->enabled ? t->port : 0,
		.tls_port = t->enabled ? t->tls_port : 0,
		.max_conns = t->max_conns,
		.max_per_addr = t->max_conns_per_addr,
		.handshake_s = t->handshake_timeout,
		.idle_s = t->idle_timeout };
	char err[512];

	if (!app->streams)
		return;
	browser_streams(app, &c);
	/* unset names (or ones too long for a path) leave "": no TLS, or no bundle */
	if (pki_path(app->cfg.cert_dir, t->tls_key, c.key, sizeof(c.key)) < 0 ||
		pki_path(app->cfg.cert_dir, t->tls_cert, c.cert, sizeof(c.cert)) < 0)
		c.key[0] = c.cert[0] = '\0';
	if (pki_path(app->cfg.cert_dir, t->tls_bundle, c.bundle, sizeof(c.bundle)) < 0)
		c.bundle[0] = '\0';
	if (tstreams_config(app->streams, &c, err, sizeof(err)) < 0)
		LOG_WARN("turn", "%s", err);
}

/* TURN's TCP and TLS connections (their descriptor is registered with app->loop). */
static void on_streams(void *ctx, int fd, short revents)
{
	struct appliance *app = ctx;

	(void)fd;
	(void)revents;
	if (app->streams)
		tstreams_serve(app->streams);
}

/* bytes OpenSSL already holds: no poll announces them, so the loop must not wait */
static bool streams_pending(void *ctx)
{
	struct appliance *app = ctx;

	return app->streams && tstreams_pending(app->streams);
}

/* The relay range and the kernel's ephemeral ports must not meet: the data plane owns the
 * range on the relay address, so a reply to the kernel's own query (a DNS lookup for a
 * c2w:// name) on a port in it would be dropped. Reserved while TURN is on, released when
 * it is off and at exit (app_turn_stop). */
static void reserve_relay_range(const struct cfg_turn *t)
{
	static uint16_t lo, hi; /* what is reserved now; 0 = nothing */
	unsigned int elo, ehi;
	FILE *f;
	int r;

	if (!t || !t->enabled) {
		/* whatever was saved goes back, even after a failed change of the range */
		if ((r = tap_reserve_ports(0, 0)) < 0)
			LOG_WARN("turn", "cannot give the relay ports back to the kernel: %s",
				strerror(-r));
		lo = hi = 0;
		return;
	}
	if (lo == t->relay_lo && hi == t->relay_hi)
		return;
	r = tap_reserve_ports(t->relay_lo, t->relay_hi);
	if (r < 0) {
		LOG_WARN("turn",
			"cannot reserve relay ports %u-%u from the kernel (%s): replies to "
			"the appliance's own UDP on those ports will be dropped",
			t->relay_lo, t->relay_hi, strerror(-r));
		lo = hi = 0;
		return;
	}
	lo = t->relay_lo;
	hi = t->relay_hi;
	LOG_INFO_("turn", "relay ports %u-%u reserved from the kernel's ephemeral ports", lo, hi);
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f && fscanf(f, "%u %u", &elo, &ehi) == 2 && lo <= elo && hi >= ehi)
		LOG_WARN("turn",
			"relay ports %u-%u cover every ephemeral port of the kernel (%u-%u): "
			"its own connections will fail; narrow the relay ports or widen "
			"net.ipv4.ip_local_port_range",
			lo, hi, elo, ehi);
	if (f)
		fclose(f);
}

/* Gives the TURN server the media ports guests' relays may reach, when they changed: this
 * appliance's own (callbridge media) and those webbridge3 heard of. */
static void turn_media(struct appliance *app, bool force)
{
	struct turn_media_target t[APP_MAX_MEDIA + WEB_MAX_LISTEN];
	const struct cfg_callbridge *cb = &app->cfg.cb;
	unsigned int n = 0;

	if (!app->turn || (!force && !__atomic_load_n(&app->media_changed, __ATOMIC_ACQUIRE)))
		return;
	/* this appliance's own callbridge (role both) */
	for (int i = 0; app->cfg.role == EDGE_ROLE_BOTH && i < cb->n_media; i++) {
		const struct cfg_iface *f = &app->cfg.ifs[cb->media[i].ifi];

		if (f->n_addrs)
			t[n++] = (struct turn_media_target){ .ip = f->addrs[0].addr,
				.port = htons(cb->media[i].port) };
	}
	pthread_mutex_lock(&app->media_lock);
	for (unsigned int i = 0; i < app->n_media; i++)
		t[n++] = app->media[i];
	app->media_changed = false;
	pthread_mutex_unlock(&app->media_lock);
	turn_server_set_media_targets(app->turn, t, n);
}

/* after app->cfg changed */
static void on_config(void *ctx)
{
	struct appliance *app = ctx;

	if (!app->turn)
		return;
	turn_server_config(app->turn, &app->cfg);
	turn_media(app, true);
	reserve_relay_range(&app->cfg.turn);
	streams_config(app);
}

static void turn_allocations(void *ctx, FILE *out)
{
	struct appliance *app = ctx;

	turn_server_list(app->turn, out);
}

static void turn_guest_peers(void *ctx, FILE *out)
{
	struct appliance *app = ctx;

	if (app->turn)
		turn_server_print_guest_peers(app->turn, out);
}

static void turn_stats(void *ctx, FILE *out)
{
	struct appliance *app = ctx;
	struct dp_if_stats st, sum = { 0 };

	turn_server_print_stats(app->turn, out);
	if (app->streams)
		tstreams_print_stats(app->streams, out);
	for (int i = 0; i < app->cfg.n_ifs; i++) {
		dp_stats_sum(i, &st);
		sum.relay_c2p_pkts += st.relay_c2p_pkts;
		sum.relay_c2p_bytes += st.relay_c2p_bytes;
		sum.relay_p2c_pkts += st.relay_p2c_pkts;
		sum.relay_p2c_bytes += st.relay_p2c_bytes;
		for (int r = DP_DROP_TURN_MALFORMED; r <= DP_DROP_TURN_RATE_LIMIT; r++)
			sum.drops[r] += st.drops[r];
	}
	fprintf(out, "Relayed client -> peer  : %lu packets, %lu bytes\n", sum.relay_c2p_pkts,
		sum.relay_c2p_bytes);
	fprintf(out, "Relayed peer -> client  : %lu packets, %lu bytes\n", sum.relay_p2c_pkts,
		sum.relay_p2c_bytes);
	for (int r = DP_DROP_TURN_MALFORMED; r <= DP_DROP_TURN_RATE_LIMIT; r++)
		if (sum.drops[r])
			fprintf(out, "  dropped %-18s: %lu  %s\n", dp_drop_name(r), sum.drops[r],
				dp_drop_text(r));
	fprintf(out, "Answers not sent        : %lu\n", app->turn_send_errors);
	if (app->turn_stream_nombuf)
		fprintf(out, "Stream relay, no mbuf   : %lu\n", app->turn_stream_nombuf);
}

/* Every 100 ms: TURN's timers, its streams' timeouts, and the media ports webbridge3 heard of. */
static void on_tick(void *ctx)
{
	struct appliance *app = ctx;

	if (!app->turn)
		return;
	turn_media(app, false);
	turn_server_tick(app->turn);
	if (app->streams)
		tstreams_tick(app->streams);
}

/* the data plane learnt a neighbour: allocations waiting for it are published */
static void on_neighbour(void *ctx)
{
	struct appliance *app = ctx;

	if (app->turn)
		turn_server_neighbour_learned(app->turn);
}

/* An IPv6 client's request (issue 18): the data plane checked the IPv6 header (no extension
 * headers) and the UDP length; the checksum, which IPv6 makes mandatory, is ours. */
static void turn_punt6(struct appliance *app, struct rte_mbuf *m, uint8_t ifi)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);
	uint8_t out[2048];
	struct rte_mbuf *r;
	size_t rl;

	if (ip->proto != IPPROTO_UDP || !udp->dgram_cksum ||
		rte_ipv6_udptcp_cksum_verify(ip, udp) != 0) {
		dp_stats[DP_STATS_CP].ifs[ifi].drops[DP_DROP_UDP_CHECKSUM]++;
		return;
	}
	rl = turn_server_input6(app->turn, ifi, ip->src_addr, udp->src_port, ip->dst_addr,
		udp->dst_port, eth->src_addr.addr_bytes, (const uint8_t *)(udp + 1),
		ulen - sizeof(*udp), out, sizeof(out));
	if (!rl)
		return;
	r = app_udp_frame6(app, ifi, eth->src_addr.addr_bytes, ip->dst_addr, udp->dst_port,
		ip->src_addr, udp->src_port, out, rl);
	if (r)
		app_inject(app, r, app->ports[ifi].port_id);
	else
		app->turn_send_errors++;
}

/* A request the data plane punted (DP_PUNT_TURN): served by the TURN server, its answer
 * built from the address the request was sent to and injected towards the MAC it came from.
 * The data plane checked the IP header and the UDP length; the UDP checksum is ours. */
static void turn_punt(void *ctx, struct rte_mbuf *m)
{
	struct appliance *app = ctx;
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp;
	uint8_t ifi = (uint8_t)m->hash.fdir.hi, out[2048];
	struct rte_mbuf *r;
	uint16_t ulen;
	size_t rl;

	if (!app->turn || ifi >= app->cfg.n_ifs || !(app->cfg.turn.listen_mask & (1u << ifi))) {
		rte_pktmbuf_free(m); /* TURN went off while it waited on the ring */
		return;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		turn_punt6(app, m, ifi);
		rte_pktmbuf_free(m);
		return;
	}
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + (ip->version_ihl & 0xf) * 4);
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (udp->dgram_cksum && rte_ipv4_udptcp_cksum_verify(ip, udp) != 0) {
		dp_stats[DP_STATS_CP].ifs[ifi].drops[DP_DROP_UDP_CHECKSUM]++;
		rte_pktmbuf_free(m);
		return;
	}
	rl = turn_server_input(app->turn, ifi, ip->src_addr, udp->src_port, ip->dst_addr,
		udp->dst_port, (const uint8_t *)(udp + 1), ulen - sizeof(*udp), out, sizeof(out));
	if (rl) {
		r = app_udp_frame(app, ifi, eth->src_addr.addr_bytes, ip->dst_addr, udp->dst_port,
			ip->src_addr, udp->src_port, out, rl);
		if (r)
			app_inject(app, r, app->ports[ifi].port_id);
		else
			app->turn_send_errors++;
	}
	rte_pktmbuf_free(m);
}

static struct turn_cli_ops cli_ops_turn = {
	.allocations = turn_allocations,
	.stats = turn_stats,
	.guest_peers = turn_guest_peers,
};
static int tick_id = -1;

int app_turn_start(struct appliance *app)
{
	struct turn_env env = { .ctx = app,
		.resolve = app_resolve,
		.resolve6 = app_resolve6,
		.now_ms = env_now_ms,
		.unix_s = env_unix_s,
		.to_peer = env_to_peer,
		.to_peer6 = env_to_peer6,
		.tcp_listen = env_tcp_listen,
		.tcp_unlisten = env_tcp_unlisten,
		.tcp_connect = env_tcp_connect,
		.tcp_owner = env_tcp_owner,
		.tcp_bind = env_tcp_bind };
	uint32_t capacity = app->cfg.turn.max_allocs ? app->cfg.turn.max_allocs : 65536;
	unsigned int lcore;
	int ret;

	ret = turn_tables_init(capacity, (int)rte_socket_id());
	if (ret < 0) {
		LOG_ERRX("turn", "cannot allocate tables for %u allocations (raise eal.memory_mb)",
			capacity);
		return ret;
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
	if ((ret = turn_tables_add_lcore(lcore)) < 0)
		return ret;
	/* the control plane relays for stream clients: its own counter line */
	if ((ret = turn_tables_add_lcore(rte_lcore_id())) < 0)
		return ret;
	app->turn = turn_server_new(&app->cfg, &env);
	if (!app->turn)
		return -ENOMEM;
	app->streams = tstreams_new(app->turn, listen_ifi_of, app);
	if (!app->streams)
		return -ENOMEM;
	ret = evloop_add_fd(app->loop, tstreams_fd(app->streams), POLLIN, on_streams, app);
	if (ret < 0 ||
		(ret = evloop_set_pending(app->loop, tstreams_fd(app->streams), streams_pending)) <
			0)
		return ret;
	reserve_relay_range(&app->cfg.turn);
	streams_config(app);
	turn_media(app, true); /* this appliance's own media ports, before any C2W */
	cli_ops_turn.ctx = app;
	if ((tick_id = evloop_add_timer(app->loop, 100, on_tick, app)) < 0)
		return tick_id;
	if ((ret = app_on_config(app, on_config, app)) < 0 ||
		(ret = app_on_neighbour(app, on_neighbour, app)) < 0 ||
		(ret = turn_cli_register(&app->cli, &cli_ops_turn)) < 0)
		return ret;
	app_on_turn_punt(app, turn_punt, app);
	app_on_peer_data(app, turn_from_peer, app);
	if (app->metrics && (ret = turn_metrics_register(app->metrics, app)) < 0)
		LOG_WARN("turn", "metrics: %s", strerror(-ret)); /* it runs without them */
	return 0;
}

void app_turn_stop(struct appliance *app)
{
	app_on_turn_punt(app, NULL, NULL);
	app_on_peer_data(app, NULL, NULL);
	if (tick_id >= 0)
		evloop_del_timer(app->loop, tick_id);
	tick_id = -1;
	reserve_relay_range(NULL);
	if (app->streams)
		evloop_del_fd(app->loop, tstreams_fd(app->streams));
	tstreams_free(app->streams); /* first: closing a connection ends its allocation */
	app->streams = NULL;
	turn_server_free(app->turn);
	app->turn = NULL;
}

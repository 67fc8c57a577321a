/* The control plane's side of the data plane: publishing the L3 table, keeping the kernel
 * mirrors in step, ARP and IPv6 neighbour discovery learning and resolution, and the status
 * pages. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <dirent.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <unistd.h>

#include "appliance.h"
#include "edge_log.h"
#include "edge_rcu.h"
#include "metrics.h"
#include "nbr.h"

static uint32_t mask_of(uint8_t prefix)
{
	return prefix ? rte_cpu_to_be_32(~0u << (32 - prefix)) : 0;
}

static void l3_free(void *p)
{
	struct dp_l3 *l3 = p;

	for (int i = 0; i < EDGE_MAX_IFACES; i++)
		fw_ruleset_free(l3->fw[i]);
	free(l3);
}

struct dp_l3 *app_build_l3(struct appliance *app, const struct edge_cfg *cfg, char *err,
	size_t errlen)
{
	struct dp_l3 *l3 = calloc(1, sizeof(*l3));

	if (!l3) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l3->default_if = (int8_t)cfg->default_if;
	l3->relay_if = -1;
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *ifc = &cfg->ifs[i];
		struct dp_if *d = &l3->ifs[i];

		d->present = true;
		l3->own_mac[l3->n_own_macs] = app->ports[i].mac;
		l3->own_mac_ifi[l3->n_own_macs++] = (uint8_t)i;
		d->port_id = app->ports[i].port_id;
		d->tap_port_id = app->ports[i].tap_port_id;
		d->mac = app->ports[i].mac;
		d->n_addrs = ifc->n_addrs;
		d->up = ifc->n_addrs > 0 || ifc->n_addrs6 > 0;
		for (int a = 0; a < ifc->n_addrs; a++) {
			d->addr[a] = ifc->addrs[a].addr;
			d->mask[a] = mask_of(ifc->addrs[a].prefix);
			if (!d->gateway)
				d->gateway = ifc->addrs[a].gateway;
		}
		/* IPv6: configured addresses only (no SLAAC), and the link-local of the MAC; each
		 * ours once its duplicate address detection found nobody else with it */
		d->v6 = ifc->n_addrs6 > 0;
		for (int a = 0; a < ifc->n_addrs6; a++) {
			static const uint8_t none[16];
			const uint8_t *ad = ifc->addrs6[a].addr;

			switch (nd_dad_state(&app->dad, i, ad)) {
			case ND_DAD_PREFERRED:
				memcpy(d->addr6[d->n_addrs6], ad, 16);
				d->prefix6[d->n_addrs6++] = ifc->addrs6[a].prefix;
				break;
			case ND_DAD_TENTATIVE:
				memcpy(d->tent6[d->n_tent6++], ad, 16);
				break;
			case ND_DAD_DUPLICATE:
				break;
			}
			if (!memcmp(d->gateway6, none, 16))
				memcpy(d->gateway6, ifc->addrs6[a].gateway, 16);
		}
		if (d->v6) {
			uint8_t ll[16];

			cfg_ipv6_link_local(d->mac.addr_bytes, ll);
			switch (nd_dad_state(&app->dad, i, ll)) {
			case ND_DAD_PREFERRED:
				memcpy(d->ll6, ll, 16);
				break;
			case ND_DAD_TENTATIVE:
				memcpy(d->tent6[d->n_tent6++], ll, 16);
				break;
			case ND_DAD_DUPLICATE:
				break;
			}
		}
		if (i == cfg->default_if)
			l3->default_gw = d->gateway;
	}
	if (cfg->turn.enabled && cfg->turn.listen_mask) {
		l3->turn_port = rte_cpu_to_be_16(cfg->turn.port);
		if (cfg->turn.browser_port != cfg->turn.port)
			l3->turn_port2 = rte_cpu_to_be_16(cfg->turn.browser_port);
		l3->relay_lo = cfg->turn.relay_lo;
		l3->relay_hi = cfg->turn.relay_hi;
		l3->relay_if = (int8_t)cfg_turn_relay_if(&cfg->turn);
		if (l3->relay_if >= 0 && cfg->ifs[l3->relay_if].n_addrs)
			l3->relay_ip = cfg->ifs[l3->relay_if].addrs[0].addr;
		l3->turn_listen = cfg->turn.listen_mask;
		if (cfg->turn.bandwidth_kbps) {
			double bps = cfg->turn.bandwidth_kbps * 1000.0 / 8;

			l3->turn_rate = (uint64_t)(bps / app->tsc_hz * 4294967296.0);
			/* 100 ms of traffic, and never less than two full-size packets */
			l3->turn_burst = bps / 10 > 3000 ? (uint32_t)(bps / 10) : 3000;
		}
	}
	/* the media ports of this appliance's own callbridge: the SFU's fast path */
	for (int i = 0; cfg->role != EDGE_ROLE_EDGE && cfg->cb.enabled && i < cfg->cb.n_media;
		i++) {
		const struct cfg_listen *ml = &cfg->cb.media[i];

		if (cfg->ifs[ml->ifi].n_addrs) {
			l3->media_port[ml->ifi] = rte_cpu_to_be_16(ml->port);
			l3->media_ip[ml->ifi] = cfg->ifs[ml->ifi].addrs[0].addr;
		}
	}
	for (int i = 0; i < cfg->n_ifs; i++) {
		if (!cfg->ifs[i].fw.enabled)
			continue;
		l3->fw[i] = fw_compile(&cfg->ifs[i].fw);
		if (!l3->fw[i]) {
			snprintf(err, errlen, "firewall %s: cannot compile its rules: %s",
				cfg->ifs[i].name,
				errno == E2BIG ? "too many source-prefix rules" : strerror(errno));
			l3_free(l3);
			return NULL;
		}
	}
	return l3;
}

void app_publish(struct dp_l3 *l3)
{
	struct dp_l3 *old = edge_rcu_publish(&dp_l3_current, l3);

	edge_rcu_retire(old, l3_free);
}

int app_publish_l3(struct appliance *app, const struct edge_cfg *cfg)
{
	char err[256];
	struct dp_l3 *l3 = app_build_l3(app, cfg, err, sizeof(err));

	if (!l3) {
		LOG_ERRX("mgmt", "%s", err);
		return -EINVAL;
	}
	app_publish(l3);
	return 0;
}

static bool has_addr(const struct cfg_iface *ifc, const struct cfg_ipv4 *a)
{
	for (int i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].addr == a->addr && ifc->addrs[i].prefix == a->prefix)
			return true;
	return false;
}

static bool has_route(const struct cfg_iface *ifc, const struct cfg_route *r)
{
	for (int i = 0; ifc && i < ifc->n_routes; i++)
		if (ifc->routes[i].net == r->net && ifc->routes[i].prefix == r->prefix &&
			ifc->routes[i].gateway == r->gateway)
			return true;
	return false;
}

static uint32_t default_gw(const struct edge_cfg *cfg)
{
	if (!cfg || cfg->default_if < 0)
		return 0;
	for (int i = 0; i < cfg->ifs[cfg->default_if].n_addrs; i++)
		if (cfg->ifs[cfg->default_if].addrs[i].gateway)
			return cfg->ifs[cfg->default_if].addrs[i].gateway;
	return 0;
}

/* IPv6 of the mirrors. The default route: through the first gateway of the IPv4 default
 * interface's IPv6 addresses, else of the first interface that has one; -1 when none (an
 * interface index otherwise, with the gateway in @gw). */
static int default_gw6(const struct edge_cfg *cfg, uint8_t gw[16])
{
	static const uint8_t none[16];

	for (int pass = 0; cfg && pass < 2; pass++)
		for (int i = 0; i < cfg->n_ifs; i++) {
			if ((pass == 0) != (i == cfg->default_if))
				continue;
			for (int k = 0; k < cfg->ifs[i].n_addrs6; k++)
				if (memcmp(cfg->ifs[i].addrs6[k].gateway, none, 16)) {
					memcpy(gw, cfg->ifs[i].addrs6[k].gateway, 16);
					return i;
				}
		}
	return -1;
}

static bool has_addr6(const struct cfg_iface *ifc, const struct cfg_ipv6 *a)
{
	for (int i = 0; ifc && i < ifc->n_addrs6; i++)
		if (!memcmp(ifc->addrs6[i].addr, a->addr, 16) && ifc->addrs6[i].prefix == a->prefix)
			return true;
	return false;
}

static bool has_route6(const struct cfg_iface *ifc, const struct cfg_route6 *r)
{
	for (int i = 0; ifc && i < ifc->n_routes6; i++)
		if (!memcmp(ifc->routes6[i].net, r->net, 16) &&
			ifc->routes6[i].prefix == r->prefix &&
			!memcmp(ifc->routes6[i].gateway, r->gateway, 16))
			return true;
	return false;
}

/* The mirrors' IPv6 as app_sync_kernel's IPv4: IPv6 on where the interface has an address,
 * the link-local of its MAC and the configured addresses, the default route and the static
 * ones. */
static int sync_kernel6(struct appliance *app, const struct edge_cfg *old,
	const struct edge_cfg *next, char *err, size_t errlen)
{
	uint8_t ogw[16] = { 0 }, ngw[16] = { 0 }, ll[16];
	int oif = default_gw6(old, ogw), nif = default_gw6(next, ngw), ret;
	char a[46], g[46];

	if (oif >= 0 && (oif != nif || memcmp(ogw, ngw, 16)))
		tap_route6(app->ports[oif].tap_ifindex, false, ogw, 0, ogw);
	for (int i = 0; old && i < old->n_ifs; i++) {
		const struct cfg_iface *nx = i < next->n_ifs ? &next->ifs[i] : NULL;

		for (int k = 0; k < old->ifs[i].n_routes6; k++)
			if (!has_route6(nx, &old->ifs[i].routes6[k]))
				tap_route6(app->ports[i].tap_ifindex, false,
					old->ifs[i].routes6[k].net, old->ifs[i].routes6[k].prefix,
					old->ifs[i].routes6[k].gateway);
		for (int k = 0; k < old->ifs[i].n_addrs6; k++)
			if (!has_addr6(nx, &old->ifs[i].addrs6[k]))
				tap_addr6(app->ports[i].tap_ifindex, false,
					old->ifs[i].addrs6[k].addr, old->ifs[i].addrs6[k].prefix);
	}
	for (int i = 0; i < next->n_ifs; i++) {
		const struct cfg_iface *ifc = &next->ifs[i];
		const struct cfg_iface *was = old && i < old->n_ifs ? &old->ifs[i] : NULL;
		const struct port_info *pi = &app->ports[i];
		bool on = ifc->n_addrs6 > 0, was_on = was && was->n_addrs6 > 0;

		if (on != was_on || !old) {
			ret = tap_ipv6(pi->tap_name, on);
			if (ret < 0 && on) {
				snprintf(err, errlen, "kernel mirror %s: cannot turn IPv6 on: %s",
					pi->tap_name, strerror(-ret));
				return ret;
			}
		}
		if (!on)
			continue;
		cfg_ipv6_link_local(pi->mac.addr_bytes, ll);
		if (!was_on && (ret = tap_addr6(pi->tap_ifindex, true, ll, 64)) < 0) {
			snprintf(err, errlen, "kernel mirror %s: cannot add %s: %s", pi->tap_name,
				cfg_ipv6_str(ll, a), strerror(-ret));
			return ret;
		}
		for (int k = 0; k < ifc->n_addrs6; k++) {
			if (was && has_addr6(was, &ifc->addrs6[k]))
				continue;
			ret = tap_addr6(pi->tap_ifindex, true, ifc->addrs6[k].addr,
				ifc->addrs6[k].prefix);
			if (ret < 0) {
				snprintf(err, errlen, "kernel mirror %s: cannot add %s: %s",
					pi->tap_name, cfg_ipv6_str(ifc->addrs6[k].addr, a),
					strerror(-ret));
				return ret;
			}
		}
	}
	if (nif >= 0 && (oif != nif || memcmp(ogw, ngw, 16))) {
		ret = tap_route6(app->ports[nif].tap_ifindex, true, ngw, 0, ngw);
		if (ret < 0) {
			snprintf(err, errlen, "IPv6 default route via %s: %s", cfg_ipv6_str(ngw, g),
				strerror(-ret));
			return ret;
		}
	}
	for (int i = 0; i < next->n_ifs; i++)
		for (int k = 0; k < next->ifs[i].n_routes6; k++) {
			const struct cfg_route6 *r = &next->ifs[i].routes6[k];

			if (old && i < old->n_ifs && has_route6(&old->ifs[i], r))
				continue;
			ret = tap_route6(app->ports[i].tap_ifindex, true, r->net, r->prefix,
				r->gateway);
			if (ret < 0) {
				snprintf(err, errlen, "route %s/%u via %s: %s",
					cfg_ipv6_str(r->net, a), r->prefix,
					cfg_ipv6_str(r->gateway, g), strerror(-ret));
				return ret;
			}
		}
	return 0;
}

int app_sync_kernel(struct appliance *app, const struct edge_cfg *old, const struct edge_cfg *next,
	char *err, size_t errlen)
{
	uint32_t ogw = default_gw(old), ngw = default_gw(next);
	int ret = 0;
	char a[16];

	for (int i = 0; i < next->n_ifs; i++) {
		int ifindex = app->ports[i].tap_ifindex;

		for (int k = 0; old && k < old->ifs[i].n_addrs; k++)
			if (!has_addr(&next->ifs[i], &old->ifs[i].addrs[k]))
				tap_addr(ifindex, false, old->ifs[i].addrs[k].addr,
					old->ifs[i].addrs[k].prefix);
		for (int k = 0; k < next->ifs[i].n_addrs; k++) {
			const struct cfg_ipv4 *ad = &next->ifs[i].addrs[k];

			if (old && has_addr(&old->ifs[i], ad))
				continue;
			ret = tap_addr(ifindex, true, ad->addr, ad->prefix);
			if (ret < 0) {
				snprintf(err, errlen, "kernel mirror %s: cannot add %s: %s",
					app->ports[i].tap_name, cfg_ipv4_str(ad->addr, a),
					strerror(-ret));
				return ret;
			}
		}
	}
	if (old && old->default_if >= 0 && (ogw != ngw || old->default_if != next->default_if))
		tap_route(app->ports[old->default_if].tap_ifindex, false, 0, 0, ogw);
	if (ngw && (!old || ogw != ngw || old->default_if != next->default_if)) {
		ret = tap_route(app->ports[next->default_if].tap_ifindex, true, 0, 0, ngw);
		if (ret < 0) {
			snprintf(err, errlen, "default route via %s: %s", cfg_ipv4_str(ngw, a),
				strerror(-ret));
			return ret;
		}
	}
	/* the static routes: gone ones out first, then the new ones (their gateways' subnets
	 * are in place by now) */
	for (int i = 0; old && i < old->n_ifs; i++)
		for (int k = 0; k < old->ifs[i].n_routes; k++)
			if (!has_route(i < next->n_ifs ? &next->ifs[i] : NULL,
				    &old->ifs[i].routes[k]))
				tap_route(app->ports[i].tap_ifindex, false,
					old->ifs[i].routes[k].net, old->ifs[i].routes[k].prefix,
					old->ifs[i].routes[k].gateway);
	for (int i = 0; i < next->n_ifs; i++)
		for (int k = 0; k < next->ifs[i].n_routes; k++) {
			const struct cfg_route *r = &next->ifs[i].routes[k];
			char g[16];

			if (old && i < old->n_ifs && has_route(&old->ifs[i], r))
				continue;
			ret = tap_route(app->ports[i].tap_ifindex, true, r->net, r->prefix,
				r->gateway);
			if (ret < 0) {
				snprintf(err, errlen, "route %s/%u via %s: %s",
					cfg_ipv4_str(r->net, a), r->prefix,
					cfg_ipv4_str(r->gateway, g), strerror(-ret));
				return ret;
			}
		}
	return sync_kernel6(app, old, next, err, errlen);
}

/* ---------------- ARP: learning and resolution ---------------- */

static void inject(struct appliance *app, struct rte_mbuf *m, uint16_t port)
{
	m->port = port;
	if (rte_ring_enqueue(app->workers[0].inject_ring, m) < 0) {
		dp_stats[DP_STATS_CP].ifs[dp_port_ifi[port]].drops[DP_DROP_TX_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	dp_wake_kick(&app->workers[0].wake);
}

bool app_own_mac(const struct appliance *app, uint32_t ip, uint8_t mac[6])
{
	for (int i = 0; i < app->cfg.n_ifs; i++)
		for (int k = 0; k < app->cfg.ifs[i].n_addrs; k++)
			if (app->cfg.ifs[i].addrs[k].addr == ip) {
				memcpy(mac, app->ports[i].mac.addr_bytes, 6);
				return true;
			}
	return false;
}

int app_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	struct appliance *app = ctx;
	const struct nbr_entry *n;
	uint32_t nh;

	if (app_own_mac(app, ip, mac))
		return 0; /* a hairpin: our own media port or an allocation's relay port */
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

/* ---------------- IPv6 neighbour discovery: learning and resolution ---------------- */

#define ND_NA_SOLICITED 0x40
#define ND_NA_OVERRIDE 0x20
#define ND_OPT_TLLA 2

static bool is_link_local6(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static bool in_prefix6(const uint8_t a[16], const uint8_t net[16], uint8_t prefix)
{
	unsigned int bytes = prefix / 8, bits = prefix % 8;

	return !memcmp(a, net, bytes) &&
		(!bits || ((a[bytes] ^ net[bytes]) & (0xff00 >> bits)) == 0);
}

bool app_own_mac6(const struct appliance *app, const uint8_t ip[16], uint8_t mac[6])
{
	for (int i = 0; i < app->cfg.n_ifs; i++) {
		uint8_t ll[16];

		if (!app->cfg.ifs[i].n_addrs6)
			continue;
		cfg_ipv6_link_local(app->ports[i].mac.addr_bytes, ll);
		for (int k = -1; k < app->cfg.ifs[i].n_addrs6; k++)
			if (!memcmp(k < 0 ? ll : app->cfg.ifs[i].addrs6[k].addr, ip, 16)) {
				memcpy(mac, app->ports[i].mac.addr_bytes, 6);
				return true;
			}
	}
	return false;
}

/* The next hop for @ip out of @ifc: @ip itself when on the link (link-local, or inside one of
 * the interface's prefixes), else the gateway of its longest matching route, else the
 * interface's default gateway. False when there is none (or the interface has no IPv6). */
static bool next_hop6(const struct cfg_iface *ifc, const uint8_t ip[16], uint8_t nh[16])
{
	static const uint8_t none[16];
	int best = -1;

	if (!ifc->n_addrs6)
		return false;
	for (int k = -1; k < ifc->n_addrs6; k++)
		if (k < 0 ? is_link_local6(ip) :
			    in_prefix6(ip, ifc->addrs6[k].addr, ifc->addrs6[k].prefix)) {
			memcpy(nh, ip, 16);
			return true;
		}
	for (int k = 0; k < ifc->n_routes6; k++)
		if (memcmp(ifc->routes6[k].gateway, none, 16) &&
			in_prefix6(ip, ifc->routes6[k].net, ifc->routes6[k].prefix) &&
			(best < 0 || ifc->routes6[k].prefix > ifc->routes6[best].prefix))
			best = k;
	if (best >= 0) {
		memcpy(nh, ifc->routes6[best].gateway, 16);
		return true;
	}
	for (int k = 0; k < ifc->n_addrs6; k++)
		if (memcmp(ifc->addrs6[k].gateway, none, 16)) {
			memcpy(nh, ifc->addrs6[k].gateway, 16);
			return true;
		}
	return false;
}

/* The source of a solicitation for @target on @ifi: our global address on its prefix, else
 * our link-local; only one whose duplicate address detection is over (RFC 4862 5.4). */
static bool nd_source(const struct appliance *app, uint8_t ifi, const uint8_t target[16],
	uint8_t src[16])
{
	const struct cfg_iface *ifc = &app->cfg.ifs[ifi];

	for (int k = 0; k < ifc->n_addrs6; k++)
		if (in_prefix6(target, ifc->addrs6[k].addr, ifc->addrs6[k].prefix) &&
			nd_dad_state(&app->dad, ifi, ifc->addrs6[k].addr) == ND_DAD_PREFERRED) {
			memcpy(src, ifc->addrs6[k].addr, 16);
			return true;
		}
	cfg_ipv6_link_local(app->ports[ifi].mac.addr_bytes, src);
	return nd_dad_state(&app->dad, ifi, src) == ND_DAD_PREFERRED;
}

static void dad_env(struct appliance *app);

/* A neighbour solicitation for @target (IPv6's arp_request). None while no address of the
 * link is usable yet: the retries come back to it. */
static void nd_request(uint8_t ifi, const uint8_t target[16], void *arg)
{
	struct appliance *app = arg;
	uint8_t src[16];

	if (ifi >= app->cfg.n_ifs || !nd_source(app, ifi, target, src))
		return;
	dad_env(app);
	nd_send_ns(&app->dad, ifi, src, target);
}

int app_resolve6(void *ctx, uint8_t ifi, const uint8_t ip[16], uint8_t mac[6])
{
	struct appliance *app = ctx;
	const struct nbr_entry *n;
	uint8_t nh[16];

	if (app_own_mac6(app, ip, mac))
		return 0; /* a hairpin, as app_resolve's */
	if (ifi >= app->cfg.n_ifs || !next_hop6(&app->cfg.ifs[ifi], ip, nh))
		return -ENETUNREACH;
	n = nbr6_lookup(ifi, nh);
	if (nbr_valid(n, rte_get_timer_cycles())) {
		memcpy(mac, n->mac, 6);
		return 0;
	}
	nd_request(ifi, nh, app);
	return -EAGAIN;
}

/* A UDP datagram over IPv4 (@src and @dst 4 bytes) or IPv6 (16), checksums made. */
static struct rte_mbuf *udp_frame(struct appliance *app, uint8_t ifi, const uint8_t mac[6], bool v6,
	const void *src, uint16_t sport, const void *dst, uint16_t dport, const uint8_t *data,
	size_t len)
{
	const size_t l3 = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	struct rte_ether_hdr *eth;
	struct rte_udp_hdr *udp;
	struct rte_mbuf *m;

	if (len > RTE_ETHER_MTU - l3 - sizeof(*udp))
		return NULL;
	m = rte_pktmbuf_alloc(app->mp);
	eth = m ? (struct rte_ether_hdr *)rte_pktmbuf_append(m,
			  (uint16_t)(sizeof(*eth) + l3 + sizeof(*udp) + len)) :
		  NULL;
	if (!eth) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	udp = (struct rte_udp_hdr *)((uint8_t *)(eth + 1) + l3);
	memcpy(eth->dst_addr.addr_bytes, mac, 6);
	eth->src_addr = app->ports[ifi].mac;
	*udp = (struct rte_udp_hdr){ .src_port = sport,
		.dst_port = dport,
		.dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len)) };
	memcpy(udp + 1, data, len);
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
		*ip = (struct rte_ipv6_hdr){ .vtc_flow = RTE_BE32(6u << 28),
			.payload_len = udp->dgram_len,
			.proto = IPPROTO_UDP,
			.hop_limits = 64 };
		memcpy(ip->src_addr, src, 16);
		memcpy(ip->dst_addr, dst, 16);
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45,
			.time_to_live = 64,
			.next_proto_id = IPPROTO_UDP,
			.total_length =
				rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + len)) };
		memcpy(&ip->src_addr, src, 4);
		memcpy(&ip->dst_addr, dst, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	return m;
}

struct rte_mbuf *app_udp_frame(struct appliance *app, uint8_t ifi, const uint8_t mac[6],
	uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const uint8_t *data, size_t len)
{
	return udp_frame(app, ifi, mac, false, &src, sport, &dst, dport, data, len);
}

struct rte_mbuf *app_udp_frame6(struct appliance *app, uint8_t ifi, const uint8_t mac[6],
	const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport,
	const uint8_t *data, size_t len)
{
	return udp_frame(app, ifi, mac, true, src, sport, dst, dport, data, len);
}

void app_inject(struct appliance *app, struct rte_mbuf *m, uint16_t port)
{
	inject(app, m, port);
}

static void arp_learn(struct appliance *app, uint8_t ifi, const struct rte_arp_ipv4 *a)
{
	uint64_t expires = rte_get_timer_cycles() + app->tsc_hz * app->cfg.arp_timeout_s;
	void *waiting[NBR_PENDING_PKTS];
	unsigned int n;

	/* the data plane passes only senders on the interface's subnets; the table's bound
	 * keeps room for the next hops we are resolving ourselves */
	if (nbr_learn(ifi, a->arp_sip, a->arp_sha.addr_bytes, expires,
		    nbr_pending_has(ifi, a->arp_sip)) < 0) {
		dp_stats[DP_STATS_CP].ifs[ifi].arp_not_learned++;
		return;
	}
	/* what waited for this next hop leaves now */
	n = nbr_pending_take(ifi, a->arp_sip, waiting, NBR_PENDING_PKTS);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = waiting[i];
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

		rte_ether_addr_copy(&a->arp_sha, &eth->dst_addr);
		inject(app, m, app->ports[ifi].port_id);
	}
}

/* What a neighbour advertisement for another node's address teaches (RFC 4861 7.2.5): its
 * target link-layer address, for a target on the link. One we are resolving completes that
 * resolution and releases what waited for it; any other is learnt as ARP's unsolicited
 * senders are (up to the table's cap), and with the override flag clear it does not move a
 * known neighbour's address. Without the option, a solicited one only confirms a known
 * neighbour. True when the table changed. */
static bool nd_learn(struct appliance *app, uint8_t ifi, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);
	const uint8_t *p = (const uint8_t *)ip, *na, *tlla = NULL;
	const struct cfg_iface *ifc;
	uint8_t addr[EDGE_MAX_ADDRS][16], prefix[EDGE_MAX_ADDRS], ll[16], target[16], mac[6];
	void *waiting[NBR_PENDING_PKTS];
	const struct nbr_entry *n;
	size_t end, off = m->hash.fdir.hi;
	uint64_t now = rte_get_timer_cycles(), expires;
	unsigned int k;

	if (ifi >= app->cfg.n_ifs || m->data_len < sizeof(*eth) + sizeof(*ip))
		return false;
	/* the data plane checked the message and its options; stay inside them all the same */
	end = sizeof(*ip) + rte_be_to_cpu_16(ip->payload_len);
	if (end > m->data_len - sizeof(*eth))
		end = m->data_len - sizeof(*eth);
	if (off + 24 > end)
		return false;
	na = p + off;
	for (size_t o = off + 24; o + 2 <= end && p[o + 1]; o += p[o + 1] * 8u)
		if (p[o] == ND_OPT_TLLA && p[o + 1] == 1 && o + 8 <= end)
			tlla = p + o + 2;
	memcpy(target, na + 8, 16);

	ifc = &app->cfg.ifs[ifi];
	for (k = 0; k < (unsigned int)ifc->n_addrs6 && k < EDGE_MAX_ADDRS; k++) {
		memcpy(addr[k], ifc->addrs6[k].addr, 16);
		prefix[k] = ifc->addrs6[k].prefix;
	}
	cfg_ipv6_link_local(app->ports[ifi].mac.addr_bytes, ll);
	if (!ifc->n_addrs6 || !nbr6_on_link((const uint8_t(*)[16])addr, prefix, k, ll, target)) {
		dp_stats[DP_STATS_CP].ifs[ifi].arp_not_learned++;
		return false;
	}
	expires = now + app->tsc_hz * app->cfg.arp_timeout_s;
	n = nbr6_lookup(ifi, target);
	if (!tlla) {
		if (!nbr_valid(n, now) || !(na[4] & ND_NA_SOLICITED))
			return false;
		memcpy(mac, n->mac, 6);
		return nbr6_update(ifi, target, mac, expires) == 0;
	}
	if (nbr_valid(n, now) && !(na[4] & ND_NA_OVERRIDE) && memcmp(n->mac, tlla, 6))
		return false;
	if (nbr6_learn(ifi, target, tlla, expires, nbr6_pending_has(ifi, target)) < 0) {
		dp_stats[DP_STATS_CP].ifs[ifi].arp_not_learned++;
		return false;
	}
	/* what waited for this next hop leaves now */
	k = nbr6_pending_take(ifi, target, waiting, NBR_PENDING_PKTS);
	for (unsigned int i = 0; i < k; i++) {
		struct rte_mbuf *w = waiting[i];

		memcpy(rte_pktmbuf_mtod(w, struct rte_ether_hdr *)->dst_addr.addr_bytes, tlla, 6);
		inject(app, w, app->ports[ifi].port_id);
	}
	return true;
}

/* The interface address on @target's subnet (the ARP sender), else the first one. */
static uint32_t arp_source(const struct cfg_iface *ifc, uint32_t target)
{
	for (int i = 0; i < ifc->n_addrs; i++)
		if ((ifc->addrs[i].addr & mask_of(ifc->addrs[i].prefix)) ==
			(target & mask_of(ifc->addrs[i].prefix)))
			return ifc->addrs[i].addr;
	return ifc->n_addrs ? ifc->addrs[0].addr : 0;
}

static void arp_request(uint8_t ifi, uint32_t target, void *arg)
{
	struct appliance *app = arg;
	struct rte_mbuf *m = rte_pktmbuf_alloc(app->mp);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (!m)
		return;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*arp));
	arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = app->ports[ifi].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = app->ports[ifi].mac;
	arp->arp_data.arp_sip = arp_source(&app->cfg.ifs[ifi], target);
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = target;
	inject(app, m, app->ports[ifi].port_id);
}

void app_arp_request(struct appliance *app, uint8_t ifi, uint32_t target)
{
	arp_request(ifi, target, app);
}

/* A resolution still waiting: ask again (ARP, or a neighbour solicitation). */
static void pending_retry(uint8_t ifi, int family, const void *addr, void *arg)
{
	uint32_t ip;

	if (family == AF_INET6)
		return nd_request(ifi, addr, arg);
	memcpy(&ip, addr, 4);
	arp_request(ifi, ip, arg);
}

static void pending_drop(void *pkt, void *arg)
{
	struct rte_mbuf *m = pkt;

	(void)arg;
	dp_stats[DP_STATS_CP].ifs[dp_port_ifi[m->port]].drops[DP_DROP_NBR_UNRESOLVED]++;
	rte_pktmbuf_free(m);
}

unsigned int app_drain_punts(struct appliance *app)
{
	struct rte_mbuf *pkts[EDGE_RING_BURST];
	unsigned int n = rte_ring_dequeue_burst(app->punt_ring, (void **)pkts, RTE_DIM(pkts), NULL);
	bool learned = false;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t ifi = dp_port_ifi[m->port];
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

		switch (m->hash.usr) {
		case DP_PUNT_ARP_REPLY:
			arp_learn(app, ifi, &arp->arp_data);
			inject(app, m, app->ports[ifi].tap_port_id); /* the kernel learns too */
			learned = true;
			break;
		case DP_PUNT_ARP_LEARN:
			arp_learn(app, ifi, &arp->arp_data);
			rte_pktmbuf_free(m);
			learned = true;
			break;
		case DP_PUNT_PING_REPLY: {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
			struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip +
				(ip->version_ihl & 0xf) * 4);

			if (rte_be_to_cpu_16(ic->icmp_seq_nb) == app->ping.seq &&
				!app->ping.answered) {
				app->ping.answered = true;
				app->ping.got_tsc = rte_get_timer_cycles();
			}
			rte_pktmbuf_free(m);
			break;
		}
		case DP_PUNT_RESOLVE: {
			/* the next hop travels in the (already filled) destination IP's place */
			uint32_t nh = m->hash.fdir.hi;
			int r = nbr_pending_add(ifi, nh, m, rte_get_timer_cycles());

			if (r < 0) {
				dp_stats[DP_STATS_CP].ifs[ifi].drops[DP_DROP_NBR_QUEUE_FULL]++;
				rte_pktmbuf_free(m);
			} else if (r == 1) {
				arp_request(ifi, nh, app);
			}
			break;
		}
		case DP_PUNT_ND_DAD:
			nd_dad_input(&app->dad, &app->cfg, m);
			break;
		case DP_PUNT_ND_ADVERT:
			if (nd_learn(app, ifi, m))
				learned = true;
			inject(app, m, app->ports[ifi].tap_port_id); /* the kernel learns too */
			break;
		case DP_PUNT_TURN:
			if (app->on_turn_punt.fn)
				app->on_turn_punt.fn(app->on_turn_punt.ctx, m);
			else
				rte_pktmbuf_free(m);
			break;
		default:
			rte_pktmbuf_free(m);
		}
	}
	for (int i = 0; learned && i < app->n_on_neighbour; i++)
		app->on_neighbour[i].fn(app->on_neighbour[i].ctx);
	/* peers' datagrams for TURN clients on TCP/TLS come on a ring of their own */
	if (app->data_ring) {
		unsigned int d =
			rte_ring_dequeue_burst(app->data_ring, (void **)pkts, RTE_DIM(pkts), NULL);

		for (unsigned int i = 0; i < d; i++) {
			if (app->on_peer_data.fn)
				app->on_peer_data.fn(app->on_peer_data.ctx, pkts[i]);
			else
				rte_pktmbuf_free(pkts[i]);
		}
		n += d;
	}
	return n;
}

static int add_hook(struct app_hook *hooks, int *n, void (*fn)(void *), void *ctx)
{
	if (*n == APP_MAX_HOOKS)
		return -ENOSPC;
	hooks[(*n)++] = (struct app_hook){ fn, ctx };
	return 0;
}

int app_on_config(struct appliance *app, void (*fn)(void *ctx), void *ctx)
{
	return add_hook(app->on_config, &app->n_on_config, fn, ctx);
}

int app_on_neighbour(struct appliance *app, void (*fn)(void *ctx), void *ctx)
{
	return add_hook(app->on_neighbour, &app->n_on_neighbour, fn, ctx);
}

void app_on_turn_punt(struct appliance *app, void (*fn)(void *ctx, struct rte_mbuf *m), void *ctx)
{
	app->on_turn_punt = (struct app_pkt_hook){ fn, ctx };
}

void app_on_peer_data(struct appliance *app, void (*fn)(void *ctx, struct rte_mbuf *m), void *ctx)
{
	app->on_peer_data = (struct app_pkt_hook){ fn, ctx };
}

/* IPv6 duplicate address detection's environment: our ports and the L3 table. */
static void dad_send(void *ctx, uint8_t ifi, struct rte_mbuf *m)
{
	struct appliance *app = ctx;

	inject(app, m, app->ports[ifi].port_id);
}

static void dad_changed(void *ctx)
{
	struct appliance *app = ctx;

	app_publish_l3(app, &app->cfg);
}

/* The environment neighbour discovery sends through (detection and resolution alike). */
static void dad_env(struct appliance *app)
{
	struct nd_dad *dd = &app->dad;

	if (!dd->send) {
		dd->ctx = app;
		dd->mp = app->mp;
		dd->tsc_hz = app->tsc_hz;
		for (int i = 0; i < app->cfg.n_ifs; i++)
			dd->mac[i] = app->ports[i].mac;
		dd->changed = dad_changed;
		dd->send = dad_send;
	}
}

static void dad_tick(struct appliance *app)
{
	dad_env(app);
	nd_dad_tick(&app->dad, &app->cfg);
}

void app_timers(struct appliance *app)
{
	uint64_t now = rte_get_timer_cycles();

	nbr_reap(now, -1);
	/* three requests a second apart, then what waited is dropped (RFC 1122 2.3.2.1); the
	 * same for neighbour solicitations (MAX_MULTICAST_SOLICIT, RetransTimer: RFC 4861 10) */
	nbr_pending_tick(now - app->tsc_hz, 3, now, pending_retry, pending_drop, app);
	dad_tick(app);
}

/* Sends an IPv4 packet built by the control plane (Ethernet destination still to fill)
 * to @nexthop on @ifi: at once if the neighbour is known, else after ARP resolves it. */
static int send_ipv4(struct appliance *app, uint8_t ifi, uint32_t nexthop, struct rte_mbuf *m)
{
	uint64_t now = rte_get_timer_cycles();
	const struct nbr_entry *n = nbr_lookup(ifi, nexthop);
	int r;

	if (nbr_valid(n, now)) {
		memcpy(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr.addr_bytes, n->mac, 6);
		inject(app, m, app->ports[ifi].port_id);
		return 0;
	}
	m->port = app->ports[ifi].port_id;
	r = nbr_pending_add(ifi, nexthop, m, now);
	if (r < 0) {
		dp_stats[DP_STATS_CP].ifs[ifi].drops[DP_DROP_NBR_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
		return r;
	}
	if (r == 1)
		arp_request(ifi, nexthop, app);
	return 0;
}

int app_send_ipv6(struct appliance *app, uint8_t ifi, const uint8_t nexthop[16], struct rte_mbuf *m)
{
	uint64_t now = rte_get_timer_cycles();
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	const struct nbr_entry *n;
	int r;

	if (ifi >= app->cfg.n_ifs) {
		rte_pktmbuf_free(m);
		return -ENETUNREACH;
	}
	if (nexthop[0] == 0xff) { /* a group: 33:33 and its last 32 bits (RFC 2464 7) */
		eth->dst_addr = (struct rte_ether_addr){ { 0x33, 0x33, nexthop[12], nexthop[13],
			nexthop[14], nexthop[15] } };
		inject(app, m, app->ports[ifi].port_id);
		return 0;
	}
	n = nbr6_lookup(ifi, nexthop);
	if (nbr_valid(n, now)) {
		memcpy(eth->dst_addr.addr_bytes, n->mac, 6);
		inject(app, m, app->ports[ifi].port_id);
		return 0;
	}
	m->port = app->ports[ifi].port_id;
	r = nbr6_pending_add(ifi, nexthop, m, now);
	if (r < 0) {
		dp_stats[DP_STATS_CP].ifs[ifi].drops[DP_DROP_NBR_QUEUE_FULL]++;
		rte_pktmbuf_free(m);
		return r;
	}
	if (r == 1)
		nd_request(ifi, nexthop, app);
	return 0;
}

/* The interface and next hop for @dst: a connected subnet first, else the default route. */
static int route(const struct edge_cfg *cfg, uint32_t dst, uint8_t *ifi, uint32_t *nexthop,
	uint32_t *src)
{
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int k = 0; k < cfg->ifs[i].n_addrs; k++) {
			uint32_t mask = mask_of(cfg->ifs[i].addrs[k].prefix);

			if ((cfg->ifs[i].addrs[k].addr & mask) == (dst & mask)) {
				*ifi = (uint8_t)i;
				*nexthop = dst;
				*src = cfg->ifs[i].addrs[k].addr;
				return 0;
			}
		}
	if (cfg->default_if < 0 || !default_gw(cfg))
		return -ENETUNREACH;
	*ifi = (uint8_t)cfg->default_if;
	*nexthop = default_gw(cfg);
	*src = cfg->ifs[cfg->default_if].addrs[0].addr;
	return 0;
}

static struct rte_mbuf *echo_request(struct appliance *app, uint8_t ifi, uint32_t src, uint32_t dst,
	uint16_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(app->mp);
	const size_t data = 56;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;

	if (!m)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m,
		sizeof(*eth) + sizeof(*ip) + sizeof(*ic) + data);
	memset(eth, 0, m->data_len);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	eth->src_addr = app->ports[ifi].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*ic) + data);
	ip->packet_id = rte_cpu_to_be_16(seq);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = rte_cpu_to_be_16(DP_PING_IDENT);
	ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
	for (size_t i = 0; i < data; i++)
		((uint8_t *)(ic + 1))[i] = (uint8_t)i;
	ic->icmp_cksum = ~rte_raw_cksum(ic, sizeof(*ic) + data);
	return m;
}

static int ping(void *ctx, uint32_t dst, int count, FILE *out)
{
	struct appliance *app = ctx;
	uint32_t nexthop, src;
	uint8_t ifi;
	int replies = 0;
	char a[16], s[16];

	if (route(&app->cfg, dst, &ifi, &nexthop, &src) < 0) {
		fprintf(out, "ping: %s: no route (no interface on its subnet, no default route)\n",
			cfg_ipv4_str(dst, a));
		return -ENETUNREACH;
	}
	fprintf(out, "PING %s from %s interface %s: 56 data bytes\n", cfg_ipv4_str(dst, a),
		cfg_ipv4_str(src, s), app->cfg.ifs[ifi].name);
	for (int i = 1; i <= count; i++) {
		struct rte_mbuf *m;
		uint64_t deadline;

		app->ping.seq++;
		app->ping.answered = false;
		app->ping.sent_tsc = rte_get_timer_cycles();
		m = echo_request(app, ifi, src, dst, app->ping.seq);
		if (!m || send_ipv4(app, ifi, nexthop, m) < 0) {
			fprintf(out,
				"icmp_seq=%d: cannot send (out of buffers or ARP queue full)\n", i);
			continue;
		}
		/* serve the punt ring while waiting (the reply and any ARP answer come that way),
		 * reporting quiescent states so grace periods keep moving */
		deadline = app->ping.sent_tsc + app->tsc_hz;
		while (!app->ping.answered && rte_get_timer_cycles() < deadline) {
			if (!app_drain_punts(app))
				usleep(200);
			edge_rcu_quiescent();
		}
		if (app->ping.answered) {
			replies++;
			fprintf(out, "64 bytes from %s: icmp_seq=%d time=%.3f ms\n", a, i,
				(app->ping.got_tsc - app->ping.sent_tsc) * 1e3 / app->tsc_hz);
		} else {
			fprintf(out, "icmp_seq=%d: no reply within 1 s\n", i);
		}
	}
	fprintf(out, "--- %s ping statistics ---\n%d packets transmitted, %d received\n", a, count,
		replies);
	return replies ? 0 : -EHOSTUNREACH;
}

/* ---------------- status pages ---------------- */

static void if_page(void *ctx, int ifi, FILE *out)
{
	struct appliance *app = ctx;
	const struct cfg_iface *ifc = &app->cfg.ifs[ifi];
	const struct port_info *pi = &app->ports[ifi];
	struct dp_if_stats st;
	char mac[RTE_ETHER_ADDR_FMT_SIZE], a[16], g[16];
	bool up = false;
	uint32_t speed = 0;
	uint64_t drops = 0;

	dp_stats_sum(ifi, &st);
	port_link(pi, &up, &speed);
	rte_ether_format_addr(mac, sizeof(mac), &pi->mac);
	fprintf(out, "Interface %s\n", ifc->name);
	fprintf(out, "  Port                  : %u (%s) %s\n", pi->port_id, pi->driver, ifc->port);
	fprintf(out, "  Kernel mirror         : %s\n", pi->tap_name);
	fprintf(out, "  MAC address           : %s\n", mac);
	fprintf(out, "  Link                  : %s", up ? "up" : "down");
	if (up && speed && speed != RTE_ETH_SPEED_NUM_UNKNOWN)
		fprintf(out, " %u Mb/s", speed);
	fprintf(out, "\n  Queues                : %u rx, %u tx\n", pi->n_rxq, pi->n_txq);
	for (int k = 0; k < ifc->n_addrs; k++)
		fprintf(out, "  IPv4                  : %s/%u gateway %s\n",
			cfg_ipv4_str(ifc->addrs[k].addr, a), ifc->addrs[k].prefix,
			ifc->addrs[k].gateway ? cfg_ipv4_str(ifc->addrs[k].gateway, g) : "none");
	if (!ifc->n_addrs)
		fprintf(out, "  IPv4                  : none\n");
	for (int k = 0; k < ifc->n_addrs6; k++) {
		char a6[46], g6[46];
		static const uint8_t none[16];
		const struct cfg_ipv6 *v = &ifc->addrs6[k];

		fprintf(out, "  IPv6                  : %s/%u gateway %s\n",
			cfg_ipv6_str(v->addr, a6), v->prefix,
			memcmp(v->gateway, none, 16) ? cfg_ipv6_str(v->gateway, g6) : "none");
	}
	if (ifc->n_addrs6) {
		uint8_t ll[16];
		char l6[46];

		cfg_ipv6_link_local(pi->mac.addr_bytes, ll);
		fprintf(out, "  IPv6 link-local       : %s/64 (from the MAC)\n",
			cfg_ipv6_str(ll, l6));
	} else {
		fprintf(out, "  IPv6                  : none\n");
	}
	fprintf(out, "  Default route         : %s\n", app->cfg.default_if == ifi ? "yes" : "no");
	fprintf(out, "  RX packets            : %lu (%lu bytes)\n", st.rx_pkts, st.rx_bytes);
	fprintf(out, "  TX packets            : %lu (%lu bytes)\n", st.tx_pkts, st.tx_bytes);
	fprintf(out, "  ARP replies           : %lu\n", st.arp_replies);
	fprintf(out, "  ARP not learned       : %lu\n", st.arp_not_learned);
	fprintf(out, "  ICMP echo replies     : %lu\n", st.icmp_echo_replies);
	fprintf(out, "  ND advertisements     : %lu\n", st.nd_replies);
	fprintf(out, "  STUN Binding replies  : %lu\n", st.stun_binding_replies);
	fprintf(out, "  To kernel             : %lu\n", st.to_kernel);
	fprintf(out, "  From kernel           : %lu\n", st.from_kernel);
	fprintf(out, "  To control plane      : %lu\n", st.punted);
	for (int r = 0; r < DP_DROP_MAX; r++)
		drops += st.drops[r];
	fprintf(out, "  Dropped               : %lu\n", drops);
	for (int r = 0; r < DP_DROP_MAX; r++)
		if (st.drops[r])
			fprintf(out, "    %-18s %10lu  %s\n", dp_drop_name(r), st.drops[r],
				dp_drop_text(r));
}

/* What the process holds, as a soak watches it: packet buffers taken from the pool (by the
 * workers, the rings, the mirrors' queues and the lcores' caches), DPDK's heap, and the
 * process's resident memory and open descriptors (from /proc). Any thread. */
struct app_resources {
	unsigned int mbufs_in_use, mbufs;
	uint64_t heap_bytes, rss_bytes, malloc_bytes;
	unsigned int fds;
};

static void app_resources(const struct appliance *app, struct app_resources *r)
{
	struct rte_malloc_socket_stats hs;
	struct mallinfo2 mi;
	unsigned long pages = 0, resident = 0;
	struct dirent *d;
	FILE *f;
	DIR *dir;

	memset(r, 0, sizeof(*r));
	if (app->mp) {
		r->mbufs = app->mp->size;
		r->mbufs_in_use = rte_mempool_in_use_count(app->mp);
	}
	for (int s = 0; s < (int)rte_socket_count(); s++)
		if (!rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &hs))
			r->heap_bytes += hs.heap_allocsz_bytes;
	mi = mallinfo2();
	r->malloc_bytes = mi.uordblks + mi.hblkhd;
	if ((f = fopen("/proc/self/statm", "re"))) {
		if (fscanf(f, "%lu %lu", &pages, &resident) == 2)
			r->rss_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
	if ((dir = opendir("/proc/self/fd"))) {
		while ((d = readdir(dir)))
			r->fds += d->d_name[0] != '.';
		r->fds--; /* the directory's own */
		closedir(dir);
	}
}

static void status_page(void *ctx, FILE *out)
{
	struct appliance *app = ctx;
	time_t up = time(NULL) - app->started;
	struct app_resources res;

	fprintf(out, "Appliance\n");
	fprintf(out, "  Uptime                : %ldd %02ld:%02ld:%02ld\n", up / 86400,
		up / 3600 % 24, up / 60 % 60, up % 60);
	fprintf(out, "  Configuration         : %s\n", app->cfg_path);
	fprintf(out, "  Memory                : %s, %d MB\n",
		app->cfg.hugepages ? "hugepages" : "no hugepages", app->cfg.memory_mb);
	fprintf(out, "  Neighbours            : %u (at most %u)\n", nbr_count(), NBR_MAX_ENTRIES);
	app_resources(app, &res);
	fprintf(out, "  Packet buffers        : %u in use of %u\n", res.mbufs_in_use, res.mbufs);
	fprintf(out, "  DPDK heap             : %.1f MB allocated\n", res.heap_bytes / 1048576.0);
	fprintf(out,
		"  Process               : %.1f MB resident, %.1f MB allocated (malloc), %u open "
		"descriptors\n",
		res.rss_bytes / 1048576.0, res.malloc_bytes / 1048576.0, res.fds);
	for (unsigned int w = 0; w < app->n_workers; w++) {
		const struct dp_worker *wk = &app->workers[w];
		uint64_t loops = wk->loops, idle = wk->idle_loops;

		fprintf(out,
			"  Worker %u              : lcore %u, %u rx queues, %lu polls, %.1f%% idle\n",
			w, wk->lcore_id, wk->n_rxq, loops, loops ? 100.0 * idle / loops : 100.0);
		fprintf(out,
			"    Idle back-off       : %lu sleeps (at most %u us); %lu wakes from the "
			"deepest to traffic, first burst at most %u packets\n",
			wk->sleeps, wk->idle_sleep_us, wk->deep_wakes, wk->deep_wake_max);
	}
	for (int i = 0; i < app->cfg.n_ifs; i++)
		if_page(ctx, i, out);
}

struct arp_list {
	FILE *out;
	struct appliance *app;
	uint64_t now;
};

static void arp_row(const struct nbr_entry *n, void *arg)
{
	struct arp_list *l = arg;
	char a[46];

	fprintf(l->out, "%-16s %-4s %02x:%02x:%02x:%02x:%02x:%02x  %s\n",
		n->family == AF_INET6 ? cfg_ipv6_str(n->ip6, a) : cfg_ipv4_str(n->ip, a),
		l->app->cfg.ifs[n->ifi].name, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
		n->mac[5], nbr_valid(n, l->now) ? "reachable" : "expired");
}

static void arp_page(void *ctx, FILE *out)
{
	struct arp_list l = { out, ctx, rte_get_timer_cycles() };

	fprintf(out, "%-16s %-4s %-18s %s\n", "Address", "If", "MAC", "State");
	nbr_foreach(arp_row, &l);
}

static int apply(void *ctx, const struct edge_cfg *next, char *err, size_t errlen)
{
	struct appliance *app = ctx;
	struct dp_l3 *l3;
	int ret;

	/* what the data plane will read, first: a rule set that cannot compile changes nothing */
	l3 = app_build_l3(app, next, err, errlen);
	if (!l3)
		return -EINVAL;
	/* persist next: a change the file cannot hold is not made at all */
	ret = cfg_save(app->cfg_path, next, err, errlen);
	if (ret < 0) {
		l3_free(l3);
		return ret;
	}
	ret = app_sync_kernel(app, &app->cfg, next, err, errlen);
	if (ret < 0) {
		char e2[256];
		/* put the file and the kernel back as they were */
		cfg_save(app->cfg_path, &app->cfg, e2, sizeof(e2));
		app_sync_kernel(app, next, &app->cfg, e2, sizeof(e2));
		l3_free(l3);
		return ret;
	}
	app_publish(l3);
	for (int i = 0; i < next->n_ifs; i++) {
		if (next->ifs[i].n_addrs == 0)
			nbr_flush((uint8_t)i, AF_INET);
		if (next->ifs[i].n_addrs6 == 0)
			nbr_flush((uint8_t)i, AF_INET6);
	}
	for (int i = next->n_ifs; i < app->cfg.n_ifs; i++)
		nbr_reap(0, i); /* the interface is gone */
	app->cfg = *next;
	dad_tick(app); /* new IPv6 addresses: their detection starts now */
	for (int i = 0; i < app->n_on_config; i++)
		app->on_config[i].fn(app->on_config[i].ctx);
	return 0;
}

static void firewall_page(void *ctx, int ifi, FILE *out)
{
	struct appliance *app = ctx;
	const struct cfg_iface *ifc = &app->cfg.ifs[ifi];
	static struct fw_counters sum; /* 33 KB: not on the stack */
	const struct cfg_turn *t = &app->cfg.turn;
	struct dp_if_stats st;
	char *text;
	int n, blocked = 0, total = 0;

	fw_counters_sum_init(&sum, &ifc->fw);
	for (int l = 0; l < RTE_MAX_LCORE; l++)
		if (dp_fw_counters[l])
			fw_counters_add(&sum, &dp_fw_counters[l][ifi]);
	n = fw_status_format(ifc->name, &ifc->fw, &sum, NULL, 0);
	text = malloc((size_t)n + 1);
	if (text) {
		fw_status_format(ifc->name, &ifc->fw, &sum, text, (size_t)n + 1);
		fputs(text, out);
		free(text);
	}
	dp_stats_sum(ifi, &st);
	fprintf(out, "Dropped by the firewall : %lu packets\n", st.drops[DP_DROP_FIREWALL]);
	/* TURN's ports are not opened behind the operator's back: say when they are shut */
	if (t->enabled && (t->listen_mask & (1u << ifi))) {
		/* both families (fw_port_state: "BLOCKED over IPv6" when one only) */
		for (uint32_t p = t->relay_lo; p <= t->relay_hi; p++, total++)
			blocked += !fw_config_allows_any(&ifc->fw, IPPROTO_UDP, (uint16_t)p);
		fprintf(out, "TURN port %u/udp        : %s%s\n", t->port,
			fw_port_state(&ifc->fw, IPPROTO_UDP, t->port),
			ifc->fw.enabled ? "" : " (firewall disabled)");
		fprintf(out, "TURN relay ports        : %s (%u-%u/udp%s)\n",
			blocked == 0		 ? "allowed" :
				blocked == total ? "BLOCKED" :
						   "partly BLOCKED",
			t->relay_lo, t->relay_hi, ifc->fw.enabled ? "" : ", firewall disabled");
		fprintf(out, "TURN port %u/tcp        : %s%s\n", t->port,
			fw_port_state(&ifc->fw, IPPROTO_TCP, t->port),
			ifc->fw.enabled ? "" : " (firewall disabled)");
		if (t->tls_port)
			fprintf(out, "TURN TLS port %u/tcp     : %s%s\n", t->tls_port,
				fw_port_state(&ifc->fw, IPPROTO_TCP, t->tls_port),
				ifc->fw.enabled ? "" : " (firewall disabled)");
	}
}

/* ---------------- metrics (metrics.h) ---------------- */

/* The collectors run on the scraper's thread while the control thread may be copying a new
 * configuration into app->cfg (apply): what they need of it (interface names, the firewall
 * rules' text, slots and serials) is a snapshot the control thread rebuilds after each
 * change and swaps under metrics_lock. The counters themselves are per-lcore slots and
 * per-worker fields, each written by one thread, read here with aligned atomic loads. */
struct fw_snap_rule {
	uint16_t slot;
	uint32_t serial;	     /* 0: a fixed slot (default, replies, ICMP...) */
	char text[FW_RULE_TEXT_MAX]; /* fw_rule_format's, or the fixed slot's name */
};

struct metrics_snap {
	int n_ifs;
	char ifname[EDGE_MAX_IFACES][EDGE_IFNAME_LEN];
	unsigned int n_rules[EDGE_MAX_IFACES];
	struct fw_snap_rule *rules[EDGE_MAX_IFACES];
};

static struct appliance *metrics_app;
static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER; /* metrics_cur */
static struct metrics_snap *metrics_cur;

/* The outcomes no rule decides, as the `firewall <if>` page names them. */
static const struct {
	enum fw_slot slot;
	const char *name;
} fw_fixed[] = {
	{ FW_SLOT_DEFAULT_ALLOW, "default allow" },
	{ FW_SLOT_DEFAULT_DENY, "default deny" },
	{ FW_SLOT_REPLY, "reply let in" },
	{ FW_SLOT_ICMP, "icmp passed" },
	{ FW_SLOT_ICMP_DENY, "icmp error dropped" },
	{ FW_SLOT_MALFORMED, "malformed dropped" },
	{ FW_SLOT_DISABLED, "firewall disabled" },
};

#define FW_N_FIXED (sizeof(fw_fixed) / sizeof(fw_fixed[0]))

static void metrics_snap_free(struct metrics_snap *m)
{
	if (!m)
		return;
	for (int i = 0; i < EDGE_MAX_IFACES; i++)
		free(m->rules[i]);
	free(m);
}

static struct metrics_snap *metrics_snap_new(const struct edge_cfg *cfg)
{
	struct metrics_snap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->n_ifs = cfg->n_ifs;
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct fw_if_config *fw = &cfg->ifs[i].fw;
		struct fw_snap_rule *r;
		unsigned int n = 0;

		snprintf(m->ifname[i], sizeof(m->ifname[i]), "%s", cfg->ifs[i].name);
		r = m->rules[i] = calloc(fw->n_rules + FW_N_FIXED, sizeof(*r));
		if (!r) {
			metrics_snap_free(m);
			return NULL;
		}
		for (unsigned int k = 0; k < fw->n_rules; k++) {
			if (fw->rules[k].slot >= FW_MAX_RULES)
				continue;
			r[n].slot = fw->rules[k].slot;
			r[n].serial = fw->rules[k].serial;
			fw_rule_format(&fw->rules[k], r[n].text, sizeof(r[n].text));
			n++;
		}
		for (size_t k = 0; k < FW_N_FIXED; k++, n++) {
			r[n].slot = (uint16_t)fw_fixed[k].slot;
			snprintf(r[n].text, sizeof(r[n].text), "%s", fw_fixed[k].name);
		}
		m->n_rules[i] = n;
	}
	return m;
}

/* After every change of app->cfg (and at start): a new snapshot, swapped in. A snapshot
 * that cannot be built leaves the last one (names and rules a change behind, not wrong). */
static void metrics_on_config(void *ctx)
{
	struct appliance *app = ctx;
	struct metrics_snap *m = metrics_snap_new(&app->cfg), *old;

	if (!m) {
		LOG_WARN("mgmt",
			"metrics: no memory for the firewall rules' names: the last are "
			"kept");
		return;
	}
	pthread_mutex_lock(&metrics_lock);
	old = metrics_cur;
	metrics_cur = m;
	pthread_mutex_unlock(&metrics_lock);
	metrics_snap_free(old);
}

/* Per-interface counters, summed over the lcores' slots on read, as the `iface` page does. */
static const char *const if_labels[] = { "interface", NULL };
static const char *const if_drop_labels[] = { "interface", "reason", NULL };

static void if_metric_collect(void *ctx, struct metrics_sink *sink)
{
	size_t off = (size_t)(uintptr_t)ctx;
	struct dp_if_stats st;

	pthread_mutex_lock(&metrics_lock);
	for (int i = 0; metrics_cur && i < metrics_cur->n_ifs; i++) {
		const char *v[] = { metrics_cur->ifname[i] };

		dp_stats_sum(i, &st);
		metrics_sample_u64(sink, v, *(const uint64_t *)((const char *)&st + off));
	}
	pthread_mutex_unlock(&metrics_lock);
}

static void if_drops_collect(void *ctx, struct metrics_sink *sink)
{
	struct dp_if_stats st;

	(void)ctx;
	pthread_mutex_lock(&metrics_lock);
	for (int i = 0; metrics_cur && i < metrics_cur->n_ifs; i++) {
		dp_stats_sum(i, &st);
		for (int r = 0; r < DP_DROP_MAX; r++) {
			const char *v[] = { metrics_cur->ifname[i], dp_drop_name(r) };

			metrics_sample_u64(sink, v, st.drops[r]);
		}
	}
	pthread_mutex_unlock(&metrics_lock);
}

/* Firewall hits per rule, summed over the lcores as fw_counters_add does: a slot's hits
 * count only while its serial is the rule's (a deleted rule's, or an older rule's in the
 * same slot, are left out). ctx: 0 packets, 1 bytes. */
static const char *const fw_labels[] = { "interface", "rule", NULL };

static void fw_hits_collect(void *ctx, struct metrics_sink *sink)
{
	bool bytes = (uintptr_t)ctx != 0;

	pthread_mutex_lock(&metrics_lock);
	for (int i = 0; metrics_cur && i < metrics_cur->n_ifs; i++) {
		for (unsigned int k = 0; k < metrics_cur->n_rules[i]; k++) {
			const struct fw_snap_rule *r = &metrics_cur->rules[i][k];
			const char *v[] = { metrics_cur->ifname[i], r->text };
			uint64_t sum = 0;

			for (int l = 0; l < RTE_MAX_LCORE; l++) {
				const struct fw_hit *h;

				if (!dp_fw_counters[l])
					continue;
				h = &dp_fw_counters[l][i].hit[r->slot];
				if (__atomic_load_n(&h->serial, __ATOMIC_ACQUIRE) != r->serial)
					continue;
				sum += __atomic_load_n(bytes ? &h->bytes : &h->pkts,
					__ATOMIC_RELAXED);
			}
			metrics_sample_u64(sink, v, sum);
		}
	}
	pthread_mutex_unlock(&metrics_lock);
}

/* The workers' busy and idle figures of the `status` page. app->workers is fixed for the
 * process's life; each field is written by its worker only (aligned, so a load is whole).
 * ctx: the field's offset in struct dp_worker. */
static const char *const wk_labels[] = { "worker", "lcore", NULL };

static void wk_collect(void *ctx, struct metrics_sink *sink)
{
	size_t off = (size_t)(uintptr_t)ctx;

	for (unsigned int w = 0; w < metrics_app->n_workers; w++) {
		const struct dp_worker *wk = &metrics_app->workers[w];
		const void *f = (const char *)wk + off;
		char id[12], lc[12];
		const char *v[] = { id, lc };
		uint64_t x;

		snprintf(id, sizeof(id), "%u", w);
		snprintf(lc, sizeof(lc), "%u", wk->lcore_id);
		if (off == offsetof(struct dp_worker, idle_sleep_us)) { /* set before start */
			metrics_sample(sink, v, wk->idle_sleep_us / 1e6);
			continue;
		}
		if (off == offsetof(struct dp_worker, deep_wake_max))
			x = __atomic_load_n((const uint16_t *)f, __ATOMIC_RELAXED);
		else if (off == offsetof(struct dp_worker, n_rxq))
			x = *(const unsigned int *)f; /* set before the workers start */
		else
			x = __atomic_load_n((const uint64_t *)f, __ATOMIC_RELAXED);
		metrics_sample_u64(sink, v, x);
	}
}

/* app_resources()'s figures; ctx: which. */
enum { RES_MBUFS_IN_USE, RES_MBUFS, RES_HEAP, RES_RSS, RES_MALLOC, RES_FDS };

static void res_collect(void *ctx, struct metrics_sink *sink)
{
	struct app_resources r;

	app_resources(metrics_app, &r);
	switch ((uintptr_t)ctx) {
	case RES_MBUFS_IN_USE:
		metrics_sample_u64(sink, NULL, r.mbufs_in_use);
		break;
	case RES_MBUFS:
		metrics_sample_u64(sink, NULL, r.mbufs);
		break;
	case RES_HEAP:
		metrics_sample_u64(sink, NULL, r.heap_bytes);
		break;
	case RES_RSS:
		metrics_sample_u64(sink, NULL, r.rss_bytes);
		break;
	case RES_MALLOC:
		metrics_sample_u64(sink, NULL, r.malloc_bytes);
		break;
	default:
		metrics_sample_u64(sink, NULL, r.fds);
	}
}

#define RES_METRIC(n, h, which)                                                                    \
	{                                                                                          \
		n, h, METRICS_GAUGE, NULL, res_collect, (void *)(uintptr_t)(which)                 \
	}

#define WK_METRIC(n, h, t, field)                                                                  \
	{                                                                                          \
		n, h, t, wk_labels, wk_collect,                                                    \
			(void *)(uintptr_t)offsetof(struct dp_worker, field)                       \
	}

#define IF_METRIC(n, h, field)                                                                     \
	{                                                                                          \
		n, h, METRICS_COUNTER, if_labels, if_metric_collect,                               \
			(void *)(uintptr_t)offsetof(struct dp_if_stats, field)                     \
	}

static const struct metrics_family if_families[] = {
	IF_METRIC("edge_interface_rx_packets_total", "Packets received on the interface.", rx_pkts),
	IF_METRIC("edge_interface_rx_bytes_total", "Bytes received on the interface.", rx_bytes),
	IF_METRIC("edge_interface_tx_packets_total", "Packets sent on the interface.", tx_pkts),
	IF_METRIC("edge_interface_tx_bytes_total", "Bytes sent on the interface.", tx_bytes),
	IF_METRIC("edge_interface_to_kernel_packets_total",
		"Packets handed to the interface's kernel mirror (TCP services, SSH).", to_kernel),
	IF_METRIC("edge_interface_from_kernel_packets_total",
		"Packets the kernel mirror sent out of the interface.", from_kernel),
	IF_METRIC("edge_interface_arp_replies_total",
		"ARP requests for our addresses answered "
		"by the data plane.",
		arp_replies),
	IF_METRIC("edge_interface_icmp_echo_replies_total",
		"ICMP and ICMPv6 echo requests answered by the data plane.", icmp_echo_replies),
	IF_METRIC("edge_interface_nd_replies_total",
		"IPv6 neighbour solicitations for our addresses answered by the data plane.",
		nd_replies),
	IF_METRIC("edge_interface_stun_binding_replies_total",
		"STUN Binding requests answered by "
		"the data plane.",
		stun_binding_replies),
	IF_METRIC("edge_interface_punted_packets_total", "Packets handed to the control plane.",
		punted),
	IF_METRIC("edge_interface_sfu_rx_packets_total", "RTP/RTCP received on a media port.",
		sfu_rx_pkts),
	IF_METRIC("edge_interface_sfu_tx_packets_total", "RTP/RTCP copies sent to receivers.",
		sfu_tx_pkts),
	IF_METRIC("edge_interface_sfu_retransmitted_packets_total",
		"Of those, video resent from the SFU's cache for a receiver's NACK.", sfu_rtx_pkts),
	IF_METRIC("edge_interface_sfu_nacks_sent_total",
		"NACKs the SFU sent to senders for packets lost on their uplink.", sfu_nack_pkts),
	IF_METRIC("edge_interface_hairpin_packets_total",
		"Our own packets for our own addresses, "
		"taken in again.",
		hairpin_pkts),
	{ "edge_interface_drops_total", "Packets dropped on the interface, by reason.",
		METRICS_COUNTER, if_drop_labels, if_drops_collect, NULL },
	WK_METRIC("edge_worker_polls_total", "Passes of the worker's loop over its rx queues.",
		METRICS_COUNTER, loops),
	WK_METRIC("edge_worker_idle_polls_total",
		"Passes of the worker's loop that found no "
		"packet (idle share: idle_polls / polls).",
		METRICS_COUNTER, idle_loops),
	WK_METRIC("edge_worker_sleeps_total", "Sleeps of the worker's idle back-off.",
		METRICS_COUNTER, sleeps),
	WK_METRIC("edge_worker_deep_wakes_total",
		"Wakes of the worker from its deepest sleep "
		"to find packets waiting.",
		METRICS_COUNTER, deep_wakes),
	WK_METRIC("edge_worker_deep_wake_max_packets",
		"The largest first burst a worker found "
		"on waking from its deepest sleep.",
		METRICS_GAUGE, deep_wake_max),
	WK_METRIC("edge_worker_idle_sleep_max_seconds",
		"The longest sleep of the worker's idle "
		"back-off.",
		METRICS_GAUGE, idle_sleep_us),
	WK_METRIC("edge_worker_rx_queues", "Receive queues the worker polls.", METRICS_GAUGE,
		n_rxq),
	RES_METRIC("edge_packet_buffers_in_use",
		"Packet buffers (mbufs) taken from the pool: in the workers, rings, queues and the "
		"lcores' caches.",
		RES_MBUFS_IN_USE),
	RES_METRIC("edge_packet_buffers", "Packet buffers (mbufs) in the pool.", RES_MBUFS),
	RES_METRIC("edge_dpdk_heap_allocated_bytes",
		"Bytes allocated from DPDK's heap (tables, rings, caches).", RES_HEAP),
	RES_METRIC("process_resident_memory_bytes", "Resident memory size in bytes.", RES_RSS),
	RES_METRIC("process_open_fds", "Number of open file descriptors.", RES_FDS),
	RES_METRIC("edge_malloc_allocated_bytes",
		"Bytes the process holds from malloc (in use, not the allocator's free lists).",
		RES_MALLOC),
	{ "edge_firewall_rule_hits_total",
		"Packets the interface's firewall decided by each "
		"rule (the rule as `firewall <if>` prints it), by the default policy, or by the "
		"fixed outcomes (replies let in, ICMP, malformed, firewall disabled).",
		METRICS_COUNTER, fw_labels, fw_hits_collect, (void *)(uintptr_t)0 },
	{ "edge_firewall_rule_hit_bytes_total",
		"Bytes of the packets counted in "
		"edge_firewall_rule_hits_total.",
		METRICS_COUNTER, fw_labels, fw_hits_collect, (void *)(uintptr_t)1 },
};

int app_metrics_start(struct appliance *app)
{
	int ret = 0;

	if (!(app->metrics = metrics_registry_new()))
		return -ENOMEM;
	metrics_app = app;
	metrics_on_config(app);
	if ((ret = app_on_config(app, metrics_on_config, app)) < 0)
		LOG_ERRX("mgmt",
			"metrics: interface names and firewall rules will not follow "
			"configuration changes: %s",
			strerror(-ret));
	ret = 0;
	for (size_t i = 0; !ret && i < sizeof(if_families) / sizeof(if_families[0]); i++)
		ret = metrics_register(app->metrics, &if_families[i]);
	if (ret)
		LOG_ERRX("mgmt", "metrics: registering the counters: %s", strerror(-ret));
	return ret;
}

void app_metrics_stop(struct appliance *app)
{
	app->cli.metrics = NULL;
	metrics_registry_free(app->metrics);
	app->metrics = NULL;
	pthread_mutex_lock(&metrics_lock);
	metrics_snap_free(metrics_cur);
	metrics_cur = NULL;
	pthread_mutex_unlock(&metrics_lock);
}

/* The MAC of interface @ifi, for the ipv6 page's link-local address. */
static int if_mac(void *ctx, int ifi, uint8_t mac[6])
{
	const struct appliance *app = ctx;

	if (ifi < 0 || ifi >= app->cfg.n_ifs || ifi >= EDGE_MAX_IFACES || !app->ports[ifi].open)
		return -ENOENT;
	memcpy(mac, app->ports[ifi].mac.addr_bytes, 6);
	return 0;
}

static const char *addr6_state(void *ctx, int ifi, const uint8_t addr[16], char *buf, size_t len)
{
	return nd_dad_describe(&((struct appliance *)ctx)->dad, ifi, addr, buf, len);
}

const struct cli_ops app_cli_ops = {
	.apply = apply,
	.if_mac = if_mac,
	.addr6_state = addr6_state,
};

int app_cli_register(struct appliance *app)
{
	static struct dp_cli_ops ops = {
		.status = status_page,
		.iface = if_page,
		.arp = arp_page,
		.ping = ping,
		.firewall = firewall_page,
	};

	ops.ctx = app;
	return dp_cli_register(&app->cli, &ops);
}

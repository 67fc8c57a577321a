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

static int media_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	struct appliance *app = ctx;
	const struct nbr_entry *n;
	uint32_t nh;

	if (app_own_mac(app, ip, mac))
		return 0;	/* a leg through our own TURN relay: a hairpin */
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

/* What the media server sends to one of our own addresses (a leg through our relay) cannot
 * go through its kernel socket, which would deliver it locally: it goes into the data plane
 * as a hairpin, from the media port, and reaches the relay's client there. */
static int media_send_own(void *ctx, uint8_t ifi, uint32_t src, uint16_t sport, uint32_t dst,
	uint16_t dport, const uint8_t *buf, size_t len)
{
	struct appliance *app = ctx;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	struct rte_mbuf *m;
	uint8_t mac[6];

	if (ifi >= app->cfg.n_ifs || !app_own_mac(app, dst, mac))
		return -EHOSTUNREACH;
	if (len > RTE_ETHER_MTU - sizeof(*ip) - sizeof(*udp))
		return -EMSGSIZE;
	m = rte_pktmbuf_alloc(app->mp);
	eth = m ? (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eth) +
		sizeof(*ip) + sizeof(*udp) + len)) : NULL;
	if (!eth) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	memcpy(eth->dst_addr.addr_bytes, mac, 6);
	eth->src_addr = app->ports[ifi].mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45, .time_to_live = 64,
		.next_proto_id = IPPROTO_UDP, .src_addr = src, .dst_addr = dst,
		.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + len)) };
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*udp = (struct rte_udp_hdr){ .src_port = sport, .dst_port = dport,
		.dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + len)) };
	memcpy(udp + 1, buf, len);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	app_inject(app, m, app->ports[ifi].port_id);
	return 0;
}

int app_media_start(struct appliance *app)
{
	const struct media_server_env env = { .ctx = app, .resolve = media_resolve,
		.send_own = media_send_own };
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

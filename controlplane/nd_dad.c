/* IPv6 duplicate address detection (RFC 4862 5.4) and unsolicited neighbour advertisements
 * (RFC 4861 7.2.6) for the interfaces' addresses, the link-local among them.
 *
 * An address the configuration gains is tentative: the data plane neither answers for it nor
 * takes traffic to it, but passes here any advertisement of it and any other node's detection
 * of it (DP_PUNT_ND_DAD). The tick (every 100 ms) sends one solicitation from :: to its solicited-node group;
 * a retransmission timer (1 s) later with nothing heard, the address is assigned (the L3
 * table republished) and announced once to all nodes with the override flag. Heard in time,
 * it is a duplicate: logged, shown on `ipv6 <if>`, and never used. An advertisement of an
 * assigned address from another node is logged (at most every 10 s) and counted; the address
 * stays ours (RFC 4862 5.4.4 leaves the choice to the node). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "appliance.h"
#include "edge_log.h"

#define ND_NS 135
#define ND_NA 136
#define ND_NA_OVERRIDE 0x20

static const char *state_name(enum app_dad_state s)
{
	switch (s) {
	case APP_DAD_TENTATIVE:
		return "tentative";
	case APP_DAD_PREFERRED:
		return "preferred";
	case APP_DAD_DUPLICATE:
		return "duplicate";
	}
	return "?";
}

static struct app_dad *find(struct appliance *app, int ifi, const uint8_t addr[16])
{
	for (unsigned int i = 0; i < app->dad.n; i++)
		if (app->dad.e[i].ifi == ifi && !memcmp(app->dad.e[i].addr, addr, 16))
			return &app->dad.e[i];
	return NULL;
}

enum app_dad_state app_dad_state(const struct appliance *app, int ifi, const uint8_t addr[16])
{
	const struct app_dad *d = find((struct appliance *)app, ifi, addr);

	return d ? d->state : APP_DAD_TENTATIVE;
}

const char *app_dad_describe(const struct appliance *app, int ifi, const uint8_t addr[16],
	char *buf, size_t len)
{
	const struct app_dad *d = find((struct appliance *)app, ifi, addr);

	if (d && d->state == APP_DAD_DUPLICATE)
		snprintf(buf, len, "duplicate: in use by %02x:%02x:%02x:%02x:%02x:%02x, not used",
			d->other[0], d->other[1], d->other[2], d->other[3], d->other[4],
			d->other[5]);
	else if (d && d->conflicts)
		snprintf(buf, len,
			"%s; advertised by %02x:%02x:%02x:%02x:%02x:%02x too (%lu times)",
			state_name(d->state), d->other[0], d->other[1], d->other[2], d->other[3],
			d->other[4], d->other[5], (unsigned long)d->conflicts);
	else
		snprintf(buf, len, "%s", state_name(d ? d->state : APP_DAD_TENTATIVE));
	return buf;
}

/* An ICMPv6 neighbour discovery frame of @len bytes (after the IPv6 header) out of @ifi:
 * from @src to @dst (whose multicast MAC it goes to), hop limit 255, checksum made. */
static void nd_send(struct appliance *app, int ifi, const uint8_t src[16], const uint8_t dst[16],
	const uint8_t *icmp, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(app->mp);
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *p;
	uint16_t ck;

	if (!m)
		return;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + sizeof(*ip) + len);
	if (!eth) {
		rte_pktmbuf_free(m);
		return;
	}
	/* 33:33 and the group's last 32 bits (RFC 2464 7) */
	eth->dst_addr =
		(struct rte_ether_addr){ { 0x33, 0x33, dst[12], dst[13], dst[14], dst[15] } };
	eth->src_addr = app->ports[ifi].mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
	p = (uint8_t *)(ip + 1);
	memcpy(p, icmp, len);
	ck = rte_ipv6_udptcp_cksum(ip, p);
	memcpy(p + 2, &ck, 2);
	app_inject(app, m, app->ports[ifi].port_id);
}

/* The detection's solicitation: from ::, to the solicited-node group, no options. */
static void send_probe(struct appliance *app, const struct app_dad *d)
{
	static const uint8_t unspec[16];
	uint8_t group[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff }, ns[24] = { ND_NS };

	memcpy(group + 13, d->addr + 13, 3);
	memcpy(ns + 8, d->addr, 16);
	nd_send(app, d->ifi, unspec, group, ns, sizeof(ns));
}

/* The address is ours from now: to all nodes, override set, solicited not, with our MAC. */
static void send_announce(struct appliance *app, const struct app_dad *d)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	uint8_t na[32] = { ND_NA, [4] = ND_NA_OVERRIDE, [24] = 2, [25] = 1 };

	memcpy(na + 8, d->addr, 16);
	memcpy(na + 26, app->ports[d->ifi].mac.addr_bytes, 6);
	nd_send(app, d->ifi, d->addr, all_nodes, na, sizeof(na));
}

/* The addresses @cfg gives: each interface's link-local (where it has IPv6) and its own. */
static unsigned int wanted(const struct appliance *app, const struct edge_cfg *cfg,
	struct app_dad *out)
{
	unsigned int n = 0;

	for (int i = 0; i < cfg->n_ifs; i++) {
		if (!cfg->ifs[i].n_addrs6)
			continue;
		out[n] = (struct app_dad){ .ifi = (uint8_t)i };
		cfg_ipv6_link_local(app->ports[i].mac.addr_bytes, out[n++].addr);
		for (int k = 0; k < cfg->ifs[i].n_addrs6; k++) {
			out[n] = (struct app_dad){ .ifi = (uint8_t)i };
			memcpy(out[n++].addr, cfg->ifs[i].addrs6[k].addr, 16);
		}
	}
	return n;
}

void app_dad_tick(struct appliance *app)
{
	struct app_dad want[APP_MAX_DAD], *d;
	unsigned int n = wanted(app, &app->cfg, want);
	uint64_t now = rte_get_timer_cycles();
	bool changed = false;
	char a[46];

	/* addresses the configuration lost are forgotten (a later add detects afresh) */
	for (unsigned int i = 0; i < app->dad.n;) {
		bool keep = false;

		for (unsigned int k = 0; k < n && !keep; k++)
			keep = want[k].ifi == app->dad.e[i].ifi &&
				!memcmp(want[k].addr, app->dad.e[i].addr, 16);
		if (keep) {
			i++;
			continue;
		}
		app->dad.e[i] = app->dad.e[--app->dad.n];
	}
	for (unsigned int k = 0; k < n; k++)
		if (!find(app, want[k].ifi, want[k].addr) && app->dad.n < APP_MAX_DAD)
			app->dad.e[app->dad.n++] = want[k]; /* tentative, nothing sent */

	for (unsigned int i = 0; i < app->dad.n; i++) {
		d = &app->dad.e[i];
		if (d->state != APP_DAD_TENTATIVE)
			continue;
		if (!d->sent_tsc) {
			send_probe(app, d);
			d->sent_tsc = now;
		} else if (now - d->sent_tsc >= app->tsc_hz) {
			/* RetransTimer (1 s, RFC 4861 10) after the one transmission */
			d->state = APP_DAD_PREFERRED;
			changed = true;
			LOG_NOTE("mgmt", "ipv6 %s: %s: no other node has it: in use",
				app->cfg.ifs[d->ifi].name, cfg_ipv6_str(d->addr, a));
		}
	}
	if (!changed)
		return;
	app_publish_l3(app, &app->cfg);
	for (unsigned int i = 0; i < app->dad.n; i++) {
		d = &app->dad.e[i];
		if (d->state == APP_DAD_PREFERRED && !d->announced) {
			send_announce(app, d);
			d->announced = true;
		}
	}
}

void app_dad_punt(struct appliance *app, struct rte_mbuf *m)
{
	uint8_t ifi = dp_port_ifi[m->port];
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);
	const uint8_t *ic;
	uint64_t now = rte_get_timer_cycles();
	struct app_dad *d;
	char a[46];

	/* the data plane checked the headers and the message, and says where it starts */
	if (m->hash.fdir.hi + 24 > m->data_len - sizeof(*eth))
		goto out;
	ic = (const uint8_t *)ip + m->hash.fdir.hi;
	if (!(d = find(app, ifi, ic + 8)))
		goto out;
	memcpy(d->other, eth->src_addr.addr_bytes, 6);
	if (d->state == APP_DAD_TENTATIVE) {
		d->state = APP_DAD_DUPLICATE;
		LOG_ERRX("mgmt",
			"ipv6 %s: %s is a duplicate: %s from %02x:%02x:%02x:%02x:%02x:%02x; the "
			"address is not used (delete it, or free it and add it again)",
			app->cfg.ifs[ifi].name, cfg_ipv6_str(d->addr, a),
			ic[0] == ND_NA ? "advertised" : "being detected", d->other[0], d->other[1],
			d->other[2], d->other[3], d->other[4], d->other[5]);
		app_publish_l3(app, &app->cfg);
	} else if (d->state == APP_DAD_PREFERRED && ic[0] == ND_NA) {
		d->conflicts++;
		if (!d->logged_tsc || now - d->logged_tsc >= 10 * app->tsc_hz) {
			d->logged_tsc = now;
			LOG_WARN("mgmt",
				"ipv6 %s: %s is advertised by %02x:%02x:%02x:%02x:%02x:%02x too "
				"(%lu times): an address conflict on the link",
				app->cfg.ifs[ifi].name, cfg_ipv6_str(d->addr, a), d->other[0],
				d->other[1], d->other[2], d->other[3], d->other[4], d->other[5],
				(unsigned long)d->conflicts);
		}
	}
out:
	rte_pktmbuf_free(m);
}

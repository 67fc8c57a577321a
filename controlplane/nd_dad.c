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
 * stays ours (RFC 4862 5.4.4 leaves the choice to the node). The owner sends the frames and
 * republishes the data plane's table (nd_dad.h's environment). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "dp.h"
#include "edge_log.h"
#include "nd_dad.h"

#define ND_NS 135
#define ND_NA 136
#define ND_NA_OVERRIDE 0x20

static const char *state_name(enum nd_dad_state s)
{
	switch (s) {
	case ND_DAD_TENTATIVE:
		return "tentative";
	case ND_DAD_PREFERRED:
		return "preferred";
	case ND_DAD_DUPLICATE:
		return "duplicate";
	}
	return "?";
}

static struct nd_dad_entry *find(const struct nd_dad *dd, int ifi, const uint8_t addr[16])
{
	for (unsigned int i = 0; i < dd->n; i++)
		if (dd->e[i].ifi == ifi && !memcmp(dd->e[i].addr, addr, 16))
			return (struct nd_dad_entry *)&dd->e[i];
	return NULL;
}

enum nd_dad_state nd_dad_state(const struct nd_dad *dd, int ifi, const uint8_t addr[16])
{
	const struct nd_dad_entry *e = find(dd, ifi, addr);

	return e ? e->state : ND_DAD_TENTATIVE;
}

const char *nd_dad_describe(const struct nd_dad *dd, int ifi, const uint8_t addr[16], char *buf,
	size_t len)
{
	const struct nd_dad_entry *e = find(dd, ifi, addr);

	if (e && e->state == ND_DAD_DUPLICATE)
		snprintf(buf, len, "duplicate: in use by %02x:%02x:%02x:%02x:%02x:%02x, not used",
			e->other[0], e->other[1], e->other[2], e->other[3], e->other[4],
			e->other[5]);
	else if (e && e->conflicts)
		snprintf(buf, len,
			"%s; advertised by %02x:%02x:%02x:%02x:%02x:%02x too (%lu times)",
			state_name(e->state), e->other[0], e->other[1], e->other[2], e->other[3],
			e->other[4], e->other[5], (unsigned long)e->conflicts);
	else
		snprintf(buf, len, "%s", state_name(e ? e->state : ND_DAD_TENTATIVE));
	return buf;
}

/* An ICMPv6 neighbour discovery frame of @len bytes (after the IPv6 header) out of @ifi:
 * from @src to @dst (whose multicast MAC it goes to), hop limit 255, checksum made. */
static void nd_send(struct nd_dad *dd, uint8_t ifi, const uint8_t src[16], const uint8_t dst[16],
	const uint8_t *icmp, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dd->mp);
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
	eth->src_addr = dd->mac[ifi];
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
	dd->send(dd->ctx, ifi, m);
}

void nd_send_ns(struct nd_dad *dd, uint8_t ifi, const uint8_t src[16], const uint8_t target[16])
{
	static const uint8_t unspec[16];
	uint8_t group[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff }, ns[32] = { ND_NS };
	const bool dad = !memcmp(src, unspec, 16);

	memcpy(group + 13, target + 13, 3);
	memcpy(ns + 8, target, 16);
	if (!dad) { /* the source link-layer address option: the target answers without asking */
		ns[24] = 1;
		ns[25] = 1;
		memcpy(ns + 26, dd->mac[ifi].addr_bytes, 6);
	}
	nd_send(dd, ifi, src, group, ns, dad ? 24 : 32);
}

/* The detection's solicitation: from ::, to the solicited-node group, no options. */
static void send_probe(struct nd_dad *dd, const struct nd_dad_entry *e)
{
	static const uint8_t unspec[16];

	nd_send_ns(dd, e->ifi, unspec, e->addr);
}

/* The address is ours from now: to all nodes, override set, solicited not, with our MAC. */
static void send_announce(struct nd_dad *dd, const struct nd_dad_entry *e)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	uint8_t na[32] = { ND_NA, [4] = ND_NA_OVERRIDE, [24] = 2, [25] = 1 };

	memcpy(na + 8, e->addr, 16);
	memcpy(na + 26, dd->mac[e->ifi].addr_bytes, 6);
	nd_send(dd, e->ifi, e->addr, all_nodes, na, sizeof(na));
}

/* The addresses @cfg gives: each interface's link-local (where it has IPv6) and its own. */
static unsigned int wanted(const struct nd_dad *dd, const struct edge_cfg *cfg,
	struct nd_dad_entry *out)
{
	unsigned int n = 0;

	for (int i = 0; i < cfg->n_ifs; i++) {
		if (!cfg->ifs[i].n_addrs6)
			continue;
		out[n] = (struct nd_dad_entry){ .ifi = (uint8_t)i };
		cfg_ipv6_link_local(dd->mac[i].addr_bytes, out[n++].addr);
		for (int k = 0; k < cfg->ifs[i].n_addrs6; k++) {
			out[n] = (struct nd_dad_entry){ .ifi = (uint8_t)i };
			memcpy(out[n++].addr, cfg->ifs[i].addrs6[k].addr, 16);
		}
	}
	return n;
}

void nd_dad_tick(struct nd_dad *dd, const struct edge_cfg *cfg)
{
	struct nd_dad_entry want[ND_DAD_MAX], *e;
	unsigned int n = wanted(dd, cfg, want);
	uint64_t now = rte_get_timer_cycles();
	bool changed = false;
	char a[46];

	/* addresses the configuration lost are forgotten (a later add detects afresh) */
	for (unsigned int i = 0; i < dd->n;) {
		bool keep = false;

		for (unsigned int k = 0; k < n && !keep; k++)
			keep = want[k].ifi == dd->e[i].ifi &&
				!memcmp(want[k].addr, dd->e[i].addr, 16);
		if (keep) {
			i++;
			continue;
		}
		dd->e[i] = dd->e[--dd->n];
	}
	for (unsigned int k = 0; k < n; k++)
		if (!find(dd, want[k].ifi, want[k].addr) && dd->n < ND_DAD_MAX)
			dd->e[dd->n++] = want[k]; /* tentative, nothing sent */

	for (unsigned int i = 0; i < dd->n; i++) {
		e = &dd->e[i];
		if (e->state != ND_DAD_TENTATIVE)
			continue;
		if (!e->sent_tsc) {
			send_probe(dd, e);
			e->sent_tsc = now;
		} else if (now - e->sent_tsc >= dd->tsc_hz) {
			/* RetransTimer (1 s, RFC 4861 10) after the one transmission */
			e->state = ND_DAD_PREFERRED;
			changed = true;
			LOG_NOTE("mgmt", "ipv6 %s: %s: no other node has it: in use",
				cfg->ifs[e->ifi].name, cfg_ipv6_str(e->addr, a));
		}
	}
	if (!changed)
		return;
	dd->changed(dd->ctx);
	for (unsigned int i = 0; i < dd->n; i++) {
		e = &dd->e[i];
		if (e->state == ND_DAD_PREFERRED && !e->announced) {
			send_announce(dd, e);
			e->announced = true;
		}
	}
}

void nd_dad_input(struct nd_dad *dd, const struct edge_cfg *cfg, struct rte_mbuf *m)
{
	uint8_t ifi = dp_port_ifi[m->port];
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);
	const uint8_t *ic;
	uint64_t now = rte_get_timer_cycles();
	struct nd_dad_entry *e;
	char a[46];

	/* the data plane checked the headers and the message, and says where it starts */
	if (ifi >= cfg->n_ifs || m->hash.fdir.hi + 24 > m->data_len - sizeof(*eth))
		goto out;
	ic = (const uint8_t *)ip + m->hash.fdir.hi;
	if (!(e = find(dd, ifi, ic + 8)))
		goto out;
	memcpy(e->other, eth->src_addr.addr_bytes, 6);
	if (e->state == ND_DAD_TENTATIVE) {
		e->state = ND_DAD_DUPLICATE;
		LOG_ERRX("mgmt",
			"ipv6 %s: %s is a duplicate: %s from %02x:%02x:%02x:%02x:%02x:%02x; the "
			"address is not used (delete it, or free it and add it again)",
			cfg->ifs[ifi].name, cfg_ipv6_str(e->addr, a),
			ic[0] == ND_NA ? "advertised" : "being detected", e->other[0], e->other[1],
			e->other[2], e->other[3], e->other[4], e->other[5]);
		dd->changed(dd->ctx);
	} else if (e->state == ND_DAD_PREFERRED && ic[0] == ND_NA) {
		e->conflicts++;
		if (!e->logged_tsc || now - e->logged_tsc >= 10 * dd->tsc_hz) {
			e->logged_tsc = now;
			LOG_WARN("mgmt",
				"ipv6 %s: %s is advertised by %02x:%02x:%02x:%02x:%02x:%02x too "
				"(%lu times): an address conflict on the link",
				cfg->ifs[ifi].name, cfg_ipv6_str(e->addr, a), e->other[0],
				e->other[1], e->other[2], e->other[3], e->other[4], e->other[5],
				(unsigned long)e->conflicts);
		}
	}
out:
	rte_pktmbuf_free(m);
}

/* The per-packet stages for traffic arriving on an interface: Ethernet, ARP responder,
 * IPv4 validation, ICMP echo, and the hand-off of everything else for our addresses to the
 * kernel (exception path). Run to completion over a burst; never allocates from the heap,
 * never locks, never logs: every drop is counted under its reason. */
#include <stddef.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "cksum.h"
#include "dp.h"
#include "nbr.h"
#include "relay.h"
#include "sfu.h"
#include "stun_binding.h"

struct dp_l3 *dp_l3_current;
struct dp_lcore_stats dp_stats[EDGE_MAX_WORKERS + 1];
uint8_t dp_port_ifi[RTE_MAX_ETHPORTS];
bool dp_port_is_tap[RTE_MAX_ETHPORTS];
struct fw_flowtab *dp_fw_flows;
struct fw_counters *dp_fw_counters[RTE_MAX_LCORE];

static const struct {
	const char *name, *text;
} drop_names[DP_DROP_MAX] = {
#define X(n, t) [DP_DROP_##n] = { #n, t },
	DP_DROP_REASONS(X)
#undef X
};

const char *dp_drop_name(enum dp_drop_reason r)
{
	return r < DP_DROP_MAX ? drop_names[r].name : "?";
}

const char *dp_drop_text(enum dp_drop_reason r)
{
	return r < DP_DROP_MAX ? drop_names[r].text : "?";
}

void dp_stats_sum(int ifi, struct dp_if_stats *out)
{
	/* every field is a uint64_t counter (checked below), so the struct sums as an array */
	const size_t n = offsetof(struct dp_if_stats, drops) / sizeof(uint64_t) + DP_DROP_MAX;
	uint64_t *o = (uint64_t *)out;

	RTE_BUILD_BUG_ON(offsetof(struct dp_if_stats, drops) % sizeof(uint64_t) != 0);
	memset(out, 0, sizeof(*out));
	for (int l = 0; l <= EDGE_MAX_WORKERS; l++) {
		/* a torn read of one 64-bit counter is impossible on x86-64; sums may lag */
		const volatile uint64_t *c = (const volatile uint64_t *)&dp_stats[l].ifs[ifi];

		for (size_t i = 0; i < n; i++)
			o[i] += c[i];
	}
}

static inline void drop(struct rte_mbuf *m, struct dp_if_stats *st, enum dp_drop_reason r)
{
	st->drops[r]++;
	rte_pktmbuf_free(m);
}

/* Index of @ip among the interface's addresses, or -1. */
static inline int if_addr_index(const struct dp_if *ifp, uint32_t ip)
{
	for (int i = 0; i < ifp->n_addrs; i++)
		if (ifp->addr[i] == ip)
			return i;
	return -1;
}

static inline void arp_input(const struct dp_if *ifp, uint8_t ifi, struct rte_mbuf *m,
	struct rte_ether_hdr *eth, struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct rte_arp_ipv4 *a = &arp->arp_data;
	uint32_t sip, tip;

	if (m->data_len < sizeof(*eth) + sizeof(*arp) ||
		arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
		arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4)
		return drop(m, st, DP_DROP_ARP_MALFORMED);
	sip = a->arp_sip;
	tip = a->arp_tip;

	if (arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY)) {
		if (if_addr_index(ifp, tip) < 0 || !rte_is_same_ether_addr(&a->arp_tha, &ifp->mac))
			return drop(m, st, DP_DROP_ARP_OTHER);
		if (!nbr_on_link(ifp->addr, ifp->mask, ifp->n_addrs, sip)) {
			st->arp_not_learned++;
			return drop(m, st, DP_DROP_ARP_OFF_SUBNET);
		}
		/* the control plane learns it and passes it on to the kernel, whose own
		 * resolutions (for the exception path's connections) wait for it too */
		m->hash.usr = DP_PUNT_ARP_REPLY;
		out->punt[out->n_punt++] = m;
		return;
	}
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return drop(m, st, DP_DROP_ARP_MALFORMED);
	if (if_addr_index(ifp, tip) < 0)
		return drop(m, st, DP_DROP_ARP_NOT_FOR_US);

	/* RFC 826: the target merges the sender's mapping. Only the control plane writes the
	 * neighbour table, so tell it when the mapping is new or changed. A sender off the
	 * interface's subnets (or claiming our address) is answered but never learnt. */
	if (sip != 0 && !nbr_on_link(ifp->addr, ifp->mask, ifp->n_addrs, sip)) {
		st->arp_not_learned++;
	} else if (sip != 0) {
		const struct nbr_entry *n = nbr_lookup(ifi, sip);

		if (!n || memcmp(n->mac, a->arp_sha.addr_bytes, 6) != 0) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);

			if (c && out->n_punt < RTE_DIM(out->punt)) {
				c->port = m->port;
				c->hash.usr = DP_PUNT_ARP_LEARN;
				out->punt[out->n_punt++] = c;
			} else if (c) {
				rte_pktmbuf_free(c);
			}
		}
	}

	/* answer in place */
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	rte_ether_addr_copy(&ifp->mac, &a->arp_sha);
	a->arp_tip = sip;
	a->arp_sip = tip;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&ifp->mac, &eth->src_addr);
	st->arp_replies++;
	out->tx[out->n_tx++] = m;
}

/* Turns an echo request into its reply in place. The ICMP checksum is patched for the
 * type change only (RFC 1624), so its cost does not grow with the payload. */
static inline void icmp_input(struct rte_mbuf *m, struct rte_ether_hdr *eth,
	struct rte_ipv4_hdr *ip, uint16_t ihl, uint16_t ip_len, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl);
	uint32_t a;

	if (ip_len < ihl + sizeof(*icmp))
		return drop(m, st, DP_DROP_ICMP_MALFORMED);
	if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY &&
		icmp->icmp_ident == RTE_BE16(DP_PING_IDENT)) {
		m->hash.usr = DP_PUNT_PING_REPLY;
		out->punt[out->n_punt++] = m;
		return;
	}
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
		out->kernel[out->n_kernel++] = m; /* errors and replies for the kernel's flows */
		st->to_kernel++;
		return;
	}
	if (rte_raw_cksum(icmp, ip_len - ihl) != 0xffff)
		return drop(m, st, DP_DROP_ICMP_MALFORMED);

	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = rte_cpu_to_be_16(cksum_patch16(rte_be_to_cpu_16(icmp->icmp_cksum),
		RTE_IP_ICMP_ECHO_REQUEST << 8, RTE_IP_ICMP_ECHO_REPLY << 8));

	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_ipv4_20(ip);

	struct rte_ether_addr mac = eth->src_addr;
	eth->src_addr = eth->dst_addr;
	eth->dst_addr = mac;
	st->icmp_echo_replies++;
	out->tx[out->n_tx++] = m;
}

static inline bool bad_source(const struct dp_if *ifp, uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);

	if (h == 0xffffffff || (h >> 28) == 0xe || (h >> 24) == 127 || (h >> 24) == 0)
		return true;
	for (int i = 0; i < ifp->n_addrs; i++)
		if (src == ifp->addr[i] || src == (ifp->addr[i] | ~ifp->mask[i]))
			return true;
	return false;
}

/* A STUN request for the TURN server: on the punt ring straight to its input (no kernel
 * socket, no TAP write); the control plane checks the UDP checksum and answers through the
 * inject ring. */
static inline void turn_punt(struct rte_mbuf *m, uint8_t ifi, struct dp_burst_out *out)
{
	m->hash.usr = DP_PUNT_TURN;
	m->hash.fdir.hi = ifi;
	out->punt[out->n_punt++] = m;
}

/* UDP for the TURN relay's fast path; false when the packet is not the relay's. */
static inline bool udp_relay(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	const struct rte_ipv4_hdr *ip, uint16_t ihl, uint16_t ip_len, struct relay_batch *rb,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	const uint32_t *ports;
	uint16_t ulen, dport;

	if (ip_len < ihl + sizeof(*udp))
		return false; /* the kernel counts its own malformed UDP */
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (ulen < sizeof(*udp) || ulen > ip_len - ihl)
		return false;
	if ((udp->dst_port == l3->turn_port ||
		    (udp->dst_port == l3->turn_port2 && l3->turn_port2)) &&
		(l3->turn_listen & (1u << ifi))) {
		/* ChannelData: 0x40..0x7f (RFC 5766's channel range, which deployed clients
		 * such as coturn's still use; RFC 8656 narrowed it to 0x40..0x4f); STUN (0..3)
		 * goes to the TURN server */
		const uint8_t *first = (const uint8_t *)(udp + 1);
		if (ulen > sizeof(*udp) && (*first & 0xc0) == 0x40)
			return relay_queue_c2p(rb, m, ip, ihl, udp, ulen, st);
		if (ulen > sizeof(*udp) && *first < 4) {
			struct relay_job *j = &rb->c2p[rb->n_c2p];
			int r = relay_parse_send(udp, ulen, j);

			if (r == 0) { /* a request: Binding is ours, the rest the TURN server's */
				if (!stun_binding_answer(&l3->ifs[ifi], m,
					    (struct rte_ipv4_hdr *)ip, ihl,
					    (struct rte_udp_hdr *)udp, ulen, out, st))
					turn_punt(m, ifi, out);
				return true;
			}
			if (r < 0) {
				drop(m, st, DP_DROP_TURN_MALFORMED);
				return true;
			}
			relay_job_set(j, m, ip, udp, ihl, ulen);
			rb->n_c2p++;
			return true;
		}
		/* neither STUN nor ChannelData (RFC 7983's other ranges): no TURN message */
		drop(m, st, DP_DROP_TURN_MALFORMED);
		return true;
	}
	/* The relay range is the relay's on its address (and on one that still holds
	 * allocations): what matches none of them is dropped there, counted. On any other
	 * address of ours the port is the kernel's. The kernel never picks an ephemeral port
	 * in the range (edged reserves it: tap_reserve_ports), so the replies to its own
	 * queries never land here. */
	dport = rte_be_to_cpu_16(udp->dst_port);
	if (dport < l3->relay_lo || dport > l3->relay_hi)
		return false;
	/* the port table, looked up once here for relay_run too */
	ports = turn_relay_ports(ifi, ip->dst_addr);
	if (ports || (ifi == l3->relay_if && ip->dst_addr == l3->relay_ip)) {
		struct relay_job *j = &rb->p2c[rb->n_p2c++];

		relay_job_set(j, m, ip, udp, ihl, ulen);
		j->ports = ports;
		return true;
	}
	return false;
}

/* UDP for a media port: the SFU's fast path takes SRTP/SRTCP of connected legs; false for
 * the rest, which goes to the media server's socket through the kernel. */
static inline bool udp_media(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	struct rte_ipv4_hdr *ip, uint16_t ihl, uint16_t ip_len, uint64_t tsc,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);
	uint16_t ulen;

	if (ip_len < ihl + sizeof(*udp) || !sfu_is_media_port(l3, ifi, ip->dst_addr, udp->dst_port))
		return false;
	ulen = rte_be_to_cpu_16(udp->dgram_len);
	if (ulen < sizeof(*udp) || ulen > ip_len - ihl)
		return false; /* the kernel counts its own malformed UDP */
	return sfu_input(l3, m, ip, ihl, udp, ulen, tsc, out, st);
}

static inline void ipv4_input(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	struct rte_ether_hdr *eth, uint64_t tsc, uint32_t now_s, struct relay_batch *rb,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct dp_if *ifp = &l3->ifs[ifi];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint16_t frame_l3 = m->data_len - sizeof(*eth);
	uint16_t ihl, ip_len;

	if (frame_l3 < sizeof(*ip))
		return drop(m, st, DP_DROP_L2_SHORT);
	ihl = (ip->version_ihl & 0x0f) * 4;
	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) || ihl > frame_l3)
		return drop(m, st, DP_DROP_IP_HEADER);
	ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ip_len < ihl || ip_len > frame_l3)
		return drop(m, st, DP_DROP_IP_LENGTH);
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
		break;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return drop(m, st, DP_DROP_IP_CHECKSUM);
	default:
		if (!cksum_ipv4_ok(ip, ihl))
			return drop(m, st, DP_DROP_IP_CHECKSUM);
	}
	if (ip->time_to_live == 0)
		return drop(m, st, DP_DROP_IP_TTL);
	if (if_addr_index(ifp, ip->dst_addr) < 0)
		return drop(m, st, DP_DROP_IP_NOT_LOCAL);
	if (!out->hairpin && bad_source(ifp, ip->src_addr))
		return drop(m, st, DP_DROP_IP_SOURCE);
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return drop(m, st, DP_DROP_IP_FRAGMENT);

	/* Ethernet pads short frames; what we answer or pass on carries none of that. */
	if (frame_l3 > ip_len)
		rte_pktmbuf_trim(m, frame_l3 - ip_len);

	/* the interface's firewall, before anything else of ours sees the packet */
	if (l3->fw[ifi]) {
		fw_verdict_t v = fw_verdict_ipv4(l3->fw[ifi], dp_fw_flows, ip, ip_len, now_s);

		fw_count(&dp_fw_counters[rte_lcore_id()][ifi], v, m->pkt_len);
		if (unlikely(!fw_allowed(v)))
			return drop(m, st, DP_DROP_FIREWALL);
	}

	if (ip->next_proto_id == IPPROTO_ICMP)
		return icmp_input(m, eth, ip, ihl, ip_len, out, st);
	if (ip->next_proto_id == IPPROTO_UDP && l3->media_port[ifi] &&
		udp_media(l3, ifi, m, ip, ihl, ip_len, tsc, out, st))
		return;
	if (ip->next_proto_id == IPPROTO_UDP && l3->turn_port &&
		udp_relay(l3, ifi, m, ip, ihl, ip_len, rb, out, st))
		return;

	/* TCP, and UDP for which no fast path exists: the exception path */
	out->kernel[out->n_kernel++] = m;
	st->to_kernel++;
}

void dp_port_input(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf **pkts, uint16_t n,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct dp_if *ifp = &l3->ifs[ifi];
	struct relay_batch rb;
	/* the burst's arrival, read once: the firewall's clock, the relay's rate buckets, the
	 * SFU's key-frame limit and transport-cc arrivals */
	uint64_t tsc = rte_rdtsc();
	uint32_t now_s = l3->fw[ifi] ? (uint32_t)(tsc / rte_get_tsc_hz()) : 0;

	rb.n_c2p = rb.n_p2c = 0;

	for (uint16_t i = 0; i < n && i < 8; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

		if (i + 8 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 8], void *));
		st->rx_pkts++;
		st->rx_bytes += m->pkt_len;
		if (m->data_len < sizeof(*eth)) {
			drop(m, st, DP_DROP_L2_SHORT);
			continue;
		}
		if (!rte_is_same_ether_addr(&eth->dst_addr, &ifp->mac) &&
			!rte_is_broadcast_ether_addr(&eth->dst_addr)) {
			drop(m, st,
				rte_is_same_ether_addr(&eth->src_addr, &ifp->mac) ?
					DP_DROP_L2_OWN_FRAME :
					DP_DROP_L2_OTHER_HOST);
			continue;
		}
		if (!ifp->up) {
			drop(m, st, DP_DROP_IF_DOWN);
			continue;
		}
		switch (eth->ether_type) {
		case RTE_BE16(RTE_ETHER_TYPE_ARP):
			arp_input(ifp, ifi, m, eth, out, st);
			break;
		case RTE_BE16(RTE_ETHER_TYPE_IPV4):
			if (rte_is_broadcast_ether_addr(&eth->dst_addr))
				drop(m, st, DP_DROP_IP_NOT_LOCAL);
			else
				ipv4_input(l3, ifi, m, eth, tsc, now_s, &rb, out, st);
			break;
		default:
			drop(m, st, DP_DROP_L2_ETHERTYPE);
		}
	}
	if (rb.n_c2p | rb.n_p2c)
		relay_run(l3, ifi, &rb, tsc, out, st);
}

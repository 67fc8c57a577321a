/* The per-packet stages for traffic arriving on an interface: Ethernet, ARP responder,
 * IPv4 validation, ICMP echo, and the hand-off of everything else for our addresses to the
 * kernel (exception path); IPv6 validation, Neighbour Discovery, ICMPv6 echo and the same
 * exception path through the firewall. Run to
 * completion over a burst; never allocates from the heap, never locks, never logs: every
 * drop is counted under its reason. */
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

/* --- IPv6 arriving on an interface (issue 18): validation, Neighbour Discovery's
 * solicitations and echo requests answered in place, advertisements to the kernel (or, for
 * our own addresses, to the control plane's duplicate address detection), and TCP, UDP and
 * the kernel's ICMPv6 through the firewall to the kernel. */

#define IP6_HLEN 40
#define IP6_MAX_EXT 4 /* extension headers walked before the packet is refused */
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_MLD_QUERY 130
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_OPT_SOURCE_LLADDR 1
#define ND_OPT_TARGET_LLADDR 2
#define ND_NA_LEN 32 /* advertisement: 24 bytes and a target link-layer address option */
#define ND_NA_FLAG_SOLICITED 0x40
#define ND_NA_FLAG_OVERRIDE 0x20

static const uint8_t ip6_all_nodes[16] = { 0xff, 0x02, [15] = 1 };
/* ff02::1:ff00:0/104, the solicited-node groups (RFC 4291 2.7.1) */
static const uint8_t ip6_sol_node[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

static inline bool ip6_is_unspec(const uint8_t *a)
{
	static const uint8_t zero[16];

	return edge_ip6_eq(a, zero);
}

/* True when @a is one of the interface's unicast addresses, its link-local among them (a
 * link-local not filled in, all zero, is none: :: is never ours). */
static inline bool ip6_is_ours(const struct dp_if *ifp, const uint8_t *a)
{
	if (ifp->ll6[0] == 0xfe && edge_ip6_eq(a, ifp->ll6))
		return true;
	for (int i = 0; i < ifp->n_addrs6; i++)
		if (edge_ip6_eq(a, ifp->addr6[i]))
			return true;
	return false;
}

/* True when @a is an address whose duplicate address detection is running. */
static inline bool ip6_is_tentative(const struct dp_if *ifp, const uint8_t *a)
{
	for (int i = 0; i < ifp->n_tent6; i++)
		if (edge_ip6_eq(a, ifp->tent6[i]))
			return true;
	return false;
}

/* True when @a is a multicast group the interface is in: all nodes, or the solicited-node
 * group of one of its addresses, tentative ones included (RFC 4862 5.4.2). */
static inline bool ip6_is_our_group(const struct dp_if *ifp, const uint8_t *a)
{
	if (edge_ip6_eq(a, ip6_all_nodes))
		return true;
	if (memcmp(a, ip6_sol_node, sizeof(ip6_sol_node)) != 0)
		return false;
	if (ifp->ll6[0] == 0xfe && memcmp(a + 13, ifp->ll6 + 13, 3) == 0)
		return true;
	for (int i = 0; i < ifp->n_addrs6; i++)
		if (memcmp(a + 13, ifp->addr6[i] + 13, 3) == 0)
			return true;
	for (int i = 0; i < ifp->n_tent6; i++)
		if (memcmp(a + 13, ifp->tent6[i] + 13, 3) == 0)
			return true;
	return false;
}

bool dp_kernel_may_send(const struct dp_if *ifp, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

	if (m->data_len < sizeof(*eth) || eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV6))
		return true;
	return m->data_len >= sizeof(*eth) + sizeof(*ip) &&
		(ip6_is_unspec(ip->src_addr) || ip6_is_ours(ifp, ip->src_addr));
}

static inline bool ip6_bad_source(const struct dp_if *ifp, const uint8_t *src)
{
	static const uint8_t loopback[16] = { [15] = 1 };

	return src[0] == 0xff || edge_ip6_eq(src, loopback) || ip6_is_ours(ifp, src);
}

/* The options of a Hop-by-Hop or Destination Options header of @len bytes (RFC 8200 4.2):
 * a Jumbo Payload is refused (IP6_LENGTH), as is an option running past the header or an
 * unknown one whose type says to discard the packet (IP6_EXT_HEADER). */
static inline enum dp_drop_reason ip6_options(const uint8_t *h, unsigned int len)
{
	for (unsigned int o = 2; o < len;) {
		uint8_t type = h[o];

		if (type == 0) { /* Pad1 */
			o++;
			continue;
		}
		if (o + 2 > len || o + 2 + h[o + 1] > len)
			return DP_DROP_IP6_EXT_HEADER;
		if (type == 0xc2) /* Jumbo Payload (RFC 2675) */
			return DP_DROP_IP6_LENGTH;
		/* PadN, Router Alert (MLD's) and the skippable ones (action bits 00) pass */
		if (type != 1 && type != 5 && (type & 0xc0) != 0)
			return DP_DROP_IP6_EXT_HEADER;
		o += 2 + h[o + 1];
	}
	return DP_DROP_MAX;
}

/* Walks the extension headers of a packet of @l3_len bytes (IPv6 header included) to the
 * upper layer: on success DP_DROP_MAX with its protocol in *@proto and offset in *@off. */
static inline enum dp_drop_reason ip6_walk(const struct rte_ipv6_hdr *ip, unsigned int l3_len,
	uint8_t *proto, unsigned int *off)
{
	const uint8_t *p = (const uint8_t *)ip;
	unsigned int o = IP6_HLEN;
	uint8_t nh = ip->proto;

	for (unsigned int n = 0;; n++) {
		enum dp_drop_reason r = DP_DROP_MAX;
		unsigned int len;

		if (nh == IPPROTO_ICMPV6 || nh == IPPROTO_UDP || nh == IPPROTO_TCP)
			break;
		if (nh == IPPROTO_FRAGMENT)
			return DP_DROP_IP6_FRAGMENT;
		if ((nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS && nh != IPPROTO_ROUTING) ||
			(nh == IPPROTO_HOPOPTS && n != 0) || n == IP6_MAX_EXT || o + 8 > l3_len)
			return DP_DROP_IP6_EXT_HEADER;
		len = (p[o + 1] + 1u) * 8;
		if (o + len > l3_len)
			return DP_DROP_IP6_EXT_HEADER;
		if (nh == IPPROTO_ROUTING)
			r = p[o + 3] ? DP_DROP_IP6_EXT_HEADER : DP_DROP_MAX; /* segments left */
		else
			r = ip6_options(p + o, len);
		if (r != DP_DROP_MAX)
			return r;
		nh = p[o];
		o += len;
	}
	*proto = nh;
	*off = o;
	return DP_DROP_MAX;
}

/* Drops the extension headers between the IPv6 header and the upper layer at @off (what we
 * answer carries none of them): the Ethernet and IPv6 headers move up over them. */
static inline struct rte_ether_hdr *ip6_strip_ext(struct rte_mbuf *m, unsigned int off)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	unsigned int ext = off - IP6_HLEN;
	struct rte_ipv6_hdr *ip;

	if (ext == 0)
		return (struct rte_ether_hdr *)p;
	memmove(p + ext, p, sizeof(struct rte_ether_hdr) + IP6_HLEN);
	p = (uint8_t *)rte_pktmbuf_adj(m, ext);
	ip = (struct rte_ipv6_hdr *)(p + sizeof(struct rte_ether_hdr));
	ip->proto = IPPROTO_ICMPV6;
	ip->payload_len = rte_cpu_to_be_16(rte_be_to_cpu_16(ip->payload_len) - ext);
	return (struct rte_ether_hdr *)p;
}

/* The interface's firewall for IPv6 (fw.h): true when @m passes, else dropped and counted. */
static inline bool ip6_fw_pass(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	const struct rte_ipv6_hdr *ip, uint8_t proto, unsigned int off, uint32_t now_s,
	struct dp_if_stats *st)
{
	fw_verdict_t v;

	if (!l3->fw[ifi])
		return true;
	v = fw_verdict_ipv6(l3->fw[ifi], dp_fw_flows, ip->src_addr, ip->dst_addr, proto,
		(const uint8_t *)ip + off, IP6_HLEN + rte_be_to_cpu_16(ip->payload_len) - off,
		now_s);
	fw_count(&dp_fw_counters[rte_lcore_id()][ifi], v, m->pkt_len);
	if (likely(fw_allowed(v)))
		return true;
	drop(m, st, DP_DROP_FIREWALL);
	return false;
}

/* The options of a Neighbour Discovery message (RFC 4861 4.6): each a whole number of
 * 8-byte units, at least one, within the message. Sets *@sllao when one is a source
 * link-layer address. */
static inline bool nd_options_ok(const uint8_t *o, unsigned int len, bool *sllao)
{
	*sllao = false;
	for (unsigned int i = 0; i < len;) {
		if (i + 2 > len || o[i + 1] == 0 || i + o[i + 1] * 8u > len)
			return false;
		if (o[i] == ND_OPT_SOURCE_LLADDR)
			*sllao = true;
		i += o[i + 1] * 8u;
	}
	return true;
}

/* A neighbour solicitation for one of our addresses becomes its advertisement in place
 * (RFC 4861 7.2.3-4): to the solicitor, or to all nodes when it was a duplicate address
 * detection's (source ::), carrying our MAC. */
static inline void nd_solicit(const struct dp_if *ifp, struct rte_mbuf *m,
	struct rte_ether_hdr *eth, struct rte_ipv6_hdr *ip, unsigned int off, unsigned int len,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const uint8_t *ns = (const uint8_t *)ip + off;
	const bool dad = ip6_is_unspec(ip->src_addr);
	uint8_t target[16], *na;
	bool sllao;

	if (ip->hop_limits != 255)
		return drop(m, st, DP_DROP_ND_HOP_LIMIT);
	if (ns[1] != 0 || len < 24 || !nd_options_ok(ns + 24, len - 24, &sllao) ||
		(dad && (sllao || memcmp(ip->dst_addr, ip6_sol_node, sizeof(ip6_sol_node)) != 0)))
		return drop(m, st, DP_DROP_ICMP6_MALFORMED);
	memcpy(target, ns + 8, 16);
	if (!ip6_is_ours(ifp, target)) {
		if (dad && ip6_is_tentative(ifp, target)) { /* another node wants it too */
			m->hash.usr = DP_PUNT_ND_DAD;
			m->hash.fdir.hi = off;
			out->punt[out->n_punt++] = m;
			return;
		}
		return drop(m, st, DP_DROP_ND_NOT_FOR_US);
	}

	/* the advertisement: IPv6 header and 32 bytes, nothing after */
	eth = ip6_strip_ext(m, off);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	if (m->data_len > sizeof(*eth) + IP6_HLEN + ND_NA_LEN)
		rte_pktmbuf_trim(m, m->data_len - (sizeof(*eth) + IP6_HLEN + ND_NA_LEN));
	else if (m->data_len < sizeof(*eth) + IP6_HLEN + ND_NA_LEN &&
		!rte_pktmbuf_append(m, sizeof(*eth) + IP6_HLEN + ND_NA_LEN - m->data_len))
		return drop(m, st, DP_DROP_ICMP6_MALFORMED); /* no tailroom: not a received frame */
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = RTE_BE16(ND_NA_LEN);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	if (dad)
		memcpy(ip->dst_addr, ip6_all_nodes, 16);
	else
		memcpy(ip->dst_addr, ip->src_addr, 16);
	memcpy(ip->src_addr, target, 16);
	na = (uint8_t *)(ip + 1);
	memset(na, 0, ND_NA_LEN);
	na[0] = ND_NEIGHBOR_ADVERT;
	na[4] = dad ? ND_NA_FLAG_OVERRIDE : ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE;
	memcpy(na + 8, target, 16);
	na[24] = ND_OPT_TARGET_LLADDR;
	na[25] = 1;
	memcpy(na + 26, ifp->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	uint16_t ck = (uint16_t)~cksum_fold(
		(uint32_t)cksum_ipv6_phdr(ip->src_addr, ND_NA_LEN, IPPROTO_ICMPV6) +
		rte_raw_cksum(na, ND_NA_LEN));
	memcpy(na + 2, &ck, 2);

	if (dad)
		eth->dst_addr = (struct rte_ether_addr){ { 0x33, 0x33, 0, 0, 0, 1 } };
	else
		eth->dst_addr = eth->src_addr;
	eth->src_addr = ifp->mac;
	st->nd_replies++;
	out->tx[out->n_tx++] = m;
}

/* An echo request to one of our unicast addresses becomes its reply in place; its checksum
 * is patched for the type change only (the pseudo-header's sum does not change when the
 * addresses swap). */
static inline void icmp6_echo(struct rte_mbuf *m, struct rte_ipv6_hdr *ip, unsigned int off,
	unsigned int len, struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct rte_ether_hdr *eth;
	struct rte_ether_addr mac;
	uint8_t a[16], *ic;
	uint16_t ck;

	if (ip->dst_addr[0] == 0xff)
		return drop(m, st, DP_DROP_ICMP6_ECHO_MCAST);
	if (len < 8 || ((const uint8_t *)ip)[off + 1] != 0)
		return drop(m, st, DP_DROP_ICMP6_MALFORMED);
	eth = ip6_strip_ext(m, off);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	ic = (uint8_t *)(ip + 1);
	ic[0] = ICMP6_ECHO_REPLY;
	memcpy(&ck, ic + 2, 2);
	ck = rte_cpu_to_be_16(cksum_patch16(rte_be_to_cpu_16(ck), ICMP6_ECHO_REQUEST << 8,
		ICMP6_ECHO_REPLY << 8));
	memcpy(ic + 2, &ck, 2);
	memcpy(a, ip->src_addr, 16);
	memcpy(ip->src_addr, ip->dst_addr, 16);
	memcpy(ip->dst_addr, a, 16);
	ip->hop_limits = 64;
	mac = eth->src_addr;
	eth->src_addr = eth->dst_addr;
	eth->dst_addr = mac;
	st->icmp_echo_replies++;
	out->tx[out->n_tx++] = m;
}

/* A neighbour advertisement (RFC 4861 7.1.2 checks): one for an address of ours, assigned
 * or tentative, means another node has it, which the control plane reports (and a detection
 * running fails); the rest go to the control plane too, which learns the target (it resolves
 * next hops itself, as with ARP) and passes them on to the kernel, whose own resolutions for
 * its connections on the exception path wait for them as well. */
static inline void nd_advert(const struct dp_if *ifp, struct rte_mbuf *m,
	const struct rte_ipv6_hdr *ip, unsigned int off, unsigned int len, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	const uint8_t *na = (const uint8_t *)ip + off;
	bool sllao;

	if (ip->hop_limits != 255)
		return drop(m, st, DP_DROP_ND_HOP_LIMIT);
	if (na[1] != 0 || len < 24 || na[8] == 0xff ||
		(ip->dst_addr[0] == 0xff && (na[4] & ND_NA_FLAG_SOLICITED)) ||
		!nd_options_ok(na + 24, len - 24, &sllao))
		return drop(m, st, DP_DROP_ICMP6_MALFORMED);
	if (ip6_is_ours(ifp, na + 8) || ip6_is_tentative(ifp, na + 8))
		m->hash.usr = DP_PUNT_ND_DAD;
	else
		m->hash.usr = DP_PUNT_ND_ADVERT;
	m->hash.fdir.hi = off;
	out->punt[out->n_punt++] = m;
}

/* What IPv6 leaves to the kernel (TCP, UDP, and the ICMPv6 of its own connections) passes
 * the interface's firewall first, as IPv4 does. */
static inline void ip6_to_kernel(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	const struct rte_ipv6_hdr *ip, uint8_t proto, unsigned int off, uint32_t now_s,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	if (!ip6_fw_pass(l3, ifi, m, ip, proto, off, now_s, st))
		return;
	out->kernel[out->n_kernel++] = m;
	st->to_kernel++;
}

static inline void icmp6_input(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	struct rte_ether_hdr *eth, struct rte_ipv6_hdr *ip, unsigned int off, uint32_t now_s,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct dp_if *ifp = &l3->ifs[ifi];
	unsigned int len = IP6_HLEN + rte_be_to_cpu_16(ip->payload_len) - off;
	const uint8_t *ic = (const uint8_t *)ip + off;

	if (len < 4 || !cksum_ipv6_l4_ok(ip->src_addr, ic, len, IPPROTO_ICMPV6))
		return drop(m, st, DP_DROP_ICMP6_MALFORMED);
	switch (ic[0]) {
	case ND_NEIGHBOR_SOLICIT: /* neighbour discovery is to IPv6 what ARP is to IPv4: */
		return nd_solicit(ifp, m, eth, ip, off, len, out, st); /* no firewall */
	case ND_NEIGHBOR_ADVERT:
		return nd_advert(ifp, m, ip, off, len, out, st);
	case ICMP6_ECHO_REQUEST:
		if (ip6_fw_pass(l3, ifi, m, ip, IPPROTO_ICMPV6, off, now_s, st))
			icmp6_echo(m, ip, off, len, out, st);
		return;
	case ICMP6_ECHO_REPLY: /* the kernel's pings */
	case ICMP6_MLD_QUERY:  /* the kernel reports the groups it is in */
		return ip6_to_kernel(l3, ifi, m, ip, IPPROTO_ICMPV6, off, now_s, out, st);
	default:
		/* errors about the kernel's connections; router discovery and redirects are
		 * not taken: the appliance is configured, not autoconfigured */
		if (ic[0] < 128)
			return ip6_to_kernel(l3, ifi, m, ip, IPPROTO_ICMPV6, off, now_s, out, st);
		return drop(m, st, DP_DROP_ICMP6_OTHER);
	}
}

/* UDP over IPv6 to a TURN port on a listen interface (no extension headers: @udp right after
 * @ip), udp_relay's counterpart for a client: ChannelData and Send indications become relay
 * jobs, a plain Binding is answered in place, the other requests go to the TURN server (which
 * tells IPv6 by the ethertype); anything else is no TURN message. An IPv6 datagram with no
 * checksum is not taken (RFC 8200 8.1). */
static inline void udp_turn6(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	struct rte_ipv6_hdr *ip, struct rte_udp_hdr *udp, uint16_t ulen, struct relay_batch *rb,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const uint8_t *first = (const uint8_t *)(udp + 1);

	if (ulen > sizeof(*udp) && udp->dgram_cksum) {
		if ((*first & 0xc0) == 0x40) {
			relay_queue_c2p6(rb, m, ip, udp, ulen, st);
			return;
		}
		if (*first < 4) {
			struct relay_job *j = &rb->c2p[rb->n_c2p];
			int r = relay_parse_send(udp, ulen, j);

			if (r == 0) { /* a request: Binding is ours, the rest the TURN server's */
				if (!stun_binding_answer6(&l3->ifs[ifi], m, ip, udp, ulen, out, st))
					turn_punt(m, ifi, out);
				return;
			}
			if (r > 0) {
				relay_job_set6(j, m, ip, udp, ulen);
				rb->n_c2p++;
				return;
			}
		}
	}
	drop(m, st, DP_DROP_TURN_MALFORMED);
}

/* UDP over IPv6 to a relay port (@udp right after @ip), udp_relay's peer side for IPv6
 * relayed addresses: on an address whose port table exists (turn_relay6_ports), a job for
 * relay_run, which looks the port up; no checksum is no IPv6 UDP (RFC 8200 8.1), dropped.
 * False when it is not the relay's (the kernel's port). */
static inline bool udp_relay6(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	const struct rte_ipv6_hdr *ip, const struct rte_udp_hdr *udp, uint16_t ulen,
	struct relay_batch *rb, struct dp_if_stats *st)
{
	uint16_t dport = rte_be_to_cpu_16(udp->dst_port);
	const uint32_t *ports;
	struct relay_job *j;

	if (dport < l3->relay_lo || dport > l3->relay_hi ||
		!(ports = turn_relay6_ports(ifi, ip->dst_addr)))
		return false;
	if (unlikely(!udp->dgram_cksum)) {
		drop(m, st, DP_DROP_TURN_MALFORMED);
		return true;
	}
	j = &rb->p2c[rb->n_p2c++];
	relay_job_set6(j, m, ip, udp, ulen);
	j->ports = ports;
	return true;
}

static inline void ipv6_input(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	struct rte_ether_hdr *eth, uint64_t tsc, uint32_t now_s, struct relay_batch *rb,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct dp_if *ifp = &l3->ifs[ifi];
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	unsigned int frame_l3 = m->data_len - sizeof(*eth), plen, off;
	enum dp_drop_reason r;
	uint8_t proto;

	if (frame_l3 < IP6_HLEN || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return drop(m, st, DP_DROP_IP6_HEADER);
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (plen == 0 || plen > frame_l3 - IP6_HLEN) /* 0: a Jumbo payload, never on Ethernet */
		return drop(m, st, DP_DROP_IP6_LENGTH);
	/* ours, or a group of ours; and a unicast address only in a frame to our MAC (one
	 * broadcast or multicast at the link layer would have its reply's source MAC taken
	 * from it) */
	if (ip->dst_addr[0] == 0xff ? !ip6_is_our_group(ifp, ip->dst_addr) :
				      (!ip6_is_ours(ifp, ip->dst_addr) ||
					      rte_is_multicast_ether_addr(&eth->dst_addr)))
		return drop(m, st, DP_DROP_IP6_NOT_LOCAL);
	if (!out->hairpin && ip6_bad_source(ifp, ip->src_addr))
		return drop(m, st, DP_DROP_IP6_SOURCE);
	r = ip6_walk(ip, IP6_HLEN + plen, &proto, &off);
	if (r != DP_DROP_MAX)
		return drop(m, st, r);
	/* only duplicate address detection's solicitations come from :: (RFC 4861 7.1.1) */
	if (ip6_is_unspec(ip->src_addr) &&
		(proto != IPPROTO_ICMPV6 || off >= IP6_HLEN + plen ||
			((const uint8_t *)ip)[off] != ND_NEIGHBOR_SOLICIT))
		return drop(m, st, DP_DROP_IP6_SOURCE);

	/* Ethernet pads short frames; what we answer carries none of that */
	if (frame_l3 > IP6_HLEN + plen)
		rte_pktmbuf_trim(m, frame_l3 - IP6_HLEN - plen);

	if (proto == IPPROTO_ICMPV6)
		return icmp6_input(l3, ifi, m, eth, ip, off, now_s, out, st);
	/* TCP and UDP: through the firewall, then TURN over UDP on a TURN port (udp_turn6) and
	 * peers' UDP to a relay port of an IPv6 relayed address (udp_relay6); the rest takes the
	 * exception path: the web front end, the callbridge's and the TURN server's TCP and TLS
	 * listeners, and UDP to a relay port of an address with no IPv6 allocations (the
	 * kernel says port unreachable). */
	if (l3->fw[ifi] && !ip6_fw_pass(l3, ifi, m, ip, proto, off, now_s, st))
		return;
	/* the SFU's IPv6 legs: SRTP/SRTCP on a media port (sfu_input6); the rest of what comes
	 * to a media port (STUN, DTLS) goes on to the media server's socket */
	if (proto == IPPROTO_UDP && off == IP6_HLEN && l3->media_port[ifi] &&
		plen >= sizeof(struct rte_udp_hdr)) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
		uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);

		if (ulen >= sizeof(*udp) && ulen <= plen &&
			sfu_is_media_port6(l3, ifi, ip->dst_addr, udp->dst_port) &&
			sfu_input6(l3, m, ip, udp, ulen, tsc, out, st))
			return;
	}
	if (proto == IPPROTO_UDP && off == IP6_HLEN && l3->turn_port &&
		plen >= sizeof(struct rte_udp_hdr)) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
		uint16_t ulen = rte_be_to_cpu_16(udp->dgram_len);

		if (ulen >= sizeof(*udp) && ulen <= plen) {
			if ((udp->dst_port == l3->turn_port ||
				    (udp->dst_port == l3->turn_port2 && l3->turn_port2)) &&
				(l3->turn_listen & (1u << ifi)))
				return udp_turn6(l3, ifi, m, ip, udp, ulen, rb, out, st);
			if (udp_relay6(l3, ifi, m, ip, udp, ulen, rb, st))
				return;
		}
	}
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
			!rte_is_broadcast_ether_addr(&eth->dst_addr) &&
			!(ifp->v6 && eth->dst_addr.addr_bytes[0] == 0x33 &&
				eth->dst_addr.addr_bytes[1] == 0x33)) {
			/* IPv6 multicast (33:33, RFC 2464 7) is taken when the interface has
			 * IPv6: the solicitations for its addresses go to such groups */
			drop(m, st,
				rte_is_same_ether_addr(&eth->src_addr, &ifp->mac) ?
					DP_DROP_L2_OWN_FRAME :
					DP_DROP_L2_OTHER_HOST);
			continue;
		}
		/* our own broadcasts and multicasts come back on a tap (af_packet echoes them);
		 * only a hairpin carries our source in on purpose */
		if (unlikely(rte_is_same_ether_addr(&eth->src_addr, &ifp->mac)) && !out->hairpin) {
			drop(m, st, DP_DROP_L2_OWN_FRAME);
			continue;
		}
		/* no station sends from a group address (IEEE 802.3): what is answered in place
		 * (ARP, echo, ND) would go to that group */
		if (unlikely(rte_is_multicast_ether_addr(&eth->src_addr))) {
			drop(m, st, DP_DROP_L2_SOURCE);
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
			if (rte_is_multicast_ether_addr(&eth->dst_addr)) /* broadcast, 33:33 */
				drop(m, st, DP_DROP_IP_NOT_LOCAL);
			else
				ipv4_input(l3, ifi, m, eth, tsc, now_s, &rb, out, st);
			break;
		case RTE_BE16(RTE_ETHER_TYPE_IPV6):
			if (ifp->v6)
				ipv6_input(l3, ifi, m, eth, tsc, now_s, &rb, out, st);
			else
				drop(m, st, DP_DROP_L2_ETHERTYPE);
			break;
		default:
			drop(m, st, DP_DROP_L2_ETHERTYPE);
		}
	}
	if (rb.n_c2p | rb.n_p2c)
		relay_run(l3, ifi, &rb, tsc, out, st);
}

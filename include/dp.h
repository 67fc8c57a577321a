/* Contract between the control plane and the data-plane workers: the L3 table the control
 * plane publishes (interfaces, addresses, routes), per-lcore counters with their drop
 * reasons, and the worker descriptor.
 *
 * dp_l3_current: written by the control plane only (one thread), published with
 * edge_rcu_publish(); read by workers lock-free. A published dp_l3 is immutable. */
#ifndef EDGE_DP_H
#define EDGE_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "edge_limits.h"
#include "fw.h"

struct dp_if {
	bool present;
	bool up;	      /* administratively up: has at least one address */
	uint16_t port_id;     /* DPDK port of the interface */
	uint16_t tap_port_id; /* DPDK port of its kernel TAP mirror */
	struct rte_ether_addr mac;
	uint8_t n_addrs;
	uint32_t addr[EDGE_MAX_ADDRS]; /* network byte order */
	uint32_t mask[EDGE_MAX_ADDRS];
	uint32_t gateway; /* first configured gateway, or 0 */
	/* IPv6 (issue 18): on when the interface has a global address; then it also answers
	 * for its link-local address, fe80::/64 with the EUI-64 of its MAC */
	bool v6;
	uint8_t n_addrs6;
	uint8_t addr6[EDGE_MAX_ADDRS][16];
	uint8_t prefix6[EDGE_MAX_ADDRS];
	uint8_t ll6[16];      /* all zero while its duplicate address detection runs */
	uint8_t gateway6[16]; /* first configured gateway, or all zero */
	/* addresses (the link-local among them) whose duplicate address detection is running
	 * (RFC 4862 5.4): not ours yet, but an advertisement of one, or another node's
	 * detection of it, goes to the control plane, which then refuses it */
	uint8_t n_tent6;
	uint8_t tent6[EDGE_MAX_ADDRS + 1][16];
};

struct dp_l3 {
	struct dp_if ifs[EDGE_MAX_IFACES];
	int8_t default_if; /* interface of the default route, -1 = none */
	uint32_t default_gw;
	/* TURN: where clients and peers reach the relay (the allocations are in turn_tables.h) */
	uint16_t turn_port;	     /* network byte order; 0 = TURN off */
	uint16_t turn_port2;	     /* the browser port (443), the same way; 0 = none */
	uint16_t relay_lo, relay_hi; /* relay port range, host order */
	int8_t relay_if;	     /* where the relay's address is (-1 = none) ... */
	uint32_t relay_ip;	     /* ... and that address: the range is the relay's there
					 * (and on addresses that still hold allocations), the
					 * kernel's everywhere else */
	uint8_t turn_listen;	     /* bit i: interface i takes TURN clients */
	uint64_t turn_rate; /* per allocation and direction: bytes per TSC tick << 32; 0 = no cap */
	/* the interfaces' compiled firewalls (NULL: disabled); owned by this table */
	struct fw_ruleset *fw[EDGE_MAX_IFACES];
	uint32_t turn_burst; /* bucket depth, bytes */
	/* the callbridge's media port on each interface (network order, 0 = none) and the
	 * address it is on: the SFU's fast path (sfu.h) */
	uint16_t media_port[EDGE_MAX_IFACES];
	uint32_t media_ip[EDGE_MAX_IFACES];
	/* the interfaces' own MACs, packed: a packet we address to one of them (a TURN client's
	 * datagram for our own media port or relay port, the SFU's for a leg that comes through
	 * our relay) is a hairpin: the worker hands it back to the input stages, never to the
	 * wire (DESIGN: media legs through our own relay) */
	uint8_t n_own_macs;
	struct rte_ether_addr own_mac[EDGE_MAX_IFACES];
	uint8_t own_mac_ifi[EDGE_MAX_IFACES];
};

extern struct dp_l3 *dp_l3_current;

/* Why a packet was dropped. Every drop is counted under exactly one reason. */
#define DP_DROP_REASONS(X)                                                                         \
	X(L2_SHORT, "frame shorter than its headers")                                              \
	X(L2_OTHER_HOST, "destination MAC not ours, broadcast, nor (IPv6 on) 33:33 multicast")     \
	X(L2_OWN_FRAME, "our own transmitted frame seen again (af_packet echoes them)")            \
	X(L2_SOURCE, "source MAC is multicast or broadcast (a reply would go to a group)")         \
	X(L2_ETHERTYPE, "ethertype not handled (VLAN, ..., or IPv6 where the interface has none)") \
	X(ARP_MALFORMED, "ARP not Ethernet/IPv4 or truncated")                                     \
	X(ARP_NOT_FOR_US, "ARP request for an address that is not ours")                           \
	X(ARP_OTHER, "ARP reply not addressed to us")                                              \
	X(ARP_OFF_SUBNET, "ARP reply from a sender not on the interface's subnets")                \
	X(IP_HEADER, "IPv4 version or header length invalid")                                      \
	X(IP_LENGTH, "IPv4 total length does not fit the frame")                                   \
	X(IP_CHECKSUM, "IPv4 header checksum wrong")                                               \
	X(UDP_CHECKSUM, "UDP checksum wrong (a request for the TURN server)")                      \
	X(IP_TTL, "IPv4 TTL is zero")                                                              \
	X(IP_FRAGMENT, "IPv4 fragment (not reassembled)")                                          \
	X(IP_NOT_LOCAL, "IPv4 destination is not an address of this interface")                    \
	X(IP_SOURCE, "IPv4 source is broadcast, multicast, loopback or ours")                      \
	X(ICMP_MALFORMED, "ICMP truncated or checksum wrong")                                      \
	X(IP6_HEADER, "IPv6 version not 6 or header truncated")                                    \
	X(IP6_LENGTH, "IPv6 payload length does not fit the frame (or 0: a Jumbo payload)")        \
	X(IP6_SOURCE, "IPv6 source multicast, unspecified (except DAD-NS), loopback or ours")      \
	X(IP6_NOT_LOCAL,                                                                           \
		"IPv6 destination not an address of this interface nor a multicast group it "      \
		"is in")                                                                           \
	X(IP6_EXT_HEADER,                                                                          \
		"IPv6 extension headers: too many (more than 4), truncated, or of a kind not "     \
		"handled")                                                                         \
	X(IP6_FRAGMENT, "IPv6 fragment (not reassembled)")                                         \
	X(ICMP6_MALFORMED, "ICMPv6 truncated, checksum wrong, or Neighbour Discovery malformed")   \
	X(ICMP6_ECHO_MCAST, "ICMPv6 echo request to a multicast group (never answered)")           \
	X(ICMP6_OTHER, "ICMPv6 not taken: router discovery, redirects, others' MLD reports")       \
	X(ND_HOP_LIMIT, "Neighbour Discovery with hop limit not 255 (from off the link)")          \
	X(ND_NOT_FOR_US, "neighbour solicitation for an address not ours")                         \
	X(FIREWALL, "refused by the interface firewall")                                           \
	X(IF_DOWN, "interface has no address")                                                     \
	X(TX_FULL, "port transmit queue full")                                                     \
	X(KERNEL_FULL, "kernel TAP queue full")                                                    \
	X(PUNT_FULL, "control-plane queue full")                                                   \
	X(NBR_UNRESOLVED, "next hop did not answer ARP")                                           \
	X(NBR_QUEUE_FULL, "too many packets waiting for ARP")                                      \
	X(TURN_MALFORMED,                                                                          \
		"ChannelData shorter than it says, bad channel, or not STUN/ChannelData")          \
	X(TURN_NO_ALLOC, "no allocation for that client or relay port")                            \
	X(TURN_EXPIRED, "allocation expired")                                                      \
	X(TURN_NO_PERMISSION, "no permission for that peer (or it expired)")                       \
	X(TURN_PEER_PORT, "peer port not permitted (a guest's permission names one port)")         \
	X(TURN_NO_CHANNEL, "channel not bound (or expired)")                                       \
	X(TURN_NH_UNRESOLVED, "next hop towards the peer not resolved yet")                        \
	X(TURN_RATE_LIMIT, "over the allocation's bandwidth cap")                                  \
	X(MEDIA_NO_LEG, "RTP/RTCP on a media port from no connected leg")                          \
	X(MEDIA_MALFORMED, "RTCP compound malformed, or packet in pieces")                         \
	X(MEDIA_AUTH, "SRTP/SRTCP authentication failed (wrong key or tampered)")                  \
	X(MEDIA_REPLAY, "SRTP/SRTCP replayed or too old")                                          \
	X(MEDIA_SSRC, "RTP or RTCP from an SSRC the leg did not announce")                         \
	X(MEDIA_PROTECT, "SRTP protect for a receiver failed")                                     \
	X(MEDIA_NOMBUF, "no mbuf for a receiver's copy")                                           \
	X(HAIRPIN_LOOP, "addressed to ourselves again after a hairpin")                            \
	X(KERNEL_SOURCE6,                                                                          \
		"the kernel's IPv6 from an address not ours: tentative (its duplicate address "    \
		"detection running) or a duplicate")

enum dp_drop_reason {
#define X(name, text) DP_DROP_##name,
	DP_DROP_REASONS(X)
#undef X
		DP_DROP_MAX
};

const char *dp_drop_name(enum dp_drop_reason r);
const char *dp_drop_text(enum dp_drop_reason r);

/* One interface's counters on one lcore: written by that lcore only, summed on read. */
struct dp_if_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t tx_pkts, tx_bytes;
	uint64_t to_kernel, from_kernel;
	uint64_t arp_replies, icmp_echo_replies, punted, stun_binding_replies;
	uint64_t nd_replies;	  /* neighbour advertisements answering solicitations (IPv6) */
	uint64_t arp_not_learned; /* ARP senders refused: off the subnets, or the table full */
	uint64_t relay_c2p_pkts, relay_c2p_bytes; /* TURN: client -> peer, received here */
	uint64_t relay_p2c_pkts, relay_p2c_bytes; /* TURN: peer -> client, received here */
	uint64_t sfu_rx_pkts;			  /* RTP/RTCP to a media port, received here */
	uint64_t sfu_tx_pkts;			  /* copies sent to receivers, from here */
	uint64_t sfu_no_receiver;		  /* authenticated but nobody takes it now */
	uint64_t sfu_rtx_pkts;	/* of sfu_tx_pkts: resent from a cache for a receiver's NACK */
	uint64_t sfu_nack_pkts; /* NACKs sent to senders for their uplink's losses */
	uint64_t hairpin_pkts;	/* our own packets for our own addresses, taken in here */
	uint64_t drops[DP_DROP_MAX];
} __rte_cache_aligned;

struct dp_lcore_stats {
	struct dp_if_stats ifs[EDGE_MAX_IFACES];
} __rte_cache_aligned;

/* Slot EDGE_MAX_WORKERS belongs to the control plane (what it sends and drops). */
extern struct dp_lcore_stats dp_stats[EDGE_MAX_WORKERS + 1];
#define DP_STATS_CP EDGE_MAX_WORKERS

void dp_stats_sum(int ifi, struct dp_if_stats *out);

/* What a punted mbuf is for; carried in mbuf->hash.usr. */
enum dp_punt_kind {
	DP_PUNT_ARP_REPLY = 1, /* learn the sender, then hand the reply to the kernel */
	DP_PUNT_ARP_LEARN,     /* a request for us from a sender we did not know */
	DP_PUNT_RESOLVE,       /* IPv4 packet ready to send but its next hop is unresolved */
	DP_PUNT_PING_REPLY,    /* echo reply to the control plane's own ping (edgectl ping) */
	DP_PUNT_TURN_STREAM,   /* a peer's datagram for a TURN client on TCP/TLS (permitted) */
	DP_PUNT_TURN,	       /* a STUN message for the TURN server (Allocate, Refresh, ...);
				 * the interface it came in on in hash.fdir.hi */
	DP_PUNT_ND_DAD,	       /* neighbour discovery about an address of ours that another
				 * node claims or is detecting: an advertisement, or a detection's
				 * solicitation (source ::), for a tentative or assigned address;
				 * the ICMPv6 message's offset from the IPv6 header in hash.fdir.hi */
	DP_PUNT_ND_ADVERT,     /* a neighbour advertisement for another node's address: learn
				 * the target (IPv6's DP_PUNT_ARP_REPLY), then hand it to the kernel;
				 * the ICMPv6 message's offset from the IPv6 header in hash.fdir.hi */
};

/* Wakes the control plane when a worker punts while it sleeps in poll: it sets @sleeping
 * before it blocks and checks the rings after; a worker that punts reads it after its
 * enqueue and, if set, clears it and writes the eventfd (both sides sequentially
 * consistent, so one of them always sees the other). */
struct dp_wake {
	int fd; /* eventfd, or -1 */
	uint32_t sleeping;
} __rte_cache_aligned;

static inline void dp_wake_kick(struct dp_wake *wk)
{
	static const uint64_t one = 1;

	if (wk && wk->fd >= 0 && __atomic_load_n(&wk->sleeping, __ATOMIC_SEQ_CST) &&
		__atomic_exchange_n(&wk->sleeping, 0, __ATOMIC_SEQ_CST))
		(void)!write(wk->fd, &one, sizeof(one));
}

/* ICMP identifier of the control plane's echo requests: their replies are punted to it. */
#define DP_PING_IDENT 0xed6e

/* Where a burst's packets go after the per-packet stages. */
struct dp_burst_out {
	struct rte_mbuf *fwd[EDGE_MAX_IFACES][EDGE_MAX_BURST]; /* relayed: out of that interface */
	uint16_t n_fwd[EDGE_MAX_IFACES];
	uint8_t fwd_mask;			 /* interfaces with n_fwd > 0 */
	struct rte_mbuf *tx[EDGE_MAX_BURST];	 /* back out of the same port */
	struct rte_mbuf *kernel[EDGE_MAX_BURST]; /* to the interface's TAP mirror */
	struct rte_mbuf *punt[EDGE_MAX_BURST];	 /* to the control plane */
	/* peers' datagrams for TURN clients on TCP/TLS, to the control plane on a ring of their
	 * own: a flood of them never crowds ARP off the punt ring */
	struct rte_mbuf *data[EDGE_MAX_BURST];
	uint16_t n_tx, n_kernel, n_punt, n_data;
	bool hairpin; /* the burst is hairpinned: its sources are our own addresses */
	/* sends fwd[@ifi] now when a fan-out fills it (the SFU's copies); NULL: such copies are
	 * dropped and counted in flush_drops */
	void (*flush)(void *ctx, uint8_t ifi, struct rte_mbuf **pkts, uint16_t n);
	void *flush_ctx;
	uint64_t flush_drops;
};

/* Frees every mbuf the stages queued in @out (a caller that sends none of them: the tests,
 * the fuzzers) and empties it. */
static inline void dp_burst_out_free(struct dp_burst_out *out)
{
	for (int i = 0; i < EDGE_MAX_IFACES; i++)
		rte_pktmbuf_free_bulk(out->fwd[i], out->n_fwd[i]);
	rte_pktmbuf_free_bulk(out->tx, out->n_tx);
	rte_pktmbuf_free_bulk(out->kernel, out->n_kernel);
	rte_pktmbuf_free_bulk(out->punt, out->n_punt);
	rte_pktmbuf_free_bulk(out->data, out->n_data);
	memset(out, 0, sizeof(*out));
}

/* The interface whose MAC @mac is, -1 when it is none of ours. */
static inline int dp_own_mac(const struct dp_l3 *l3, const struct rte_ether_addr *mac)
{
	for (unsigned int i = 0; i < l3->n_own_macs; i++)
		if (rte_is_same_ether_addr(&l3->own_mac[i], mac))
			return l3->own_mac_ifi[i];
	return -1;
}

/* Runs the per-packet stages (L2, ARP, IPv4, ICMP, classification) over a burst received
 * on interface @ifi and sorts the packets into @out; drops are freed and counted in @st. */
void dp_port_input(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf **pkts, uint16_t n,
	struct dp_burst_out *out, struct dp_if_stats *st);

/* Kernel -> wire on interface @ifp: whether the kernel mirror's frame @m may leave. The
 * kernel holds every configured IPv6 address, but one is ours only once duplicate address
 * detection found nobody else with it: from a tentative address or a duplicate nothing is
 * sent (RFC 4862 5.4), nor from an address not the interface's; the unspecified address
 * (the kernel's own detection, MLD before a link-local) may. Other families pass. */
bool dp_kernel_may_send(const struct dp_if *ifp, const struct rte_mbuf *m);

/* A worker lcore's work list. */
struct dp_rxq {
	uint16_t port_id, queue_id;
	uint8_t ifi;
	bool is_tap; /* kernel -> wire */
};

struct dp_worker {
	unsigned int id; /* 0..n_workers-1: its tx queue on every port, its stats slot */
	unsigned int lcore_id;
	struct dp_rxq rxq[2 * EDGE_MAX_IFACES];
	unsigned int n_rxq;
	struct rte_ring *punt_ring;   /* to the control plane, shared by all workers */
	struct rte_ring *data_ring;   /* likewise, for struct dp_burst_out's data[] */
	struct rte_ring *inject_ring; /* from the control plane, this worker's own */
	struct dp_wake *cp_wake;      /* the control plane's, kicked after a punt */
	unsigned int burst;
	unsigned int idle_sleep_us; /* the longest sleep of the back-off */
	volatile bool *stop;
	struct dp_wake wake; /* its own: the control plane kicks it after an inject */
	/* for `edgectl status`: passes, idle passes, sleeps; wakes from the deepest sleeps to
	 * find packets waiting, and the largest such first burst (what an idle worker risks) */
	uint64_t loops, idle_loops, sleeps, deep_wakes;
	uint16_t deep_wake_max;
};

int dp_worker_main(void *arg);

/* The firewall's state the workers share: the flow table of the appliance's own connections
 * (replies pass a default deny), and per lcore an array of EDGE_MAX_IFACES hit counters.
 * Both set up before the workers start. */
extern struct fw_flowtab *dp_fw_flows;
extern struct fw_counters *dp_fw_counters[RTE_MAX_LCORE];

/* Port ids to interface index, and which ports are TAP mirrors; set before workers start,
 * never changed after. */
extern uint8_t dp_port_ifi[RTE_MAX_ETHPORTS];
extern bool dp_port_is_tap[RTE_MAX_ETHPORTS];

#endif

/* IPv6 duplicate address detection (RFC 4862 5.4) and unsolicited neighbour advertisements
 * (RFC 4861 7.2.6) for the interfaces' addresses, the link-local among them: the state of
 * each, which the owner (the appliance) reads when it builds the data plane's L3 table.
 * Control-plane thread only. The owner fills in the environment (ctx, mp, tsc_hz, mac, send,
 * changed) before the first tick. */
#ifndef EDGE_ND_DAD_H
#define EDGE_ND_DAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "edge_config.h"
#include "edge_limits.h"

enum nd_dad_state { ND_DAD_TENTATIVE, ND_DAD_PREFERRED, ND_DAD_DUPLICATE };
#define ND_DAD_MAX (EDGE_MAX_IFACES * (EDGE_MAX_ADDRS + 1))

struct nd_dad_entry {
	uint8_t addr[16];
	uint8_t ifi;
	uint8_t state;	   /* enum nd_dad_state */
	bool announced;	   /* the unsolicited advertisement went out */
	uint8_t other[6];  /* the MAC of the last other node that claimed it */
	uint64_t sent_tsc; /* the detection's solicitation; 0: not sent yet */
	uint64_t conflicts, logged_tsc;
};

struct nd_dad {
	struct nd_dad_entry e[ND_DAD_MAX];
	unsigned int n;
	/* the environment */
	void *ctx;
	struct rte_mempool *mp;
	uint64_t tsc_hz;
	struct rte_ether_addr mac[EDGE_MAX_IFACES];		  /* the interfaces' */
	void (*send)(void *ctx, uint8_t ifi, struct rte_mbuf *m); /* out of @ifi's port */
	void (*changed)(void *ctx); /* a state changed: the L3 table is to be built anew */
};

/* The state of @addr on @ifi: tentative when unknown (an address the tick has not seen). */
enum nd_dad_state nd_dad_state(const struct nd_dad *d, int ifi, const uint8_t addr[16]);
/* Its text for the pages: "preferred", "tentative", "duplicate: in use by <MAC>, not used". */
const char *nd_dad_describe(const struct nd_dad *d, int ifi, const uint8_t addr[16], char *buf,
	size_t len);
/* After every configuration change and every 100 ms: starts the detections of the addresses
 * @cfg gained (forgets those it lost), ends those whose second has passed, announces them;
 * calls changed() when a state changed. */
void nd_dad_tick(struct nd_dad *d, const struct edge_cfg *cfg);
/* A neighbour solicitation for @target out of @ifi, to its solicited-node group (ff02::1:ffXX:XXXX,
 * Ethernet 33:33:ff:XX:XX:XX), hop limit 255: from @src with our source link-layer address
 * option (address resolution, RFC 4861 7.2.2), or from :: without (duplicate address
 * detection). Needs the environment (mp, mac, send). */
void nd_send_ns(struct nd_dad *dd, uint8_t ifi, const uint8_t src[16], const uint8_t target[16]);
/* What the data plane punted (DP_PUNT_ND_DAD): another node's advertisement of one of our
 * addresses, or its detection of a tentative one. Consumes @m. */
void nd_dad_input(struct nd_dad *d, const struct edge_cfg *cfg, struct rte_mbuf *m);

#endif

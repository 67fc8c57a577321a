/* The TURN server's control plane (RFC 8656 over UDP): authentication, allocations,
 * permissions and channels, their lifetimes, and the tables it publishes for the data
 * plane's fast path (include/turn_tables.h). It sees datagrams and answers them; how they
 * arrive (a kernel socket on the TAP mirror) and how next hops are resolved are the
 * appliance's business, given through turn_env. Single-threaded: the control plane's. */
#ifndef EDGE_TURN_SERVER_H
#define EDGE_TURN_SERVER_H

#include <stdint.h>
#include <stdio.h>

#include "edge_config.h"

struct turn_env {
	void *ctx;
	/* The MAC of the next hop towards @ip out of interface @ifi (@ip itself on a connected
	 * subnet, else the interface's gateway): 0, -EAGAIN while ARP runs (the server asks
	 * again on its tick), or -ENETUNREACH. */
	int (*resolve)(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6]);
	uint64_t (*now_ms)(void *ctx);	/* monotonic */
	uint64_t (*unix_s)(void *ctx);	/* wall clock, for REST API credentials */
};

struct turn_stats {
	uint64_t requests, responses_ok, responses_err, retransmits, discarded;
	uint64_t allocations_created, allocations_expired, allocations_deleted;
	uint64_t auth_failures, stale_nonces, quota_refusals, forbidden_peers;
	uint64_t err[700];		/* responses by error code */
};

struct turn_server;

struct turn_server *turn_server_new(const struct edge_cfg *cfg, const struct turn_env *env);
void turn_server_free(struct turn_server *s);
/* Takes a new configuration (credentials, limits, addresses); ends every allocation when
 * TURN is disabled. */
void turn_server_config(struct turn_server *s, const struct edge_cfg *cfg);

/* One datagram from a client: @src -> @dst (the server address and port it was sent to),
 * received on interface @ifi. Writes the answer into @out and returns its length, or 0 when
 * nothing is to be sent back. Addresses and ports in network byte order. */
size_t turn_server_input(struct turn_server *s, uint8_t ifi, uint32_t src_ip, uint16_t src_port,
	uint32_t dst_ip, uint16_t dst_port, const uint8_t *buf, size_t len, uint8_t *out, size_t cap);

/* Lifetimes, and next hops that were still being resolved. Call every ~100 ms. */
void turn_server_tick(struct turn_server *s);

unsigned int turn_server_allocations(const struct turn_server *s);
const struct turn_stats *turn_server_stats(const struct turn_server *s);
void turn_server_list(const struct turn_server *s, FILE *out);	/* `turn allocations` */
void turn_server_print_stats(const struct turn_server *s, FILE *out);	/* `turn stats` */

#endif

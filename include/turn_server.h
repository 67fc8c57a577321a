/* The TURN server's control plane (RFC 8656 over UDP): authentication, allocations,
 * permissions and channels, their lifetimes, and the tables it publishes for the data
 * plane's fast path (include/turn_tables.h). It sees datagrams and answers them; how they
 * arrive (a kernel socket on the TAP mirror) and how next hops are resolved are the
 * appliance's business, given through turn_env. Single-threaded: the control plane's. */
#ifndef EDGE_TURN_SERVER_H
#define EDGE_TURN_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "edge_config.h"

enum turn_transport { TURN_UDP, TURN_TCP, TURN_TLS };

/* Where a client's message came from. Addresses and ports in network byte order. */
struct turn_src {
	uint8_t ifi;	     /* the interface it arrived on */
	uint8_t transport;   /* enum turn_transport */
	uint32_t ip, dst_ip; /* the client, and the server address it reached */
	uint16_t port, dst_port;
	uint32_t conn; /* its stream connection (nonzero), 0 over UDP */
	/* an IPv6 client (on a stream: issue 18): the addresses are in ip6 and dst_ip6, and
	 * ip and dst_ip are 0 */
	bool v6;
	uint8_t ip6[16], dst_ip6[16];
	uint8_t mac[6]; /* an IPv6 UDP client's request came from this MAC: the way back */
};

/* "a.b.c.d" or the IPv6 text of @src's client address. */
const char *turn_src_str(const struct turn_src *src, char buf[46]);

struct turn_env {
	void *ctx;
	/* The MAC of the next hop towards @ip out of interface @ifi (@ip itself on a connected
	 * subnet, else the interface's gateway): 0, -EAGAIN while ARP runs (the server asks
	 * again on its tick), or -ENETUNREACH. */
	int (*resolve)(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6]);
	/* The same for an IPv6 peer (neighbour discovery); NULL: IPv6 peers are unreachable. */
	int (*resolve6)(void *ctx, uint8_t ifi, const uint8_t ip[16], uint8_t mac[6]);
	uint64_t (*now_ms)(void *ctx); /* monotonic */
	uint64_t (*unix_s)(void *ctx); /* wall clock, for REST API credentials */
	/* Stream clients' relayed data: a UDP datagram of @len bytes from the relay address
	 * to the peer, whose next hop is @mac, out of interface @ifi. May be NULL (dropped). */
	void (*to_peer)(void *ctx, uint8_t ifi, uint32_t relay_ip, uint16_t relay_port,
		uint32_t peer_ip, uint16_t peer_port, const uint8_t mac[6], const uint8_t *data,
		size_t len);
	/* The same from an IPv6 relayed address to an IPv6 peer; NULL: stream clients get no
	 * IPv6 relayed address (440). */
	void (*to_peer6)(void *ctx, uint8_t ifi, const uint8_t relay_ip[16], uint16_t relay_port,
		const uint8_t peer_ip[16], uint16_t peer_port, const uint8_t mac[6],
		const uint8_t *data, size_t len);
	/* TCP relays (RFC 6062), done by the stream layer; NULL: Allocate for TCP gets 442.
	 * A listener on the relay address and port of an allocation made over connection
	 * @conn (peers' connections to it are offered to the client): 0 or -errno. */
	int (*tcp_listen)(void *ctx, uint32_t conn, uint32_t relay_ip, uint16_t relay_port);
	/* The allocation ended: its listener and its peer connections close. */
	void (*tcp_unlisten)(void *ctx, uint32_t relay_ip, uint16_t relay_port);
	/* Connect: a TCP connection from the relay address to the peer, answered later with
	 * turn_server_connect_done(). 0, -EEXIST if one to that peer exists, or -errno. */
	int (*tcp_connect)(void *ctx, uint32_t conn, uint32_t relay_ip, uint16_t relay_port,
		uint32_t peer_ip, uint16_t peer_port, const uint8_t tid[12]);
	/* The control connection whose allocation peer connection @cid belongs to, or 0 if
	 * there is no such connection waiting for its ConnectionBind. */
	uint32_t (*tcp_owner)(void *ctx, uint32_t cid);
	/* ConnectionBind accepted: data connection @conn carries @cid's bytes from now on. */
	void (*tcp_bind)(void *ctx, uint32_t conn, uint32_t cid);
};

struct turn_stats {
	uint64_t requests, responses_ok, responses_err, retransmits, discarded;
	uint64_t allocations_created, allocations_expired, allocations_deleted;
	uint64_t auth_failures, stale_nonces, quota_refusals, forbidden_peers;
	uint64_t guest_refusals; /* of forbidden_peers: a guest's peer was no media target */
	uint64_t stream_c2p, stream_p2c, stream_drops; /* relayed for stream clients */
	uint64_t reservations_refused; /* EVEN-PORT R=1 with the table full; bad tokens */
	uint64_t reservations_expired; /* held ports handed back unused */
	uint64_t challenges_dropped;   /* unauthenticated UDP answers over the per-source rate */
	uint64_t err[700];	       /* responses by error code */
};

/* Allocate latency, from a request reaching the server (turn_server_input or
 * turn_server_stream_input) to its answer built, by the answer: a success, a challenge (401
 * or 438: credentials or a fresh nonce wanted) or another error. Retransmissions answered
 * from the cache, and requests left unanswered, are not counted. */
enum turn_alloc_result {
	TURN_ALLOC_OK,
	TURN_ALLOC_CHALLENGE,
	TURN_ALLOC_ERROR,
	TURN_ALLOC_RESULTS
};
#define TURN_ALLOC_BOUNDS 16
/* The buckets' upper bounds, in seconds (10 us .. 1 s), increasing. */
extern const double turn_alloc_bounds_s[TURN_ALLOC_BOUNDS];

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
	uint32_t dst_ip, uint16_t dst_port, const uint8_t *buf, size_t len, uint8_t *out,
	size_t cap);
/* The same from an IPv6 client (issue 18), whose datagram came from Ethernet address @mac:
 * its allocation relays from the IPv4 relay address, and the data plane sends it what peers
 * send towards that MAC. */
size_t turn_server_input6(struct turn_server *s, uint8_t ifi, const uint8_t src_ip[16],
	uint16_t src_port, const uint8_t dst_ip[16], uint16_t dst_port, const uint8_t mac[6],
	const uint8_t *buf, size_t len, uint8_t *out, size_t cap);

/* One whole frame from a stream client (TCP or TLS; framed with stun_frame_len()): a STUN
 * message, or ChannelData with its padding. Requests are answered into @out (the length is
 * returned, 0 for none); ChannelData and Send indications go to their peer via
 * env->to_peer. The same allocations, permissions, channels, credentials and quotas as over
 * UDP; an allocation made over a connection lives no longer than it. */
size_t turn_server_stream_input(struct turn_server *s, const struct turn_src *src,
	const uint8_t *buf, size_t len, uint8_t *out, size_t cap);
/* The connection @conn closed: its allocation ends. */
void turn_server_stream_closed(struct turn_server *s, uint32_t conn);
/* Whether connection @conn holds an allocation. */
bool turn_server_stream_allocated(const struct turn_server *s, uint32_t conn);
/* A datagram from a peer (the data plane handed it over: it reached the relay port of a
 * stream client's allocation and passed the permission check), framed for that client's
 * stream into @out: ChannelData padded to four bytes, or a Data indication. Returns the
 * length and the connection to write it to, or 0 (no such allocation, or no permission). */
size_t turn_server_from_peer(struct turn_server *s, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t *data, size_t len, uint8_t *out,
	size_t cap, uint32_t *conn);
/* The same from an IPv6 peer to an IPv6 relayed address. */
size_t turn_server_from_peer6(struct turn_server *s, const uint8_t relay_ip[16],
	uint16_t relay_port, const uint8_t peer_ip[16], uint16_t peer_port, const uint8_t *data,
	size_t len, uint8_t *out, size_t cap, uint32_t *conn);

/* RFC 6062. The answer to the Connect that connection @conn sent with transaction @tid:
 * success with CONNECTION-ID @cid, or 447 when @err; 0 if the allocation is gone. */
size_t turn_server_connect_done(struct turn_server *s, uint32_t conn, const uint8_t tid[12],
	uint32_t cid, int err, uint8_t *out, size_t cap);
/* A peer connected to relay port @relay_port: the ConnectionAttempt indication for the
 * allocation's control connection (*@conn), or 0 when no TCP allocation there has a
 * permission for @peer_ip (the connection is then refused). */
size_t turn_server_connection_attempt(struct turn_server *s, uint16_t relay_port, uint32_t peer_ip,
	uint16_t peer_port, uint32_t cid, uint8_t *out, size_t cap, uint32_t *conn);

/* Guests: an allocation authenticated with a TURN REST API credential (the shared secret;
 * the callbridge gives one to each guest) may reach only media targets, the (IPv4, UDP port)
 * pairs the appliance names here: CreatePermission to another address, ChannelBind to
 * another port, and Connect get 403, and a permission carries its target's port, which the
 * data plane checks (turn_perm.port). Operators' static credentials follow the peer policy
 * (cfg_turn_peer_verdict). Network byte order. */
struct turn_media_target {
	uint32_t ip;
	uint16_t port;
};
#define TURN_MAX_MEDIA_TARGETS 64
/* Replaces the list (copied; entries past TURN_MAX_MEDIA_TARGETS, and ones with address or
 * port 0, are ignored). Guests' permissions and channels to what is no longer listed go,
 * and their allocations are republished. */
void turn_server_set_media_targets(struct turn_server *s, const struct turn_media_target *t,
	unsigned int n);
/* "Guest peers             : <ip:port>, ..." ("none" when empty), for the `turn` page. */
void turn_server_print_guest_peers(const struct turn_server *s, FILE *out);

/* Lifetimes, and next hops that were still being resolved. Call every ~100 ms. */
void turn_server_tick(struct turn_server *s);
/* A neighbour was learnt (an ARP reply): allocations waiting for a next hop are published now,
 * not at the next tick, so a peer's first packets after its ChannelBind are not dropped for
 * want of the MAC for up to a tick. */
void turn_server_neighbour_learned(struct turn_server *s);

unsigned int turn_server_allocations(const struct turn_server *s);
const struct turn_stats *turn_server_stats(const struct turn_server *s);
/* One result's Allocate latency histogram, safe to read from any thread while the control
 * thread serves (atomic loads): @bucket[i] counts the answers in (bounds[i-1], bounds[i]],
 * @bucket[TURN_ALLOC_BOUNDS] those slower than the last bound (not cumulative); @sum_s gets
 * their total time in seconds. Returns their count (the buckets' sum). */
uint64_t turn_server_alloc_latency(const struct turn_server *s, enum turn_alloc_result res,
	uint64_t bucket[TURN_ALLOC_BOUNDS + 1], double *sum_s);
void turn_server_list(const struct turn_server *s, FILE *out);	      /* `turn allocations` */
void turn_server_print_stats(const struct turn_server *s, FILE *out); /* `turn stats` */

#endif

/* TURN over TCP and TLS (RFC 8656 3.1 and 12.5, RFC 7443): the listeners, the connections
 * and their framing, in the control plane on kernel sockets of the TAP mirrors. Whole frames
 * go to the TURN server (turn_server_stream_input); what the server or a peer has for a
 * client is written into its stream, behind a bounded buffer: a client that does not read
 * loses datagrams, as it would over UDP, and holds up no one else. The browser port (443) takes
 * both TLS and plain TURN on one port, per address, told apart by each connection's first byte.
 *
 * Certificates are loaded into a new TLS context on every change (of the configuration or
 * of the files on disk); a context that fails to load is refused with its reason and the
 * listener keeps the last good one. Connections keep the context they were accepted with.
 * Single-threaded: the control plane's. The process must ignore SIGPIPE (OpenSSL writes to
 * its sockets with write(), and a client may be gone by then). */
#ifndef EDGE_TURN_STREAM_H
#define EDGE_TURN_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "turn_server.h"

#define TSTREAM_MAX_MUX 32

struct tstream_cfg {
	uint16_t tcp_port, tls_port; /* host order; 0 = no listener */
	uint32_t bind_ip;	     /* listen on it only (network order); 0 = all, IPv6 too */
	/* The browser port (Chromium uses TURN below 1024 only on 53, 80, 443): TLS and TURN
	 * over TCP on one port, told apart by the first byte; on each of these addresses only
	 * (another component may hold the port on the others). 0 = none. */
	uint16_t mux_port;
	uint32_t mux_ip[TSTREAM_MAX_MUX]; /* network order */
	unsigned int n_mux;
	uint8_t mux_ip6[TSTREAM_MAX_MUX][16]; /* and these IPv6 addresses */
	unsigned int n_mux6;
	char key[512], cert[512], bundle[512]; /* paths; "" = none */
	uint32_t max_conns, max_per_addr;      /* 0 = no limit */
	uint32_t handshake_s, idle_s;	       /* timeouts; 0 = none */
};

struct tstream_stats {
	uint64_t accepted[2], refused_total, refused_addr, refused_iface; /* [0] TCP, [1] TLS */
	uint64_t handshakes, resumed, alpn_turn;
	uint64_t handshake_fails;	 /* TLS handshakes failed, or refused: no certificate yet */
	uint64_t tls_handshake_timeouts; /* of handshake_timeouts: TLS ones (not sniffing) */
	uint64_t handshake_timeouts, idle_timeouts, tls_errors, framing_errors, oversize;
	uint64_t closed_by_client, frames_in, frames_out, slow_drops;
	uint64_t mux_accepted, mux_tls, mux_tcp; /* the browser port's, and what they were */
	uint64_t bytes_in, bytes_out;
	/* TCP relays (RFC 6062) */
	uint64_t peer_connects, peer_connect_fails, peer_attempts, peer_refused, peer_binds,
		peer_bind_timeouts, peer_bytes[2]; /* [0] client -> peer */
};

struct tstreams;

enum { TSTREAM_TURN, TSTREAM_TLS };

/* What a browser-port connection carries, by its first byte (RFC 7983): TSTREAM_TLS (a
 * ClientHello), TSTREAM_TURN (STUN or ChannelData), or -EPROTO (neither: closed). */
int tstream_first_byte(uint8_t b);

/* @ifi_of: the TURN listen interface that holds local address @addr (AF_INET: 4 bytes,
 * AF_INET6: 16, network order), or -1; connections to any other address are closed at once. */
struct tstreams *tstreams_new(struct turn_server *srv,
	int (*ifi_of)(void *ctx, int family, const void *addr), void *ctx);
/* Closes every connection and listener. */
void tstreams_free(struct tstreams *t);
/* Applies @c: listeners opened or moved, limits, and a TLS context when the files changed.
 * 0, or negative with @err saying what failed (the rest is still applied; a TLS context
 * that failed leaves the last good one in place). */
int tstreams_config(struct tstreams *t, const struct tstream_cfg *c, char *err, size_t errlen);
/* A descriptor to poll for input (an epoll set of every socket). */
int tstreams_fd(const struct tstreams *t);
/* Serves what is ready, a bounded amount. Returns how many events it handled. */
unsigned int tstreams_serve(struct tstreams *t);
/* Whether connections wait to be served with no event to say so (bytes already inside
 * OpenSSL): the caller then calls tstreams_serve() without waiting for the descriptor. */
bool tstreams_pending(const struct tstreams *t);
/* Timeouts, and certificate files changed on disk. Call about every 100 ms. */
void tstreams_tick(struct tstreams *t);
/* Queues @len bytes (one whole frame) for connection @conn. 0, -ENOENT (gone), or -ENOBUFS
 * when the client reads too slowly to take it (the frame is dropped and counted). */
int tstreams_send(struct tstreams *t, uint32_t conn, const uint8_t *frame, size_t len);
/* RFC 6062, for the TURN server (its turn_env calls these): see include/turn_server.h. */
int tstreams_tcp_listen(struct tstreams *t, uint32_t conn, uint32_t relay_ip, uint16_t relay_port);
void tstreams_tcp_unlisten(struct tstreams *t, uint32_t relay_ip, uint16_t relay_port);
int tstreams_tcp_connect(struct tstreams *t, uint32_t conn, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t tid[12]);
uint32_t tstreams_tcp_owner(struct tstreams *t, uint32_t cid);
void tstreams_tcp_bind(struct tstreams *t, uint32_t conn, uint32_t cid);
const struct tstream_stats *tstreams_stats(const struct tstreams *t);
/* Connections open now, TCP and TLS (a browser-port connection counts as TCP until its
 * first byte says TLS). Safe from any thread: the counts are read whole; tstream_stats'
 * counters too (aligned, written by the control thread only). */
void tstreams_open_count(const struct tstreams *t, unsigned int *tcp, unsigned int *tls);
/* The `turn stats` lines. */
void tstreams_print_stats(const struct tstreams *t, FILE *out);

#endif

/* edgeload: a TURN load generator (issue 14). The engine (el_engine.c) runs TURN clients and
 * their peers over a back-end that moves UDP datagrams: kernel sockets (el_sock.c, sendmmsg and
 * recvmmsg, to drive coturn or any server from an ordinary host) or DPDK ports (el_dpdk.c: memif,
 * af_xdp, af_packet or a PCI NIC, to drive an appliance at line rate). The engine never sees a
 * socket or an mbuf; a back-end never sees STUN.
 *
 * Endpoints: the engine numbers the local UDP endpoints 0 .. n_clients-1 (one per allocation:
 * each allocation needs its own 5-tuple) and n_clients .. n_clients+n_peers-1 (the peers, on
 * the far side of the relay). A back-end gives each endpoint its address and moves datagrams
 * from and to it. */
#ifndef EDGE_EL_H
#define EDGE_EL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EL_MAX_BATCH 256  /* datagrams in one send or receive call */
#define EL_MAX_DGRAM 2048 /* bytes of UDP payload an endpoint can send or receive */

/* Where the endpoints live; filled from the command line, read by the back-end's open. */
struct el_net {
	uint32_t n_clients;    /* allocations: one endpoint each */
	uint32_t n_peers;      /* peer endpoints (allocation i uses peer i % n_peers) */
	uint32_t client_ip;    /* first client address, network order */
	uint32_t n_client_ips; /* client addresses: client_ip .. client_ip + n - 1 */
	uint16_t client_port;  /* first client port, host order; 0: back-end's choice */
	uint32_t peer_ip;      /* the peers' address, network order */
	uint16_t peer_port;    /* first peer port, host order */
	uint32_t server_ip;    /* the TURN server, network order */
	uint16_t server_port;  /* host order */
	/* sockets back-end: the network namespaces (names under /var/run/netns) to open the
	 * clients' and the peers' sockets in; NULL: the caller's own */
	const char *client_netns, *peer_netns;
	/* DPDK back-end: EAL arguments (split on spaces) and the two ports (a vdev string such as
	 * "net_memif0,role=client,socket=/run/edge-perf/b.sock" or a PCI address); the client
	 * port faces the TURN server's listen address, the peer port its relay address */
	const char *eal_args, *client_port_dev, *peer_port_dev;
	int lcore; /* CPU to pin the engine's thread to; -1: none */
};

/* One datagram. On send: from endpoint @ep to @rip:@rport. On receive: to endpoint @ep from
 * @rip:@rport, at @rx_ns (CLOCK_MONOTONIC nanoseconds, taken as the back-end received it). */
struct el_dgram {
	uint32_t ep;
	uint32_t rip;	/* network order */
	uint16_t rport; /* network order */
	uint16_t len;
	uint64_t rx_ns;
	uint8_t *data; /* send: the engine's; receive: the back-end's, valid until
					 * the next recv call on that back-end */
};

struct el_backend;

/* A back-end's counters, for the summary: what it could not send or did not understand. */
struct el_backend_stats {
	uint64_t tx_dropped; /* send() could not take it (queue full, ENOBUFS) */
	uint64_t rx_dropped; /* arrived for no endpoint, or malformed, or checksum bad */
	uint64_t rx_other;   /* ARP and the like, handled inside the back-end */
};

struct el_backend_ops {
	const char *name; /* "sock", "dpdk" */
	/* Opens the endpoints of @net. 0, or a negative errno with a message in @err naming what
	 * was wrong ("sock: bind 198.18.20.2:40000: Address already in use"). */
	int (*open)(struct el_backend **b, const struct el_net *net, char *err, size_t errlen);
	/* Endpoint @ep's own address (network order), as the server will see it. */
	void (*local)(const struct el_backend *b, uint32_t ep, uint32_t *ip, uint16_t *port);
	/* Sends up to @n datagrams; returns how many it took (the rest are the caller's to
	 * count as not sent). Never blocks. */
	unsigned int (*send)(struct el_backend *b, const struct el_dgram *d, unsigned int n);
	/* Receives up to @max datagrams, waiting at most @timeout_us for the first (0: poll). */
	unsigned int (*recv)(struct el_backend *b, struct el_dgram *d, unsigned int max,
		unsigned int timeout_us);
	void (*stats)(const struct el_backend *b, struct el_backend_stats *st);
	void (*close)(struct el_backend *b);
};

extern const struct el_backend_ops el_sock_ops;
extern const struct el_backend_ops el_dpdk_ops;

/* CLOCK_MONOTONIC in nanoseconds: the one clock of timestamps, pacing and reports. */
uint64_t el_now_ns(void);

#endif

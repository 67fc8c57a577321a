/* The running appliance as the control plane sees it: configuration, ports, workers, rings,
 * and the operations the CLI calls. One instance, owned by the control-plane thread. */
#ifndef EDGE_APPLIANCE_H
#define EDGE_APPLIANCE_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "cli.h"
#include "dp.h"
#include "edge_config.h"
#include "evloop.h"
#include "metrics.h"
#include "nd_dad.h"
#include "port.h"
#include "turn_server.h"
#include "turn_stream.h"

#define APP_MAX_MEDIA 32
#define APP_MAX_HOOKS 8

/* A component's callback the appliance core calls back (it never calls a component by name:
 * components depend on the core, not the other way round). */
struct app_hook {
	void (*fn)(void *ctx);
	void *ctx;
};

/* A component's handler for packets the workers punted to the control plane; consumes @m. */
struct app_pkt_hook {
	void (*fn)(void *ctx, struct rte_mbuf *m);
	void *ctx;
};

struct appliance {
	char cfg_path[256];
	struct edge_cfg cfg;
	struct port_info ports[EDGE_MAX_IFACES];
	struct dp_worker workers[EDGE_MAX_WORKERS];
	unsigned int n_workers;
	struct rte_mempool *mp;
	struct rte_ring *punt_ring;
	struct rte_ring *data_ring; /* peers' datagrams for TURN clients on TCP/TLS */
	struct dp_wake cp_wake;	    /* kicked by a worker that punts while the loop sleeps */
	volatile bool stop;
	time_t started;
	bool db_refused; /* the callbridge's database cannot be used: edged exits 4 */
	uint64_t tsc_hz;
	struct cli cli;
	struct evloop *loop; /* the control loop: components register their fds there */
	struct metrics_registry *metrics; /* every component's counters (metrics.h) */
	struct {
		uint16_t seq; /* the probe in flight */
		bool answered;
		uint64_t sent_tsc, got_tsc;
	} ping;
	/* TURN (controlplane/turn_glue.c) */
	struct turn_server *turn;
	struct tstreams *streams;    /* TURN over TCP and TLS */
	uint64_t turn_send_errors;   /* UDP answers not sent: no mbuf */
	uint64_t turn_stream_nombuf; /* stream clients' datagrams lost for want of an mbuf */
	/* the callbridges' media ports as webbridge3 heard them over C2W (its thread writes,
	 * under media_lock; the control loop hands them to the TURN server on its tick) */
	pthread_mutex_t media_lock;
	struct turn_media_target media[APP_MAX_MEDIA];
	unsigned int n_media;
	bool media_changed;
	/* webbridge3 and the callbridge: threads of their own (controlplane/web_glue.c) */
	struct wb3 *wb3;
	struct callbridge *cb;
	/* the media server (controlplane/media_glue.c): on the control loop's thread */
	struct media_server *mediasrv;
	/* what components registered (app_on_config, app_on_neighbour, app_on_punt) */
	struct app_hook on_config[APP_MAX_HOOKS], on_neighbour[APP_MAX_HOOKS];
	int n_on_config, n_on_neighbour;
	struct app_pkt_hook on_turn_punt; /* DP_PUNT_TURN: a UDP request for TURN */
	struct app_pkt_hook on_peer_data; /* the data ring: peers' datagrams for TURN's
						 * stream clients */
	struct nd_dad dad;		  /* IPv6 duplicate address detection (nd_dad.h) */
};

/* Components register here: @fn(@ctx) after every change of app->cfg (in registration
 * order), or whenever the data plane learnt a neighbour. 0 or -ENOSPC. */
int app_on_config(struct appliance *app, void (*fn)(void *ctx), void *ctx);
int app_on_neighbour(struct appliance *app, void (*fn)(void *ctx), void *ctx);
/* Who takes TURN's punted requests and the data ring's datagrams (one each; without one
 * they are freed). */
void app_on_turn_punt(struct appliance *app, void (*fn)(void *ctx, struct rte_mbuf *m), void *ctx);
void app_on_peer_data(struct appliance *app, void (*fn)(void *ctx, struct rte_mbuf *m), void *ctx);
/* The data plane's interface commands (status, iface, arp, ping, firewall) into app->cli. */
int app_cli_register(struct appliance *app);

/* Builds the L3 table for the data plane from @cfg and the ports (firewalls compiled):
 * NULL with @err set when a rule set cannot compile. */
struct dp_l3 *app_build_l3(struct appliance *app, const struct edge_cfg *cfg, char *err,
	size_t errlen);
/* Makes @l3 the data plane's and retires the old one after a grace period. */
void app_publish(struct dp_l3 *l3);
/* Both, for start-up. */
int app_publish_l3(struct appliance *app, const struct edge_cfg *cfg);
/* Brings the kernel mirrors' addresses and default route from @old to @next. */
int app_sync_kernel(struct appliance *app, const struct edge_cfg *old, const struct edge_cfg *next,
	char *err, size_t errlen);
/* Handles what the workers punted: ARP and neighbour advertisement learning, and packets
 * waiting for resolution. */
unsigned int app_drain_punts(struct appliance *app);
/* Every 100 ms: neighbour expiry, ARP and neighbour solicitation retries, IPv6 duplicate
 * address detection. */
void app_timers(struct appliance *app);

/* Sends an ARP request for @target out of @ifi. */
void app_arp_request(struct appliance *app, uint8_t ifi, uint32_t target);

/* The media server, where the callbridge runs (before it: the callbridge calls it). */
int app_media_start(struct appliance *app);
void app_media_stop(struct appliance *app);

/* TURN (turn_glue.c): the server, its streams, its commands, counters and tick. */
int app_turn_start(struct appliance *app);
void app_turn_stop(struct appliance *app);
/* Queues @m (a whole frame, Ethernet header filled) to leave through DPDK port @port. */
void app_inject(struct appliance *app, struct rte_mbuf *m, uint16_t port);
/* Whether @ip is one of our own addresses, and the MAC of the interface that holds it: the
 * "next hop" of a hairpin (the worker hands such a packet back to its input stages). */
bool app_own_mac(const struct appliance *app, uint32_t ip, uint8_t mac[6]);
/* The MAC of the next hop towards @ip out of @ifi (@ctx: the appliance), for the TURN server's
 * and the media server's environments: 0; -EAGAIN while ARP is asked (asked here);
 * -ENETUNREACH. One of our own addresses resolves to our own MAC (a hairpin). */
int app_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6]);
/* IPv6's app_own_mac: one of the interfaces' configured addresses or link-locals. */
bool app_own_mac6(const struct appliance *app, const uint8_t ip[16], uint8_t mac[6]);
/* IPv6's app_resolve: our own address gives our MAC (a hairpin); the next hop is @ip itself
 * when on @ifi's link (link-local, or inside one of its prefixes), else the gateway of its
 * longest matching IPv6 route on @ifi, else @ifi's IPv6 default gateway (-ENETUNREACH when
 * none); 0 and the MAC when known; else a neighbour solicitation goes out and -EAGAIN (the
 * on_neighbour hooks run when an advertisement teaches a neighbour). */
int app_resolve6(void *ctx, uint8_t ifi, const uint8_t ip[16], uint8_t mac[6]);
/* Sends an IPv6 frame the control plane built (Ethernet header filled but its destination)
 * to @nexthop out of @ifi: at once when the neighbour is known (or @nexthop is a group),
 * else queued while neighbour discovery resolves it (three solicitations a second apart,
 * then dropped as NBR_UNRESOLVED). Consumes @m; 0, or -ENOSPC (the queue full: dropped as
 * NBR_QUEUE_FULL) or -ENETUNREACH. */
int app_send_ipv6(struct appliance *app, uint8_t ifi, const uint8_t nexthop[16],
	struct rte_mbuf *m);
/* A UDP datagram of @len bytes from (@src, @sport) to (@dst, @dport) (network order) towards
 * @mac, out of @ifi, checksums made; NULL when it would need IP fragments or no mbuf is free. */
struct rte_mbuf *app_udp_frame(struct appliance *app, uint8_t ifi, const uint8_t mac[6],
	uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const uint8_t *data,
	size_t len);
/* The same over IPv6 (16-byte addresses). */
struct rte_mbuf *app_udp_frame6(struct appliance *app, uint8_t ifi, const uint8_t mac[6],
	const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport,
	const uint8_t *data, size_t len);

/* The counters registry, with the interfaces' families (components add theirs as they
 * start; read at collect time, on the caller's thread). 0 or -errno; then app_metrics_stop(). */
int app_metrics_start(struct appliance *app);
void app_metrics_stop(struct appliance *app);

/* The Prometheus endpoint and remote syslog (obs_glue.c): `metrics ...`, `syslog ...`. */
int app_obs_start(struct appliance *app);
void app_obs_stop(struct appliance *app);

/* Starts webbridge3 and the callbridge (each idle while disabled or not in this role). */
int app_web_start(struct appliance *app);
void app_web_stop(struct appliance *app);

extern const struct cli_ops app_cli_ops;

#endif

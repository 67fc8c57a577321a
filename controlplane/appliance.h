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
#include "port.h"
#include "turn_server.h"
#include "turn_stream.h"

#define APP_MAX_MEDIA 32

struct appliance {
	char cfg_path[256];
	struct edge_cfg cfg;
	struct port_info ports[EDGE_MAX_IFACES];
	struct dp_worker workers[EDGE_MAX_WORKERS];
	unsigned int n_workers;
	struct rte_mempool *mp;
	struct rte_ring *punt_ring;
	struct rte_ring *data_ring;	/* peers' datagrams for TURN clients on TCP/TLS */
	struct dp_wake cp_wake;		/* kicked by a worker that punts while the loop sleeps */
	volatile bool stop;
	time_t started;
	uint64_t tsc_hz;
	struct cli cli;
	struct evloop *loop;		/* the control loop: components register their fds there */
	struct metrics_registry *metrics;	/* every component's counters (metrics.h) */
	struct {
		uint16_t seq;		/* the probe in flight */
		bool answered;
		uint64_t sent_tsc, got_tsc;
	} ping;
	/* TURN (controlplane/turn_glue.c) */
	struct turn_server *turn;
	struct tstreams *streams;	/* TURN over TCP and TLS */
	uint64_t turn_send_errors;	/* UDP answers not sent: no mbuf */
	uint64_t turn_stream_nombuf;	/* stream clients' datagrams lost for want of an mbuf */
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
};

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
/* Handles what the workers punted: ARP learning and packets waiting for resolution. */
unsigned int app_drain_punts(struct appliance *app);
/* Once a second: neighbour expiry and ARP retries. */
void app_timers(struct appliance *app);

/* Sends an ARP request for @target out of @ifi. */
void app_arp_request(struct appliance *app, uint8_t ifi, uint32_t target);

/* The media server, where the callbridge runs (before it: the callbridge calls it). */
int app_media_start(struct appliance *app);
void app_media_stop(struct appliance *app);
void app_media_config(struct appliance *app);	/* after app->cfg changed */

int app_turn_start(struct appliance *app);
void app_turn_stop(struct appliance *app);
void app_turn_config(struct appliance *app);	/* after app->cfg changed */
void app_turn_punt(struct appliance *app, struct rte_mbuf *m);	/* a UDP request */
/* Gives the TURN server the media ports guests' relays may reach, when they changed: this
 * appliance's own (callbridge media) and those webbridge3 heard of. On the tick. */
void app_turn_media(struct appliance *app, bool force);
/* Serves TURN's TCP and TLS connections (their descriptor is registered with app->loop). */
unsigned int app_turn_streams(struct appliance *app);
/* A peer's datagram for a stream client (punted by the data plane); consumes @m. */
void app_turn_from_peer(struct appliance *app, struct rte_mbuf *m);
/* Queues @m (a whole frame, Ethernet header filled) to leave through DPDK port @port. */
void app_inject(struct appliance *app, struct rte_mbuf *m, uint16_t port);
/* Whether @ip is one of our own addresses, and the MAC of the interface that holds it: the
 * "next hop" of a hairpin (the worker hands such a packet back to its input stages). */
bool app_own_mac(const struct appliance *app, uint32_t ip, uint8_t mac[6]);
/* The MAC of the next hop towards @ip out of @ifi (@ctx: the appliance), for the TURN server's
 * and the media server's environments: 0; -EAGAIN while ARP is asked (asked here);
 * -ENETUNREACH. One of our own addresses resolves to our own MAC (a hairpin). */
int app_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6]);
/* A UDP datagram of @len bytes from (@src, @sport) to (@dst, @dport) (network order) towards
 * @mac, out of @ifi, checksums made; NULL when it would need IP fragments or no mbuf is free. */
struct rte_mbuf *app_udp_frame(struct appliance *app, uint8_t ifi, const uint8_t mac[6],
	uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const uint8_t *data, size_t len);

/* The counters registry, filled with the interfaces' and TURN's families (read at collect
 * time, on the caller's thread). 0 or -errno; then app_metrics_stop(). */
int app_metrics_start(struct appliance *app);
void app_metrics_stop(struct appliance *app);

/* Starts webbridge3 and the callbridge (each idle while disabled or not in this role). */
int app_web_start(struct appliance *app);
void app_web_stop(struct appliance *app);
int app_web_restart(void *ctx, const char *component, FILE *out);
void app_web_info(void *ctx, const char *what, FILE *out);
bool app_webadmin_running(void *ctx);
void app_web_config(struct appliance *app);	/* after app->cfg changed */

extern const struct cli_ops app_cli_ops;

#endif

/* webbridge3: the guests' web app over HTTPS, their signalling WebSockets, and the C2W
 * listener the callbridges dial (mutual TLS). One thread with its own libwebsockets
 * context; the configuration is read at start and at restart. */
#ifndef EDGE_WB3_H
#define EDGE_WB3_H

#include <stdint.h>
#include <stdio.h>

#include "edge_config.h"

struct wb3;

/* A callbridge's media port, as it announced it over C2W (network byte order). */
struct wb3_media {
	uint32_t ip;
	uint16_t port;
};

/* What webbridge3 tells the appliance, from its own thread. */
struct wb3_services {
	void *ctx;
	/* The media ports of every linked callbridge, after any of them changed: the guests'
	 * TURN relays may reach these and nothing else. May be NULL. */
	void (*media_ports)(void *ctx, const struct wb3_media *m, unsigned int n);
};

/* Starts the thread (nothing listens while @cfg has webbridge3 disabled). */
struct wb3 *wb3_start(const struct edge_cfg *cfg, const struct wb3_services *svc);
/* Stops listening and closes every connection, then listens again with @cfg; what it did
 * goes to @out (may be NULL). 0, or -errno with the reason in @out and the log. */
int wb3_restart(struct wb3 *w, const struct edge_cfg *cfg, FILE *out);
/* After a configuration change: the HTTPS and C2W listeners take the key and certificate
 * files @cfg names where they changed (other files, or the same rewritten), without a restart:
 * established connections keep theirs. Does not wait. */
void wb3_certs(struct wb3 *w, const struct edge_cfg *cfg);
void wb3_stop(struct wb3 *w);

/* `webbridge3 connections`: the callbridges linked over C2W and the guests. */
void wb3_connections(struct wb3 *w, FILE *out);

/* Why joins failed: the error codes a guest's join is answered with, "other" last (a code
 * the callbridge sent that is none of these). */
#define WB3_JOIN_FAIL_REASONS 13
extern const char *const wb3_join_fail_reasons[WB3_JOIN_FAIL_REASONS];

/* What the metrics read: C2W links up (their hello received), guests connected (signalling
 * authenticated), joins answered with a JWT, and the failed ones by reason. */
struct wb3_figures {
	unsigned int links, guests;
	uint64_t joins_ok;
	uint64_t join_fails[WB3_JOIN_FAIL_REASONS];
};

/* From any thread (the lists under webbridge3's lock, the counters atomic). */
void wb3_figures(struct wb3 *w, struct wb3_figures *f);

#endif

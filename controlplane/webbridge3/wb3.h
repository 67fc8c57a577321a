/* webbridge3: the guests' web app over HTTPS, their signalling WebSockets, and the C2W
 * listener the callbridges dial (mutual TLS). One thread with its own libwebsockets
 * context; the configuration is read at start and at restart. */
#ifndef EDGE_WB3_H
#define EDGE_WB3_H

#include <stdio.h>

#include "edge_config.h"

struct wb3;

/* Starts the thread (nothing listens while @cfg has webbridge3 disabled). */
struct wb3 *wb3_start(const struct edge_cfg *cfg);
/* Stops listening and closes every connection, then listens again with @cfg; what it did
 * goes to @out (may be NULL). 0, or -errno with the reason in @out and the log. */
int wb3_restart(struct wb3 *w, const struct edge_cfg *cfg, FILE *out);
void wb3_stop(struct wb3 *w);

/* `webbridge3 connections`: the callbridges linked over C2W and the guests. */
void wb3_connections(struct wb3 *w, FILE *out);

#endif

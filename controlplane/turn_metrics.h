/* TURN's metric families (controlplane/turn_metrics.c), read from turn_server_stats() and
 * the data plane's per-lcore relay counters. */
#ifndef EDGE_TURN_METRICS_H
#define EDGE_TURN_METRICS_H

#include "appliance.h"
#include "metrics.h"

/* Registers TURN's families in @r, reading @app->turn at collect time (absent TURN server:
 * zeros). 0 or the first negative errno of metrics_register(). Control thread. */
int turn_metrics_register(struct metrics_registry *r, struct appliance *app);

#endif

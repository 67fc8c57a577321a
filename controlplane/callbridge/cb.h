/* The callbridge (core): spaces and guests' meetings, C2W links to every web bridge the API
 * names, JWTs for the guests, and the webadmin's HTTPS server with the REST API. One thread
 * with its own libwebsockets context; configuration read at start and at restart. */
#ifndef EDGE_CB_H
#define EDGE_CB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "edge_config.h"

struct callbridge;
struct media_server;

/* Opens the callbridge's database once, migrating it to this build's schema, and closes it:
 * edged calls it before it starts anything, so a database it cannot use (corrupt, of a newer
 * schema, a failed migration) stops the start with the reason in @err, and a migration is
 * logged. 0 (also when the role has no callbridge) or -errno. */
int cb_db_ready(const struct edge_cfg *cfg, char *err, size_t errlen);
/* @media: the media server the guests' legs use (NULL: signalling only). */
struct callbridge *cb_start(const struct edge_cfg *cfg, struct media_server *media);
/* `callbridge restart` (and `webadmin restart`): closes everything and starts again with
 * @cfg. What it did goes to @out (may be NULL). 0 or -errno. */
int cb_restart(struct callbridge *cb, const struct edge_cfg *cfg, FILE *out);
/* After a configuration change: the webadmin's listener takes the key and certificate @cfg
 * names where they changed, without a restart (wb3_certs()). Does not wait. */
void cb_certs(struct callbridge *cb, const struct edge_cfg *cfg);
void cb_stop(struct callbridge *cb);

/* The appliance's users changed (`user add|del|passwd`): the API takes them at once. */
void cb_admins(struct callbridge *cb, const struct edge_cfg *cfg);

/* `callbridge calls`, `callbridge participants`: the live tables. */
void cb_show_calls(struct callbridge *cb, FILE *out);
void cb_show_participants(struct callbridge *cb, FILE *out);
bool cb_webadmin_running(struct callbridge *cb);

/* Why guests' joins were refused: the joinResult error codes, "other" last. */
#define CB_JOIN_FAIL_REASONS 10
extern const char *const cb_join_fail_reasons[CB_JOIN_FAIL_REASONS];

/* What the metrics read: calls and participants (call legs, joining or joined) now, C2W
 * links to web bridges up now, guests' joins accepted and refused by reason. */
struct cb_figures {
	unsigned int calls, participants, links;
	uint64_t joins_ok;
	uint64_t join_fails[CB_JOIN_FAIL_REASONS];
};

/* From any thread (the model and links under their locks, the counters atomic). */
void cb_figures(struct callbridge *cb, struct cb_figures *f);

#endif

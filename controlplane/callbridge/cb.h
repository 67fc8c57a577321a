/* The callbridge (core): spaces and guests' meetings, C2W links to every web bridge the API
 * names, JWTs for the guests, and the webadmin's HTTPS server with the REST API. One thread
 * with its own libwebsockets context; configuration read at start and at restart. */
#ifndef EDGE_CB_H
#define EDGE_CB_H

#include <stdbool.h>
#include <stdio.h>

#include "edge_config.h"

struct callbridge;
struct media_server;

/* @media: the media server the guests' legs use (NULL: signalling only). */
struct callbridge *cb_start(const struct edge_cfg *cfg, struct media_server *media);
/* `callbridge restart` (and `webadmin restart`): closes everything and starts again with
 * @cfg. What it did goes to @out (may be NULL). 0 or -errno. */
int cb_restart(struct callbridge *cb, const struct edge_cfg *cfg, FILE *out);
void cb_stop(struct callbridge *cb);

/* The appliance's users changed (`user add|del|passwd`): the API takes them at once. */
void cb_admins(struct callbridge *cb, const struct edge_cfg *cfg);

/* `callbridge calls`, `callbridge participants`: the live tables. */
void cb_show_calls(struct callbridge *cb, FILE *out);
void cb_show_participants(struct callbridge *cb, FILE *out);
bool cb_webadmin_running(struct callbridge *cb);

#endif

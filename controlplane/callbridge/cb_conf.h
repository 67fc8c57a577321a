/* Conferences, guests and call legs: what happens when a guest joins a space, starts their
 * session, signals, and leaves, with the log lines the guide shows for each step. Works on
 * a struct cb_model; the caller holds no lock (these take model->lock for their changes). */
#ifndef CB_CONF_H
#define CB_CONF_H

#include "cb_model.h"

void cb_conf_init(struct cb_model *m);
/* Ends every call (logged as a teardown). */
void cb_conf_fini(struct cb_model *m);

/* The space a guest asked for, as the store found it. */
struct cb_conf_space {
	const char *id;	  /* coSpace id */
	const char *name; /* its name (the conference is named after it) */
};

/* A guest joins @space: a guest account, the conference if it is the first, a call leg and a
 * participant. @login is the "guest login request N" number the caller logged its lookup
 * under. Returns the new leg (owned by the model), or NULL (out of memory). */
struct cb_leg *cb_conf_join(struct cb_model *m, const struct cb_conf_space *space,
	unsigned int login, const char *name, const char *remote, unsigned int link);

/* Guests in one space's conference, and guests in calls from one address (webbridge3's
 * "remote": an IPv4 address, or an IPv6 /64), so that one client cannot take every leg of
 * the callbridge with joins that succeed. */
#define CB_CONF_MAX_SPACE_LEGS 100
#define CB_CONF_MAX_ADDR_LEGS 20

/* Whether one more guest from @remote may join space @space_id: 0, or -ENOSPC (the
 * callbridge has @max_legs legs), -EDQUOT (the space has CB_CONF_MAX_SPACE_LEGS), -EUSERS
 * (@remote has CB_CONF_MAX_ADDR_LEGS). The model's thread; O(legs). */
int cb_conf_admit(const struct cb_model *m, const char *space_id, const char *remote,
	unsigned int max_legs);

/* The guest's WebSocket is up (webbridge3 checked the JWT): the leg gets its call number and
 * joins the conference for real. */
void cb_conf_session(struct cb_model *m, struct cb_leg *leg, const char *user_agent);

/* The guest's leg ends: @why is logged ("session resource teardown", "API request", ...).
 * The guest account goes, and the conference with its last leg. @leg is freed. */
void cb_conf_leave(struct cb_model *m, struct cb_leg *leg, const char *why);

struct cb_leg *cb_conf_leg(struct cb_model *m, const char *leg_id);

/* Calls @fn for every leg on C2W link @link (it may cb_conf_leave the leg). */
void cb_conf_each_on_link(struct cb_model *m, unsigned int link,
	void (*fn)(struct cb_model *m, struct cb_leg *leg, void *arg), void *arg);

#endif

/* The callbridge's meetings (see cb_conf.h). The log lines follow the guide's core log
 * word for word, so an operator who knows CMS reads ours the same way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "cb_conf.h"
#include "edge_log.h"
#include "../web/web.h"

#define CB_LOG(...) edge_log(LOG_INFO, "host:server", "INFO : " __VA_ARGS__)

static unsigned int call_counter; /* the log's "call N" */

void cb_conf_init(struct cb_model *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	web_uuid(m->guid);
}

void cb_conf_fini(struct cb_model *m)
{
	while (m->calls)
		while (m->calls && m->calls->legs)
			cb_conf_leave(m, m->calls->legs, "callbridge shutdown");
	pthread_mutex_destroy(&m->lock);
}

/* "guest" and ten digits, the first not 0, unused in @m. */
static void guest_id(struct cb_model *m, char out[20])
{
	for (;;) {
		uint64_t r;
		bool used = false;

		RAND_bytes((unsigned char *)&r, sizeof(r));
		snprintf(out, 20, "guest%010llu",
			(unsigned long long)(1000000000ull + r % 9000000000ull));
		for (struct cb_call *c = m->calls; c && !used; c = c->next)
			for (struct cb_leg *l = c->legs; l && !used; l = l->next)
				used = !strcmp(l->guest, out);
		if (!used)
			return;
	}
}

static struct cb_call *call_for(struct cb_model *m, const struct cb_conf_space *s)
{
	struct cb_call *c;

	for (c = m->calls; c; c = c->next)
		if (!strcmp(c->cospace, s->id))
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	web_uuid(c->id);
	web_uuid(c->correlator);
	web_uuid(c->internal);
	web_uuid(c->media);
	snprintf(c->cospace, sizeof(c->cospace), "%s", s->id);
	snprintf(c->name, sizeof(c->name), "%s", s->name);
	c->started = time(NULL);
	/* while it is being set up nobody else may join it: it starts locked */
	CB_LOG("conference %s: locked due to lack of lock consensus", c->internal);
	CB_LOG("conference %s: lock state has changed to locked", c->internal);
	CB_LOG("API \"%s\" Space GUID: %s <--> Call Correlator GUID: %s<--> Internal GUID: %s",
		c->name, c->cospace, c->correlator, c->internal);
	CB_LOG("unable to apply logo (space '%s') -- no license", c->name);
	CB_LOG("conference %s: lock state has changed to unlocked", c->internal);
	c->next = m->calls;
	m->calls = c;
	m->n_calls++;
	return c;
}

struct cb_leg *cb_conf_join(struct cb_model *m, const struct cb_conf_space *space,
	unsigned int login, const char *name, const char *remote, unsigned int link)
{
	struct cb_leg *l = calloc(1, sizeof(*l));
	struct cb_call *c;
	bool fresh;

	if (!l)
		return NULL;
	pthread_mutex_lock(&m->lock);
	guest_id(m, l->guest);
	CB_LOG("guest login request %u: credential storage scheduled (queue length: 1)", login);
	CB_LOG("created guest account with user ID \"%s\"", l->guest);
	CB_LOG("guest login request %u: credential storage executed", login);
	CB_LOG("guest login request %u: credential storage in progress", login);
	CB_LOG("guest login request %u: successfully stored credentials", login);
	CB_LOG("instantiating user \"%s\"", l->guest);
	for (c = m->calls; c && strcmp(c->cospace, space->id); c = c->next)
		;
	fresh = !c;
	c = call_for(m, space);
	if (!c) {
		pthread_mutex_unlock(&m->lock);
		free(l);
		return NULL;
	}
	web_uuid(l->id);
	web_uuid(l->participant_id);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->remote, sizeof(l->remote), "%s", remote);
	l->started = time(NULL);
	l->link = link;
	l->call = c;
	l->next = c->legs;
	c->legs = l;
	if (++c->n_legs > c->max_legs)
		c->max_legs = c->n_legs;
	CB_LOG("API call leg %s in call %s (API call %s)", l->id, c->internal, c->id);
	if (fresh) {
		CB_LOG("conference %s has control/media GUID: %s", c->internal, c->media);
		CB_LOG("conference %s named \"%s\"", c->internal, c->name);
	}
	CB_LOG("new session created for user \"%s\"", l->guest);
	pthread_mutex_unlock(&m->lock);
	return l;
}

int cb_conf_admit(const struct cb_model *m, const char *space_id, const char *remote,
	unsigned int max_legs)
{
	unsigned int legs = 0, here = 0, mine = 0;

	for (const struct cb_call *c = m->calls; c; c = c->next) {
		legs += c->n_legs;
		if (!strcmp(c->cospace, space_id))
			here = c->n_legs;
		if (*remote)
			for (const struct cb_leg *l = c->legs; l; l = l->next)
				mine += web_addr_same(l->remote, remote);
	}
	if (legs >= max_legs)
		return -ENOSPC;
	if (here >= CB_CONF_MAX_SPACE_LEGS)
		return -EDQUOT;
	if (mine >= CB_CONF_MAX_ADDR_LEGS)
		return -EUSERS;
	return 0;
}

void cb_conf_session(struct cb_model *m, struct cb_leg *l, const char *ua)
{
	pthread_mutex_lock(&m->lock);
	if (l->session) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	l->session = true;
	l->call_no = (int)++call_counter;
	snprintf(l->user_agent, sizeof(l->user_agent), "%s", ua && *ua ? ua : "unknown");
	CB_LOG("call %d: allocated for %s / \"%s\" conference participation (%s)", l->call_no,
		l->guest, l->name, l->user_agent);
	CB_LOG("call %d: configured - API call leg %s", l->call_no, l->id);
	CB_LOG("call %d: ActiveControlState change, unknown -> unknown", l->call_no);
	CB_LOG("call %d: ActiveControlState change, unknown -> inactive", l->call_no);
	CB_LOG("call %d: ActiveControlState finality change (inactive, final=1)", l->call_no);
	edge_log(LOG_INFO, "host:server", "INFO : participant \"%s\" joined space %s (%s)",
		l->guest, l->call->cospace, l->call->name);
	CB_LOG("participant \"%s\" (%s) joined conference %svia WB3", l->guest, l->id,
		l->call->internal);
	pthread_mutex_unlock(&m->lock);
}

void cb_conf_leave(struct cb_model *m, struct cb_leg *l, const char *why)
{
	struct cb_call *c = l->call;

	if (m->on_leave)
		m->on_leave(m->on_leave_ctx, l, why);
	pthread_mutex_lock(&m->lock);
	CB_LOG("user \"%s\": deactivating due to %s", l->guest, why);
	if (l->call_no) {
		CB_LOG("call %d: tearing down (\"%s\" conference media)", l->call_no, l->guest);
		CB_LOG("call %d: destroying API call leg %s", l->call_no, l->id);
	} else {
		CB_LOG("destroying API call leg %s", l->id);
	}
	if (l->session)
		CB_LOG("participant \"%s\" left space %s (%s)", l->guest, c->cospace, c->name);
	CB_LOG("removing guest account '%s' (name '%s') on call drop", l->guest, l->name);
	CB_LOG("destroying guest account with user ID \"%s\"", l->guest);
	for (struct cb_leg **pp = &c->legs; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	c->n_legs--;
	free(l);
	if (!c->legs) {
		for (struct cb_call **pp = &m->calls; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		m->n_calls--;
		CB_LOG("conference %s destroyed", c->media);
		free(c);
	}
	pthread_mutex_unlock(&m->lock);
}

struct cb_leg *cb_conf_leg(struct cb_model *m, const char *id)
{
	for (struct cb_call *c = m->calls; c; c = c->next)
		for (struct cb_leg *l = c->legs; l; l = l->next)
			if (!strcmp(l->id, id))
				return l;
	return NULL;
}

void cb_conf_each_on_link(struct cb_model *m, unsigned int link,
	void (*fn)(struct cb_model *m, struct cb_leg *leg, void *arg), void *arg)
{
	struct cb_call *c, *cn;
	struct cb_leg *l, *ln;

	/* @fn may free the leg and its call: walk with the next pointers saved, and restart
	 * from the top whenever a call may have gone */
again:
	for (c = m->calls; c; c = cn) {
		cn = c->next;
		for (l = c->legs; l; l = ln) {
			ln = l->next;
			if (l->link == link) {
				bool last = c->n_legs == 1;
				fn(m, l, arg);
				if (last)
					goto again;
			}
		}
	}
}

/* The media server: every meeting leg's ICE-lite checks and DTLS handshake arrive on the
 * media ports' kernel sockets (the data plane passes all but SRTP there); once a leg has a
 * nominated path, keys and a next hop, it is published in the SFU tables and the data plane
 * forwards its media alone. Consent (RFC 7675) is watched here: checks keep coming to us.
 * A media port has a socket on its interface's IPv4 address and one on each IPv6 address
 * (issue 18): a leg's paths, and so its 5-tuple in the tables, are of either family.
 *
 * Locking: the callbridge's thread and the control loop share the legs under ms->lock, held
 * briefly. Only the control loop publishes (edge_rcu_publish). SRTP contexts are made here
 * and, once published, used only by the data plane (media_tables.h); they are freed after
 * the grace period that follows the last table naming them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "edge_log.h"
#include "edge_rcu.h"
#include "media_dtls.h"
#include "media_ice.h"
#include "media_server.h"
#include "media_tables.h"

#define MS_MAX_PATHS 4 /* addresses a leg's checks came from (candidate pairs) */
/* media sockets: on each media interface its first IPv4 address and its IPv6 ones */
#define MS_MAX_SOCKS (MEDIA_MAX_PORTS * (1 + EDGE_MAX_ADDRS))
#define MS_MAX_EVENTS 256
#define MS_MAX_HANDSHAKES 64 /* DTLS handshakes in flight at once */
#define MS_ICE_WAIT_MS 60000 /* a leg no check reached for this long is reported once */

/* An address of either family (issue 18): IPv4 in ip (ip6 all zero), or IPv6 in ip6 (ip 0). */
struct ms_ip {
	bool v6;
	uint32_t ip; /* network order */
	uint8_t ip6[16];
};

/* what the media sockets send to and receive from */
union ms_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static bool ms_ip_eq(const struct ms_ip *a, const struct ms_ip *b)
{
	return a->v6 == b->v6 && (a->v6 ? !memcmp(a->ip6, b->ip6, 16) : a->ip == b->ip);
}

/* @sa's address (@port: its port, network order) */
static struct ms_ip ms_ip_of(const union ms_sa *sa, uint16_t *port)
{
	struct ms_ip a = { .v6 = sa->sa.sa_family == AF_INET6 };

	if (a.v6) {
		memcpy(a.ip6, &sa->in6.sin6_addr, 16);
		*port = sa->in6.sin6_port;
	} else {
		a.ip = sa->in.sin_addr.s_addr;
		*port = sa->in.sin_port;
	}
	return a;
}

/* (@a, @port) as a socket address; its length */
static socklen_t ms_sa_of(const struct ms_ip *a, uint16_t port, union ms_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (a->v6) {
		sa->in6.sin6_family = AF_INET6;
		memcpy(&sa->in6.sin6_addr, a->ip6, 16);
		sa->in6.sin6_port = port;
		return sizeof(sa->in6);
	}
	sa->in.sin_family = AF_INET;
	sa->in.sin_addr.s_addr = a->ip;
	sa->in.sin_port = port;
	return sizeof(sa->in);
}

/* "192.0.2.1:5000", "[2001:db8::1]:5000" (@port network order; 0: the address alone) */
static const char *ms_ip_str(const struct ms_ip *a, uint16_t port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->v6 ? (const void *)a->ip6 : (const void *)&a->ip,
		ip, sizeof(ip));
	if (!port)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, a->v6 ? "[%s]:%u" : "%s:%u", ip, ntohs(port));
	return buf;
}

enum ms_state { MS_NEW, MS_ICE, MS_DTLS, MS_UP, MS_ENDED };
_Static_assert(MS_ENDED + 1 == MEDIA_N_STATES, "media_server_stats() counts every state");

static const char *const ms_state_name[] = { "waiting for ICE", "ICE connected", "DTLS",
	"connected", "ended" };

/* A source's outbound context for one receiver: it lives as long as both legs do (made anew,
 * it would number the source's SRTCP from 0 again under the receiver's key: a reused nonce),
 * and names its receiver by slot and serial (a slot is reused by other legs). */
struct ms_tx {
	uint16_t dst; /* receiver slot */
	uint64_t dst_serial;
	struct media_srtp *tx;
};

struct ms_leg {
	bool used;
	uint16_t slot;
	uint64_t serial; /* unique over the server's life */
	enum ms_state state;
	struct media_leg_desc d;
	char ufrag[16], pwd[40];
	struct stun_key key;
	bool key_ok;
	uint64_t opened_ms, consent_ms;
	bool ice_wait_logged;
	/* paths (candidate pairs: the browser's address and our media port it reached) that
	 * passed a check, and the nominated one */
	struct {
		struct ms_ip ip;
		uint16_t port;	  /* network order */
		struct ms_ip lip; /* our media port's address (the same family) ... */
		uint16_t lport;	  /* ... and port, network order */
		uint8_t ifi;
	} paths[MS_MAX_PATHS];
	unsigned int n_paths;
	int nominated;		/* index into paths, -1 = none */
	unsigned int dtls_path; /* the path DTLS last came by */
	bool via_relay;		/* the nominated path is our own TURN relay's */
	uint8_t ifi;		/* the nominated path's local end */
	struct ms_ip local_ip;
	uint16_t local_port; /* network order */
	uint8_t mac[6];
	bool mac_ok;
	/* DTLS and SRTP */
	struct mdtls *dtls;
	struct mdtls_keys keys;
	struct media_srtp *rx; /* what its table entries copy (media_tables.h) */
	/* our feedback to it (transport-cc, NACKs): its key, MEDIA_TWCC_SSRC only, for its life */
	struct media_srtp *twcc_tx;
	uint32_t rtx_gen; /* its kept video's generation (rtx_gen_of) */
	struct ms_tx tx[MEDIA_MAX_OUT];
	unsigned int n_tx;
	/* what it takes, and what it sends */
	uint16_t sources[MEDIA_MAX_OUT];
	unsigned int n_sources;
	char source_ids[MEDIA_MAX_OUT][MEDIA_ID_LEN];
	bool audio_muted, video_muted;
	/* control-plane counters */
	uint64_t checks, check_fail, dtls_in, dtls_out;
	/* the SFU's counters once a second (ms_sample): bit rates, and what it sent us split
	 * by medium as its sources sent it (the fast path counts tx per leg only) */
	struct media_lcore_leg last;
	uint64_t d_rx_audio_pkts, d_rx_audio_bytes; /* over the last second */
	uint64_t tx_audio_pkts, tx_audio_bytes;	    /* estimated, since connected */
	struct ms_rate {
		uint64_t ms, rx_bytes, rx_audio_bytes, tx_bytes, tx_audio_bytes;
		uint64_t rx_video_pkts, lost, recovered, frames, level_sum, level_pkts;
	} rate[MEDIA_RATE_SECONDS + 1]; /* a ring: sample k at k % its size */
	uint64_t n_rate;		/* samples taken */
	/* simulcast (simulcast.h), once a second (sim_sample): as a source, its layers' bytes
	 * then and bit rates over that second; its video's bit rate (any source); as a
	 * receiver, what it can take, and the report blocks it had sent then */
	uint64_t sim_bytes[SIM_LAYERS], sim_frames[SIM_LAYERS];
	uint32_t sim_rate[SIM_LAYERS], sim_fps[SIM_LAYERS];
	uint64_t video_bytes;
	uint32_t video_bps;
	struct sim_est est;
	uint64_t est_blocks;
	/* without transport-cc (d.remb): our estimate of its uplink, sent as REMB, from what it
	 * sent us and its video's loss over each second (the bytes and counts a second ago) */
	struct sim_est up_est;
	uint64_t up_bytes, up_pkts, up_lost;
	/* as a receiver, how high it shows each source's video (media_leg_view), by source */
	struct {
		uint64_t serial; /* the source leg's; 0: free */
		uint16_t height;
	} view[MEDIA_MAX_OUT];
	uint32_t est_budget; /* its estimate, less what other sources' video takes */
};

struct ms_port {
	int fd;
	uint8_t ifi;
	struct ms_ip ip;
	uint16_t port; /* host order */
};

struct media_server {
	pthread_mutex_t lock;
	struct evloop *loop;
	struct media_server_env env;
	struct mdtls_ctx *dtls;
	int timer;
	struct ms_port ports[MS_MAX_SOCKS];
	unsigned int n_ports;
	struct ms_leg legs[MEDIA_MAX_LEGS];
	bool slot_busy[MEDIA_MAX_LEGS]; /* a retired slot waits for its grace period (written
					 * by the RCU callback too: atomics, no lock) */
	uint64_t next_serial;
	bool dirty; /* the published table is out of date */
	struct media_event events[MS_MAX_EVENTS];
	unsigned int ev_head, ev_n;
	/* counters of what no leg owns, and of legs gone (monotonic for the metrics) */
	uint64_t unknown_ufrag, not_stun, rtp_early, dtls_unknown, handshakes_refused;
	uint64_t gone_checks, gone_check_fail, legs_ended, ctx_leaked;
	uint64_t sampled_ms; /* the legs' counters were last sampled */
};

/* What a publication made unreachable, freed after its grace period: the old table, the
 * contexts only it still named, and the slots of the legs that ended. */
struct ms_retired {
	struct media_tab *tab;
	struct media_server *ms;
	struct media_srtp **ctx;
	unsigned int n_ctx, cap_ctx;
	uint16_t *slots;
	unsigned int n_slots, cap_slots;
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void tab_free(struct media_tab *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++)
		free(t->legs[i]);
	free(t);
}

static void retired_free(void *obj)
{
	struct ms_retired *r = obj;

	tab_free(r->tab);
	for (unsigned int i = 0; i < r->n_ctx; i++)
		media_srtp_free(r->ctx[i]);
	/* no lock: edge_rcu_retire() may run this at once, under ms->lock, when it runs short
	 * of memory */
	for (unsigned int i = 0; i < r->n_slots; i++) {
		media_leg_counters_reset(r->slots[i]);
		__atomic_store_n(&r->ms->slot_busy[r->slots[i]], false, __ATOMIC_RELEASE);
	}
	free(r->ctx);
	free(r->slots);
	free(r);
}

/* Adds @ctx to what @r frees. Out of memory it is kept, never freed early (the table that
 * names it is not unpublished yet): leaked, counted and logged once. */
static void retire_ctx(struct ms_retired *r, struct media_srtp *ctx)
{
	if (!ctx)
		return;
	if (r->n_ctx == r->cap_ctx) {
		unsigned int cap = r->cap_ctx ? 2 * r->cap_ctx : 16;
		struct media_srtp **n = realloc(r->ctx, cap * sizeof(*n));

		if (!n) {
			if (!r->ms->ctx_leaked++)
				LOG_ERRX("media", "out of memory retiring an SRTP context: kept");
			return;
		}
		r->ctx = n;
		r->cap_ctx = cap;
	}
	r->ctx[r->n_ctx++] = ctx;
}

static int retire_slot(struct ms_retired *r, uint16_t slot)
{
	if (r->n_slots == r->cap_slots) {
		unsigned int cap = r->cap_slots ? 2 * r->cap_slots : 8;
		uint16_t *n = realloc(r->slots, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->slots = n;
		r->cap_slots = cap;
	}
	r->slots[r->n_slots++] = slot;
	return 0;
}

static void ms_event(struct media_server *ms, const struct ms_leg *l, enum media_event_type type,
	const char *why)
{
	struct media_event *e;

	if (ms->ev_n == MS_MAX_EVENTS) { /* the oldest goes: the callbridge is not reading */
		ms->ev_head = (ms->ev_head + 1) % MS_MAX_EVENTS;
		ms->ev_n--;
	}
	e = &ms->events[(ms->ev_head + ms->ev_n++) % MS_MAX_EVENTS];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", l->d.id);
	e->type = type;
	snprintf(e->why, sizeof(e->why), "%s", why ? why : "");
}

unsigned int media_events_take(struct media_server *ms, struct media_event *ev, unsigned int max)
{
	unsigned int n = 0;

	if (!ms)
		return 0;
	pthread_mutex_lock(&ms->lock);
	while (n < max && ms->ev_n) {
		ev[n++] = ms->events[ms->ev_head];
		ms->ev_head = (ms->ev_head + 1) % MS_MAX_EVENTS;
		ms->ev_n--;
	}
	pthread_mutex_unlock(&ms->lock);
	return n;
}

static struct ms_leg *leg_by_id(struct media_server *ms, const char *id)
{
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++)
		if (ms->legs[i].used && !strcmp(ms->legs[i].d.id, id))
			return &ms->legs[i];
	return NULL;
}

static struct ms_leg *leg_by_ufrag(struct media_server *ms, const char *ufrag)
{
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++)
		if (ms->legs[i].used && ms->legs[i].state != MS_ENDED &&
			!strcmp(ms->legs[i].ufrag, ufrag))
			return &ms->legs[i];
	return NULL;
}

static struct ms_leg *leg_by_path(struct media_server *ms, const struct ms_ip *ip, uint16_t port,
	const struct ms_ip *lip, uint16_t lport)
{
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];

		if (!l->used || l->state == MS_ENDED)
			continue;
		for (unsigned int p = 0; p < l->n_paths; p++)
			if (ms_ip_eq(&l->paths[p].ip, ip) && l->paths[p].port == port &&
				ms_ip_eq(&l->paths[p].lip, lip) && l->paths[p].lport == lport)
				return l;
	}
	return NULL;
}

/* ICE's ufrag and pwd: letters and digits (ice-char is also '+' and '/', which nothing needs) */
static void random_token(char *out, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];

	if (RAND_bytes(r, (int)n) != 1)
		abort(); /* no randomness: nothing here may go on */
	for (size_t i = 0; i < n; i++)
		out[i] = abc[r[i] % (sizeof(abc) - 1)];
	out[n] = 0;
}

/* Our host candidates: the media sockets' addresses, IPv4 ones first (the answer's c= line
 * names the first), then IPv6 (issue 18). */
static void local_of(struct media_server *ms, struct media_local *local)
{
	local->n_cand = 0;
	for (int v6 = 0; v6 <= 1; v6++)
		for (unsigned int i = 0; i < ms->n_ports && local->n_cand < MEDIA_MAX_CAND; i++) {
			if (ms->ports[i].ip.v6 != v6)
				continue;
			ms_ip_str(&ms->ports[i].ip, 0, local->cand[local->n_cand].ip,
				sizeof(local->cand[0].ip));
			local->cand[local->n_cand++].port = ms->ports[i].port;
		}
	snprintf(local->fingerprint, sizeof(local->fingerprint), "%s",
		mdtls_ctx_fingerprint(ms->dtls));
}

int media_leg_open(struct media_server *ms, const struct media_leg_desc *d,
	struct media_local *local)
{
	struct ms_leg *l;
	int slot = -1;

	if (!ms)
		return -ENODEV;
	if (d->audio_ssrc == MEDIA_TWCC_SSRC || d->video_ssrc == MEDIA_TWCC_SSRC)
		return -EINVAL; /* our feedback's: two contexts would number it under one key */
	pthread_mutex_lock(&ms->lock);
	if (!ms->n_ports) {
		pthread_mutex_unlock(&ms->lock);
		return -ENETDOWN;
	}
	l = leg_by_id(ms, d->id);
	if (l && l->state != MS_ENDED) { /* a renegotiation: ICE and DTLS go on */
		bool ice_same = !strcmp(l->d.remote_ufrag, d->remote_ufrag);

		if (!ice_same || memcmp(l->d.remote_fp, d->remote_fp, sizeof(d->remote_fp))) {
			pthread_mutex_unlock(&ms->lock);
			return -EPROTO; /* an ICE restart or a new certificate: not yet */
		}
		l->d = *d;
		edge_log_sanitize(l->d.name, sizeof(l->d.name), d->name);
		ms->dirty = true;
		goto out;
	}
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++)
		if (!ms->legs[i].used && !__atomic_load_n(&ms->slot_busy[i], __ATOMIC_ACQUIRE)) {
			slot = (int)i;
			break;
		}
	if (slot < 0) {
		pthread_mutex_unlock(&ms->lock);
		return -ENOSPC;
	}
	l = &ms->legs[slot];
	memset(l, 0, sizeof(*l));
	l->used = true;
	l->slot = (uint16_t)slot;
	l->serial = ++ms->next_serial;
	l->d = *d;
	edge_log_sanitize(l->d.name, sizeof(l->d.name), d->name);
	l->nominated = -1;
	sim_est_init(&l->est);
	sim_est_init(&l->up_est);
	l->opened_ms = now_ms();
	random_token(l->ufrag, 8);
	random_token(l->pwd, 24);
	l->key_ok = mice_key_init(&l->key, l->pwd) == 0;
	l->dtls = mdtls_new(ms->dtls, d->remote_fp, sizeof(d->remote_fp));
	if (!l->dtls || !l->key_ok) {
		if (l->key_ok)
			stun_key_free(&l->key);
		mdtls_free(l->dtls);
		l->used = false;
		pthread_mutex_unlock(&ms->lock);
		return -ENOMEM;
	}
	edge_log(LOG_INFO, "host:server", "INFO : media: leg %s (\"%s\") opened: ufrag %s", d->id,
		d->name, l->ufrag);
out:
	snprintf(local->ufrag, sizeof(local->ufrag), "%s", l->ufrag);
	snprintf(local->pwd, sizeof(local->pwd), "%s", l->pwd);
	local_of(ms, local);
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

int media_leg_sources(struct media_server *ms, const char *id, const char (*src)[MEDIA_ID_LEN],
	unsigned int n)
{
	struct ms_leg *l;

	if (!ms)
		return -ENODEV;
	pthread_mutex_lock(&ms->lock);
	l = leg_by_id(ms, id);
	if (!l) {
		pthread_mutex_unlock(&ms->lock);
		return -ENOENT;
	}
	l->n_sources = 0;
	for (unsigned int i = 0; i < n && i < MEDIA_MAX_OUT; i++)
		snprintf(l->source_ids[l->n_sources++], MEDIA_ID_LEN, "%s", src[i]);
	ms->dirty = true;
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

int media_leg_mute(struct media_server *ms, const char *id, bool audio, bool video)
{
	struct ms_leg *l;

	if (!ms)
		return -ENODEV;
	pthread_mutex_lock(&ms->lock);
	l = leg_by_id(ms, id);
	if (l) {
		l->audio_muted = audio;
		l->video_muted = video;
		ms->dirty = true;
	}
	pthread_mutex_unlock(&ms->lock);
	return l ? 0 : -ENOENT;
}

int media_leg_view(struct media_server *ms, const char *id, const char *source, unsigned int height)
{
	struct ms_leg *l, *src;
	unsigned int k = MEDIA_MAX_OUT;

	if (!ms)
		return -ENODEV;
	pthread_mutex_lock(&ms->lock);
	l = leg_by_id(ms, id);
	src = leg_by_id(ms, source);
	if (!l || !src || l == src) {
		pthread_mutex_unlock(&ms->lock);
		return -ENOENT;
	}
	/* its entry, else a free one or one whose source is gone */
	for (unsigned int i = 0; i < MEDIA_MAX_OUT && k == MEDIA_MAX_OUT; i++)
		if (l->view[i].serial == src->serial)
			k = i;
	for (unsigned int i = 0; i < MEDIA_MAX_OUT && k == MEDIA_MAX_OUT; i++) {
		bool lives = false;

		for (unsigned int j = 0; j < MEDIA_MAX_LEGS && l->view[i].serial; j++)
			lives |= ms->legs[j].used && ms->legs[j].serial == l->view[i].serial;
		if (!lives)
			k = i;
	}
	if (k < MEDIA_MAX_OUT) {
		l->view[k].serial = src->serial;
		l->view[k].height = (uint16_t)(height < 16384 ? height : 16383);
	}
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

/* How high @r shows @src's video (media_leg_view); -1: it did not say. */
static int view_of(const struct ms_leg *r, const struct ms_leg *src)
{
	for (unsigned int i = 0; i < MEDIA_MAX_OUT; i++)
		if (r->view[i].serial == src->serial)
			return r->view[i].height;
	return -1;
}

/* Ends @l: the next publication drops it and retires its contexts and slot. */
static void leg_end(struct media_server *ms, struct ms_leg *l, const char *why, bool tell)
{
	if (l->state == MS_ENDED)
		return;
	edge_log(LOG_INFO, "host:server", "INFO : media: leg %s (\"%s\") ended: %s", l->d.id,
		l->d.name, why);
	l->state = MS_ENDED;
	ms->dirty = true;
	if (tell)
		ms_event(ms, l, MEDIA_EV_ENDED, why);
}

void media_leg_close(struct media_server *ms, const char *id, const char *why)
{
	struct ms_leg *l;

	if (!ms)
		return;
	pthread_mutex_lock(&ms->lock);
	l = leg_by_id(ms, id);
	if (l)
		leg_end(ms, l, why ? why : "left", false);
	pthread_mutex_unlock(&ms->lock);
}

/* GCM legs get our srtp_fast, AES-CM legs libsrtp2 (media_srtp_new); a retransmission is
 * protected again with its original index either way. */
static int make_srtp(struct media_srtp **s, const struct mdtls_keys *k, bool inbound)
{
	_Static_assert(MDTLS_SRTP_AEAD_AES_128_GCM == MEDIA_SRTP_AEAD_AES_128_GCM &&
			MDTLS_SRTP_AES128_CM_SHA1_80 == MEDIA_SRTP_AES128_CM_SHA1_80,
		"RFC 5764/7714 ids");
	if (k->key_len != SRTP_FAST_KEY_LEN ||
		k->salt_len != (k->profile == MDTLS_SRTP_AEAD_AES_128_GCM ? 12u : 14u))
		return -EINVAL;
	return media_srtp_new(s, k->profile, inbound ? k->client_key : k->server_key,
		inbound ? k->client_salt : k->server_salt, inbound, 0);
}

static void send_to_port(const struct media_server *ms, const struct ms_port *p, const uint8_t *buf,
	size_t len, const union ms_sa *to)
{
	if (to->sa.sa_family == AF_INET6) {
		if (ms->env.send_own6 &&
			ms->env.send_own6(ms->env.ctx, p->ifi, p->ip.ip6, htons(p->port),
				(const uint8_t *)&to->in6.sin6_addr, to->in6.sin6_port, buf,
				len) == 0)
			return;
		(void)sendto(p->fd, buf, len, 0, &to->sa, sizeof(to->in6));
		return;
	}
	if (ms->env.send_own &&
		ms->env.send_own(ms->env.ctx, p->ifi, p->ip.ip, htons(p->port),
			to->in.sin_addr.s_addr, to->in.sin_port, buf, len) == 0)
		return;
	(void)sendto(p->fd, buf, len, 0, &to->sa, sizeof(to->in));
}

/* Sends @len bytes over @l's path @pi, from our end of it. */
static void send_to(struct media_server *ms, const struct ms_leg *l, unsigned int pi,
	const uint8_t *buf, size_t len)
{
	union ms_sa to;

	ms_sa_of(&l->paths[pi].ip, l->paths[pi].port, &to);
	for (unsigned int i = 0; i < ms->n_ports; i++)
		if (ms_ip_eq(&ms->ports[i].ip, &l->paths[pi].lip) &&
			htons(ms->ports[i].port) == l->paths[pi].lport) {
			send_to_port(ms, &ms->ports[i], buf, len, &to);
			return;
		}
}

/* What DTLS has to send goes over the path its last record came by. */
static void dtls_flush(struct media_server *ms, struct ms_leg *l)
{
	uint8_t buf[MDTLS_MTU + 64];
	int n;

	while ((n = mdtls_output(l->dtls, buf, sizeof(buf))) > 0) {
		send_to(ms, l, l->dtls_path, buf, (size_t)n);
		l->dtls_out++;
	}
}

static unsigned int handshakes_in_flight(const struct media_server *ms)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++)
		n += ms->legs[i].used && ms->legs[i].state == MS_DTLS;
	return n;
}

static void on_stun(struct media_server *ms, const struct ms_port *p, const uint8_t *buf,
	size_t len, const union ms_sa *from)
{
	struct mice_check c;
	struct stun_addr a;
	struct ms_leg *l;
	uint8_t out[256];
	uint16_t fport;
	struct ms_ip fip = ms_ip_of(from, &fport);
	char fs[64];
	int n;

	if (mice_parse(buf, len, &c) < 0) {
		ms->not_stun++;
		return;
	}
	l = leg_by_ufrag(ms, c.local_ufrag);
	if (!l || strcmp(c.remote_ufrag, l->d.remote_ufrag)) {
		ms->unknown_ufrag++;
		return;
	}
	memset(&a, 0, sizeof(a));
	a.family = fip.v6 ? 6 : 4;
	a.port = fport;
	if (fip.v6)
		memcpy(a.ip, fip.ip6, 16);
	else
		wr32(a.ip, fip.ip);
	n = mice_answer_key(buf, len, &c, &l->key, &a, out, sizeof(out));
	if (n < 0) {
		l->check_fail++;
		return;
	}
	send_to_port(ms, p, out, (size_t)n, from);
	if (c.controlled)
		return; /* a 487: not a check that succeeded */
	l->checks++;
	l->consent_ms = now_ms();
	/* remember the path; the first ones the DTLS handshake may come from */
	unsigned int pi;
	for (pi = 0; pi < l->n_paths; pi++)
		if (ms_ip_eq(&l->paths[pi].ip, &fip) && l->paths[pi].port == fport &&
			ms_ip_eq(&l->paths[pi].lip, &p->ip) && l->paths[pi].lport == htons(p->port))
			break;
	if (pi == l->n_paths) {
		if (l->n_paths < MS_MAX_PATHS)
			l->n_paths++;
		else /* the newest replaces the oldest that is not the nominated one */
			pi = l->nominated == 0 ? 1 : 0;
		l->paths[pi].ip = fip;
		l->paths[pi].port = fport;
		l->paths[pi].lip = p->ip;
		l->paths[pi].lport = htons(p->port);
		l->paths[pi].ifi = p->ifi;
	}
	if (l->state == MS_NEW) {
		l->state = MS_ICE;
		edge_log(LOG_INFO, "host:server", "INFO : media: leg %s ICE connected from %s",
			l->d.id, ms_ip_str(&fip, fport, fs, sizeof(fs)));
	}
	if (c.use_candidate && l->nominated != (int)pi) {
		/* a (re)nomination: the data plane's 5-tuple changes with the next table */
		l->nominated = (int)pi;
		l->local_ip = l->paths[pi].lip;
		l->local_port = l->paths[pi].lport;
		l->ifi = l->paths[pi].ifi;
		l->via_relay = fip.v6 ? ms->env.is_own6 && ms->env.is_own6(ms->env.ctx, fip.ip6) :
					ms->env.is_own && ms->env.is_own(ms->env.ctx, fip.ip);
		l->mac_ok = false;
		ms->dirty = true;
		edge_log(LOG_INFO, "host:server", "INFO : media: leg %s path nominated: %s (%s)",
			l->d.id, ms_ip_str(&fip, fport, fs, sizeof(fs)),
			l->via_relay ? "through our TURN relay" : "direct");
	}
}

static void on_dtls(struct media_server *ms, const struct ms_port *p, const uint8_t *buf,
	size_t len, const union ms_sa *from)
{
	uint16_t fport;
	struct ms_ip fip = ms_ip_of(from, &fport);
	struct ms_leg *l = leg_by_path(ms, &fip, fport, &p->ip, htons(p->port));

	if (!l || !l->dtls) {
		ms->dtls_unknown++; /* DTLS only from a path that passed a check */
		return;
	}
	if (l->state == MS_ICE) {
		if (handshakes_in_flight(ms) >= MS_MAX_HANDSHAKES) {
			ms->handshakes_refused++;
			return; /* the browser retransmits; others' handshakes go on */
		}
		l->state = MS_DTLS;
	}
	l->dtls_in++;
	mdtls_input(l->dtls, buf, len);
	for (unsigned int pi = 0; pi < l->n_paths; pi++)
		if (ms_ip_eq(&l->paths[pi].ip, &fip) && l->paths[pi].port == fport &&
			ms_ip_eq(&l->paths[pi].lip, &p->ip) && l->paths[pi].lport == htons(p->port))
			l->dtls_path = pi;
	dtls_flush(ms, l);
	switch (mdtls_state(l->dtls)) {
	case MDTLS_DONE:
		if (l->rx)
			break;
		if (mdtls_keys(l->dtls, &l->keys) < 0 || make_srtp(&l->rx, &l->keys, true) < 0 ||
			make_srtp(&l->twcc_tx, &l->keys, false) < 0) {
			leg_end(ms, l, "DTLS keys could not be made", true);
			break;
		}
		l->state = MS_UP;
		ms->dirty = true;
		edge_log(LOG_INFO, "host:server", "INFO : media: leg %s DTLS done (%s)", l->d.id,
			l->keys.profile_name);
		ms_event(ms, l, MEDIA_EV_CONNECTED, l->keys.profile_name);
		break;
	case MDTLS_FAILED:
		leg_end(ms, l, mdtls_error(l->dtls), true);
		break;
	case MDTLS_CLOSED:
		leg_end(ms, l, "DTLS closed by the browser", true);
		break;
	default:
		break;
	}
}

static bool leg_ready(const struct ms_leg *l)
{
	return l->used && l->state == MS_UP && l->rx && l->nominated >= 0 && l->mac_ok;
}

static bool takes(const struct ms_leg *r, const struct ms_leg *src)
{
	for (unsigned int i = 0; i < r->n_sources; i++)
		if (!strcmp(r->source_ids[i], src->d.id))
			return true;
	return false;
}

/* @l's outbound context for receiver @r: kept from before, or made now. NULL on failure. */
/* @l's outbound context for receiver @r: the one it has, or a new one. NULL on failure. */
static struct media_srtp *tx_for(struct ms_leg *l, const struct ms_leg *r)
{
	struct media_srtp *ctx = NULL;

	for (unsigned int i = 0; i < l->n_tx; i++)
		if (l->tx[i].dst == r->slot && l->tx[i].dst_serial == r->serial)
			return l->tx[i].tx;
	if (l->n_tx == MEDIA_MAX_OUT || make_srtp(&ctx, &r->keys, false) < 0)
		return NULL;
	l->tx[l->n_tx++] = (struct ms_tx){ .dst = r->slot, .dst_serial = r->serial, .tx = ctx };
	return ctx;
}

/* Whether the receiver an outbound context was made for still lives. */
static bool tx_receiver_lives(const struct media_server *ms, const struct ms_tx *t)
{
	const struct ms_leg *r = &ms->legs[t->dst];

	return r->used && r->serial == t->dst_serial && r->state != MS_ENDED;
}

/* The generation of @e's kept video (media_leg.rtx_gen), @l's: one more when @l was not in the
 * published table, or a receiver of it is new there or its payload type map changed, so that
 * nothing is ever resent to a receiver with other header bytes than it was first sent with
 * (the slot's kept packets start empty with each new leg: media_leg_counters_reset). */
static uint32_t rtx_gen_of(struct ms_leg *l, const struct media_leg *e)
{
	const struct media_tab *cur = __atomic_load_n(&media_tab_current, __ATOMIC_ACQUIRE);
	const struct media_leg *old = cur ? cur->legs[e->slot] : NULL;

	if (!old)
		return ++l->rtx_gen;
	for (unsigned int i = 0; i < e->n_out; i++) {
		unsigned int j = 0;

		while (j < old->n_out && old->out[j].dst != e->out[i].dst)
			j++;
		if (j == old->n_out ||
			memcmp(old->out[j].pt_map, e->out[i].pt_map, sizeof(e->out[i].pt_map)))
			return ++l->rtx_gen;
	}
	return l->rtx_gen;
}

static void build_leg(struct media_server *ms, struct ms_leg *l, struct media_leg *e,
	struct ms_retired *ret)
{
	unsigned int k = 0;

	/* contexts for receivers that are gone retire with the old table */
	for (unsigned int i = 0; i < l->n_tx; i++)
		if (tx_receiver_lives(ms, &l->tx[i]))
			l->tx[k++] = l->tx[i];
		else
			retire_ctx(ret, l->tx[i].tx);
	l->n_tx = k;
	e->slot = l->slot;
	e->ifi = l->ifi;
	memcpy(e->mac, l->mac, 6);
	e->local_port = l->local_port;
	e->remote_port = l->paths[l->nominated].port;
	if ((e->v6 = l->local_ip.v6)) { /* issue 18: the IPv4 addresses stay 0 */
		memcpy(e->local_ip6, l->local_ip.ip6, 16);
		memcpy(e->remote_ip6, l->paths[l->nominated].ip.ip6, 16);
	} else {
		e->local_ip = l->local_ip.ip;
		e->remote_ip = l->paths[l->nominated].ip.ip;
	}
	e->rx = *l->rx; /* the handle: the state it points to stays where it is */
	e->audio_ssrc = l->d.audio_ssrc;
	e->video_ssrc = l->d.video_ssrc;
	e->remb = l->d.remb;
	if (l->twcc_tx) { /* our feedback: NACKs, and transport-cc where negotiated */
		e->twcc_ssrc = MEDIA_TWCC_SSRC;
		e->twcc_tx = *l->twcc_tx;
		if (l->d.twcc_ext >= 1 && l->d.twcc_ext <= 14)
			e->twcc_ext = l->d.twcc_ext;
	}
	if (l->d.level_ext >= 1 && l->d.level_ext <= 14)
		e->level_ext = l->d.level_ext;
	if (l->d.pt[MEDIA_VP8] < 128)
		e->vp8_pt = l->d.pt[MEDIA_VP8];
	/* simulcast: its layers learnt and its receivers' numbering kept in media_sim[slot] (out
	 * of memory: its video goes nowhere, as it would without a table); our PLIs for a layer
	 * need our feedback context */
	if (l->d.n_layers && l->d.rid_ext >= 1 && l->d.rid_ext <= 14 && l->twcc_tx) {
		e->n_layers = (uint8_t)(l->d.n_layers < SIM_LAYERS ? l->d.n_layers : SIM_LAYERS);
		e->rid_ext = l->d.rid_ext;
		for (unsigned int k = 0; k < e->n_layers; k++)
			snprintf(e->rid[k], sizeof(e->rid[k]), "%s", l->d.rid[k]);
		if (!(e->sim = media_sim_get(l->slot, l->d.n_layers)))
			e->n_layers = 0;
	}
	/* its video kept for its receivers' NACKs (out of memory: none, they wait for a key
	 * frame as before); a simulcast one's per layer, in its media_sim */
	if (l->d.video_ssrc && !l->d.n_layers)
		e->rtx = media_rtx_get(l->slot);
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS && e->n_out < MEDIA_MAX_OUT; i++) {
		struct ms_leg *r = &ms->legs[i];
		struct media_out *o;
		struct media_srtp *ctx;

		if (r == l || !leg_ready(r) || strcmp(r->d.call, l->d.call))
			continue;
		if (!(ctx = tx_for(l, r)))
			continue;
		o = &e->out[e->n_out++];
		o->tx = *ctx;
		o->dst = r->slot;
		o->fwd_audio = takes(r, l) && !l->audio_muted;
		o->fwd_video = takes(r, l) && !l->video_muted;
		o->takes = takes(r, l);
		o->dst_audio_ssrc = r->d.audio_ssrc;
		o->dst_video_ssrc = r->d.video_ssrc;
		o->sim_serial = (uint32_t)r->serial;
		memset(o->pt_map, 0xff, sizeof(o->pt_map));
		for (int c = 0; c < MEDIA_N_CODECS; c++)
			if (l->d.pt[c] < 128 && r->d.pt[c] < 128)
				o->pt_map[l->d.pt[c]] = r->d.pt[c];
	}
	e->rtx_gen = rtx_gen_of(l, e);
}

/* Builds and publishes the table of every ready leg; what it replaced goes after a grace
 * period. Control loop only, under ms->lock. */
static void ms_publish(struct media_server *ms)
{
	struct media_tab *t = calloc(1, sizeof(*t));
	struct ms_retired *ret = calloc(1, sizeof(*ret));

	if (!t || !ret) {
		free(t);
		free(ret);
		return; /* stays dirty: the next tick tries again */
	}
	ret->ms = ms;
	if (RAND_bytes((uint8_t *)&t->seed, sizeof(t->seed)) != 1)
		t->seed = (uint32_t)now_ms();
	if (RAND_bytes((uint8_t *)t->key6, sizeof(t->key6)) != 1)
		for (unsigned int k = 0; k < 4; k++) /* no randomness: still per table */
			t->key6[k] = (now_ms() + k) * 0x9e3779b97f4a7c15ull ^ t->seed;
	/* next hops first: a leg is published once its packets can leave */
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];

		if (!l->used || l->state != MS_UP || l->nominated < 0 || l->mac_ok)
			continue;
		if (l->paths[l->nominated].ip.v6)
			l->mac_ok = ms->env.resolve6 &&
				ms->env.resolve6(ms->env.ctx, l->ifi, l->paths[l->nominated].ip.ip6,
					l->mac) == 0;
		else
			l->mac_ok = ms->env.resolve &&
				ms->env.resolve(ms->env.ctx, l->ifi, l->paths[l->nominated].ip.ip,
					l->mac) == 0;
	}
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];
		struct media_leg *e;

		if (!leg_ready(l))
			continue;
		e = calloc(1, sizeof(*e));
		if (!e)
			continue;
		build_leg(ms, l, e, ret);
		t->legs[l->slot] = e;
		t->n_legs++;
		uint32_t h = media_leg_hash(t, e);
		while (t->index[h & (MEDIA_INDEX_SIZE - 1)])
			h++;
		t->index[h & (MEDIA_INDEX_SIZE - 1)] = (uint16_t)(l->slot + 1);
	}
	/* the ended legs: their contexts and slots go with the old table */
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];

		if (!l->used || l->state != MS_ENDED)
			continue;
		if (retire_slot(ret, l->slot) < 0)
			continue; /* out of memory: the leg stays for the next try */
		retire_ctx(ret, l->rx);
		retire_ctx(ret, l->twcc_tx);
		for (unsigned int k = 0; k < l->n_tx; k++)
			retire_ctx(ret, l->tx[k].tx);
		mdtls_free(l->dtls);
		if (l->key_ok)
			stun_key_free(&l->key);
		ms->gone_checks += l->checks;
		ms->gone_check_fail += l->check_fail;
		ms->legs_ended++;
		__atomic_store_n(&ms->slot_busy[l->slot], true, __ATOMIC_RELEASE);
		memset(l, 0, sizeof(*l));
	}
	/* and the contexts of legs that no longer take part (kept legs moved theirs out) */
	ret->tab = edge_rcu_publish(&media_tab_current, t);
	edge_rcu_retire(ret, retired_free);
	ms->dirty = false;
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++)
		if (ms->legs[i].used && ms->legs[i].state == MS_UP && ms->legs[i].nominated >= 0 &&
			!ms->legs[i].mac_ok)
			ms->dirty = true; /* ARP pending: try again on the next tick */
}

struct ms_uplink {
	uint64_t lost, recovered, nack_pkts;
};

/* @l's video uplink's counters (rtx.h: lost, recovered, NACKs sent) into @up, its layers'
 * summed; false when it sends no video. */
static bool uplink_of(const struct ms_leg *l, struct ms_uplink *up)
{
	const struct sim_stream *s = media_sim[l->slot];
	const struct rtx_stream *one[SIM_LAYERS] = { media_rtx[l->slot] };
	unsigned int n = 1;

	memset(up, 0, sizeof(*up));
	if (!l->d.video_ssrc)
		return false;
	if (l->d.n_layers && s)
		for (n = 0; n < l->d.n_layers && n < SIM_LAYERS; n++)
			one[n] = s->rtx[n];
	for (unsigned int k = 0; k < n; k++) {
		if (!one[k])
			continue;
		up->lost += one[k]->lost;
		up->recovered += one[k]->recovered;
		up->nack_pkts += one[k]->nack_pkts;
	}
	return true;
}

/* REMB for @l (no transport-cc): what it sent us over the last @span ms and its video's loss
 * (found missing, over what came and what was missing) feed its uplink's estimate, which its
 * worker sends with its next receiver report. */
static void remb_sample(struct ms_leg *l, uint64_t span, uint64_t now)
{
	struct ms_uplink up;
	uint64_t pkts = sub0(l->last.rx_pkts, l->last.rx_audio_pkts), d_pkts, d_lost;
	uint32_t bps =
		(uint32_t)min_u64(sub0(l->last.rx_bytes, l->up_bytes) * 8000 / span, UINT32_MAX);

	uplink_of(l, &up);
	d_pkts = sub0(pkts, l->up_pkts);
	d_lost = sub0(up.lost, l->up_lost);
	l->up_bytes = l->last.rx_bytes;
	l->up_pkts = pkts;
	l->up_lost = up.lost;
	if (!bps)
		return; /* nothing came: nothing to say */
	sim_estimate(&l->up_est,
		(unsigned int)(d_lost * 256 / (d_pkts + d_lost ? d_pkts + d_lost : 1)), bps,
		(uint32_t)(now / 1000), 0);
	__atomic_store_n(&media_remb_bps[l->slot], l->up_est.bps, __ATOMIC_RELAXED);
}

/* Whether @r takes @src's video now. */
static bool takes_video(const struct ms_leg *r, const struct ms_leg *src)
{
	return src != r && src->used && src->state == MS_UP && !src->video_muted &&
		!strcmp(src->d.call, r->d.call) && takes(r, src);
}

/* The estimates, once a second (after the legs' counters): each leg's video rate, each
 * simulcast source's layer bit rates, a REMB leg's uplink (remb_sample); each receiver's
 * estimate from its latest receiver report on the video it was sent and its round trip
 * (sim_estimate), shared among the simulcast sources it takes once the others' video is
 * counted (sim_allocate), each source's layer for it stored for the fast path, which
 * switches at that layer's next key frame. Control loop, under ms->lock. */
static void sim_sample(struct media_server *ms, uint64_t now)
{
	uint64_t span = now - ms->sampled_ms;

	if (!ms->sampled_ms || !span || span > 10000)
		span = 1000;
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];
		const struct sim_stream *s = media_sim[l->slot];
		uint64_t v;

		if (!l->used || l->state != MS_UP)
			continue;
		v = sub0(l->last.rx_bytes, l->last.rx_audio_bytes);
		l->video_bps = (uint32_t)min_u64(sub0(v, l->video_bytes) * 8000 / span, UINT32_MAX);
		l->video_bytes = v;
		if (l->d.remb)
			remb_sample(l, span, now);
		for (unsigned int k = 0; k < SIM_LAYERS; k++) {
			uint64_t b = l->d.n_layers && s ?
				__atomic_load_n(&s->bytes[k], __ATOMIC_RELAXED) :
				0;

			uint64_t f = l->d.n_layers && s ?
				__atomic_load_n(&s->frames[k], __ATOMIC_RELAXED) :
				0;

			l->sim_rate[k] = (uint32_t)min_u64(sub0(b, l->sim_bytes[k]) * 8000 / span,
				UINT32_MAX);
			l->sim_fps[k] =
				(uint32_t)min_u64(sub0(f, l->sim_frames[k]) * 1000 / span, 1000);
			l->sim_bytes[k] = b;
			l->sim_frames[k] = f;
		}
	}
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *r = &ms->legs[i];
		uint64_t sent = 0, others = 0;
		unsigned int n_sim = 0;

		if (!r->used || r->state != MS_UP)
			continue;
		for (unsigned int j = 0; j < MEDIA_MAX_LEGS; j++) {
			const struct ms_leg *src = &ms->legs[j];
			const struct sim_stream *s = media_sim[src->slot];

			if (!takes_video(r, src))
				continue;
			if (src->d.n_layers && s) {
				uint8_t k = s->rx[r->slot].cur;

				n_sim++;
				sent += k < SIM_LAYERS ? src->sim_rate[k] : 0;
			} else {
				others += src->video_bps;
			}
		}
		sent += others;
		if (r->last.rr_blocks != r->est_blocks) {
			sim_estimate(&r->est, r->last.rr_lost[1],
				(uint32_t)min_u64(sent, UINT32_MAX), (uint32_t)(now / 1000),
				r->last.rtt_ms);
			r->est_blocks = r->last.rr_blocks;
		}
		if (!n_sim)
			continue;
		/* its estimate, less the other sources' video, shared among the simulcast ones:
		 * a bigger tile first, then the longest in the call */
		struct sim_alloc al[MEDIA_MAX_OUT];
		uint32_t rate[MEDIA_MAX_OUT][SIM_LAYERS];
		struct sim_stream *ss[MEDIA_MAX_OUT];
		unsigned int na = 0;

		r->est_budget = (uint32_t)sub0(r->est.bps, others);
		for (unsigned int j = 0; j < MEDIA_MAX_LEGS && na < MEDIA_MAX_OUT; j++) {
			const struct ms_leg *src = &ms->legs[j];
			struct sim_stream *s = media_sim[src->slot];
			int view = view_of(r, src);

			if (!takes_video(r, src) || !src->d.n_layers || !s)
				continue;
			sim_view_cap(s, src->d.n_layers, src->sim_rate, view, rate[na]);
			ss[na] = s;
			al[na] = (struct sim_alloc){ .rate = rate[na],
				.height = s->height,
				.n = src->d.n_layers,
				.cur = s->rx[r->slot].cur,
				.prio = (uint64_t)(view + 1) << 32 | (uint32_t)~src->serial };
			na++;
		}
		sim_allocate(al, na, r->est_budget);
		for (unsigned int a = 0; a < na; a++)
			__atomic_store_n(&ss[a]->rx[r->slot].want, al[a].want, __ATOMIC_RELAXED);
	}
}

/* Once a second: each connected leg's counters, and the audio it was sent, taken as what
 * its sources' audio came to over that second (every source whose audio it takes sent it
 * that much, bounded by what it was sent in all). Control loop, under ms->lock. */
static void ms_sample(struct media_server *ms, uint64_t now)
{
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];
		struct media_lcore_leg c;

		if (!l->used || l->state != MS_UP)
			continue;
		media_leg_counters(l->slot, &c);
		l->d_rx_audio_pkts = c.rx_audio_pkts - l->last.rx_audio_pkts;
		l->d_rx_audio_bytes = c.rx_audio_bytes - l->last.rx_audio_bytes;
	}
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *r = &ms->legs[i];
		uint64_t pkts = 0, bytes = 0;
		struct media_lcore_leg c;
		struct ms_uplink up;
		struct ms_rate *s;

		if (!r->used || r->state != MS_UP)
			continue;
		for (unsigned int k = 0; k < MEDIA_MAX_LEGS && r->n_sources; k++) {
			const struct ms_leg *src = &ms->legs[k];

			if (src == r || !src->used || src->state != MS_UP || src->audio_muted ||
				strcmp(src->d.call, r->d.call) || !takes(r, src))
				continue;
			pkts += src->d_rx_audio_pkts;
			bytes += src->d_rx_audio_bytes;
		}
		media_leg_counters(r->slot, &c);
		uplink_of(r, &up);
		r->tx_audio_pkts += min_u64(pkts, c.tx_pkts - r->last.tx_pkts);
		r->tx_audio_bytes += min_u64(bytes, c.tx_bytes - r->last.tx_bytes);
		r->last = c;
		s = &r->rate[r->n_rate++ % (MEDIA_RATE_SECONDS + 1)];
		*s = (struct ms_rate){ .ms = now,
			.rx_bytes = c.rx_bytes,
			.rx_audio_bytes = c.rx_audio_bytes,
			.tx_bytes = c.tx_bytes,
			.tx_audio_bytes = r->tx_audio_bytes,
			.rx_video_pkts = c.rx_pkts - c.rx_audio_pkts,
			.lost = up.lost,
			.recovered = up.recovered,
			.frames = c.video_frames,
			.level_sum = c.level_sum,
			.level_pkts = c.level_pkts };
	}
	sim_sample(ms, now);
	ms->sampled_ms = now;
}

static void ms_tick(void *ctx)
{
	struct media_server *ms = ctx;
	uint64_t now = now_ms();

	pthread_mutex_lock(&ms->lock);
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];

		if (!l->used || l->state == MS_ENDED)
			continue;
		if (l->state == MS_NEW) {
			if (!l->ice_wait_logged && now - l->opened_ms > MS_ICE_WAIT_MS) {
				l->ice_wait_logged = true;
				edge_log(LOG_WARNING, "host:server",
					"WARNING : media: leg %s "
					"(\"%s\"): no ICE check arrived within %d s",
					l->d.id, l->d.name, MS_ICE_WAIT_MS / 1000);
			}
			continue;
		}
		if (now - l->consent_ms > MICE_CONSENT_TIMEOUT_MS) {
			leg_end(ms, l, "consent expired (no ICE check for 30 s)", true);
			continue;
		}
		if (l->state == MS_DTLS && mdtls_timeout_ms(l->dtls) == 0) {
			mdtls_timer(l->dtls);
			dtls_flush(ms, l);
			if (mdtls_state(l->dtls) == MDTLS_FAILED)
				leg_end(ms, l, "DTLS handshake timed out", true);
		}
	}
	if (now - ms->sampled_ms >= 1000)
		ms_sample(ms, now);
	if (ms->dirty)
		ms_publish(ms);
	pthread_mutex_unlock(&ms->lock);
}

static void on_socket(void *ctx, int fd, short revents)
{
	struct media_server *ms = ctx;
	uint8_t buf[2048];
	const struct ms_port *p = NULL;

	(void)revents;
	for (unsigned int i = 0; i < ms->n_ports; i++)
		if (ms->ports[i].fd == fd)
			p = &ms->ports[i];
	if (!p)
		return;
	pthread_mutex_lock(&ms->lock);
	for (unsigned int served = 0; served < 64; served++) {
		union ms_sa from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &fl);

		if (n <= 0)
			break;
		if (from.sa.sa_family != (p->ip.v6 ? AF_INET6 : AF_INET))
			continue;
		if (buf[0] < 4)
			on_stun(ms, p, buf, (size_t)n, &from);
		else if (buf[0] >= 20 && buf[0] <= 63)
			on_dtls(ms, p, buf, (size_t)n, &from);
		else if (buf[0] >= 128 && buf[0] <= 191)
			ms->rtp_early++; /* before the leg's keys: nobody can read it */
		else
			ms->not_stun++;
	}
	if (ms->dirty)
		ms_publish(ms);
	pthread_mutex_unlock(&ms->lock);
}

/* The socket on (@ip, @lport: network order), or NULL. */
static const struct ms_port *port_at(const struct media_server *ms, const struct ms_ip *ip,
	uint16_t lport)
{
	for (unsigned int i = 0; i < ms->n_ports; i++)
		if (ms_ip_eq(&ms->ports[i].ip, ip) && htons(ms->ports[i].port) == lport)
			return &ms->ports[i];
	return NULL;
}

static void close_ports(struct media_server *ms)
{
	for (unsigned int i = 0; i < ms->n_ports; i++) {
		evloop_del_fd(ms->loop, ms->ports[i].fd);
		close(ms->ports[i].fd);
	}
	ms->n_ports = 0;
}

int media_server_config(struct media_server *ms, const struct edge_cfg *cfg)
{
	struct ms_port want[MS_MAX_SOCKS];
	unsigned int n = 0, kept = 0;
	bool changed = false;

	/* on each media interface: its first IPv4 address, and its IPv6 addresses (issue 18:
	 * their host candidates; the data plane takes the port on each of them) */
	for (int i = 0; cfg->role != EDGE_ROLE_EDGE && cfg->cb.enabled && i < cfg->cb.n_media &&
		i < MEDIA_MAX_PORTS;
		i++) {
		const struct cfg_iface *f = &cfg->ifs[cfg->cb.media[i].ifi];

		if (f->n_addrs && n < MS_MAX_SOCKS)
			want[n++] = (struct ms_port){ .fd = -1,
				.ifi = cfg->cb.media[i].ifi,
				.ip = { .ip = f->addrs[0].addr },
				.port = cfg->cb.media[i].port };
		for (int k = 0; k < f->n_addrs6 && k < EDGE_MAX_ADDRS && n < MS_MAX_SOCKS; k++) {
			want[n] = (struct ms_port){ .fd = -1,
				.ifi = cfg->cb.media[i].ifi,
				.ip = { .v6 = true },
				.port = cfg->cb.media[i].port };
			memcpy(want[n++].ip.ip6, f->addrs6[k].addr, 16);
		}
	}
	pthread_mutex_lock(&ms->lock);
	/* the sockets still wanted stay open, and so do the legs on them (an address added to a
	 * media interface ends no meeting); the others close, ending the legs nominated there */
	for (unsigned int i = 0; i < ms->n_ports; i++) {
		bool keep = false;

		for (unsigned int j = 0; j < n && !keep; j++)
			if (want[j].fd < 0 && ms_ip_eq(&want[j].ip, &ms->ports[i].ip) &&
				want[j].port == ms->ports[i].port &&
				want[j].ifi == ms->ports[i].ifi) {
				want[j].fd = ms->ports[i].fd;
				keep = true;
			}
		if (keep) {
			ms->ports[kept++] = ms->ports[i];
			continue;
		}
		evloop_del_fd(ms->loop, ms->ports[i].fd);
		close(ms->ports[i].fd);
		changed = true;
	}
	ms->n_ports = kept;
	for (unsigned int i = 0; changed && i < MEDIA_MAX_LEGS; i++) {
		struct ms_leg *l = &ms->legs[i];

		if (l->used && l->state != MS_ENDED &&
			(!ms->n_ports ||
				(l->nominated >= 0 &&
					!port_at(ms, &l->paths[l->nominated].lip,
						l->paths[l->nominated].lport))))
			leg_end(ms, l, "media port changed", true);
	}
	for (unsigned int i = 0; i < n; i++) {
		union ms_sa sa;
		socklen_t sl;
		int fd, one = 1;
		char ip[64];

		if (want[i].fd >= 0)
			continue; /* kept */
		changed = true;
		sl = ms_sa_of(&want[i].ip, htons(want[i].port), &sa);
		fd = socket(sa.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		ms_ip_str(&want[i].ip, htons(want[i].port), ip, sizeof(ip));
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* IPv6: this socket only; and bound while the kernel mirror's copy of the address
		 * may still be tentative (its duplicate address detection is ours, nd_dad.c) */
		if (fd >= 0 && want[i].ip.v6) {
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		}
		if (fd < 0 || bind(fd, &sa.sa, sl) < 0 ||
			evloop_add_fd(ms->loop, fd, POLLIN, on_socket, ms) < 0) {
			LOG_ERRX("media", "cannot listen on %s/udp", ip);
			if (fd >= 0)
				close(fd);
			continue;
		}
		want[i].fd = fd;
		ms->ports[ms->n_ports++] = want[i];
		LOG_INFO_("media", "media port %s/udp ready", ip);
	}
	if (changed)
		ms_publish(ms);
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

struct media_server *media_server_new(struct evloop *loop, const struct media_server_env *env,
	char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct media_server *ms = calloc(1, sizeof(*ms));

	if (!ms) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_once(&once, (void (*)(void))srtp_init);
	pthread_mutex_init(&ms->lock, NULL);
	ms->loop = loop;
	ms->env = *env;
	ms->dtls = mdtls_ctx_new(err, errlen);
	if (!ms->dtls) {
		free(ms);
		return NULL;
	}
	ms->timer = evloop_add_timer(loop, 100, ms_tick, ms);
	if (ms->timer < 0) {
		snprintf(err, errlen, "no timer left in the control loop");
		mdtls_ctx_free(ms->dtls);
		free(ms);
		return NULL;
	}
	return ms;
}

int media_server_rotate(struct media_server *ms)
{
	int rc;

	pthread_mutex_lock(&ms->lock);
	rc = mdtls_ctx_rotate(ms->dtls);
	pthread_mutex_unlock(&ms->lock);
	return rc;
}

void media_server_free(struct media_server *ms)
{
	if (!ms)
		return;
	pthread_mutex_lock(&ms->lock);
	close_ports(ms);
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++)
		if (ms->legs[i].used)
			leg_end(ms, &ms->legs[i], "media server stopped", false);
	ms_publish(ms); /* an empty table: every context retires */
	pthread_mutex_unlock(&ms->lock);
	evloop_del_timer(ms->loop, ms->timer);
	edge_rcu_barrier();
	mdtls_ctx_free(ms->dtls);
	pthread_mutex_destroy(&ms->lock);
	free(ms);
}

static const char *profile_short(const struct ms_leg *l)
{
	if (!l->rx)
		return "-";
	return l->keys.profile == MDTLS_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" :
								"AES_CM_128_HMAC_SHA1_80";
}

/* @l's bit rates (bits/s) over the last MEDIA_RATE_SECONDS samples, in @bps's byte fields. */
static void leg_rates(const struct ms_leg *l, struct ms_rate *bps)
{
	const unsigned int size = MEDIA_RATE_SECONDS + 1;
	const struct ms_rate *a, *b;
	uint64_t ms;

	memset(bps, 0, sizeof(*bps));
	if (l->n_rate < 2)
		return;
	b = &l->rate[(l->n_rate - 1) % size];
	a = &l->rate[l->n_rate >= size ? l->n_rate % size : 0];
	ms = b->ms - a->ms;
	if (!ms)
		return;
	bps->rx_bytes = (b->rx_bytes - a->rx_bytes) * 8000 / ms;
	bps->rx_audio_bytes = (b->rx_audio_bytes - a->rx_audio_bytes) * 8000 / ms;
	bps->tx_bytes = (b->tx_bytes - a->tx_bytes) * 8000 / ms;
	bps->tx_audio_bytes = (b->tx_audio_bytes - a->tx_audio_bytes) * 8000 / ms;
	/* the rest as differences over the window, and frames per second */
	bps->rx_video_pkts = b->rx_video_pkts - a->rx_video_pkts;
	bps->lost = b->lost - a->lost;
	bps->recovered = b->recovered - a->recovered;
	bps->frames = (b->frames - a->frames) * 1000 / ms;
	bps->level_sum = b->level_sum - a->level_sum;
	bps->level_pkts = b->level_pkts - a->level_pkts;
}

/* @l's loss, jitter, frame rate, picture size and audio level (media_leg_stats) from its
 * counters @c and their differences over the rate window @w. */
static void leg_quality(const struct ms_leg *l, const struct media_lcore_leg *c,
	const struct ms_rate *w, struct media_leg_stats *out)
{
	uint64_t expected = w->rx_video_pkts + sub0(w->lost, w->recovered);
	struct ms_uplink up;

	if (uplink_of(l, &up)) {
		out->uplink_lost = up.lost;
		out->uplink_recovered = up.recovered;
		out->nacks_sent = up.nack_pkts;
	}
	out->rx_video_loss_permille = expected ? (unsigned int)(w->lost * 1000 / expected) : 0;
	if (out->rx_video_loss_permille > 1000)
		out->rx_video_loss_permille = 1000;
	out->nack_seqs = c->nack_seqs;
	out->rtx_sent = c->rtx_pkts;
	out->rtx_miss = c->rtx_miss;
	out->rtx_refused = c->rtx_refused;
	out->report_blocks = c->rr_blocks;
	out->rtt_ms = c->rtt_ms;
	out->tx_audio_loss_permille = c->rr_lost[0] * 1000u / 256;
	out->tx_video_loss_permille = c->rr_lost[1] * 1000u / 256;
	out->tx_audio_jitter_ms = c->rr_jitter[0] / 48; /* Opus: 48 kHz */
	out->tx_video_jitter_ms = c->rr_jitter[1] / 90; /* video: 90 kHz */
	out->rx_video_fps = (unsigned int)w->frames;
	out->rx_video_width = c->width;
	out->rx_video_height = c->height;
	if (l->d.n_layers && media_sim[l->slot]) { /* simulcast: its fastest layer's */
		const struct sim_stream *s = media_sim[l->slot];
		unsigned int top = 0;

		for (unsigned int k = 1; k < l->d.n_layers && k < SIM_LAYERS; k++)
			if (l->sim_rate[k] > l->sim_rate[top])
				top = k;
		out->rx_video_fps = l->sim_fps[top];
		out->rx_video_width = s->width[top];
		out->rx_video_height = s->height[top];
	}
	out->audio_level_dbov = w->level_pkts ? -(127 - (int)(w->level_sum / w->level_pkts)) : 0;
}

int media_leg_stats(struct media_server *ms, const char *id, struct media_leg_stats *out)
{
	struct media_lcore_leg c;
	struct ms_rate bps;
	struct ms_leg *l;

	memset(out, 0, sizeof(*out));
	if (!ms)
		return -ENODEV;
	pthread_mutex_lock(&ms->lock);
	l = leg_by_id(ms, id);
	if (!l) {
		pthread_mutex_unlock(&ms->lock);
		return -ENOENT;
	}
	out->connected = l->state == MS_UP;
	out->via_relay = l->nominated >= 0 && l->via_relay;
	media_leg_counters(l->slot, &c);
	leg_rates(l, &bps);
	out->rx_audio = (struct media_flow_stats){ .packets = c.rx_audio_pkts,
		.bytes = c.rx_audio_bytes,
		.bit_rate = bps.rx_audio_bytes };
	out->rx_video = (struct media_flow_stats){ .packets = sub0(c.rx_pkts, c.rx_audio_pkts),
		.bytes = sub0(c.rx_bytes, c.rx_audio_bytes),
		.bit_rate = sub0(bps.rx_bytes, bps.rx_audio_bytes) };
	out->tx_audio = (struct media_flow_stats){ .packets = l->tx_audio_pkts,
		.bytes = l->tx_audio_bytes,
		.bit_rate = bps.tx_audio_bytes };
	out->tx_video = (struct media_flow_stats){ .packets = sub0(c.tx_pkts, l->tx_audio_pkts),
		.bytes = sub0(c.tx_bytes, l->tx_audio_bytes),
		.bit_rate = sub0(bps.tx_bytes, bps.tx_audio_bytes) };
	out->keyframe_req = c.keyframe_req;
	out->auth_fail = c.auth_fail;
	out->replay = c.replay;
	leg_quality(l, &c, &bps, out);
	pthread_mutex_unlock(&ms->lock);
	return 0;
}

unsigned int media_levels(struct media_server *ms, struct media_level *out, unsigned int max)
{
	unsigned int n = 0;

	if (!ms)
		return 0;
	pthread_mutex_lock(&ms->lock);
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS && n < max; i++) {
		const struct ms_leg *l = &ms->legs[i];
		struct media_lcore_leg c;

		if (!l->used || l->state != MS_UP || !l->d.audio_ssrc)
			continue;
		media_leg_counters(l->slot, &c);
		memcpy(out[n].id, l->d.id, MEDIA_ID_LEN);
		memcpy(out[n].call, l->d.call, MEDIA_ID_LEN);
		out[n].sum = c.level_sum;
		out[n].pkts = c.level_pkts;
		out[n].voice = c.voice_pkts;
		n++;
	}
	pthread_mutex_unlock(&ms->lock);
	return n;
}

/* @l's simulcast lines: its layers as a source; as a receiver, its estimate and the layer
 * it is sent of each simulcast source. */
static void sim_show(const struct media_server *ms, const struct ms_leg *l, FILE *out)
{
	const struct sim_stream *s = media_sim[l->slot];
	bool any = false;

	if (l->d.n_layers && s) {
		fprintf(out, "  Simulcast layers        : ");
		for (unsigned int k = 0; k < l->d.n_layers && k < SIM_LAYERS; k++) {
			if (!__atomic_load_n(&s->ssrc[k], __ATOMIC_RELAXED))
				fprintf(out, "%s%s not seen", k ? ", " : "", l->d.rid[k]);
			else
				fprintf(out, "%s%s %u kbit/s %ux%u", k ? ", " : "", l->d.rid[k],
					l->sim_rate[k] / 1000, s->width[k], s->height[k]);
		}
		fprintf(out,
			"\n  Simulcast key frames    : %lu PLIs sent for a layer switch or a receiver\n"
			"  Simulcast not sent on   : %lu padding-only, %lu of no layer (rid)\n",
			(unsigned long)s->plis, (unsigned long)s->padding,
			(unsigned long)s->unknown);
	}
	for (unsigned int j = 0; j < MEDIA_MAX_LEGS; j++) {
		const struct ms_leg *src = &ms->legs[j];
		const struct sim_stream *ss = media_sim[src->slot];

		if (!takes_video(l, src) || !src->d.n_layers || !ss)
			continue;
		if (!any)
			fprintf(out,
				"  Estimate                : %u kbit/s (%u cuts, %u for a queue: round trip "
				"above %u ms), %u kbit/s for simulcast sources\n",
				l->est.bps / 1000, l->est.cuts, l->est.queue_cuts,
				l->est.rtt_min + SIM_QUEUE_MS, l->est_budget / 1000);
		any = true;
		const struct sim_rx *r = &ss->rx[l->slot];
		uint8_t cur = r->cur, want = __atomic_load_n(&r->want, __ATOMIC_RELAXED);

		int view = view_of(l, src);
		char shown[32] = "";

		if (view >= 0)
			snprintf(shown, sizeof(shown), ", shown %d px high", view);
		fprintf(out, "  Simulcast from %-9.9s: layer %s (wanted %s), %u switches%s\n",
			src->d.name, cur < SIM_LAYERS ? src->d.rid[cur] : "-",
			want < SIM_LAYERS ? src->d.rid[want] : "none: paused, no room", r->switches,
			shown);
	}
}

void media_show(struct media_server *ms, FILE *out)
{
	if (!ms) {
		fprintf(out, "media: not running on this appliance\n");
		return;
	}
	pthread_mutex_lock(&ms->lock);
	/* IPv4 first, as before; the IPv6 ones (issue 18) on a line of their own */
	for (int v6 = 0; v6 <= 1; v6++) {
		unsigned int k = 0;

		fprintf(out,
			v6 ? "\nMedia ports (IPv6)        : " : "Media ports               : ");
		for (unsigned int i = 0; i < ms->n_ports; i++) {
			char a[64];

			if (ms->ports[i].ip.v6 != v6)
				continue;
			fprintf(out, "%s%s", k++ ? ", " : "",
				ms_ip_str(&ms->ports[i].ip, htons(ms->ports[i].port), a,
					sizeof(a)));
		}
		if (!k)
			fprintf(out, "none");
	}
	fprintf(out, "\nDTLS fingerprint          : sha-256 %s\n", mdtls_ctx_fingerprint(ms->dtls));
	fprintf(out,
		"Unknown ICE username      : %lu\nDTLS from unknown paths   : %lu\n"
		"RTP before keys           : %lu\nNot STUN/DTLS/RTP         : %lu\n"
		"DTLS handshakes refused   : %lu\n",
		(unsigned long)ms->unknown_ufrag, (unsigned long)ms->dtls_unknown,
		(unsigned long)ms->rtp_early, (unsigned long)ms->not_stun,
		(unsigned long)ms->handshakes_refused);
	unsigned int n = 0;
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		const struct ms_leg *l = &ms->legs[i];
		struct media_lcore_leg c;
		struct ms_rate bps;
		char local[64] = "-", remote[64] = "-";

		if (!l->used)
			continue;
		n++;
		media_leg_counters(l->slot, &c);
		leg_rates(l, &bps);
		if (l->nominated >= 0) {
			ms_ip_str(&l->paths[l->nominated].ip, l->paths[l->nominated].port, remote,
				sizeof(remote));
			ms_ip_str(&l->local_ip, l->local_port, local, sizeof(local));
		}
		fprintf(out,
			"\nLeg %s (\"%s\")\n  State                   : %s\n"
			"  5-tuple                 : udp %s <-> %s\n"
			"  Path                    : %s\n"
			"  SRTP profile            : %s\n"
			"  Received                : %lu packets, %lu bytes\n"
			"  Received audio / video  : %lu / %lu packets\n"
			"  Bit rate received       : %lu kbit/s (audio %lu, video %lu)\n"
			"  Sent                    : %lu packets, %lu bytes\n"
			"  Bit rate sent           : %lu kbit/s (audio ~%lu, video ~%lu)\n"
			"  Authentication failures : %lu SRTP, %lu ICE\n"
			"  Replayed                : %lu\n"
			"  Key frames requested    : %lu\n"
			"  Receives from           : %u participants\n",
			l->d.id, l->d.name, ms_state_name[l->state], local, remote,
			l->nominated < 0     ? "-" :
				l->via_relay ? "relay (through our TURN server)" :
					       "direct",
			profile_short(l), (unsigned long)c.rx_pkts, (unsigned long)c.rx_bytes,
			(unsigned long)c.rx_audio_pkts,
			(unsigned long)sub0(c.rx_pkts, c.rx_audio_pkts),
			(unsigned long)(bps.rx_bytes / 1000),
			(unsigned long)(bps.rx_audio_bytes / 1000),
			(unsigned long)(sub0(bps.rx_bytes, bps.rx_audio_bytes) / 1000),
			(unsigned long)c.tx_pkts, (unsigned long)c.tx_bytes,
			(unsigned long)(bps.tx_bytes / 1000),
			(unsigned long)(bps.tx_audio_bytes / 1000),
			(unsigned long)(sub0(bps.tx_bytes, bps.tx_audio_bytes) / 1000),
			(unsigned long)c.auth_fail, (unsigned long)l->check_fail,
			(unsigned long)c.replay, (unsigned long)c.keyframe_req, l->n_sources);
		if (l->d.twcc_ext)
			fprintf(out, "  Congestion feedback     : %lu transport-cc packets sent\n",
				(unsigned long)media_leg_twcc_sent(l->slot));
		else if (l->d.remb)
			fprintf(out,
				"  Congestion feedback     : REMB %u kbit/s with our reports (%u cuts)\n",
				media_remb_bps[l->slot] / 1000, l->up_est.cuts);
		struct media_leg_stats q = { .connected = false };

		leg_quality(l, &c, &bps, &q);
		if (l->d.video_ssrc)
			fprintf(out,
				"  Uplink lost / recovered : %lu / %lu (video, %u.%u%% now)\n"
				"  NACKs sent to it        : %lu\n"
				"  Video received          : %u fps, %ux%u\n",
				(unsigned long)q.uplink_lost, (unsigned long)q.uplink_recovered,
				q.rx_video_loss_permille / 10, q.rx_video_loss_permille % 10,
				(unsigned long)q.nacks_sent, q.rx_video_fps, q.rx_video_width,
				q.rx_video_height);
		fprintf(out,
			"  NACKed / retransmitted  : %lu / %lu (not kept %lu, over budget %lu)\n",
			(unsigned long)q.nack_seqs, (unsigned long)q.rtx_sent,
			(unsigned long)q.rtx_miss, (unsigned long)q.rtx_refused);
		if (q.report_blocks)
			fprintf(out,
				"  Its reports: loss       : audio %u.%u%%, video %u.%u%%\n"
				"  Its reports: jitter     : audio %u ms, video %u ms\n"
				"  Round trip              : %u ms\n",
				q.tx_audio_loss_permille / 10, q.tx_audio_loss_permille % 10,
				q.tx_video_loss_permille / 10, q.tx_video_loss_permille % 10,
				q.tx_audio_jitter_ms, q.tx_video_jitter_ms, q.rtt_ms);
		if (l->d.level_ext && l->d.audio_ssrc)
			fprintf(out, "  Audio level             : %d dBov\n", q.audio_level_dbov);
		sim_show(ms, l, out);
	}
	fprintf(out, "%sLegs                      : %u\n", n ? "\n" : "", n);
	pthread_mutex_unlock(&ms->lock);
}

void media_server_stats(struct media_server *ms, struct media_server_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (!ms)
		return;
	pthread_mutex_lock(&ms->lock);
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		const struct ms_leg *l = &ms->legs[i];

		if (!l->used)
			continue;
		s->legs[l->state]++;
		s->ice_checks += l->checks;
		s->ice_auth_fail += l->check_fail;
	}
	s->ice_checks += ms->gone_checks;
	s->ice_auth_fail += ms->gone_check_fail;
	s->unknown_ufrag = ms->unknown_ufrag;
	s->dtls_unknown = ms->dtls_unknown;
	s->rtp_early = ms->rtp_early;
	s->not_stun = ms->not_stun;
	s->handshakes_refused = ms->handshakes_refused;
	s->legs_ended = ms->legs_ended;
	pthread_mutex_unlock(&ms->lock);
}

const char *media_server_state_name(unsigned int state)
{
	return state < MEDIA_N_STATES ? ms_state_name[state] : "?";
}

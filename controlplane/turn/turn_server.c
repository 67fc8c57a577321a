/* TURN over UDP, control side (RFC 8656): requests in, answers out, tables published for
 * the data plane. Authentication is the long-term mechanism (REALM/NONCE challenge, users
 * from the configuration or TURN REST API time-limited usernames) or short-term (RFC 8489
 * 9.1). Lifetimes run on the timing wheel; the data plane also checks them inline. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <rte_cycles.h>

#include "addr_limit.h"
#include "edge_log.h"
#include "stun.h"
#include "turn_resv.h"
#include "turn_server.h"
#include "turn_tables.h"
#include "twheel.h"

#define DEFAULT_LIFETIME 600
#define PERM_LIFETIME 300
#define CHAN_LIFETIME 600
#define NONCE_LIFETIME 600
/* Answers to unauthenticated requests over UDP (401/438 challenges, errors before
 * authentication): at most CHALLENGE_MAX per CHALLENGE_WINDOW_MS per source address, so
 * that a spoofed source gets at most 20 x ~80 bytes a second reflected at it (see serve()). */
#define CHALLENGE_MAX 20
#define CHALLENGE_WINDOW_MS 1000
#define CHALLENGE_SOURCES 4096
#define CHALLENGE_GLOBAL_MAX 1000 /* a second, to sources the table has no room for */
#define TXN_SLOTS 2048
#define TXN_TTL_MS 40000
#define ALLOC_BUCKETS 65536 /* 100 000 allocations: chains of 1.5 on average */
#define USER_BUCKETS 1024
#define SOFTWARE "edge TURN"

/* A peer's address: IPv4 (@ip, never 0) or IPv6 (@v6, @ip6; @ip 0). */
struct peer_addr {
	uint32_t ip;
	bool v6;
	uint8_t ip6[16];
};

static bool peer_eq(const struct peer_addr *a, const struct peer_addr *b)
{
	return a->v6 == b->v6 && (a->v6 ? !memcmp(a->ip6, b->ip6, 16) : a->ip == b->ip);
}

static const char *peer_str(const struct peer_addr *p, char buf[46])
{
	return p->v6 ? inet_ntop(AF_INET6, p->ip6, buf, 46) : cfg_ipv4_str(p->ip, buf);
}

struct perm {
	struct peer_addr peer;
	uint64_t expires_ms;
	uint8_t mac[6];
	bool resolved;
	uint16_t port; /* network order: the one port it opens (a guest's, a hairpin's); 0 = any */
};

struct chan {
	uint16_t num;
	uint16_t port; /* network order */
	struct peer_addr peer;
	uint64_t expires_ms;
};

struct alloc {
	struct alloc *next;
	struct turn_server *srv;
	struct turn_key key; /* for a stream client: turn_stream_key() of its connection */
	uint32_t cli_ip;     /* the client's address and port, network order */
	uint16_t cli_port;
	bool cli_v6; /* an IPv6 client: its address in cli_ip6 (cli_ip 0), ours in srv_ip6 */
	uint8_t cli_ip6[16], srv_ip6[16];
	uint8_t transport; /* TURN_UDP, TURN_TCP, TURN_TLS */
	uint32_t conn;	   /* its stream connection, 0 over UDP */
	bool tcp;	   /* a TCP relay (RFC 6062): nothing for the data plane */
	bool guest;	   /* TURN REST API credentials: media targets only */
	uint8_t client_if;
	uint8_t client_mac[6];
	bool client_resolved;
	uint32_t relay_ip; /* 0: no IPv4 relayed address */
	bool relay6;	   /* an IPv6 relayed address too (RFC 8656 7: REQUESTED- or ADDITIONAL-
			    * ADDRESS-FAMILY), relay_ip6, with the same port */
	uint8_t relay_ip6[16];
	uint16_t relay_port; /* host order */
	char user[128];
	struct stun_key hmac; /* the key the client authenticated with */
	uint64_t created_ms, expires_ms;
	struct tw_timer timer;
	struct perm perms[TURN_MAX_PERMS];
	int n_perms;
	struct chan chans[TURN_MAX_CHANS];
	int n_chans;
	bool published, dirty;
	uint64_t retry_ms; /* dirty with no progress: when the tick tries again */
};

struct txn {
	uint32_t ip;
	uint16_t port;
	uint8_t tid[STUN_TID_LEN];
	uint64_t expires_ms;
	uint16_t len;
	uint8_t resp[300];
};

/* Allocations per user, counted as they come and go, so that max_allocs_per_user costs a
 * lookup, not a walk over every allocation (65 536 buckets and more). */
struct user_count {
	struct user_count *next;
	unsigned int n;
	char user[];
};

/* Allocate latency, one per enum turn_alloc_result: the control thread adds with atomic
 * stores (it is the only writer), a scraper's thread reads with atomic loads. The count is
 * the buckets' sum, so it can never disagree with them. */
struct turn_alloc_hist {
	uint64_t bucket[TURN_ALLOC_BOUNDS + 1]; /* the last: above the last bound */
	uint64_t sum_ns;
};

struct turn_server {
	struct edge_cfg cfg;
	struct turn_env env;
	struct alloc *buckets[ALLOC_BUCKETS];
	unsigned int n_allocs;
	struct user_count *users[USER_BUCKETS];
	struct twheel wheel;
	uint8_t port_used[65536 / 8];
	struct alloc **by_port; /* relay port -> allocation (peer data for stream clients) */
	uint32_t relay_ip;	/* the relay interface's first address */
	uint8_t relay_ip6[16];	/* and its first IPv6 address (has_relay6) */
	bool has_relay6;
	int relay_if;
	uint8_t nonce_secret[20];
	struct stun_key nonce_key;
	struct txn txns[TXN_SLOTS];
	struct turn_resv_table resv;   /* EVEN-PORT R=1: ports held for a RESERVATION-TOKEN */
	struct addr_limit *chal_limit; /* unauthenticated answers per source address (UDP) */
	uint64_t chal_global_ms;       /* when the shared budget's second began */
	unsigned int chal_global;      /* answers from the shared budget in it */
	struct turn_stats st;
	int last_code; /* the last answer built (reply_end): serve_timed's */
	struct turn_alloc_hist alloc_hist[TURN_ALLOC_RESULTS]; /* written here, read anywhere */
	uint64_t rnd;
	unsigned int n_dirty; /* allocations waiting for a next hop: the tick's work */
	struct turn_media_target media[TURN_MAX_MEDIA_TARGETS]; /* what guests may reach */
	unsigned int n_media;
	uint64_t guest_log_ms;	     /* last refused guest logged (one a second) */
	unsigned int guest_unlogged; /* refused since, not logged */
};

/* ---- small helpers ---- */

static uint64_t now_ms(const struct turn_server *s)
{
	return s->env.now_ms(s->env.ctx);
}

static uint32_t rnd32(struct turn_server *s)
{
	s->rnd ^= s->rnd << 13, s->rnd ^= s->rnd >> 7, s->rnd ^= s->rnd << 17;
	return (uint32_t)s->rnd;
}

static unsigned int key_hash(const struct turn_key *k)
{
	uint64_t h = ((uint64_t)k->client_ip << 32 | k->server_ip) * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)k->client_port << 16 | k->server_port) * 0xff51afd7ed558ccdULL;
	return (unsigned int)(h >> 40) & (ALLOC_BUCKETS - 1);
}

static struct alloc *alloc_find(struct turn_server *s, const struct turn_key *k)
{
	for (struct alloc *a = s->buckets[key_hash(k)]; a; a = a->next)
		if (!memcmp(&a->key, k, sizeof(*k)))
			return a;
	return NULL;
}

/* A transaction ID for the server's own indications (Data, ConnectionAttempt): one that
 * differs from message to message is all RFC 8489 6 asks of it. */
static void random_tid(struct turn_server *s, uint8_t tid[STUN_TID_LEN])
{
	for (int i = 0; i < STUN_TID_LEN; i += 4) {
		uint32_t x = rnd32(s);

		memcpy(tid + i, &x, 4);
	}
}

static bool port_taken(const struct turn_server *s, uint16_t p)
{
	return s->port_used[p >> 3] & (1u << (p & 7));
}

static void port_set(struct turn_server *s, uint16_t p, bool used)
{
	if (used)
		s->port_used[p >> 3] |= (uint8_t)(1u << (p & 7));
	else
		s->port_used[p >> 3] &= (uint8_t) ~(1u << (p & 7));
}

/* A reservation's port, expired or given up (turn_resv_release_fn). */
static void resv_release(void *ctx, uint16_t port)
{
	port_set(ctx, port, false);
}

/* A free relay port (even if asked; with the next one free too if @pair), or 0. */
static uint16_t port_pick(struct turn_server *s, bool even, bool pair)
{
	uint32_t lo = s->cfg.turn.relay_lo, hi = s->cfg.turn.relay_hi, n = hi - lo + 1;
	uint32_t start = rnd32(s) % n;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(lo + (start + i) % n);

		if (port_taken(s, p) || (even && (p & 1)) ||
			(pair && (p == hi || port_taken(s, p + 1))))
			continue;
		return p;
	}
	return 0;
}

/* The peer policy for operators' allocations: cfg_turn_peer_verdict() (edge_config.h), whose
 * order is: own addresses (save a hairpin to a relay port), loopback, 0/8, multicast and
 * broadcast always refused; then the operator's deny ranges; then allow; then the private
 * and special ranges and the subnets behind the non-public interfaces, refused by default.
 * @port (network order) is the peer's, 0 when unknown. */
static bool peer_forbidden(const struct turn_server *s, uint32_t ip, uint16_t port)
{
	return cfg_peer_refused(cfg_turn_peer_verdict(&s->cfg, ip, port));
}

/* The port a guest may reach on media target @ip: @port if listed, else the first listed
 * port of @ip, 0 when @ip is no media target. */
static uint16_t media_port(const struct turn_server *s, uint32_t ip, uint16_t port)
{
	uint16_t first = 0;

	for (unsigned int i = 0; i < s->n_media; i++)
		if (s->media[i].ip == ip) {
			if (s->media[i].port == port)
				return port;
			if (!first)
				first = s->media[i].port;
		}
	return first;
}

static const char *transport_tag(uint8_t t)
{
	return t == TURN_TCP ? "/tcp" : t == TURN_TLS ? "/tls" : "";
}

const char *turn_src_str(const struct turn_src *src, char buf[46])
{
	return src->v6 ? inet_ntop(AF_INET6, src->ip6, buf, 46) : cfg_ipv4_str(src->ip, buf);
}

/* The client's address as a log line writes it before ":port": IPv6 in brackets. */
static const char *addr_str(bool v6, uint32_t ip, const uint8_t ip6[16], char buf[48])
{
	char t[46];

	if (!v6)
		return cfg_ipv4_str(ip, buf);
	snprintf(buf, 48, "[%s]", inet_ntop(AF_INET6, ip6, t, sizeof(t)));
	return buf;
}

static const char *src_str(const struct turn_src *src, char buf[48])
{
	return addr_str(src->v6, src->ip, src->ip6, buf);
}

static const char *cli_str(const struct alloc *a, char buf[48])
{
	return addr_str(a->cli_v6, a->cli_ip, a->cli_ip6, buf);
}

/* XOR-MAPPED-ADDRESS: where the client's request came from, in its own family. */
static void src_mapped(const struct turn_src *src, struct stun_addr *mapped)
{
	memset(mapped, 0, sizeof(*mapped));
	mapped->port = src->port;
	mapped->family = src->v6 ? 6 : 4;
	if (src->v6)
		memcpy(mapped->ip, src->ip6, 16);
	else
		memcpy(mapped->ip, &src->ip, 4);
}

/* The allocation key of @src: its stream connection's, an IPv6 UDP client's (turn_key6), or
 * the IPv4 5-tuple. */
static struct turn_key src_key(const struct turn_src *src)
{
	if (src->conn)
		return turn_stream_key(src->conn);
	if (src->v6)
		return turn_key6(src->ip6, src->dst_ip6, src->port, src->dst_port);
	return (struct turn_key){ src->ip, src->dst_ip, src->port, src->dst_port };
}

/* Whether @a, found by @src's key, is @src's own: for an IPv6 UDP client, the addresses the
 * key only hashes must match too. */
static bool src_owns(const struct turn_src *src, const struct alloc *a)
{
	return src->conn || !src->v6 ||
		(a->cli_v6 && !memcmp(a->cli_ip6, src->ip6, 16) &&
			!memcmp(a->srv_ip6, src->dst_ip6, 16));
}

/* ---- the data plane's copy ---- */

static void set_dirty(struct turn_server *s, struct alloc *a, bool dirty)
{
	if (a->dirty != dirty)
		s->n_dirty += dirty ? 1u : -1u;
	a->dirty = dirty;
}

static uint32_t ticks_at(const struct turn_server *s, uint64_t ms)
{
	uint64_t now = now_ms(s), tsc = rte_get_tsc_cycles();

	if (ms <= now)
		return turn_ticks(tsc);
	return turn_ticks(tsc + (ms - now) * (rte_get_tsc_hz() / 1000));
}

static bool all_resolved(const struct alloc *a)
{
	for (int i = 0; i < a->n_perms; i++)
		if (!a->perms[i].resolved)
			return false;
	return a->client_resolved;
}

static void publish(struct turn_server *s, struct alloc *a)
{
	uint8_t slot_of[TURN_MAX_PERMS]; /* a permission's place in the data plane's copy */
	struct turn_alloc *d;
	int ret;

	if (a->tcp) {
		set_dirty(s, a, false); /* peers reach a TCP relay through the kernel */
		return;
	}
	if (!a->client_resolved) {
		set_dirty(s, a, true); /* the tick publishes it once ARP answers */
		return;
	}
	d = turn_alloc_new();
	if (!d) {
		set_dirty(s, a, true);
		LOG_WARN("turn", "no free allocation object for the data plane; retrying");
		return;
	}
	d->key = a->key;
	if (turn_key_is6(&a->key)) {
		memcpy(d->client_ip6, a->cli_ip6, 16);
		memcpy(d->server_ip6, a->srv_ip6, 16);
	}
	d->relay_ip = a->relay_ip;
	d->relay6 = a->relay6;
	memcpy(d->relay_ip6, a->relay_ip6, 16);
	memcpy(d->client_mac.addr_bytes, a->client_mac, 6);
	d->relay_port = htons(a->relay_port);
	d->expires = ticks_at(s, a->expires_ms);
	d->client_if = a->conn ? TURN_CLIENT_STREAM : a->client_if;
	d->relay_if = (uint8_t)s->relay_if;
	/* IPv4 peers from the bottom, IPv6 ones (a head and its address) from the top */
	for (int i = 0; i < a->n_perms; i++) {
		const struct perm *pa = &a->perms[i];
		unsigned int at = pa->peer.v6 ? TURN_PERM6_HEAD(d->n_perms6) : d->n_perms;
		struct turn_perm *p = &d->pc[at].perm;

		p->peer_ip = pa->peer.ip; /* 0 for an IPv6 peer */
		p->port = pa->port;
		if (pa->resolved)
			memcpy(p->nh_mac.addr_bytes, pa->mac, 6);
		p->expires = ticks_at(s, pa->expires_ms);
		slot_of[i] = (uint8_t)at;
		if (pa->peer.v6) {
			memcpy(d->pc[at - 1].peer_ip6, pa->peer.ip6, 16);
			d->n_perms6++;
		} else {
			d->n_perms++;
		}
	}
	/* a channel relays only under its peer's permission (RFC 8656 12: when the permission
	 * has expired and the channel has not, no data flows). Pruning moves permissions, so the
	 * index is found by peer address at every publish, and a channel whose permission is gone
	 * is left out until one is installed again. */
	d->n_chans = 0;
	for (int i = 0; i < a->n_chans; i++) {
		struct turn_chan *c = &d->pc[d->n_chans].chan;
		int k;

		for (k = 0; k < a->n_perms && !peer_eq(&a->perms[k].peer, &a->chans[i].peer); k++)
			;
		if (k == a->n_perms)
			continue;
		c->peer_ip = a->chans[i].peer.ip;
		c->peer_port = a->chans[i].port;
		c->number = a->chans[i].num;
		c->expires = ticks_at(s, a->chans[i].expires_ms);
		c->perm = slot_of[k];
		d->n_chans++;
	}
	ret = turn_alloc_publish(d);
	if (ret < 0) {
		turn_alloc_discard(d);
		set_dirty(s, a, true);
		LOG_WARN("turn", "publishing an allocation failed: %s", strerror(-ret));
		return;
	}
	a->published = true;
	set_dirty(s, a, !all_resolved(a)); /* the tick keeps asking for the rest */
}

static struct user_count **user_slot(struct turn_server *s, const char *user)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	struct user_count **pp;

	for (const char *c = user; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (pp = &s->users[h % USER_BUCKETS]; *pp && strcmp((*pp)->user, user); pp = &(*pp)->next)
		;
	return pp;
}

static unsigned int allocs_of(struct turn_server *s, const char *user)
{
	const struct user_count *u = *user_slot(s, user);

	return u ? u->n : 0;
}

/* One allocation more (@d 1) or fewer (-1) for @user; a user's entry lives while it holds
 * any. 0, or -ENOMEM. */
static int user_count_add(struct turn_server *s, const char *user, int d)
{
	struct user_count **pp = user_slot(s, user), *u = *pp;

	if (!u) {
		if (d < 0)
			return 0;
		u = calloc(1, sizeof(*u) + strlen(user) + 1);
		if (!u)
			return -ENOMEM;
		strcpy(u->user, user);
		*pp = u;
	}
	u->n += (unsigned int)d;
	if (u->n == 0) {
		*pp = u->next;
		free(u);
	}
	return 0;
}

static void alloc_free(struct turn_server *s, struct alloc *a, const char *why)
{
	struct alloc **pp = &s->buckets[key_hash(&a->key)];
	char c[48];

	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	if (a->published)
		turn_alloc_remove(&a->key);
	tw_del(&s->wheel, &a->timer);
	set_dirty(s, a, false);
	port_set(s, a->relay_port, false);
	s->by_port[a->relay_port] = NULL;
	if (a->tcp && s->env.tcp_unlisten)
		s->env.tcp_unlisten(s->env.ctx, a->relay_ip, htons(a->relay_port));
	stun_key_free(&a->hmac);
	user_count_add(s, a->user, -1);
	s->n_allocs--;
	edge_log(LOG_INFO, "turn", "allocation %s:%u%s relay %u ended (%s)", cli_str(a, c),
		ntohs(a->cli_port), transport_tag(a->transport), a->relay_port, why);
	free(a);
}

/* ---- nonces: stateless, base64url of "<seconds, 4 bytes>" + an HMAC over them and the
 * client address ----
 * 20 characters, short because a challenge goes to whoever claims a source address (each byte
 * is reflection). The tag is HMAC-SHA1 with the server's random nonce_key truncated to 88 bits
 * (RFC 2104 5 allows truncation to half the output and no less than 80 bits): forging a nonce
 * means guessing 2^88 tags online, and one is good for one client address for NONCE_LIFETIME. */
#define NONCE_TAG 11
#define NONCE_RAW (4 + NONCE_TAG)
#define NONCE_LEN (NONCE_RAW / 3 * 4) /* 15 bytes: 20 characters, no padding */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void nonce_raw(struct turn_server *s, uint32_t t, uint32_t client_ip, uint8_t raw[NONCE_RAW])
{
	uint8_t mac[64];
	unsigned int ml;
	const void *p[2] = { raw, &client_ip };
	size_t l[2] = { 4, sizeof(client_ip) };

	raw[0] = (uint8_t)(t >> 24), raw[1] = (uint8_t)(t >> 16), raw[2] = (uint8_t)(t >> 8);
	raw[3] = (uint8_t)t;
	stun_key_mac(&s->nonce_key, p, l, 2, mac, &ml);
	memcpy(raw + 4, mac, NONCE_TAG);
}

static void nonce_make(struct turn_server *s, uint32_t client_ip, char out[NONCE_LEN + 1])
{
	uint8_t raw[NONCE_RAW];

	nonce_raw(s, (uint32_t)s->env.unix_s(s->env.ctx), client_ip, raw);
	for (int i = 0, o = 0; i < NONCE_RAW; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		for (int k = 18; k >= 0; k -= 6)
			out[o++] = b64url[(v >> k) & 63];
	}
	out[NONCE_LEN] = '\0';
}

/* 0 valid, -EKEYEXPIRED stale, -EINVAL not ours. */
static int nonce_check(struct turn_server *s, uint32_t client_ip, const char *n, size_t len)
{
	uint8_t raw[NONCE_RAW], want[NONCE_RAW];
	uint64_t now = s->env.unix_s(s->env.ctx);
	uint32_t t;

	if (len != NONCE_LEN)
		return -EINVAL;
	for (int i = 0, o = 0; i < NONCE_LEN; i += 4) {
		uint32_t v = 0;

		for (int k = 0; k < 4; k++) {
			const char *c = memchr(b64url, n[i + k], 64);

			if (!c || !n[i + k])
				return -EINVAL;
			v = v << 6 | (uint32_t)(c - b64url);
		}
		raw[o++] = (uint8_t)(v >> 16), raw[o++] = (uint8_t)(v >> 8), raw[o++] = (uint8_t)v;
	}
	t = edge_be32(raw);
	nonce_raw(s, t, client_ip, want);
	if (CRYPTO_memcmp(want, raw, NONCE_RAW))
		return -EINVAL;
	return now - t > NONCE_LIFETIME ? -EKEYEXPIRED : 0;
}

/* ---- answering ---- */

struct reply {
	struct stun_builder b;
	const struct stun_msg *req;
	const struct stun_key *key; /* sign with it, when the request authenticated */
	int code;
};

static void reply_start(struct reply *r, uint8_t *out, size_t cap, const struct stun_msg *m,
	int code)
{
	r->req = m;
	r->key = NULL;
	r->code = code;
	stun_build(&r->b, out, cap, m->method, code ? STUN_ERROR : STUN_SUCCESS, m->tid);
	if (code)
		stun_add_error(&r->b, code, stun_reason(code));
}

static size_t reply_end(struct turn_server *s, struct reply *r)
{
	int len;

	/* SOFTWARE is diagnostic only (RFC 8489 14.14): said to authenticated clients, not
	 * reflected at whoever a datagram claims to come from */
	if (r->key) {
		stun_add_str(&r->b, STUN_ATTR_SOFTWARE, SOFTWARE);
		stun_add_integrity(&r->b, r->key);
	}
	if (r->req->fp_at) /* answer with a FINGERPRINT if asked with one */
		stun_add_fingerprint(&r->b);
	len = stun_build_end(&r->b);
	if (len < 0)
		return 0;
	if (r->code) {
		s->st.responses_err++;
		s->st.err[r->code]++;
	} else {
		s->st.responses_ok++;
	}
	s->last_code = r->code;
	return (size_t)len;
}

/* A challenge: 401 or 438 with REALM and a fresh NONCE (no integrity: there is no key). */
static size_t challenge(struct turn_server *s, const struct stun_msg *m, uint32_t client_ip,
	int code, uint8_t *out, size_t cap)
{
	struct reply r;
	char nonce[NONCE_LEN + 1];

	reply_start(&r, out, cap, m, code);
	nonce_make(s, client_ip, nonce);
	stun_add_str(&r.b, STUN_ATTR_REALM, s->cfg.turn.realm);
	stun_add_str(&r.b, STUN_ATTR_NONCE, nonce);
	return reply_end(s, &r);
}

/* The password of @user (a configured user, or a TURN REST API username). */
static int password_of(struct turn_server *s, const char *user, size_t ulen, char *pw, size_t pwlen)
{
	const struct cfg_turn *t = &s->cfg.turn;
	char name[128];

	for (int i = 0; i < t->n_users; i++)
		if (strlen(t->users[i].name) == ulen && !memcmp(t->users[i].name, user, ulen)) {
			snprintf(pw, pwlen, "%s", t->users[i].password);
			return 0;
		}
	if (t->shared_secret[0] && ulen < sizeof(name)) {
		memcpy(name, user, ulen);
		name[ulen] = '\0';
		if (stun_rest_check_expiry(name, ulen, s->env.unix_s(s->env.ctx)) == 0)
			return stun_rest_password(t->shared_secret, name, pw, pwlen);
	}
	return -ENOENT;
}

/* Checks a request's credentials. 0 with @key set up and @user filled, or the error code to
 * answer (401/438 are challenges; 400 for missing pieces). */
static int authenticate(struct turn_server *s, const struct stun_msg *m, uint32_t client_ip,
	struct stun_key *key, char *user, size_t userlen)
{
	const struct cfg_turn *t = &s->cfg.turn;
	const char *u = NULL, *realm, *nonce;
	size_t ul = 0, rl, nl;
	char pw[128], name[128], realm_s[128];
	uint8_t lt[16];
	int ret;

	if (!m->mi_at)
		return 401;
	if (stun_has(m, STUN_AI_USERHASH) && m->alen[STUN_AI_USERHASH] == 32) {
		for (int i = 0; i < t->n_users && !u; i++) {
			uint8_t h[32];
			if (stun_userhash(t->users[i].name, t->realm, h) == 0 &&
				!memcmp(h, stun_val(m, STUN_AI_USERHASH), 32)) {
				u = t->users[i].name;
				ul = strlen(u);
			}
		}
		if (!u)
			return 401;
	} else if (stun_get_str(m, STUN_AI_USERNAME, &u, &ul) < 0) {
		return 400;
	}
	if (ul == 0 || ul >= sizeof(name))
		return 401;
	memcpy(name, u, ul);
	name[ul] = '\0';
	snprintf(user, userlen, "%s", name);

	/* short-term credentials (RFC 8489 9.1): no REALM, no NONCE, the password is the key */
	if (t->short_term && !stun_has(m, STUN_AI_REALM) && !stun_has(m, STUN_AI_NONCE)) {
		if (password_of(s, u, ul, pw, sizeof(pw)) < 0 ||
			stun_key_init(key, STUN_MAC_SHA1, (const uint8_t *)pw, strlen(pw)) < 0)
			return 401;
		if (stun_check_integrity(m, key) == 0)
			return 0;
		stun_key_free(key);
		return 401;
	}
	if (stun_get_str(m, STUN_AI_REALM, &realm, &rl) < 0 ||
		stun_get_str(m, STUN_AI_NONCE, &nonce, &nl) < 0)
		return 400;
	if (rl != strlen(t->realm) || memcmp(realm, t->realm, rl))
		return 401;
	ret = nonce_check(s, client_ip, nonce, nl);
	if (ret == -EKEYEXPIRED) {
		s->st.stale_nonces++;
		return 438;
	}
	if (ret < 0 || password_of(s, u, ul, pw, sizeof(pw)) < 0)
		return 401;
	snprintf(realm_s, sizeof(realm_s), "%s", t->realm);
	if (stun_long_term_key(name, realm_s, pw, lt) < 0 ||
		stun_key_init(key, STUN_MAC_SHA1, lt, 16) < 0)
		return 500;
	if (stun_check_integrity(m, key) == 0)
		return 0;
	stun_key_free(key);
	return 401;
}

static struct txn *txn_slot(struct turn_server *s, uint32_t ip, uint16_t port, const uint8_t *tid)
{
	return &s->txns[(rd32(tid + 8) ^ ip ^ port) & (TXN_SLOTS - 1)];
}

static void txn_remember(struct turn_server *s, uint32_t ip, uint16_t port, const uint8_t *tid,
	const uint8_t *resp, size_t len)
{
	struct txn *t = txn_slot(s, ip, port, tid);

	if (len > sizeof(t->resp))
		return;
	t->ip = ip;
	t->port = port;
	memcpy(t->tid, tid, STUN_TID_LEN);
	t->expires_ms = now_ms(s) + TXN_TTL_MS;
	t->len = (uint16_t)len;
	memcpy(t->resp, resp, len);
}

/* The MAC of the next hop towards peer @p out of the relay interface: 0, -EAGAIN while
 * ARP or neighbour discovery runs, or -ENETUNREACH. */
static int peer_resolve(struct turn_server *s, const struct peer_addr *p, uint8_t mac[6])
{
	if (p->v6)
		return s->env.resolve6 ?
			s->env.resolve6(s->env.ctx, (uint8_t)s->relay_if, p->ip6, mac) :
			-ENETUNREACH;
	return s->env.resolve(s->env.ctx, (uint8_t)s->relay_if, p->ip, mac);
}

/* The permission places the data plane's copy of @a takes: an IPv6 peer's two
 * (include/turn_tables.h). */
static int perm_places(const struct alloc *a)
{
	int n = 0;

	for (int i = 0; i < a->n_perms; i++)
		n += a->perms[i].peer.v6 ? 2 : 1;
	return n;
}

static int perm_index(const struct alloc *a, const struct peer_addr *p)
{
	for (int i = 0; i < a->n_perms; i++)
		if (peer_eq(&a->perms[i].peer, p))
			return i;
	return -1;
}

static void perm_install(struct turn_server *s, struct alloc *a, const struct peer_addr *p,
	uint64_t until)
{
	int i = perm_index(a, p);

	if (i < 0) {
		/* the callers answer 508 before: never refused here */
		if (perm_places(a) + (p->v6 ? 2 : 1) > TURN_MAX_PERMS)
			return;
		i = a->n_perms++;
		a->perms[i] = (struct perm){ .peer = *p };
	}
	if (a->perms[i].expires_ms < until)
		a->perms[i].expires_ms = until;
	if (!a->perms[i].resolved && peer_resolve(s, p, a->perms[i].mac) == 0)
		a->perms[i].resolved = true;
	if (!a->perms[i].resolved) {
		set_dirty(s, a, true);
		a->retry_ms = 0; /* a new next hop: the next tick asks at once */
	}
}

/* Drops permissions and channels whose time is up (the data plane already ignores them). */
static void alloc_prune(struct turn_server *s, struct alloc *a)
{
	uint64_t now = now_ms(s);
	int n = 0;

	for (int i = 0; i < a->n_perms; i++)
		if (a->perms[i].expires_ms > now)
			a->perms[n++] = a->perms[i];
	a->n_perms = n;
	n = 0;
	for (int i = 0; i < a->n_chans; i++)
		if (a->chans[i].expires_ms > now)
			a->chans[n++] = a->chans[i];
	a->n_chans = n;
}

static uint32_t lifetime_of(const struct turn_server *s, const struct stun_msg *m)
{
	uint32_t want = DEFAULT_LIFETIME;

	if (stun_get_u32(m, STUN_AI_LIFETIME, &want) < 0)
		want = DEFAULT_LIFETIME;
	return want > s->cfg.turn.lifetime_max ? s->cfg.turn.lifetime_max : want;
}

static void timer_fire(struct tw_timer *t);

/* Whether @user authenticated with a TURN REST API credential (no configured user has that
 * name, and password_of() looks those up first): a guest. */
static bool user_is_guest(const struct turn_server *s, const char *user)
{
	for (int i = 0; i < s->cfg.turn.n_users; i++)
		if (!strcmp(s->cfg.turn.users[i].name, user))
			return false;
	return true;
}

static int do_allocate(struct turn_server *s, struct reply *r, const struct stun_msg *m,
	const struct turn_key *k, const struct turn_src *src, const char *user,
	struct stun_key *key)
{
	uint8_t ifi = src->ifi;
	struct stun_addr relayed = { .family = 4 }, mapped = { .family = 4 };
	uint8_t proto, token[8] = { 0 };
	uint32_t lifetime;
	uint16_t port = 0;
	struct alloc *a;
	bool even = false, pair = false, reserved = false;
	bool want4 = true, want6 = false, v6_refused = false;
	/* ADDITIONAL-ADDRESS-FAMILY at RFC 8656's code point, or at the draft's that coturn's
	 * clients send */
	enum stun_attr_index add_ai = stun_has(m, STUN_AI_ADDITIONAL_ADDRESS_FAMILY) ?
		STUN_AI_ADDITIONAL_ADDRESS_FAMILY :
		STUN_AI_ADDITIONAL_ADDRESS_FAMILY_DRAFT;
	int ret;

	if (stun_get_transport(m, &proto) < 0)
		return 400;
	if (proto == IPPROTO_TCP) {
		/* RFC 6062 5.1: only over a stream, and no port pairs */
		if (!src->conn || !s->env.tcp_listen)
			return src->conn ? 442 : 400;
		/* a guest's media is UDP: no listener of ours for it to hold */
		if (user_is_guest(s, user)) {
			s->st.guest_refusals++;
			return 403;
		}
		if (stun_has(m, STUN_AI_EVEN_PORT) || stun_has(m, STUN_AI_RESERVATION_TOKEN) ||
			stun_has(m, STUN_AI_DONT_FRAGMENT))
			return 400;
	} else if (proto != IPPROTO_UDP) {
		return 442;
	}
	/* the relayed addresses' families (RFC 8656 7.2): IPv4 unless REQUESTED-ADDRESS-FAMILY
	 * says IPv6; both with ADDITIONAL-ADDRESS-FAMILY IPv6 (a dual allocation), which goes
	 * with no REQUESTED-ADDRESS-FAMILY and no reservation */
	if (stun_has(m, STUN_AI_REQUESTED_ADDRESS_FAMILY)) {
		uint8_t f = stun_val(m, STUN_AI_REQUESTED_ADDRESS_FAMILY)[0];

		if (m->alen[STUN_AI_REQUESTED_ADDRESS_FAMILY] != 4 || stun_has(m, add_ai) ||
			stun_has(m, STUN_AI_RESERVATION_TOKEN))
			return 400;
		if (f != 0x01 && f != 0x02)
			return 440;
		want4 = f == 0x01;
		want6 = f == 0x02;
	}
	if (stun_has(m, add_ai)) {
		if (m->alen[add_ai] != 4 || stun_has(m, STUN_AI_RESERVATION_TOKEN) ||
			stun_val(m, add_ai)[0] != 0x02)
			return 400;
		want6 = true;
	}
	if (stun_has(m, STUN_AI_EVEN_PORT) && stun_has(m, STUN_AI_RESERVATION_TOKEN))
		return 400;
	/* an IPv6 relayed address needs one on the relay interface; stream clients' relayed
	 * data goes through the control plane (env.to_peer6), and a TCP relay (RFC 6062)
	 * listens on IPv4 only: a dual allocation gets its IPv4 half and an ADDRESS-ERROR-CODE
	 * for the other (RFC 8656 7.2), an IPv6-only one 440 */
	if (want6 && (!s->has_relay6 || (src->conn && !s->env.to_peer6) || proto == IPPROTO_TCP)) {
		if (!want4)
			return 440;
		want6 = false;
		v6_refused = true;
	}
	if (s->relay_if < 0 || (want4 && !s->relay_ip))
		return 508;
	if (s->cfg.turn.max_allocs && s->n_allocs >= s->cfg.turn.max_allocs) {
		s->st.quota_refusals++;
		return 486;
	}
	if (s->cfg.turn.max_allocs_per_user &&
		allocs_of(s, user) >= s->cfg.turn.max_allocs_per_user) {
		s->st.quota_refusals++;
		return 486;
	}
	if (stun_has(m, STUN_AI_RESERVATION_TOKEN)) {
		if (m->alen[STUN_AI_RESERVATION_TOKEN] != TURN_RESV_TOKEN_LEN)
			return 400;
		/* RFC 8656 7.2: a token "not valid for some reason" (unknown, expired, used, or
		 * another user's) gets 508; the reserved port becomes this allocation's */
		ret = turn_resv_take(&s->resv, stun_val(m, STUN_AI_RESERVATION_TOKEN), user,
			now_ms(s));
		if (ret < 0) {
			s->st.reservations_refused++;
			return 508;
		}
		port = (uint16_t)ret;
		reserved = true;
	} else {
		if (stun_has(m, STUN_AI_EVEN_PORT)) {
			if (m->alen[STUN_AI_EVEN_PORT] != 1)
				return 400;
			even = true;
			pair = stun_val(m, STUN_AI_EVEN_PORT)[0] & 0x80;
		}
		port = port_pick(s, even, pair);
		if (!port)
			return 508;
		/* hold port + 1 now: a full table refuses (508) rather than drop a live one */
		if (pair && turn_resv_add(&s->resv, port + 1, user, now_ms(s), token) < 0) {
			s->st.reservations_refused++;
			return 508;
		}
		if (pair)
			port_set(s, port + 1, true);
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		if (pair && (ret = turn_resv_take(&s->resv, token, user, now_ms(s))) > 0)
			resv_release(s, (uint16_t)ret);
		if (reserved)
			resv_release(s, port);
		return 508;
	}
	lifetime = lifetime_of(s, m);
	if (lifetime == 0)
		lifetime = DEFAULT_LIFETIME;
	a->srv = s;
	a->key = *k;
	a->cli_ip = src->ip;
	a->cli_port = src->port;
	a->cli_v6 = src->v6;
	memcpy(a->cli_ip6, src->ip6, 16);
	memcpy(a->srv_ip6, src->dst_ip6, 16);
	a->transport = src->transport;
	a->conn = src->conn;
	a->tcp = proto == IPPROTO_TCP;
	a->guest = user_is_guest(s, user);
	a->client_if = ifi;
	snprintf(a->user, sizeof(a->user), "%s", user);
	if (user_count_add(s, a->user, 1) < 0) {
		free(a);
		return 508;
	}
	if (a->tcp && s->env.tcp_listen(s->env.ctx, a->conn, s->relay_ip, htons(port)) < 0) {
		user_count_add(s, a->user, -1);
		free(a);
		return 508;
	}
	a->relay_ip = want4 ? s->relay_ip : 0;
	a->relay6 = want6;
	if (want6)
		memcpy(a->relay_ip6, s->relay_ip6, 16);
	a->relay_port = port;
	a->hmac = *key;
	key->inner = key->outer = NULL; /* the allocation owns it now */
	a->created_ms = now_ms(s);
	a->expires_ms = a->created_ms + lifetime * 1000ull;
	tw_timer_init(&a->timer, timer_fire);
	tw_add(&s->wheel, &a->timer, a->expires_ms / 1000 + 1);
	port_set(s, port, true);
	s->by_port[port] = a;
	a->next = s->buckets[key_hash(k)];
	s->buckets[key_hash(k)] = a;
	s->n_allocs++;
	s->st.allocations_created++;
	/* a stream client's packets go through the kernel: no next hop of ours to resolve */
	if (a->cli_v6 && !a->conn) {
		/* an IPv6 client on UDP: answered where its request came from (the data plane has
		 * no IPv6 neighbour table yet; that MAC is the client's, or its router's) */
		memcpy(a->client_mac, src->mac, 6);
		a->client_resolved = true;
	} else {
		a->client_resolved = a->conn ||
			s->env.resolve(s->env.ctx, ifi, k->client_ip, a->client_mac) == 0;
	}
	publish(s, a);

	relayed.port = htons(port);
	src_mapped(src, &mapped);
	if (want4) {
		memcpy(relayed.ip, s->cfg.turn.public_ip ? &s->cfg.turn.public_ip : &s->relay_ip,
			4);
		stun_add_xor_addr(&r->b, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	}
	if (want6) {
		relayed.family = 6;
		memcpy(relayed.ip, s->relay_ip6, 16);
		stun_add_xor_addr(&r->b, STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	}
	if (v6_refused)
		stun_add_address_error(&r->b, 6, 440, "Address Family not Supported");
	stun_add_u32(&r->b, STUN_ATTR_LIFETIME, lifetime);
	if (pair)
		stun_add(&r->b, STUN_ATTR_RESERVATION_TOKEN, token, 8);
	stun_add_xor_addr(&r->b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
	char c[48];
	edge_log(LOG_INFO, "turn", "allocation for %s %s:%u%s: relay %u%s, lifetime %u s", user,
		src_str(src, c), ntohs(src->port), transport_tag(src->transport), port,
		want4 && want6 ? " (IPv4 and IPv6)" :
			want6  ? " (IPv6)" :
				 "",
		lifetime);
	return 0;
}

static int do_refresh(struct turn_server *s, struct reply *r, const struct stun_msg *m,
	struct alloc *a)
{
	uint32_t lifetime;

	/* RFC 8656 8: a family the allocation has no relayed address of gets 443 */
	if (stun_has(m, STUN_AI_REQUESTED_ADDRESS_FAMILY)) {
		uint8_t f = stun_val(m, STUN_AI_REQUESTED_ADDRESS_FAMILY)[0];

		if (m->alen[STUN_AI_REQUESTED_ADDRESS_FAMILY] != 4 ||
			!((f == 0x01 && a->relay_ip) || (f == 0x02 && a->relay6)))
			return 443;
	}
	lifetime = lifetime_of(s, m);
	if (stun_has(m, STUN_AI_LIFETIME) && lifetime == 0) {
		stun_add_u32(&r->b, STUN_ATTR_LIFETIME, 0);
		s->st.allocations_deleted++;
		alloc_free(s, a, "deleted by the client");
		return 0;
	}
	a->expires_ms = now_ms(s) + lifetime * 1000ull;
	tw_add(&s->wheel, &a->timer, a->expires_ms / 1000 + 1);
	alloc_prune(s, a);
	publish(s, a);
	stun_add_u32(&r->b, STUN_ATTR_LIFETIME, lifetime);
	return 0;
}

/* A guest's peer refused: counted, and logged at most once a second (a stranger holding
 * guest credentials can repeat it at will). */
static void guest_refused(struct turn_server *s, const struct alloc *a, const char *what,
	const struct peer_addr *peer, uint16_t port)
{
	uint64_t now = now_ms(s);
	char c[48], pe[46];

	s->st.forbidden_peers++;
	s->st.guest_refusals++;
	if (s->guest_log_ms && now - s->guest_log_ms < 1000) {
		s->guest_unlogged++;
		return;
	}
	edge_log(LOG_NOTICE, "turn",
		"guest %s from %s:%u%s refused: peer %s:%u is not a media "
		"target (%u more refused since the last line)",
		what, cli_str(a, c), ntohs(a->cli_port), transport_tag(a->transport),
		peer_str(peer, pe), ntohs(port), s->guest_unlogged);
	s->guest_log_ms = now;
	s->guest_unlogged = 0;
}

static struct peer_addr peer_of(const struct stun_addr *p)
{
	struct peer_addr pa = { .v6 = p->family == 6 };

	if (pa.v6)
		memcpy(pa.ip6, p->ip, 16);
	else
		memcpy(&pa.ip, p->ip, 4);
	return pa;
}

/* Whether the peer policy refuses @p:@port (network order): cfg_turn_peer_verdict or its
 * IPv6 twin. */
static bool peer_refused(const struct turn_server *s, const struct peer_addr *p, uint16_t port)
{
	return p->v6 ? cfg_peer_refused(cfg_turn_peer6_verdict(&s->cfg, p->ip6, port)) :
		       peer_forbidden(s, p->ip, port);
}

/* A peer a client may name: 0 with *@pa set, or the error code (443 a family the allocation
 * has no relayed address of, RFC 8656 9.1; 403 forbidden). A guest's must be a media target
 * (IPv4): its address for a permission (@exact false), address and port for a channel
 * (@exact). */
static int peer_check(struct turn_server *s, const struct alloc *a, const struct stun_addr *p,
	bool exact, struct peer_addr *pa)
{
	uint16_t mp;

	*pa = peer_of(p);
	if (pa->v6 ? !a->relay6 : !a->relay_ip)
		return 443;
	if (a->guest) {
		mp = pa->v6 ? 0 : media_port(s, pa->ip, p->port);
		if (mp && (!exact || mp == p->port))
			return 0;
		guest_refused(s, a, exact ? "channel bind" : "permission", pa, p->port);
		return 403;
	}
	if (peer_refused(s, pa, p->port)) {
		s->st.forbidden_peers++;
		return 403;
	}
	return 0;
}

/* The one port a permission to @ip opens (0: any): a guest's media target's. A hairpin (our
 * own relay address) keeps any port: two browsers on this server pair several relayed
 * candidates of each other's, one address and many relay ports; the policy checked the port
 * asked for, and a datagram to one of our own addresses never leaves by the wire. */
static uint16_t perm_port_for(const struct turn_server *s, const struct alloc *a,
	const struct peer_addr *p, uint16_t port)
{
	return a->guest && !p->v6 ? media_port(s, p->ip, port) : 0;
}

static void perm_set_port(struct alloc *a, const struct peer_addr *p, uint16_t port)
{
	int i = perm_index(a, p);

	if (i >= 0)
		a->perms[i].port = port;
}

static int do_permission(struct turn_server *s, const struct stun_msg *m, struct alloc *a)
{
	uint64_t until = now_ms(s) + PERM_LIFETIME * 1000ull;
	struct stun_addr p;
	int new_places = 0;

	if (!m->n_peers)
		return 400;
	/* first: a permission that has run out must not count as known, then be pruned and
	 * installed again past the last place */
	alloc_prune(s, a);
	for (unsigned int i = 0; i < m->n_peers; i++) { /* all or nothing */
		struct peer_addr pa;
		int code;

		if (stun_get_peer(m, i, &p) < 0)
			return 400;
		if ((code = peer_check(s, a, &p, false, &pa)))
			return code;
		/* a peer named twice in one request counts twice: the limit errs on the safe side */
		if (perm_index(a, &pa) < 0)
			new_places += pa.v6 ? 2 : 1;
	}
	if (perm_places(a) + new_places > TURN_MAX_PERMS)
		return 508;
	for (unsigned int i = 0; i < m->n_peers; i++) {
		struct peer_addr pa;

		stun_get_peer(m, i, &p);
		pa = peer_of(&p);
		perm_install(s, a, &pa, until);
		perm_set_port(a, &pa, perm_port_for(s, a, &pa, p.port));
	}
	publish(s, a);
	return 0;
}

static int do_channel_bind(struct turn_server *s, const struct stun_msg *m, struct alloc *a)
{
	struct peer_addr pa;
	struct stun_addr p;
	uint16_t num;
	int i;

	if (stun_get_channel(m, &num) < 0 || m->n_peers != 1 || stun_get_peer(m, 0, &p) < 0)
		return 400;
	if (num < TURN_CHANNEL_MIN || num > TURN_CHANNEL_MAX)
		return 400;
	if ((i = peer_check(s, a, &p, true, &pa)))
		return i;
	alloc_prune(s, a);
	/* a number is bound to one peer, a peer to one number (RFC 8656 11.1) */
	for (i = 0; i < a->n_chans; i++) {
		bool same_num = a->chans[i].num == num;
		bool same_peer = peer_eq(&a->chans[i].peer, &pa) && a->chans[i].port == p.port;

		if (same_num != same_peer) {
			char c[48], pe[46], pn[46];

			edge_log(LOG_NOTICE, "turn",
				"channel bind from %s:%u refused: channel 0x%04x is "
				"bound to %s:%u (asked: %s:%u)",
				cli_str(a, c), ntohs(a->cli_port), a->chans[i].num,
				peer_str(&a->chans[i].peer, pe), ntohs(a->chans[i].port),
				peer_str(&pa, pn), ntohs(p.port));
			return 400;
		}
		if (same_num)
			break;
	}
	/* a refreshed channel too: its permission may have run out (5 min against the channel's
	 * 10) and its place been taken */
	if (perm_index(a, &pa) < 0 && perm_places(a) + (pa.v6 ? 2 : 1) > TURN_MAX_PERMS)
		return 508;
	if (i == a->n_chans) {
		if (a->n_chans == TURN_MAX_CHANS)
			return 508;
		a->chans[i] = (struct chan){ .num = num, .peer = pa, .port = p.port };
		a->n_chans++;
	}
	a->chans[i].expires_ms = now_ms(s) + CHAN_LIFETIME * 1000ull;
	perm_install(s, a, &pa, now_ms(s) + PERM_LIFETIME * 1000ull);
	perm_set_port(a, &pa, perm_port_for(s, a, &pa, p.port));
	publish(s, a);
	return 0;
}

/* ---- TCP relays (RFC 6062) ---- */

static const struct perm *perm_live(const struct turn_server *s, const struct alloc *a,
	const struct peer_addr *p)
{
	int i = perm_index(a, p);

	return i >= 0 && a->perms[i].expires_ms > now_ms(s) ? &a->perms[i] : NULL;
}

/* Connect (RFC 6062 5.2): -1 when the connection is under way (answered later), else the
 * error code. */
static int do_connect(struct turn_server *s, const struct stun_msg *m, struct alloc *a)
{
	struct peer_addr pa;
	struct stun_addr p;
	int code, r;

	if (!a->tcp || m->n_peers != 1 || stun_get_peer(m, 0, &p) < 0)
		return 400;
	if (a->guest && p.family == 4) { /* a guest's media is UDP: no TCP peer at all */
		pa = peer_of(&p);
		guest_refused(s, a, "connect", &pa, p.port);
		return 403;
	}
	if ((code = peer_check(s, a, &p, true, &pa)))
		return code;
	r = s->env.tcp_connect(s->env.ctx, a->conn, a->relay_ip, htons(a->relay_port), pa.ip,
		p.port, m->tid);
	return r == -EEXIST ? 446 : r < 0 ? 447 : -1;
}

/* ConnectionBind (RFC 6062 5.4), on a new connection: the peer connection must wait for
 * it, and belong to an allocation of the same user. */
static int do_connection_bind(struct turn_server *s, const struct stun_msg *m,
	const struct turn_src *src, const char *user)
{
	uint32_t cid, owner;
	struct turn_key ok;
	struct alloc *a;

	if (stun_get_u32(m, STUN_AI_CONNECTION_ID, &cid) < 0)
		return 400;
	owner = s->env.tcp_owner ? s->env.tcp_owner(s->env.ctx, cid) : 0;
	ok = turn_stream_key(owner);
	if (!owner || !(a = alloc_find(s, &ok)))
		return 400;
	if (strcmp(a->user, user))
		return 441;
	s->env.tcp_bind(s->env.ctx, src->conn, cid);
	return 0;
}

size_t turn_server_connect_done(struct turn_server *s, uint32_t conn, const uint8_t tid[12],
	uint32_t cid, int err, uint8_t *out, size_t cap)
{
	struct turn_key k = turn_stream_key(conn);
	struct alloc *a = alloc_find(s, &k);
	struct stun_msg req = { .method = STUN_CONNECT, .tid = tid };
	struct reply r;

	if (!a)
		return 0;
	reply_start(&r, out, cap, &req, err ? 447 : 0);
	if (!err)
		stun_add_u32(&r.b, STUN_ATTR_CONNECTION_ID, cid);
	r.key = &a->hmac;
	return reply_end(s, &r);
}

size_t turn_server_connection_attempt(struct turn_server *s, uint16_t relay_port, uint32_t peer_ip,
	uint16_t peer_port, uint32_t cid, uint8_t *out, size_t cap, uint32_t *conn)
{
	struct alloc *a = s->by_port[relay_port];
	struct stun_addr peer = { .family = 4, .port = peer_port };
	struct peer_addr pa = { .ip = peer_ip };
	struct stun_builder b;
	uint8_t tid[STUN_TID_LEN];
	const struct perm *p;
	int n;

	/* a peer's connection under the same rules as a Connect: none for a guest (media is
	 * UDP), and the policy as it is now, not as it was when the permission was made */
	if (!a || !a->tcp || a->guest || !(p = perm_live(s, a, &pa)) ||
		(p->port && p->port != peer_port))
		return 0;
	if (peer_forbidden(s, peer_ip, peer_port)) {
		s->st.forbidden_peers++;
		return 0;
	}
	wr32(peer.ip, peer_ip);
	random_tid(s, tid);
	stun_build(&b, out, cap, STUN_CONNECTION_ATTEMPT, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	stun_add_u32(&b, STUN_ATTR_CONNECTION_ID, cid);
	n = stun_build_end(&b);
	if (n <= 0)
		return 0;
	*conn = a->conn;
	return (size_t)n;
}

/* Whether an answer to a request not (yet) authenticated may go out to @src. Over UDP the
 * source address is whatever the sender wrote, so each such answer is reflected at it: the
 * smallest challenge is ~4x a 20-byte request (REALM, NONCE, ERROR-CODE), hence at most
 * CHALLENGE_MAX a window per address, the rest dropped and counted. TCP and TLS answer only
 * after a handshake with the real address: nothing to reflect, no limit. */
static bool unauth_answer_ok(struct turn_server *s, const struct turn_src *src)
{
	uint64_t full = addr_limit_table_full(s->chal_limit), now = now_ms(s);

	/* an IPv6 source is limited by its /64: what one subscriber is given */
	if (src->transport != TURN_UDP ||
		(src->v6 ? addr_limit_take(s->chal_limit, src->ip6, 8, now) :
			   addr_limit_take(s->chal_limit, &src->ip, sizeof(src->ip), now)))
		return true;
	/* Refused because every tracked source is over its limit (a spoofed flood from many
	 * addresses): a newcomer must still get its challenge, or nobody could authenticate
	 * while it lasts. Such answers share one budget a second, which bounds what the flood
	 * can reflect in all. */
	if (addr_limit_table_full(s->chal_limit) != full) {
		if (now - s->chal_global_ms >= CHALLENGE_WINDOW_MS) {
			s->chal_global_ms = now;
			s->chal_global = 0;
		}
		if (s->chal_global < CHALLENGE_GLOBAL_MAX) {
			s->chal_global++;
			return true;
		}
	}
	s->st.challenges_dropped++;
	return false;
}

/* A request or other STUN message from @src (a whole one: datagram or frame). */
static size_t serve(struct turn_server *s, const struct turn_src *src, const uint8_t *buf,
	size_t len, uint8_t *out, size_t cap)
{
	struct turn_key k = src_key(src);
	/* what binds a nonce and a retransmission to the client: its IPv4 address, or for an
	 * IPv6 one the hash of its and our address (turn_key6: over UDP, the key's already) */
	uint32_t src_ip = !src->v6 ? src->ip :
		src->conn	   ? turn_key6(src->ip6, src->dst_ip6, 0, 0).client_ip :
				     k.client_ip;
	uint16_t src_port = src->port;
	struct stun_key key = { 0 };
	struct stun_msg m;
	struct reply r;
	struct alloc *a;
	char user[128] = "";
	size_t n;
	int ret, code;

	ret = stun_parse(buf, len, &m);
	if (ret < 0 || m.len != len) {
		/* bytes after the message: malformed, but only a request is answered (an
		 * indication never is; found by fuzz_turn) */
		code = ret < 0		      ? stun_parse_error_code(ret, buf, len) :
			m.cls == STUN_REQUEST ? 400 :
						0;
		s->st.discarded += !code;
		if (!code)
			return 0;
		/* a malformed request we can still answer: the header is sound */
		if (len < STUN_HDR_LEN || ret == -STUN_E_NOT_STUN || !unauth_answer_ok(s, src))
			return 0;
		m = (struct stun_msg){ .buf = buf,
			.len = STUN_HDR_LEN,
			.tid = buf + 8,
			.method = stun_type_method(edge_be16(buf)) };
		reply_start(&r, out, cap, &m, 400);
		return reply_end(s, &r);
	}
	if (m.cls != STUN_REQUEST) {
		s->st.discarded++; /* indications that reach us (the data plane takes Send) */
		return 0;
	}
	s->st.requests++;
	/* a retransmission gets the answer the original got (RFC 8489 6.3.1) */
	{
		struct txn *t = txn_slot(s, src_ip, src_port, m.tid);

		if (t->ip == src_ip && t->port == src_port &&
			!memcmp(t->tid, m.tid, STUN_TID_LEN) && t->expires_ms > now_ms(s) &&
			t->len <= cap) {
			s->st.retransmits++;
			memcpy(out, t->resp, t->len);
			return t->len;
		}
	}
	if (m.n_unknown) {
		if (!unauth_answer_ok(s, src))
			return 0;
		reply_start(&r, out, cap, &m, 420);
		stun_add_unknown(&r.b, m.unknown, m.n_unknown);
		return reply_end(s, &r);
	}
	if (m.method == STUN_BINDING) { /* no authentication (RFC 8489 3) */
		struct stun_addr mapped;

		if (!unauth_answer_ok(s, src))
			return 0;
		src_mapped(src, &mapped);
		reply_start(&r, out, cap, &m, 0);
		stun_add_xor_addr(&r.b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
		return reply_end(s, &r);
	}
	if (m.method != STUN_ALLOCATE && m.method != STUN_REFRESH &&
		m.method != STUN_CREATE_PERMISSION && m.method != STUN_CHANNEL_BIND &&
		((m.method != STUN_CONNECT && m.method != STUN_CONNECTION_BIND) || !src->conn)) {
		if (!unauth_answer_ok(s, src))
			return 0;
		reply_start(&r, out, cap, &m, 400);
		return reply_end(s, &r);
	}
	code = authenticate(s, &m, src_ip, &key, user, sizeof(user));
	if (code == 401 || code == 438) {
		s->st.auth_failures += code == 401 && m.mi_at;
		return unauth_answer_ok(s, src) ? challenge(s, &m, src_ip, code, out, cap) : 0;
	}
	if (code) {
		if (!unauth_answer_ok(s, src))
			return 0;
		reply_start(&r, out, cap, &m, code);
		return reply_end(s, &r);
	}
	a = alloc_find(s, &k);
	if (a && !src_owns(src, a) && m.method != STUN_ALLOCATE)
		a = NULL; /* an IPv6 client whose key meets another's: not its allocation */
	/* build the answer: success attributes are added by the handlers, so start it first */
	reply_start(&r, out, cap, &m, 0);
	if (m.method == STUN_ALLOCATE) {
		/* an Allocate on a live 5-tuple that is no retransmission (answered above) */
		code = a ? 437 : do_allocate(s, &r, &m, &k, src, user, &key);
	} else if (m.method == STUN_CONNECTION_BIND) {
		code = a ? 400 : do_connection_bind(s, &m, src, user);
	} else if (!a) {
		code = 437;
	} else if (strcmp(a->user, user)) {
		code = 441; /* RFC 8656 5: the same credentials as the Allocate */
	} else if (m.method == STUN_REFRESH) {
		code = do_refresh(s, &r, &m, a);
		a = NULL; /* may be gone */
	} else if (m.method == STUN_CREATE_PERMISSION) {
		code = do_permission(s, &m, a);
	} else if (m.method == STUN_CONNECT) {
		code = do_connect(s, &m, a);
		if (code < 0) { /* answered when the connection is made or fails */
			stun_key_free(&key);
			return 0;
		}
	} else {
		code = a->tcp ? 400 : do_channel_bind(s, &m, a); /* no channels on a TCP relay */
	}
	if (code)
		reply_start(&r, out, cap, &m, code);
	r.key = key.inner ? &key : NULL;
	if (!r.key) {
		/* the allocation took the key: sign with its copy */
		struct alloc *owner = alloc_find(s, &k);
		r.key = owner ? &owner->hmac : NULL;
	}
	n = reply_end(s, &r);
	stun_key_free(&key);
	if (n)
		txn_remember(s, src_ip, src_port, m.tid, out, n);
	return n;
}

/* ---- Allocate latency ---- */

const double turn_alloc_bounds_s[TURN_ALLOC_BOUNDS] = { 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1 };

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One more for the only writer: a whole store another thread's load sees whole. */
static void hist_add(uint64_t *x, uint64_t v)
{
	__atomic_store_n(x, *x + v, __ATOMIC_RELAXED);
}

static void alloc_observe(struct turn_server *s, int code, uint64_t ns)
{
	struct turn_alloc_hist *h = &s->alloc_hist[code == 0 ? TURN_ALLOC_OK :
			code == 401 || code == 438	     ? TURN_ALLOC_CHALLENGE :
							       TURN_ALLOC_ERROR];
	unsigned int i = 0;

	while (i < TURN_ALLOC_BOUNDS && ns > turn_alloc_bounds_s[i] * 1e9)
		i++;
	hist_add(&h->sum_ns, ns);
	hist_add(&h->bucket[i], 1);
}

/* serve(), timing the Allocate requests it answers: from the request's arrival to its
 * answer built. Retransmissions answered from the cache and requests left unanswered (over
 * the unauthenticated rate) are not timed. */
static size_t serve_timed(struct turn_server *s, const struct turn_src *src, const uint8_t *buf,
	size_t len, uint8_t *out, size_t cap)
{
	bool alloc = len >= STUN_HDR_LEN &&
		edge_be16(buf) == STUN_TYPE(STUN_ALLOCATE, STUN_REQUEST);
	uint64_t t0 = alloc ? mono_ns() : 0, retransmits = s->st.retransmits;
	size_t n;

	s->last_code = -1;
	n = serve(s, src, buf, len, out, cap);
	if (alloc && n && s->last_code >= 0 && s->st.retransmits == retransmits)
		alloc_observe(s, s->last_code, mono_ns() - t0);
	return n;
}

uint64_t turn_server_alloc_latency(const struct turn_server *s, enum turn_alloc_result res,
	uint64_t bucket[TURN_ALLOC_BOUNDS + 1], double *sum_s)
{
	const struct turn_alloc_hist *h = &s->alloc_hist[res];
	uint64_t count = 0;

	for (unsigned int i = 0; i <= TURN_ALLOC_BOUNDS; i++)
		count += bucket[i] = __atomic_load_n(&h->bucket[i], __ATOMIC_RELAXED);
	*sum_s = (double)__atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED) / 1e9;
	return count;
}

size_t turn_server_input6(struct turn_server *s, uint8_t ifi, const uint8_t src_ip[16],
	uint16_t src_port, const uint8_t dst_ip[16], uint16_t dst_port, const uint8_t mac[6],
	const uint8_t *buf, size_t len, uint8_t *out, size_t cap)
{
	struct turn_src src = { .ifi = ifi,
		.transport = TURN_UDP,
		.v6 = true,
		.port = src_port,
		.dst_port = dst_port };

	memcpy(src.ip6, src_ip, 16);
	memcpy(src.dst_ip6, dst_ip, 16);
	memcpy(src.mac, mac, 6);
	return serve_timed(s, &src, buf, len, out, cap);
}

size_t turn_server_input(struct turn_server *s, uint8_t ifi, uint32_t src_ip, uint16_t src_port,
	uint32_t dst_ip, uint16_t dst_port, const uint8_t *buf, size_t len, uint8_t *out,
	size_t cap)
{
	struct turn_src src = { .ifi = ifi,
		.transport = TURN_UDP,
		.ip = src_ip,
		.dst_ip = dst_ip,
		.port = src_port,
		.dst_port = dst_port };

	return serve_timed(s, &src, buf, len, out, cap);
}

/* ---- stream clients: relayed data passes through here, not the fast path ---- */

/* Client -> peer for a stream client: @data goes to the peer if a live permission allows. */
static void stream_to_peer(struct turn_server *s, struct alloc *a, const struct peer_addr *pa,
	uint16_t port, const uint8_t *data, size_t len)
{
	const struct perm *p = perm_live(s, a, pa);

	/* a TCP relay carries its data on its peers' connections, not in datagrams */
	if (!p || (p->port && p->port != port) || !p->resolved ||
		(pa->v6 ? !s->env.to_peer6 : !s->env.to_peer) || a->tcp ||
		a->expires_ms <= now_ms(s)) {
		s->st.stream_drops++;
		return;
	}
	s->st.stream_c2p++;
	if (pa->v6)
		s->env.to_peer6(s->env.ctx, (uint8_t)s->relay_if, a->relay_ip6,
			htons(a->relay_port), pa->ip6, port, p->mac, data, len);
	else
		s->env.to_peer(s->env.ctx, (uint8_t)s->relay_if, a->relay_ip, htons(a->relay_port),
			pa->ip, port, p->mac, data, len);
}

size_t turn_server_stream_input(struct turn_server *s, const struct turn_src *src,
	const uint8_t *buf, size_t len, uint8_t *out, size_t cap)
{
	struct turn_key k = turn_stream_key(src->conn);
	struct stun_fast_ind fi;
	struct alloc *a;
	int r;

	if (len >= STUN_CHANNEL_HDR_LEN && (buf[0] & 0xc0) == 0x40) {
		uint16_t num = edge_be16(buf), dlen = edge_be16(buf + 2);
		uint64_t now = now_ms(s);
		int i;

		a = alloc_find(s, &k);
		if (!a || dlen > len - STUN_CHANNEL_HDR_LEN) {
			s->st.stream_drops++;
			return 0;
		}
		for (i = 0;
			i < a->n_chans && (a->chans[i].num != num || a->chans[i].expires_ms <= now);
			i++)
			;
		if (i == a->n_chans) {
			s->st.stream_drops++;
			return 0;
		}
		stream_to_peer(s, a, &a->chans[i].peer, a->chans[i].port,
			buf + STUN_CHANNEL_HDR_LEN, dlen);
		return 0;
	}
	r = stun_fast_indication(buf, len, STUN_SEND_INDICATION, &fi);
	if (r == -EINVAL || r == -ENOTSUP)
		return r == -EINVAL ? serve_timed(s, src, buf, len, out, cap) :
				      (s->st.discarded++, 0);
	a = alloc_find(s, &k);
	if (r < 0 || !a) {
		s->st.discarded++;
		return 0;
	}
	struct peer_addr pa = peer_of(&fi.peer);

	stream_to_peer(s, a, &pa, fi.peer.port, buf + fi.data_off, fi.data_len);
	return 0;
}

void turn_server_stream_closed(struct turn_server *s, uint32_t conn)
{
	struct turn_key k = turn_stream_key(conn);
	struct alloc *a = alloc_find(s, &k);

	if (a) {
		s->st.allocations_deleted++;
		alloc_free(s, a, "connection closed");
	}
}

bool turn_server_stream_allocated(const struct turn_server *s, uint32_t conn)
{
	struct turn_key k = turn_stream_key(conn);

	return alloc_find((struct turn_server *)s, &k) != NULL;
}

/* A peer's datagram for the stream client of @a (NULL: none), which reached relayed address
 * @relay_ok (of @a's, in the peer's family), framed into @out. */
static size_t from_peer(struct turn_server *s, struct alloc *a, bool relay_ok,
	const struct peer_addr *pa, uint16_t peer_port, const uint8_t *data, size_t len,
	uint8_t *out, size_t cap, uint32_t *conn)
{
	struct stun_builder b;
	struct stun_addr peer = { .family = pa->v6 ? 6 : 4, .port = peer_port };
	uint8_t tid[STUN_TID_LEN];
	uint64_t now = now_ms(s);
	const struct perm *p = a ? perm_live(s, a, pa) : NULL;
	int n;

	if (!a || !a->conn || !relay_ok || a->expires_ms <= now || !p ||
		(p->port && p->port != peer_port) || len > 65535) {
		s->st.stream_drops++;
		return 0;
	}
	*conn = a->conn;
	for (int i = 0; i < a->n_chans; i++) {
		const struct chan *c = &a->chans[i];
		size_t padded = (STUN_CHANNEL_HDR_LEN + len + 3) & ~(size_t)3;

		if (!peer_eq(&c->peer, pa) || c->port != peer_port || c->expires_ms <= now)
			continue;
		if (padded > cap) {
			s->st.stream_drops++;
			return 0;
		}
		stun_channel_data_hdr(out, c->num, (uint16_t)len);
		memcpy(out + STUN_CHANNEL_HDR_LEN, data, len);
		memset(out + STUN_CHANNEL_HDR_LEN + len, 0, padded - STUN_CHANNEL_HDR_LEN - len);
		s->st.stream_p2c++;
		return padded;
	}
	/* no channel: a Data indication (RFC 8656 11.4) */
	if (pa->v6)
		memcpy(peer.ip, pa->ip6, 16);
	else
		wr32(peer.ip, pa->ip);
	random_tid(s, tid);
	stun_build(&b, out, cap, STUN_DATA, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	stun_add(&b, STUN_ATTR_DATA, data, len);
	n = stun_build_end(&b);
	if (n <= 0) {
		s->st.stream_drops++;
		return 0;
	}
	s->st.stream_p2c++;
	return (size_t)n;
}

size_t turn_server_from_peer(struct turn_server *s, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t *data, size_t len, uint8_t *out,
	size_t cap, uint32_t *conn)
{
	struct alloc *a = s->by_port[relay_port];
	struct peer_addr pa = { .ip = peer_ip };

	return from_peer(s, a, a && a->relay_ip && a->relay_ip == relay_ip, &pa, peer_port, data,
		len, out, cap, conn);
}

size_t turn_server_from_peer6(struct turn_server *s, const uint8_t relay_ip[16],
	uint16_t relay_port, const uint8_t peer_ip[16], uint16_t peer_port, const uint8_t *data,
	size_t len, uint8_t *out, size_t cap, uint32_t *conn)
{
	struct alloc *a = s->by_port[relay_port];
	struct peer_addr pa = { .v6 = true };

	memcpy(pa.ip6, peer_ip, 16);
	return from_peer(s, a, a && a->relay6 && !memcmp(a->relay_ip6, relay_ip, 16), &pa,
		peer_port, data, len, out, cap, conn);
}

static void timer_fire(struct tw_timer *t)
{
	struct alloc *a = (struct alloc *)((char *)t - offsetof(struct alloc, timer));

	a->srv->st.allocations_expired++;
	alloc_free(a->srv, a, "lifetime expired");
}

/* The relay address: the first address of the first listen interface. */
static void relay_from_cfg(struct turn_server *s)
{
	s->relay_if = cfg_turn_relay_if(&s->cfg.turn);
	s->relay_ip = s->relay_if >= 0 && s->cfg.ifs[s->relay_if].n_addrs ?
		s->cfg.ifs[s->relay_if].addrs[0].addr :
		0;
	/* and the IPv6 relayed address: the interface's first IPv6 address */
	s->has_relay6 = s->relay_if >= 0 && s->cfg.ifs[s->relay_if].n_addrs6;
	memset(s->relay_ip6, 0, 16);
	if (s->has_relay6)
		memcpy(s->relay_ip6, s->cfg.ifs[s->relay_if].addrs6[0].addr, 16);
}

struct turn_server *turn_server_new(const struct edge_cfg *cfg, const struct turn_env *env)
{
	struct turn_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->env = *env;
	s->by_port = calloc(65536, sizeof(*s->by_port));
	s->chal_limit = addr_limit_new(CHALLENGE_SOURCES, CHALLENGE_MAX, CHALLENGE_WINDOW_MS);
	if (!s->by_port || !s->chal_limit || tw_init(&s->wheel, 4096, now_ms(s) / 1000) < 0 ||
		RAND_bytes(s->nonce_secret, sizeof(s->nonce_secret)) != 1 ||
		RAND_bytes((uint8_t *)&s->rnd, sizeof(s->rnd)) != 1 ||
		stun_key_init(&s->nonce_key, STUN_MAC_SHA1, s->nonce_secret,
			sizeof(s->nonce_secret)) < 0) {
		turn_server_free(s);
		return NULL;
	}
	s->rnd |= 1;
	relay_from_cfg(s);
	return s;
}

static void free_all(struct turn_server *s, const char *why)
{
	for (int b = 0; b < ALLOC_BUCKETS; b++)
		while (s->buckets[b])
			alloc_free(s, s->buckets[b], why);
	turn_resv_clear(&s->resv, resv_release, s);
}

void turn_server_free(struct turn_server *s)
{
	if (!s)
		return;
	free_all(s, "server stopped");
	tw_fini(&s->wheel);
	stun_key_free(&s->nonce_key);
	addr_limit_free(s->chal_limit);
	free(s->by_port);
	free(s);
}

/* Whether the interfaces' addressing or routes differ: next hops may have moved. */
static bool l3_changed(const struct edge_cfg *a, const struct edge_cfg *b)
{
	if (a->n_ifs != b->n_ifs)
		return true;
	for (int i = 0; i < a->n_ifs; i++) {
		const struct cfg_iface *x = &a->ifs[i], *y = &b->ifs[i];

		if (x->n_addrs != y->n_addrs || x->n_routes != y->n_routes ||
			x->n_addrs6 != y->n_addrs6 || x->n_routes6 != y->n_routes6 ||
			memcmp(x->addrs, y->addrs, sizeof(x->addrs[0]) * (size_t)x->n_addrs) ||
			memcmp(x->routes, y->routes, sizeof(x->routes[0]) * (size_t)x->n_routes) ||
			memcmp(x->addrs6, y->addrs6, sizeof(x->addrs6[0]) * (size_t)x->n_addrs6) ||
			memcmp(x->routes6, y->routes6,
				sizeof(x->routes6[0]) * (size_t)x->n_routes6))
			return true;
	}
	return false;
}

/* Takes a next hop resolved again (@ok, its MAC @m) into mac and *resolved: true if anything
 * changed. */
static bool reresolved(bool ok, const uint8_t m[6], uint8_t mac[6], bool *resolved)
{
	bool changed = ok != *resolved || (ok && memcmp(m, mac, 6));

	if (ok)
		memcpy(mac, m, 6);
	*resolved = ok;
	return changed;
}

/* Whether a permission or channel to @ip:@port (network order) is still allowed: a guest's
 * to a media target, an operator's by the peer policy. */
static bool peer_still_ok(const struct turn_server *s, const struct alloc *a,
	const struct peer_addr *p, uint16_t port)
{
	if (a->guest)
		return !p->v6 && port && media_port(s, p->ip, port) == port;
	/* an operator's permission holds no port: a hairpin's is judged as for a relay port */
	return !peer_refused(s, p, port ? port : htons(s->cfg.turn.relay_lo));
}

/* Withdraws the permissions and channels that the policy no longer allows (media targets or
 * the peer policy changed), and republishes what lost any. */
static void peers_recheck(struct turn_server *s, const char *why)
{
	for (int b = 0; b < ALLOC_BUCKETS; b++)
		for (struct alloc *a = s->buckets[b]; a; a = a->next) {
			int np = 0, nc = 0, lost;
			char c[48];

			for (int i = 0; i < a->n_perms; i++)
				if (peer_still_ok(s, a, &a->perms[i].peer, a->perms[i].port))
					a->perms[np++] = a->perms[i];
			for (int i = 0; i < a->n_chans; i++) {
				bool perm = false;

				for (int k = 0; k < np; k++)
					perm |= peer_eq(&a->perms[k].peer, &a->chans[i].peer);
				if (perm &&
					peer_still_ok(s, a, &a->chans[i].peer, a->chans[i].port))
					a->chans[nc++] = a->chans[i];
			}
			lost = a->n_perms - np + a->n_chans - nc;
			if (!lost)
				continue;
			edge_log(LOG_INFO, "turn",
				"allocation %s:%u%s relay %u: %d permissions, %d "
				"channels withdrawn (%s)",
				cli_str(a, c), ntohs(a->cli_port), transport_tag(a->transport),
				a->relay_port, a->n_perms - np, a->n_chans - nc, why);
			a->n_perms = np;
			a->n_chans = nc;
			publish(s, a);
		}
}

/* Whether what the peer policy reads changed (cfg_turn_peer_verdict). */
static bool policy_changed(const struct edge_cfg *a, const struct edge_cfg *b)
{
	const struct cfg_turn *x = &a->turn, *y = &b->turn;

	return l3_changed(a, b) || a->default_if != b->default_if || x->public_ip != y->public_ip ||
		x->listen_mask != y->listen_mask || x->relay_lo != y->relay_lo ||
		x->relay_hi != y->relay_hi || x->n_denied != y->n_denied ||
		x->n_allowed != y->n_allowed || x->n_denied6 != y->n_denied6 ||
		x->n_allowed6 != y->n_allowed6 ||
		memcmp(x->denied, y->denied, sizeof(x->denied[0]) * (size_t)x->n_denied) ||
		memcmp(x->allowed, y->allowed, sizeof(x->allowed[0]) * (size_t)x->n_allowed) ||
		memcmp(x->denied6, y->denied6, sizeof(x->denied6[0]) * (size_t)x->n_denied6) ||
		memcmp(x->allowed6, y->allowed6, sizeof(x->allowed6[0]) * (size_t)x->n_allowed6);
}

void turn_server_config(struct turn_server *s, const struct edge_cfg *cfg)
{
	uint32_t old_relay = s->relay_ip;
	uint8_t old_relay6[16];
	bool old_has6 = s->has_relay6;
	bool moved = l3_changed(&s->cfg, cfg), policy = policy_changed(&s->cfg, cfg);

	memcpy(old_relay6, s->relay_ip6, 16);

	s->cfg = *cfg;
	relay_from_cfg(s);
	/* allocations whose relay address went away, or all of them when TURN stops */
	if (!cfg->turn.enabled) {
		free_all(s, "TURN disabled");
		return;
	}
	if (old_relay != s->relay_ip || old_has6 != s->has_relay6 ||
		memcmp(old_relay6, s->relay_ip6, 16)) {
		free_all(s, "relay address changed");
		return;
	}
	if (policy)
		peers_recheck(s, "peer policy changed");
	if (!moved)
		return;
	/* an address, gateway or route changed: every next hop is looked up again, and an
	 * allocation whose next hops moved is published anew (one not answering ARP yet waits
	 * unresolved, which the tick retries) */
	for (int b = 0; b < ALLOC_BUCKETS; b++)
		for (struct alloc *a = s->buckets[b]; a; a = a->next) {
			bool changed = false;
			uint8_t m[6];

			if (a->tcp)
				continue;
			if (!a->conn && !a->cli_v6) /* an IPv6 client's: its request's MAC */
				changed |= reresolved(s->env.resolve(s->env.ctx, a->client_if,
							      a->key.client_ip, m) == 0,
					m, a->client_mac, &a->client_resolved);
			for (int i = 0; i < a->n_perms; i++)
				changed |= reresolved(peer_resolve(s, &a->perms[i].peer, m) == 0, m,
					a->perms[i].mac, &a->perms[i].resolved);
			if (changed) {
				a->retry_ms = 0;
				publish(s, a);
			}
		}
}

void turn_server_set_media_targets(struct turn_server *s, const struct turn_media_target *t,
	unsigned int n)
{
	s->n_media = 0;
	for (unsigned int i = 0; i < n && s->n_media < TURN_MAX_MEDIA_TARGETS; i++) {
		bool dup = false;

		/* a port heard twice (this appliance's own callbridge, and over C2W) takes one
		 * place of the few */
		for (unsigned int k = 0; k < s->n_media && !dup; k++)
			dup = s->media[k].ip == t[i].ip && s->media[k].port == t[i].port;
		if (t[i].ip && t[i].port && !dup)
			s->media[s->n_media++] = t[i];
	}
	if (n > TURN_MAX_MEDIA_TARGETS)
		LOG_WARN("turn", "%u media targets: guests reach only the first %d", n,
			TURN_MAX_MEDIA_TARGETS);
	peers_recheck(s, "media targets changed");
}

void turn_server_print_guest_peers(const struct turn_server *s, FILE *out)
{
	char a[16];

	fprintf(out, "Guest peers             : ");
	if (!s->n_media)
		fprintf(out, "none");
	for (unsigned int i = 0; i < s->n_media; i++)
		fprintf(out, "%s%s:%u", i ? ", " : "", cfg_ipv4_str(s->media[i].ip, a),
			ntohs(s->media[i].port));
	fputc('\n', out);
}

/* Publishes the allocations whose next hops have resolved since they were made. @learned: a
 * neighbour was just learnt, so those waiting out their retry are asked at once too. */
static void resolve_dirty(struct turn_server *s, uint64_t now, bool learned)
{
	for (int b = 0; s->n_dirty && b < ALLOC_BUCKETS; b++)
		for (struct alloc *a = s->buckets[b]; a; a = a->next) {
			bool progress = false;

			if (!a->dirty || (now < a->retry_ms && !learned))
				continue;
			if (!a->client_resolved)
				progress |= a->client_resolved =
					s->env.resolve(s->env.ctx, a->client_if, a->key.client_ip,
						a->client_mac) == 0;
			for (int i = 0; i < a->n_perms; i++)
				if (!a->perms[i].resolved)
					progress |= a->perms[i].resolved =
						peer_resolve(s, &a->perms[i].peer,
							a->perms[i].mac) == 0;
			if (progress || !a->published) {
				publish(s, a);
				a->retry_ms = 0;
			} else {
				/* a next hop that does not answer ARP: asked once a second, not at
				 * every tick */
				a->retry_ms = now + 1000;
			}
		}
}

void turn_server_tick(struct turn_server *s)
{
	uint64_t now = now_ms(s);

	tw_advance(&s->wheel, now / 1000);
	s->st.reservations_expired += turn_resv_expire(&s->resv, now, resv_release, s);
	resolve_dirty(s, now, false);
	/* what removals handed back after their grace period: slots and objects free again
	 * (left there, they came back only when the tables ran out, and the tables read full
	 * of allocations long gone) */
	turn_tables_reclaim();
}

void turn_server_neighbour_learned(struct turn_server *s)
{
	resolve_dirty(s, now_ms(s), true);
}

unsigned int turn_server_allocations(const struct turn_server *s)
{
	return s->n_allocs;
}

const struct turn_stats *turn_server_stats(const struct turn_server *s)
{
	return &s->st;
}

void turn_server_list(const struct turn_server *s, FILE *out)
{
	uint64_t now = s->env.now_ms(s->env.ctx);
	char c[48], p[46], r[46], r6[46];

	fprintf(out, "%-22s %-22s %-12s %6s %6s %-9s %12s %12s %s\n", "Client", "Relay", "User",
		"Age", "Left", "State", "To peers", "To client", "Peers (channels)");
	for (int b = 0; b < ALLOC_BUCKETS; b++)
		for (const struct alloc *a = s->buckets[b]; a; a = a->next) {
			char client[64], relay[112];

			snprintf(client, sizeof(client), "%s:%u%s", cli_str(a, c),
				ntohs(a->cli_port), transport_tag(a->transport));
			/* a dual allocation's two relayed addresses share the port */
			if (a->relay6)
				inet_ntop(AF_INET6, a->relay_ip6, r6, sizeof(r6));
			if (!a->relay6)
				snprintf(relay, sizeof(relay), "%s:%u",
					cfg_ipv4_str(a->relay_ip, r), a->relay_port);
			else if (!a->relay_ip)
				snprintf(relay, sizeof(relay), "[%s]:%u", r6, a->relay_port);
			else
				snprintf(relay, sizeof(relay), "%s,[%s]:%u",
					cfg_ipv4_str(a->relay_ip, r), r6, a->relay_port);
			uint64_t pk[2] = { 0, 0 }, by[2] = { 0, 0 };

			if (a->published)
				turn_alloc_traffic(&a->key, pk, by);
			fprintf(out, "%-22s %-22s %-12s %5llus %5llds %-9s %12llu %12llu", client,
				relay, a->user, (unsigned long long)((now - a->created_ms) / 1000),
				(long long)((int64_t)(a->expires_ms - now) / 1000),
				a->dirty ? "resolving" : "relaying", (unsigned long long)by[0],
				(unsigned long long)by[1]);
			for (int i = 0; i < a->n_perms; i++) {
				int chans = 0;

				for (int k = 0; k < a->n_chans; k++)
					chans += peer_eq(&a->chans[k].peer, &a->perms[i].peer);
				peer_str(&a->perms[i].peer, p);
				if (a->perms[i].port) /* a guest's, or a hairpin: one port */
					fprintf(out, " %s:%u(%d)", p, ntohs(a->perms[i].port),
						chans);
				else if (a->perms[i].peer.v6)
					fprintf(out, " [%s](%d)", p, chans);
				else
					fprintf(out, " %s(%d)", p, chans);
			}
			fputc('\n', out);
		}
	fprintf(out, "%u allocations (bytes of payload relayed each way)\n", s->n_allocs);
}

void turn_server_print_stats(const struct turn_server *s, FILE *out)
{
	const struct turn_stats *t = &s->st;

	fprintf(out, "Allocations             : %u\n", s->n_allocs);
	fprintf(out, "Allocations created     : %llu\n",
		(unsigned long long)t->allocations_created);
	fprintf(out, "Allocations expired     : %llu\n",
		(unsigned long long)t->allocations_expired);
	fprintf(out, "Allocations deleted     : %llu\n",
		(unsigned long long)t->allocations_deleted);
	fprintf(out, "Requests                : %llu\n", (unsigned long long)t->requests);
	fprintf(out, "Successes               : %llu\n", (unsigned long long)t->responses_ok);
	fprintf(out, "Errors                  : %llu\n", (unsigned long long)t->responses_err);
	for (int c = 300; c < 700; c++)
		if (t->err[c])
			fprintf(out, "  error %d             : %llu\n", c,
				(unsigned long long)t->err[c]);
	fprintf(out, "Retransmissions         : %llu\n", (unsigned long long)t->retransmits);
	fprintf(out, "Discarded               : %llu\n", (unsigned long long)t->discarded);
	fprintf(out, "Authentication failures : %llu\n", (unsigned long long)t->auth_failures);
	fprintf(out, "Stale nonces            : %llu\n", (unsigned long long)t->stale_nonces);
	fprintf(out, "Quota refusals          : %llu\n", (unsigned long long)t->quota_refusals);
	fprintf(out, "Forbidden peers         : %llu\n", (unsigned long long)t->forbidden_peers);
	fprintf(out, "Guest refusals          : %llu\n", (unsigned long long)t->guest_refusals);
	fprintf(out,
		"Stream relayed          : %llu client -> peer, %llu peer -> client, %llu dropped\n",
		(unsigned long long)t->stream_c2p, (unsigned long long)t->stream_p2c,
		(unsigned long long)t->stream_drops);
	fprintf(out, "Reservations            : %u held, %llu expired, %llu refused\n", s->resv.n,
		(unsigned long long)t->reservations_expired,
		(unsigned long long)t->reservations_refused);
	fprintf(out, "Challenges dropped (rate): %llu\n",
		(unsigned long long)t->challenges_dropped);
}

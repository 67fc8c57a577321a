/* edgeload's engine: TURN clients and their peers over one back-end, in four phases
 * (allocate, bind, traffic, release), on one thread. Allocations live in one array indexed
 * by their client endpoint, so a datagram finds its allocation without a lookup; at most
 * --window transactions are outstanding, each in a slot that keeps its bytes for
 * retransmission; one global pacer drives the traffic of every allocation. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <openssl/rand.h>

#include "edge_bytes.h"
#include "stun.h"
#include "el_engine.h"
#include "el_report.h"

#define EL_MAGIC 0x454c4431u		 /* "ELD1": our payload */
#define EL_RTO_NS 500000000ull		 /* RFC 8489 6.2.1: initial RTO */
#define EL_MAX_SENDS 7			 /* Rc */
#define EL_LAST_WAIT_NS (16 * EL_RTO_NS) /* Rm * RTO after the last send */
#define EL_MAX_AUTH_ROUNDS 4		 /* 401/438 answers one transaction follows */
#define EL_TXN_BUF 512
#define EL_NONCE_MAX 128
#define EL_REBIND_NS (240ull * 1000000000) /* channels last 10 min, permissions 5 */
#define EL_LAG_NS 10000000ull		   /* the pacer catches up 10 ms at most */
#define EL_LOSS_GRACE_SLOTS 25		   /* "lost so far" ignores the last 250 ms in flight */
#define EL_SLOT_NS 10000000ull

/* A_UNBOUND: allocated, but its channel (or permission) refused: still released at the end */
enum el_astate { A_NEW, A_ALLOCATING, A_OK, A_BOUND, A_UNBOUND, A_FAILED, A_RELEASED };
enum el_kind { K_ALLOCATE, K_BIND, K_REFRESH, K_RELEASE };

struct el_alloc {
	uint8_t state;
	uint8_t nonce_len;
	uint16_t channel;
	int32_t txn;		      /* its transaction's slot, or -1 */
	uint32_t relay_ip;	      /* network order */
	uint16_t relay_port;	      /* network order */
	uint32_t lifetime;	      /* seconds */
	uint64_t renew_at, rebind_at; /* ns: refresh the allocation, the channel */
	uint64_t tx_seq, hi_seq, rx;  /* traffic: sent, highest seen back, received back */
	uint64_t peer_hi, peer_rx;    /* at the peer (sink) */
	char nonce[EL_NONCE_MAX];
};

struct el_txn {
	uint32_t a;
	uint8_t kind;
	uint8_t sends;
	uint8_t rounds; /* 401 and 438 answers followed */
	bool authed;	/* the request carries MESSAGE-INTEGRITY */
	bool renewal;	/* a refresh during traffic, not a phase's transaction */
	uint16_t len;
	uint32_t busy_pos;
	uint64_t t_start, t_next;
	uint8_t buf[EL_TXN_BUF];
};

struct el_engine {
	const struct el_cfg *cfg;
	const struct el_backend_ops *ops;
	struct el_backend *b;
	struct el_result *res;
	uint32_t n;
	struct el_alloc *al;
	struct el_txn *txn;
	uint32_t *free_slots, n_free;
	uint32_t *busy, n_busy;
	uint32_t *act, n_act, rr; /* the bound allocations, sent to round-robin */
	uint8_t phase;
	struct el_phase_result *pr; /* the current control phase's figures */
	uint32_t phase_done;	    /* allocations through the current phase */
	/* credentials */
	char username[256], password[256], realm[256];
	bool have_key;
	struct stun_key key;
	uint32_t tid_seq;
	uint8_t tid_salt[4];
	/* time */
	uint64_t t0, hard_deadline, last_scan, next_tick;
	uint64_t measure_ns; /* the warm-up's end: sent before it is not counted */
	uint64_t sent_ring[32], ring_pos;
	/* the second in progress */
	uint64_t sec_tx, sec_rx;
	struct el_hist ihist;
	bool tty;
	/* datagrams */
	struct el_dgram rx[EL_MAX_BATCH], out[EL_MAX_BATCH], echo[EL_MAX_BATCH];
	unsigned int n_out, n_echo;
	uint8_t (*txbuf)[EL_MAX_DGRAM];
	uint8_t scratch[EL_MAX_DGRAM];
	uint32_t peer_ip[65536];
	uint16_t peer_port[65536];
};

static volatile sig_atomic_t el_stopping;

void el_stop(void)
{
	el_stopping = 1;
}

/* ---- small helpers ---- */

static void count_error(struct el_phase_result *pr, int code)
{
	for (unsigned int i = 0; i < pr->n_err; i++)
		if (pr->err[i].code == code) {
			pr->err[i].n++;
			return;
		}
	if (pr->n_err < EL_MAX_ERR_CODES) {
		pr->err[pr->n_err].code = (uint16_t)code;
		pr->err[pr->n_err++].n = 1;
	}
}

static double cpu_self_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of every process in @cfg, all threads; -1 when one cannot be read. */
static double cpu_server_s(const struct el_cfg *cfg)
{
	double total = 0;
	long tck = sysconf(_SC_CLK_TCK);

	for (unsigned int i = 0; i < cfg->n_server_pids; i++) {
		char path[64], buf[1024], *p;
		unsigned long ut, st;
		FILE *f;
		size_t len;

		snprintf(path, sizeof(path), "/proc/%d/stat", cfg->server_pid[i]);
		f = fopen(path, "r");
		if (!f)
			return -1;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		p = strrchr(buf, ')'); /* the command may hold spaces */
		if (!p ||
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
				&st) != 2)
			return -1;
		total += (double)(ut + st) / (double)tck;
	}
	return total;
}

/* ---- building requests ---- */

static void new_tid(struct el_engine *e, uint32_t a, uint8_t tid[STUN_TID_LEN])
{
	edge_put_be32(tid, a);
	edge_put_be32(tid + 4, ++e->tid_seq);
	memcpy(tid + 8, e->tid_salt, 4);
}

/* The long-term key, once the realm is known: every allocation shares one user. */
static int ensure_key(struct el_engine *e)
{
	uint8_t k16[16];

	if (e->have_key)
		return 0;
	if (stun_long_term_key(e->username, e->realm, e->password, k16) < 0 ||
		stun_key_init(&e->key, STUN_MAC_SHA1, k16, sizeof(k16)) < 0)
		return -EINVAL;
	e->have_key = true;
	return 0;
}

static void add_peer(struct el_engine *e, struct stun_builder *b, uint32_t a)
{
	struct stun_addr pa = { .family = 4 };
	uint32_t k = a % e->cfg->net.n_peers;

	pa.port = e->peer_port[k];
	wr32(pa.ip, e->peer_ip[k]);
	stun_add_xor_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, &pa);
}

/* (Re)builds slot @t's request with a fresh transaction ID. */
static int build_request(struct el_engine *e, struct el_txn *t)
{
	static const uint16_t method[] = { STUN_ALLOCATE, STUN_CHANNEL_BIND, STUN_REFRESH,
		STUN_REFRESH };
	struct el_alloc *al = &e->al[t->a];
	struct stun_builder b;
	uint8_t tid[STUN_TID_LEN];
	uint16_t m = method[t->kind];
	int len;

	if (t->kind == K_BIND && e->cfg->send_ind)
		m = STUN_CREATE_PERMISSION;
	new_tid(e, t->a, tid);
	stun_build(&b, t->buf, sizeof(t->buf), m, STUN_REQUEST, tid);
	if (t->kind == K_ALLOCATE)
		stun_add_transport(&b, IPPROTO_UDP);
	if (t->kind == K_BIND && !e->cfg->send_ind)
		stun_add_channel(&b, al->channel);
	if (t->kind == K_BIND)
		add_peer(e, &b, t->a);
	if (t->kind == K_RELEASE)
		stun_add_u32(&b, STUN_ATTR_LIFETIME, 0);
	t->authed = t->kind != K_ALLOCATE || al->nonce_len;
	if (t->authed) {
		if (ensure_key(e) < 0)
			return -EINVAL;
		stun_add_str(&b, STUN_ATTR_USERNAME, e->username);
		stun_add_str(&b, STUN_ATTR_REALM, e->realm);
		stun_add(&b, STUN_ATTR_NONCE, al->nonce, al->nonce_len);
		stun_add_integrity(&b, &e->key);
	}
	stun_add_fingerprint(&b);
	len = stun_build_end(&b);
	if (len < 0)
		return len;
	t->len = (uint16_t)len;
	return 0;
}

/* ---- transactions ---- */

static void txn_send(struct el_engine *e, struct el_txn *t, uint64_t now)
{
	struct el_dgram d = {
		.ep = t->a,
		.rip = e->cfg->net.server_ip,
		.rport = htons(e->cfg->net.server_port),
		.len = t->len,
		.data = t->buf,
	};

	if (t->sends && e->pr)
		e->pr->retransmits++;
	t->sends++;
	t->t_next = now + (t->sends < EL_MAX_SENDS ? EL_RTO_NS << (t->sends - 1) : EL_LAST_WAIT_NS);
	if (e->ops->send(e->b, &d, 1) == 1) {
		e->res->tx_other++;
		e->sec_tx++;
	} else {
		e->res->tx_refused++;
	}
}

static int txn_start(struct el_engine *e, uint32_t a, uint8_t kind, bool renewal, uint64_t now)
{
	struct el_txn *t;
	uint32_t slot;

	if (!e->n_free)
		return -EBUSY;
	slot = e->free_slots[--e->n_free];
	t = &e->txn[slot];
	memset(t, 0, offsetof(struct el_txn, buf));
	t->a = a;
	t->kind = kind;
	t->renewal = renewal;
	t->t_start = now;
	if (build_request(e, t) < 0) {
		e->free_slots[e->n_free++] = slot;
		return -EINVAL;
	}
	t->busy_pos = e->n_busy;
	e->busy[e->n_busy++] = slot;
	e->al[a].txn = (int32_t)slot;
	txn_send(e, t, now);
	return 0;
}

static void txn_end(struct el_engine *e, struct el_txn *t)
{
	uint32_t slot = (uint32_t)(t - e->txn), last = e->busy[--e->n_busy];

	e->busy[t->busy_pos] = last;
	e->txn[last].busy_pos = t->busy_pos;
	e->free_slots[e->n_free++] = slot;
	e->al[t->a].txn = -1;
}

/* Where a transaction's outcome is counted: its phase, or the renewals. */
static void txn_outcome(struct el_engine *e, struct el_txn *t, bool ok, uint64_t now)
{
	if (t->renewal) {
		e->res->refreshes += ok;
		e->res->refresh_failed += !ok;
		return;
	}
	if (ok) {
		e->pr->ok++;
		el_hist_record(&e->pr->lat, now - t->t_start);
		el_hist_record(&e->ihist, now - t->t_start);
	} else {
		e->pr->failed++;
	}
	e->phase_done++;
}

static void txn_fail(struct el_engine *e, struct el_txn *t, uint64_t now)
{
	struct el_alloc *al = &e->al[t->a];

	if (t->kind == K_ALLOCATE)
		al->state = A_FAILED;
	else if (t->kind == K_BIND && !t->renewal)
		al->state = A_UNBOUND;
	txn_outcome(e, t, false, now);
	txn_end(e, t);
}

static void txn_timeouts(struct el_engine *e, uint64_t now)
{
	for (uint32_t i = 0; i < e->n_busy;) {
		struct el_txn *t = &e->txn[e->busy[i]];

		if (t->t_next > now) {
			i++;
			continue;
		}
		if (t->sends >= EL_MAX_SENDS) {
			if (e->pr && !t->renewal)
				e->pr->timeouts++;
			txn_fail(e, t, now); /* moved another slot to i: look at it next */
			continue;
		}
		txn_send(e, t, now);
		i++;
	}
}

/* ---- responses ---- */

static void store_nonce(struct el_alloc *al, const struct stun_msg *m)
{
	const char *s;
	size_t len;

	if (stun_get_str(m, STUN_AI_NONCE, &s, &len) == 0 && len <= EL_NONCE_MAX) {
		memcpy(al->nonce, s, len);
		al->nonce_len = (uint8_t)len;
	}
}

static void learn_realm(struct el_engine *e, const struct stun_msg *m)
{
	const char *s;
	size_t len;

	if (e->realm[0] || stun_get_str(m, STUN_AI_REALM, &s, &len) < 0 || len >= sizeof(e->realm))
		return;
	memcpy(e->realm, s, len);
	e->realm[len] = '\0';
}

/* A 401 or 438: send again with the nonce (and realm) it carries, a bounded number of
 * times. A 401 to a request that had integrity is a wrong password: no retry helps. */
static void auth_retry(struct el_engine *e, struct el_txn *t, const struct stun_msg *m, int code,
	uint64_t now)
{
	struct el_alloc *al = &e->al[t->a];

	if (code == 401 && t->authed) {
		e->res->auth_failed++;
		txn_fail(e, t, now);
		return;
	}
	if (code == 438 && e->pr)
		e->pr->stale_nonce++;
	store_nonce(al, m);
	learn_realm(e, m);
	if (++t->rounds > EL_MAX_AUTH_ROUNDS || !al->nonce_len || !e->realm[0] ||
		build_request(e, t) < 0) {
		txn_fail(e, t, now);
		return;
	}
	t->sends = 0;
	txn_send(e, t, now);
}

/* Allocate succeeded: the relay address (in the lab, or refused) and the lifetime. */
static bool allocated(struct el_engine *e, struct el_alloc *al, const struct stun_msg *m,
	uint64_t now)
{
	struct stun_addr ra;
	uint32_t life = 600;

	if (stun_get_xor_addr(m, STUN_AI_XOR_RELAYED_ADDRESS, &ra) < 0 || ra.family != 4)
		return false;
	al->relay_ip = rd32(ra.ip);
	al->relay_port = ra.port;
	if (!el_target_ok(al->relay_ip, e->cfg->own_target)) {
		e->res->relay_outside++;
		return false;
	}
	stun_get_u32(m, STUN_AI_LIFETIME, &life);
	al->lifetime = life;
	al->renew_at = now + (uint64_t)life * 500000000ull;
	al->state = A_OK;
	return true;
}

static void success(struct el_engine *e, struct el_txn *t, const struct stun_msg *m, uint64_t now)
{
	struct el_alloc *al = &e->al[t->a];
	bool ok = true;

	switch (t->kind) {
	case K_ALLOCATE:
		ok = allocated(e, al, m, now);
		if (!ok)
			al->state = A_FAILED;
		break;
	case K_BIND:
		al->state = A_BOUND;
		al->rebind_at = now + EL_REBIND_NS;
		break;
	case K_REFRESH:
		al->renew_at = now + (uint64_t)al->lifetime * 500000000ull;
		break;
	case K_RELEASE:
		al->state = A_RELEASED;
		break;
	}
	txn_outcome(e, t, ok, now);
	txn_end(e, t);
}

static void response(struct el_engine *e, uint32_t a, const uint8_t *buf, uint16_t len,
	uint64_t now)
{
	struct el_alloc *al = &e->al[a];
	struct stun_msg m;
	struct el_txn *t;
	const char *reason;
	size_t rl;
	int code;

	if (al->txn < 0 || stun_parse(buf, len, &m) < 0) {
		e->res->unmatched++;
		return;
	}
	t = &e->txn[al->txn];
	if (memcmp(m.tid, t->buf + 8, STUN_TID_LEN) != 0) {
		e->res->unmatched++; /* a late answer to a retransmission already answered */
		return;
	}
	if (m.cls == STUN_SUCCESS) {
		success(e, t, &m, now);
		return;
	}
	if (m.cls != STUN_ERROR || stun_get_error(&m, &code, &reason, &rl) < 0) {
		e->res->unmatched++;
		return;
	}
	if (!t->renewal && e->pr && (code != 401 || t->authed) && code != 438)
		count_error(e->pr, code);
	if (code == 401 || code == 438)
		auth_retry(e, t, &m, code, now);
	else if (code == 437 && t->kind == K_RELEASE && t->sends > 1)
		success(e, t, &m, now); /* the first Refresh got there; its answer did not */
	else
		txn_fail(e, t, now);
}

/* ---- traffic payload ---- */

static void payload_write(uint8_t *p, uint32_t a, uint64_t seq, uint64_t now)
{
	edge_put_be32(p, EL_MAGIC);
	edge_put_be32(p + 4, a);
	edge_put_be64(p + 8, seq);
	edge_put_be64(p + 16, now);
}

/* Reads our header from @p; the allocation index, or -1 when it is none of ours. */
static int64_t payload_read(struct el_engine *e, const uint8_t *p, size_t len, uint64_t *seq,
	uint64_t *ts)
{
	uint32_t a;

	if (len < EL_PAYLOAD_HDR || edge_be32(p) != EL_MAGIC)
		return -1;
	a = edge_be32(p + 4);
	if (a >= e->n)
		return -1;
	*seq = edge_be64(p + 8);
	*ts = edge_be64(p + 16);
	return a;
}

static void seq_check(struct el_engine *e, uint64_t *hi, uint64_t *rx, uint64_t seq)
{
	if (*rx && seq < *hi)
		e->res->reordered++;
	else if (*rx && seq == *hi)
		e->res->duplicated++; /* only a repeat of the newest: the cheap case */
	else
		*hi = seq;
	(*rx)++;
}

static void record_latency(struct el_engine *e, uint64_t rx_ns, uint64_t ts)
{
	uint64_t lat = rx_ns > ts ? rx_ns - ts : 0;

	el_hist_record(&e->res->lat, lat);
	el_hist_record(&e->ihist, lat);
}

/* Relayed data back at client @a (echo): the round trip. */
static void client_data(struct el_engine *e, uint32_t a, const uint8_t *p, size_t len,
	uint64_t rx_ns)
{
	uint64_t seq, ts;
	struct el_alloc *al = &e->al[a];

	if (payload_read(e, p, len, &seq, &ts) != a) {
		e->res->bad_payload++;
		return;
	}
	if (ts < e->measure_ns)
		return; /* sent during the warm-up */
	e->res->rx_client++;
	seq_check(e, &al->hi_seq, &al->rx, seq);
	record_latency(e, rx_ns, ts);
}

static void client_input(struct el_engine *e, const struct el_dgram *d)
{
	uint16_t ch, dl, off;
	struct stun_addr peer;

	if (stun_fast_channel_data(d->data, d->len, &ch, &dl) == 0) {
		client_data(e, d->ep, d->data + STUN_CHANNEL_HDR_LEN, dl, d->rx_ns);
		return;
	}
	if (stun_fast_data_indication(d->data, d->len, &peer, &off, &dl) == 0) {
		client_data(e, d->ep, d->data + off, dl, d->rx_ns);
		return;
	}
	response(e, d->ep, d->data, d->len, d->rx_ns);
}

/* A datagram from the relay at a peer: echoed to where it came from, or counted. */
static void peer_input(struct el_engine *e, const struct el_dgram *d)
{
	uint64_t seq, ts;
	int64_t a = payload_read(e, d->data, d->len, &seq, &ts);

	if (a < 0) {
		e->res->bad_payload++;
		return;
	}
	if (ts >= e->measure_ns) /* not one of the warm-up's: counted */
		e->res->rx_peer++;
	else if (e->cfg->peer_mode == EL_PEER_SINK)
		return;
	if (e->cfg->peer_mode == EL_PEER_SINK) {
		seq_check(e, &e->al[a].peer_hi, &e->al[a].peer_rx, seq);
		record_latency(e, d->rx_ns, ts);
		return;
	}
	if (!el_target_ok(d->rip, e->cfg->own_target)) {
		e->res->relay_outside++;
		return;
	}
	e->echo[e->n_echo] = *d; /* back from the same endpoint to the relay address */
	e->n_echo++;
}

static void flush_echo(struct el_engine *e)
{
	unsigned int sent;

	if (!e->n_echo)
		return;
	sent = e->ops->send(e->b, e->echo, e->n_echo);
	e->res->echoed += sent;
	e->res->tx_refused += e->n_echo - sent;
	e->sec_tx += sent;
	e->n_echo = 0;
}

/* ---- the loop's common step ---- */

static uint64_t lost_so_far(const struct el_engine *e)
{
	uint64_t sent,
		got = e->cfg->peer_mode == EL_PEER_ECHO ? e->res->rx_client : e->res->rx_peer;

	if (e->ring_pos < EL_LOSS_GRACE_SLOTS)
		return 0;
	sent = e->sent_ring[(e->ring_pos - EL_LOSS_GRACE_SLOTS) % 32];
	return sent > got ? sent - got : 0;
}

static void tick(struct el_engine *e, uint64_t now)
{
	struct el_second s = {
		.t = (double)(now - e->t0) / 1e9,
		.phase = e->phase,
		.tx_pps = e->sec_tx,
		.rx_pps = e->sec_rx,
		.lost = lost_so_far(e),
		.p50_ns = el_hist_quantile(&e->ihist, 0.5),
		.p90_ns = el_hist_quantile(&e->ihist, 0.9),
		.p99_ns = el_hist_quantile(&e->ihist, 0.99),
		.p999_ns = el_hist_quantile(&e->ihist, 0.999),
		.done = e->phase == EL_PH_TRAFFIC || e->phase == EL_PH_DRAIN ? e->n_act :
									       e->phase_done,
	};

	el_series_push(&e->res->series, &s);
	if (!e->cfg->quiet)
		el_report_progress(&s, e->n, e->tty);
	e->sec_tx = e->sec_rx = 0;
	el_hist_reset(&e->ihist);
	e->next_tick += 1000000000ull;
	if (e->next_tick <= now)
		e->next_tick = now + 1000000000ull;
}

/* Receives and handles one batch (waiting up to @timeout_us for it), then the timers. */
static uint64_t poll_once(struct el_engine *e, unsigned int timeout_us)
{
	unsigned int n = e->ops->recv(e->b, e->rx, EL_MAX_BATCH, timeout_us);
	uint64_t now;

	e->sec_rx += n;
	for (unsigned int i = 0; i < n; i++) {
		if (e->rx[i].ep < e->n)
			client_input(e, &e->rx[i]);
		else
			peer_input(e, &e->rx[i]);
	}
	flush_echo(e);
	now = el_now_ns();
	if (now - e->last_scan >= 1000000) {
		e->last_scan = now;
		txn_timeouts(e, now);
		if (now - e->t0 >= e->ring_pos * EL_SLOT_NS)
			e->sent_ring[e->ring_pos++ % 32] = e->res->sent;
	}
	if (now >= e->next_tick)
		tick(e, now);
	return now;
}

/* ---- control phases ---- */

/* Fails what is still outstanding when a phase runs out of time. */
static void abandon(struct el_engine *e, uint64_t now)
{
	while (e->n_busy) {
		struct el_txn *t = &e->txn[e->busy[0]];

		if (e->pr && !t->renewal)
			e->pr->timeouts++;
		txn_fail(e, t, now);
	}
}

/* One transaction of @kind for every allocation in a state of @states (a bit mask), at
 * most @rate started per second (0: as the window allows). */
static void control_phase(struct el_engine *e, uint8_t phase, uint8_t kind, unsigned int states,
	struct el_phase_result *pr, double rate)
{
	uint64_t now = el_now_ns(), start = now, deadline;
	struct el_pacer pacer;
	uint32_t next = 0;

	e->phase = phase;
	e->pr = pr;
	e->phase_done = 0;
	deadline = now + (uint64_t)((e->cfg->phase_timeout_s + (rate > 0 ? e->n / rate : 0)) * 1e9);
	el_pacer_init(&pacer, rate, now, EL_LAG_NS);
	while (now < deadline && now < e->hard_deadline && (!el_stopping || kind == K_RELEASE)) {
		uint64_t due = el_pacer_due(&pacer, now, e->n_free);
		unsigned int wait = 1000;

		for (; due && next < e->n; next++) {
			if (!(states & (1u << e->al[next].state)))
				continue;
			if (txn_start(e, next, kind, false, now) < 0)
				break;
			el_pacer_sent(&pacer, 1);
			due--;
		}
		if (next >= e->n && !e->n_busy)
			break;
		if (next < e->n && e->n_free)
			wait = rate > 0 ? (unsigned int)(el_pacer_wait_ns(&pacer, now) / 1000) : 0;
		now = poll_once(e, wait < 1000 ? wait : 1000);
	}
	if (now >= e->hard_deadline || (el_stopping && kind != K_RELEASE))
		e->res->aborted = true;
	abandon(e, now);
	pr->seconds = (double)(el_now_ns() - start) / 1e9;
	e->pr = NULL;
}

/* ---- traffic ---- */

static void build_data(struct el_engine *e, uint32_t a, struct el_dgram *d, uint8_t *buf,
	uint64_t now)
{
	struct el_alloc *al = &e->al[a];
	uint32_t size = e->cfg->size;

	d->ep = a;
	d->rip = e->cfg->net.server_ip;
	d->rport = htons(e->cfg->net.server_port);
	d->data = buf;
	if (!e->cfg->send_ind) {
		stun_channel_data_hdr(buf, al->channel, (uint16_t)size);
		payload_write(buf + STUN_CHANNEL_HDR_LEN, a, al->tx_seq++, now);
		d->len = (uint16_t)(STUN_CHANNEL_HDR_LEN + size);
	} else {
		struct stun_builder b;
		uint8_t tid[STUN_TID_LEN];

		payload_write(e->scratch, a, al->tx_seq++, now);
		new_tid(e, a, tid);
		stun_build(&b, buf, EL_MAX_DGRAM, STUN_SEND, STUN_INDICATION, tid);
		add_peer(e, &b, a);
		stun_add(&b, STUN_ATTR_DATA, e->scratch, size);
		d->len = (uint16_t)stun_build_end(&b);
	}
}

/* Sends @units (a packet, or a frame's burst of @burst) round-robin over the bound
 * allocations; returns the units the back-end took whole. */
static uint64_t send_units(struct el_engine *e, uint64_t units, uint32_t burst, uint64_t now)
{
	unsigned int n = 0, sent;

	for (uint64_t u = 0; u < units; u++) {
		uint32_t a = e->act[e->rr];

		if (++e->rr == e->n_act)
			e->rr = 0;
		for (uint32_t k = 0; k < burst; k++, n++)
			build_data(e, a, &e->out[n], e->txbuf[n], now);
	}
	sent = e->ops->send(e->b, e->out, n);
	if (now >= e->measure_ns) {
		e->res->sent += sent;
		e->res->tx_refused += n - sent;
	}
	e->sec_tx += sent;
	return sent / burst;
}

/* Refreshes allocations at half their lifetime and channels (permissions) before they
 * expire, as far as the window has room; once a second is enough. */
static void renewals(struct el_engine *e, uint64_t now)
{
	for (uint32_t i = 0; i < e->n_act && e->n_free; i++) {
		uint32_t a = e->act[i];
		struct el_alloc *al = &e->al[a];

		if (al->txn >= 0 || al->state != A_BOUND)
			continue;
		if (al->lifetime && now >= al->renew_at)
			txn_start(e, a, K_REFRESH, true, now);
		else if (now >= al->rebind_at)
			txn_start(e, a, K_BIND, true, now);
	}
}

/* Units per second of the pattern, all allocations together, capped by --rate; 0: unpaced. */
static double unit_rate(const struct el_cfg *cfg, uint32_t n_act, uint32_t burst)
{
	double per = cfg->pattern == EL_PAT_AUDIO ? 50 :
		cfg->pattern == EL_PAT_VIDEO	  ? 30 :
		cfg->pattern == EL_PAT_CUSTOM	  ? cfg->pps :
						    0;
	double total = per * n_act, cap = cfg->rate ? (double)cfg->rate / burst : 0;

	if (total == 0)
		return cap;
	return cap && cap < total ? cap : total;
}

static void traffic(struct el_engine *e)
{
	uint32_t burst = e->cfg->pattern == EL_PAT_VIDEO ? e->cfg->frame_packets : 1;
	uint64_t now = el_now_ns(), start = now, end, next_renew = now + 1000000000ull;
	double cpu0 = cpu_self_s(), srv0 = cpu_server_s(e->cfg), srv1;
	struct el_pacer pacer;

	e->phase = EL_PH_TRAFFIC;
	for (uint32_t a = 0; a < e->n; a++)
		if (e->al[a].state == A_BOUND)
			e->act[e->n_act++] = a;
	e->res->active = e->n_act;
	e->measure_ns = now + (uint64_t)(e->cfg->warmup_s * 1e9);
	end = e->measure_ns + (uint64_t)(e->cfg->duration_s * 1e9);
	el_pacer_init(&pacer, unit_rate(e->cfg, e->n_act, burst), now, EL_LAG_NS);
	while (now < end && now < e->hard_deadline && !el_stopping) {
		if (start < e->measure_ns && now >= e->measure_ns) {
			/* the warm-up is over: what is measured starts here */
			start = now;
			cpu0 = cpu_self_s();
			srv0 = cpu_server_s(e->cfg);
			pacer.skipped = 0;
		}
		uint64_t units = el_pacer_due(&pacer, now, EL_MAX_BATCH / burst), wait = 0;

		if (units)
			el_pacer_sent(&pacer, send_units(e, units, burst, now));
		else
			wait = el_pacer_wait_ns(&pacer, now) / 1000;
		if (now >= next_renew) {
			renewals(e, now);
			next_renew = now + 1000000000ull;
		}
		now = poll_once(e, wait < 1000 ? (unsigned int)wait : 1000);
	}
	e->res->aborted |= now < end;
	e->res->traffic_s = (double)(now - start) / 1e9;
	e->res->pacer_skipped = pacer.skipped * burst;
	e->res->cpu_self_traffic_s = cpu_self_s() - cpu0;
	srv1 = cpu_server_s(e->cfg);
	e->res->cpu_server_valid = e->cfg->n_server_pids && srv0 >= 0 && srv1 >= 0;
	e->res->cpu_server_s = e->res->cpu_server_valid ? srv1 - srv0 : 0;
	e->phase = EL_PH_DRAIN;
	for (end = now + e->cfg->drain_ms * 1000000ull; now < end && now < e->hard_deadline;)
		now = poll_once(e, 1000);
}

/* ---- the run ---- */

static int credentials(struct el_engine *e, char *err, size_t errlen)
{
	const struct el_cfg *cfg = e->cfg;

	snprintf(e->realm, sizeof(e->realm), "%s", cfg->realm ? cfg->realm : "");
	if (!cfg->secret) {
		snprintf(e->username, sizeof(e->username), "%s", cfg->user);
		snprintf(e->password, sizeof(e->password), "%s", cfg->password);
		return 0;
	}
	snprintf(e->username, sizeof(e->username), "%lld:%s", (long long)time(NULL) + 86400,
		cfg->user);
	if (stun_rest_password(cfg->secret, e->username, e->password, sizeof(e->password)) < 0) {
		snprintf(err, errlen, "--secret: cannot derive the REST API password");
		return -EINVAL;
	}
	return 0;
}

static int engine_alloc(struct el_engine *e)
{
	uint32_t w = e->cfg->window;

	e->al = calloc(e->n, sizeof(*e->al));
	e->act = calloc(e->n, sizeof(*e->act));
	e->txn = calloc(w, sizeof(*e->txn));
	e->free_slots = calloc(w, sizeof(uint32_t));
	e->busy = calloc(w, sizeof(uint32_t));
	e->txbuf = calloc(EL_MAX_BATCH, EL_MAX_DGRAM);
	if (!e->al || !e->act || !e->txn || !e->free_slots || !e->busy || !e->txbuf)
		return -ENOMEM;
	for (uint32_t i = 0; i < w; i++)
		e->free_slots[e->n_free++] = w - 1 - i;
	for (uint32_t a = 0; a < e->n; a++) {
		e->al[a].txn = -1;
		e->al[a].channel = (uint16_t)(STUN_CHANNEL_MIN + a % 0x1000);
	}
	return 0;
}

static void engine_free(struct el_engine *e)
{
	if (e->b)
		e->ops->close(e->b);
	if (e->have_key)
		stun_key_free(&e->key);
	free(e->al);
	free(e->act);
	free(e->txn);
	free(e->free_slots);
	free(e->busy);
	free(e->txbuf);
	free(e);
}

static void result_init(struct el_result *res, uint32_t n)
{
	memset(res, 0, sizeof(*res));
	res->n_allocs = n;
	el_hist_reset(&res->alloc.lat);
	el_hist_reset(&res->bind.lat);
	el_hist_reset(&res->release.lat);
	el_hist_reset(&res->lat);
	el_series_reset(&res->series);
}

static void phases(struct el_engine *e)
{
	const struct el_cfg *cfg = e->cfg;
	struct el_result *res = e->res;

	control_phase(e, EL_PH_ALLOCATE, K_ALLOCATE, 1u << A_NEW, &res->alloc, cfg->alloc_rate);
	if (res->alloc.ok && !el_stopping)
		control_phase(e, EL_PH_BIND, K_BIND, 1u << A_OK, &res->bind, 0);
	if (res->bind.ok && !el_stopping)
		traffic(e);
	if (!cfg->keep)
		control_phase(e, EL_PH_RELEASE, K_RELEASE,
			1u << A_OK | 1u << A_BOUND | 1u << A_UNBOUND, &res->release, 0);
}

int el_run(const struct el_cfg *cfg, const struct el_backend_ops *ops, struct el_result *res,
	char *err, size_t errlen)
{
	struct el_engine *e = calloc(1, sizeof(*e));
	uint64_t got;
	int ret;

	if (!e)
		return -ENOMEM;
	e->cfg = cfg;
	e->ops = ops;
	e->res = res;
	e->n = cfg->net.n_clients;
	e->tty = isatty(2);
	result_init(res, e->n);
	el_hist_reset(&e->ihist);
	ret = engine_alloc(e);
	if (ret == 0)
		ret = credentials(e, err, errlen);
	if (ret == 0)
		ret = ops->open(&e->b, &cfg->net, err, errlen);
	if (ret < 0) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory for %u allocations", e->n);
		e->b = NULL;
		engine_free(e);
		return ret;
	}
	if (RAND_bytes(e->tid_salt, sizeof(e->tid_salt)) != 1)
		edge_put_be32(e->tid_salt, (uint32_t)el_now_ns());
	for (uint32_t k = 0; k < cfg->net.n_peers; k++)
		ops->local(e->b, e->n + k, &e->peer_ip[k], &e->peer_port[k]);
	e->t0 = el_now_ns();
	e->next_tick = e->t0 + 1000000000ull;
	e->hard_deadline = e->t0 +
		(uint64_t)((3 * cfg->phase_timeout_s + cfg->duration_s + cfg->warmup_s + 5 +
				   (cfg->alloc_rate ? (double)e->n / cfg->alloc_rate : 0)) *
			1e9) +
		cfg->drain_ms * 1000000ull;
	phases(e);
	if (e->sec_tx || e->sec_rx)
		tick(e, el_now_ns());
	if (e->tty && !cfg->quiet)
		fputc('\n', stderr);
	got = cfg->peer_mode == EL_PEER_ECHO ? res->rx_client : res->rx_peer;
	res->lost = res->sent > got ? res->sent - got : 0;
	ops->stats(e->b, &res->be);
	res->cpu_self_s = cpu_self_s();
	engine_free(e);
	return 0;
}

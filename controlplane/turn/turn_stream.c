/* TURN over TCP and TLS: listeners, connections, framing, limits (include/turn_stream.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "edge_log.h"
#include "stun.h"
#include "tls_policy.h"
#include "turn_stream.h"

#define MAX_CONNS 65535 /* connection ids: 16-bit slot, generation above */
#define IN_CAP 4096	/* the largest frame kept; longer ones are skipped */
#define OUT_CAP 65536	/* per connection: a slow reader loses what does not fit */
#define ACCEPTS_PER_SERVE 64
#define READ_PER_EVENT 65536
#define ADDR_BUCKETS 4096
#define TAG_LISTEN ((uint64_t)1 << 40) /* | listener index: 0 TCP, 1 TLS, 2... the browser port's */
#define TAG_RELAY ((uint64_t)3 << 40)  /* | relay port: a TCP relay's listener */
#define PEER_WAIT_S 30		       /* RFC 6062: Connect, and ConnectionBind, within 30 s */
#define PEERS_PER_ALLOC 64	       /* peer connections of one TCP relay, pending or open */
/* Datagrams for a client queue up to this much; the rest of the buffer is kept for the
 * server's own answers, which a client on a stream does not ask for twice. */
#define OUT_DATA_CAP (OUT_CAP * 3 / 4)

#define N_LISTEN (2 + 2 * TSTREAM_MAX_MUX)
#define L_TCP 0
#define L_TLS 1
#define L_MUX 2 /* the first of the browser port's, one per address: IPv4 ... */
#define L_MUX6 (L_MUX + TSTREAM_MAX_MUX) /* ... then IPv6 */

/* Where a listener binds: family 0 is every address of both families (one IPv6 socket
 * that takes IPv4 too), AF_INET or AF_INET6 one address. */
struct laddr {
	int family;
	uint8_t a[16];
};

/* SNIFF: on the browser port, waiting for the first byte to say TLS or TURN over TCP;
 * HANDSHAKE: TLS under way; CONNECTING: ours to a peer (Connect); WAITING: a peer's
 * connection waiting for the client's ConnectionBind; OPEN: carries data. */
enum conn_state { SNIFF, HANDSHAKE, CONNECTING, WAITING, OPEN };

/* A client's connection (framed TURN), or a peer's on a TCP relay (raw bytes). A client
 * connection that sent ConnectionBind becomes raw too: a pipe to its peer's. */
struct conn {
	uint32_t id;
	int fd;
	SSL *ssl; /* NULL over TCP */
	enum conn_state state;
	bool peer;	       /* a peer's connection on a TCP relay */
	bool paused;	       /* not read: its pipe partner's buffer is full */
	bool again;	       /* on the list of connections OpenSSL holds bytes for */
	bool failed;	       /* a fatal error: no close_notify */
	bool drain;	       /* its pipe partner left: close once the output is out */
	uint32_t pipe;	       /* the connection its bytes go to, or 0 */
	uint32_t n_peer_conns; /* a control connection: its TCP relay's peer connections */
	uint32_t owner;	       /* peer: the allocation's control connection */
	uint16_t relay_port;   /* peer: of that allocation, host order */
	uint8_t tid[12];       /* peer we connected: the Connect request's */
	struct turn_src src;   /* peer: its address in ip/port, ours in dst_* */
	uint64_t opened_ms, active_ms;
	uint32_t want_events;
	uint8_t in[IN_CAP];
	size_t in_len;
	size_t skip;  /* bytes of an oversize frame still to throw away */
	uint8_t *out; /* OUT_CAP bytes once something waits, else NULL */
	size_t out_head, out_tail;
	size_t retry_len; /* SSL_write must be retried with this length */
};

struct addr_count {
	struct addr_count *next;
	uint64_t ip; /* src_key() */
	uint32_t n;
};

struct relay_listener {
	int fd;
	uint32_t ip;
	uint32_t owner; /* the allocation's control connection */
};

struct tstreams {
	struct turn_server *srv;
	int (*ifi_of)(void *ctx, int family, const void *addr);
	void *ctx;
	struct tstream_cfg cfg;
	int ep;
	int lfd[N_LISTEN]; /* listeners: L_TCP, L_TLS, L_MUX + i */
	uint16_t lport[N_LISTEN];
	struct laddr lad[N_LISTEN]; /* the address each is bound to */
	SSL_CTX *tls;		    /* the last good context; NULL = none */
	struct timespec mtime[3];   /* of key, cert, bundle when loaded */
	char loaded[3][512];	    /* their paths */
	struct conn **conns;	    /* by slot */
	uint16_t gen[MAX_CONNS];
	unsigned int n_open[2];
	unsigned int n_peers;
	uint32_t *again; /* connections with bytes inside OpenSSL: read them next */
	unsigned int n_again;
	uint64_t lretry_ms[N_LISTEN]; /* a listener that could not open: when to try again */
	bool lpaused[N_LISTEN];	      /* out of descriptors: listener off the epoll set a while */
	struct relay_listener *relays[65536]; /* by relay port: TCP relays' listeners */
	uint32_t next_slot;
	struct addr_count *addrs[ADDR_BUCKETS];
	struct tstream_stats st;
	uint8_t scratch[16384]; /* answers built; a pipe's bytes, a TLS record at a time */
};

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* ---- per source address counts ---- */

/* The key of @src's per-address count: its IPv4 address, or for IPv6 its /64 (what one
 * subscriber is given), whose first 32 bits are never all zero in a global address, so
 * the two never meet. */
static uint64_t src_key(const struct turn_src *src)
{
	uint64_t k;

	if (!src->v6)
		return src->ip;
	memcpy(&k, src->ip6, 8);
	return k;
}

static struct addr_count **addr_slot(struct tstreams *t, uint64_t ip)
{
	struct addr_count **pp = &t->addrs[(ip * 0x9e3779b97f4a7c15ull) >> 52 & (ADDR_BUCKETS - 1)];

	while (*pp && (*pp)->ip != ip)
		pp = &(*pp)->next;
	return pp;
}

static uint32_t addr_count(struct tstreams *t, uint64_t ip)
{
	struct addr_count *a = *addr_slot(t, ip);

	return a ? a->n : 0;
}

static int addr_add(struct tstreams *t, uint64_t ip, int d)
{
	struct addr_count **pp = addr_slot(t, ip), *a = *pp;

	if (!a) {
		if (d < 0 || !(a = calloc(1, sizeof(*a))))
			return -ENOMEM;
		a->ip = ip;
		*pp = a;
	}
	a->n += (uint32_t)d;
	if (a->n == 0) {
		*pp = a->next;
		free(a);
	}
	return 0;
}

/* ---- TLS context ---- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char turn[] = "stun.turn";

	(void)ssl, (void)arg;
	/* RFC 7443: "stun.turn"; a client that offers only other protocols goes on without */
	for (unsigned int i = 0; i < inlen; i += 1u + in[i])
		if (in[i] == sizeof(turn) - 1 && i + 1u + in[i] <= inlen &&
			!memcmp(in + i + 1, turn, sizeof(turn) - 1)) {
			*out = in + i + 1;
			*outlen = in[i];
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_NOACK;
}

static void tls_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s %s%s%s", what, path, buf[0] ? ": " : "", buf);
}

static SSL_CTX *tls_context(const struct tstream_cfg *c, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error(); /* a stale error would be reported as this load's reason */
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	if (tls_policy_apply(ctx) < 0) { /* the appliance's one policy */
		SSL_CTX_free(ctx);
		snprintf(err, errlen, "cannot apply the TLS policy (OpenSSL refused it)");
		return NULL;
	}
	/* a client that just closes its socket has closed: not a TLS error */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx,
		SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"edge-turn", 9);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		tls_err(err, errlen, "TLS certificate chain", c->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		tls_err(err, errlen, "TLS key", c->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, errlen, "TLS key does not match the certificate in", c->cert);
		goto fail;
	}
	/* a certificate out of its dates would fail every client's check: keep the old one */
	if (X509_cmp_current_time(X509_get0_notAfter(SSL_CTX_get0_certificate(ctx))) < 0 ||
		X509_cmp_current_time(X509_get0_notBefore(SSL_CTX_get0_certificate(ctx))) > 0) {
		snprintf(err, errlen, "TLS certificate %s is expired or not yet valid", c->cert);
		goto fail;
	}
	if (c->bundle[0]) {
		/* the CA bundle's certificates go out with ours, for clients that lack them */
		STACK_OF(X509_INFO) *inf = NULL;
		BIO *b = BIO_new_file(c->bundle, "r");

		if (b)
			inf = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
		BIO_free(b);
		if (!inf || sk_X509_INFO_num(inf) == 0) {
			sk_X509_INFO_pop_free(inf, X509_INFO_free);
			tls_err(err, errlen, "TLS bundle", c->bundle);
			goto fail;
		}
		for (int i = 0; i < sk_X509_INFO_num(inf); i++) {
			X509_INFO *x = sk_X509_INFO_value(inf, i);

			if (x->x509)
				SSL_CTX_add1_chain_cert(ctx, x->x509);
		}
		sk_X509_INFO_pop_free(inf, X509_INFO_free);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void file_mtime(const char *path, struct timespec *ts)
{
	struct stat sb;

	if (path[0] && stat(path, &sb) == 0)
		*ts = sb.st_mtim;
	else
		*ts = (struct timespec){ 0, 0 };
}

static bool files_changed(const struct tstreams *t, const struct tstream_cfg *c)
{
	const char *p[3] = { c->key, c->cert, c->bundle };

	for (int i = 0; i < 3; i++) {
		struct timespec ts;

		if (strcmp(p[i], t->loaded[i]))
			return true;
		file_mtime(p[i], &ts);
		if (ts.tv_sec != t->mtime[i].tv_sec || ts.tv_nsec != t->mtime[i].tv_nsec)
			return true;
	}
	return false;
}

/* Loads the certificate files if they changed: 0, or negative with @err (old context kept). */
static int tls_reload(struct tstreams *t, char *err, size_t errlen)
{
	const char *p[3] = { t->cfg.key, t->cfg.cert, t->cfg.bundle };
	SSL_CTX *ctx;

	if (!t->cfg.key[0] || !t->cfg.cert[0] || !files_changed(t, &t->cfg))
		return 0;
	/* remember what was tried, so a broken file is reported once, not every tick */
	for (int i = 0; i < 3; i++) {
		snprintf(t->loaded[i], sizeof(t->loaded[i]), "%s", p[i]);
		file_mtime(p[i], &t->mtime[i]);
	}
	ctx = tls_context(&t->cfg, err, errlen);
	if (!ctx) {
		LOG_ERRX("turn", "%s; %s", err,
			t->tls ? "TLS keeps the last good certificate" :
				 "no TLS until a good one is given");
		return -EINVAL;
	}
	SSL_CTX_free(t->tls); /* connections made with it hold their own reference */
	t->tls = ctx;
	LOG_INFO_("turn", "TLS certificate %s loaded", t->cfg.cert);
	return 0;
}

/* ---- listeners ---- */

static const char *listener_name(int k)
{
	return k == L_TCP ? "TCP" : k == L_TLS ? "TLS" : "TCP and TLS";
}

static void listener_close(struct tstreams *t, int k)
{
	if (t->lfd[k] >= 0) {
		epoll_ctl(t->ep, EPOLL_CTL_DEL, t->lfd[k], NULL);
		close(t->lfd[k]);
	}
	t->lpaused[k] = false;
	t->lfd[k] = -1;
	t->lport[k] = 0;
	memset(&t->lad[k], 0, sizeof(t->lad[k]));
}

/* "" (every address), "a.b.c.d:" or "[v6]:", to go before a port */
static const char *laddr_str(const struct laddr *la, char buf[48])
{
	char t[46];

	buf[0] = '\0';
	if (la->family && inet_ntop(la->family, la->a, t, sizeof(t)))
		snprintf(buf, 48, la->family == AF_INET6 ? "[%s]:" : "%s:", t);
	return buf;
}

static struct laddr laddr4(uint32_t ip)
{
	struct laddr la = { .family = ip ? AF_INET : 0 };

	memcpy(la.a, &ip, 4);
	return la;
}

static struct laddr laddr6(const uint8_t ip[16])
{
	struct laddr la = { .family = AF_INET6 };

	memcpy(la.a, ip, 16);
	return la;
}

/* The port listener @k is to have (0: none) and its address, as the configuration says:
 * TCP and TLS on bind_ip, or every address of both families; the browser port's on each of
 * its IPv4 addresses, then each IPv6 one. TLS needs a certificate. */
static uint16_t wanted(const struct tstreams *t, int k, struct laddr *la)
{
	const struct tstream_cfg *c = &t->cfg;

	*la = (struct laddr){ 0 };
	if (k == L_TCP || k == L_TLS) {
		*la = laddr4(c->bind_ip);
		return k == L_TCP ? c->tcp_port : t->tls ? c->tls_port : 0;
	}
	if (k < L_MUX6) {
		if ((unsigned int)(k - L_MUX) >= c->n_mux)
			return 0;
		*la = laddr4(c->mux_ip[k - L_MUX]);
	} else {
		if ((unsigned int)(k - L_MUX6) >= c->n_mux6)
			return 0;
		*la = laddr6(c->mux_ip6[k - L_MUX6]);
	}
	return c->mux_port;
}

/* Listener @k on @la port @port (0: closed); one that is already there stays. */
static int listener_open(struct tstreams *t, int k, const struct laddr *la, uint16_t port,
	char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN | (uint64_t)k };
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	char a[48];
	int one = 1, zero = 0, fd;

	if (t->lfd[k] >= 0 && t->lport[k] == port && !memcmp(&t->lad[k], la, sizeof(*la)))
		return 0;
	listener_close(t, k);
	if (!port)
		return 0;
	if (la->family == AF_INET) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&ss;

		sa->sin_family = AF_INET;
		sa->sin_port = htons(port);
		memcpy(&sa->sin_addr, la->a, 4);
		sl = sizeof(*sa);
	} else {
		struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;

		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(port);
		memcpy(&sa->sin6_addr, la->a, 16); /* all zero for family 0: :: */
		sl = sizeof(*sa);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && !la->family && errno == EAFNOSUPPORT) {
		/* a kernel without IPv6: every IPv4 address, as before IPv6 came */
		struct sockaddr_in *sa = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss));
		sa->sin_family = AF_INET;
		sa->sin_port = htons(port);
		sl = sizeof(*sa);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* every address: IPv4 clients come to the IPv6 socket as ::ffff:a.b.c.d; one address:
	 * that family alone */
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, la->family ? &one : &zero, sizeof(one));
	laddr_str(la, a);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0 ||
		epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = -errno;

		snprintf(err, errlen, "cannot listen on %s port %s%u: %s", listener_name(k), a,
			port, strerror(-e));
		LOG_ERRX("turn", "%s (trying again every 10 s)", err);
		close(fd);
		t->lretry_ms[k] = mono_ms() + 10000;
		return e;
	}
	t->lfd[k] = fd;
	t->lport[k] = port;
	t->lad[k] = *la;
	LOG_INFO_("turn", "listening on %s port %s%u%s", listener_name(k), a, port,
		k >= L_MUX ? " (the browser port: TLS or TURN by the first "
			     "byte)" :
			     "");
	return 0;
}

int tstream_first_byte(uint8_t b)
{
	/* RFC 7983's ranges, as they fall on a stream: 0..3 STUN, 64..79 ChannelData (64..127
	 * as RFC 5766 had it, which deployed clients still use), 22 a TLS handshake record
	 * (a ClientHello); anything else (an HTTP request, SSH) is neither */
	if (b == 0x16)
		return TSTREAM_TLS;
	if (b < 4 || (b & 0xc0) == 0x40)
		return TSTREAM_TURN;
	return -EPROTO;
}

/* ---- connections ---- */

static struct conn *conn_get(const struct tstreams *t, uint32_t id)
{
	struct conn *c = id ? t->conns[id & 0xffff] : NULL;

	return c && c->id == id ? c : NULL;
}

/* Epoll interest: input unless paused (or a peer still waiting), output while bytes wait
 * or a connect or handshake needs it. */
static void conn_events(struct tstreams *t, struct conn *c, bool want_out)
{
	uint32_t want = (c->paused || c->state == WAITING ? 0 : EPOLLIN) |
		(want_out || c->out || c->state == CONNECTING ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.u64 = c->id };

	if (want != c->want_events && epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_events = want;
}

static void conn_close(struct tstreams *t, struct conn *c, const char *why)
{
	struct conn *p = conn_get(t, c->pipe);
	char a[46];

	t->conns[c->id & 0xffff] = NULL; /* first: what this close closes cannot reach it */
	if (!c->peer && c->state == OPEN && !c->pipe)
		turn_server_stream_closed(t->srv, c->id);
	epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl) {
		if (c->state == OPEN && !c->failed)
			SSL_shutdown(c->ssl); /* close_notify, best effort: we do not wait */
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	close(c->fd);
	if (c->peer) {
		struct conn *o = conn_get(t, c->owner);

		t->n_peers--;
		if (o && o->n_peer_conns)
			o->n_peer_conns--;
	} else {
		addr_add(t, src_key(&c->src), -1);
		t->n_open[c->src.transport == TURN_TLS]--;
	}
	edge_log(LOG_DEBUG, "turn", "%s connection %s:%u closed (%s)",
		c->peer				     ? "peer" :
			c->src.transport == TURN_TLS ? "TLS" :
						       "TCP",
		turn_src_str(&c->src, a), ntohs(c->src.port), why);
	free(c->out);
	free(c);
	if (p) { /* a pipe closes as a whole, once what it carried has gone out */
		p->pipe = 0;
		if (p->out && !p->failed && p->state == OPEN) {
			p->drain = true;
			p->paused = true; /* nothing more is read from it */
			conn_events(t, p, false);
		} else {
			conn_close(t, p, "the other side closed");
		}
	}
}

/* Connection @c has bytes inside OpenSSL that no epoll event will announce: served next. */
static void again_push(struct tstreams *t, struct conn *c)
{
	if (!c->again && t->n_again < MAX_CONNS) {
		c->again = true;
		t->again[t->n_again++] = c->id;
	}
}

static uint32_t slot_free(struct tstreams *t)
{
	for (uint32_t i = 0; i < MAX_CONNS; i++) {
		uint32_t s = (t->next_slot + i) % MAX_CONNS;

		if (!t->conns[s]) {
			t->next_slot = s + 1;
			return s;
		}
	}
	return UINT32_MAX;
}

/* A new connection object for socket @fd, registered with epoll for @events. */
static struct conn *conn_new(struct tstreams *t, int fd, uint32_t events)
{
	uint32_t slot = slot_free(t);
	struct epoll_event ev;
	struct conn *c;

	if (slot == UINT32_MAX || !(c = calloc(1, sizeof(*c))))
		return NULL;
	t->gen[slot]++;
	c->id = (uint32_t)t->gen[slot] << 16 | slot;
	if (c->id == 0) /* 0 means UDP to the TURN server */
		c->id = (uint32_t)++t->gen[slot] << 16 | slot;
	c->fd = fd;
	c->opened_ms = c->active_ms = mono_ms();
	ev = (struct epoll_event){ .events = events, .data.u64 = c->id };
	c->want_events = events;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	t->conns[slot] = c;
	return c;
}

static bool conn_to_tls(struct tstreams *t, struct conn *c);

/* An accepted connection's client (@peer) and our address (@local) as the TURN server takes
 * them, an IPv4 client on the dual-stack socket (::ffff:a.b.c.d) as IPv4: the TURN listen
 * interface that holds @local, or -1. */
static int src_of(struct tstreams *t, const struct sockaddr_storage *peer,
	const struct sockaddr_storage *local, struct turn_src *src)
{
	const struct sockaddr_in6 *p6 = (const struct sockaddr_in6 *)peer;
	const struct sockaddr_in6 *l6 = (const struct sockaddr_in6 *)local;
	int ifi;

	*src = (struct turn_src){ .transport = TURN_TCP };
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *p4 = (const struct sockaddr_in *)peer;
		const struct sockaddr_in *l4 = (const struct sockaddr_in *)local;

		src->ip = p4->sin_addr.s_addr;
		src->port = p4->sin_port;
		src->dst_ip = l4->sin_addr.s_addr;
		src->dst_port = l4->sin_port;
	} else if (IN6_IS_ADDR_V4MAPPED(&p6->sin6_addr) && IN6_IS_ADDR_V4MAPPED(&l6->sin6_addr)) {
		memcpy(&src->ip, &p6->sin6_addr.s6_addr[12], 4);
		memcpy(&src->dst_ip, &l6->sin6_addr.s6_addr[12], 4);
		src->port = p6->sin6_port;
		src->dst_port = l6->sin6_port;
	} else {
		src->v6 = true;
		memcpy(src->ip6, &p6->sin6_addr, 16);
		memcpy(src->dst_ip6, &l6->sin6_addr, 16);
		src->port = p6->sin6_port;
		src->dst_port = l6->sin6_port;
	}
	ifi = src->v6 ? t->ifi_of(t->ctx, AF_INET6, src->dst_ip6) :
			t->ifi_of(t->ctx, AF_INET, &src->dst_ip);
	src->ifi = (uint8_t)(ifi < 0 ? 0 : ifi);
	return ifi;
}

/* Takes one connection off listener @k's queue (accepted, or refused and closed): false when
 * the queue is empty. The browser port's wait for their first byte (SNIFF), as TCP till then. */
static bool accept_one(struct tstreams *t, int k)
{
	struct sockaddr_storage peer, local;
	socklen_t pl = sizeof(peer), ll = sizeof(local);
	struct turn_src src;
	struct conn *c;
	int fd, ifi, one = 1;
	unsigned int open = t->n_open[0] + t->n_open[1];

	fd = accept4(t->lfd[k], (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
		/* out of descriptors: the queue stays readable, so stop listening a second
		 * rather than wake for it again and again */
		t->st.refused_total++;
		epoll_ctl(t->ep, EPOLL_CTL_DEL, t->lfd[k], NULL);
		t->lpaused[k] = true;
		t->lretry_ms[k] = mono_ms() + 1000;
		LOG_WARN("turn", "out of file descriptors: %s connections refused for a second",
			listener_name(k));
	}
	if (fd < 0)
		return false;
	if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0 ||
		(ifi = src_of(t, &peer, &local, &src)) < 0) {
		t->st.refused_iface++; /* not an address of a TURN listen interface */
		close(fd);
		return true;
	}
	if ((t->cfg.max_conns && open >= t->cfg.max_conns) || open + t->n_peers >= MAX_CONNS - 1) {
		t->st.refused_total++;
		close(fd);
		return true;
	}
	if (t->cfg.max_per_addr && addr_count(t, src_key(&src)) >= t->cfg.max_per_addr) {
		t->st.refused_addr++;
		close(fd);
		return true;
	}
	if (k == L_TLS && !t->tls) {
		t->st.tls_errors++; /* no certificate yet: nothing to offer */
		t->st.handshake_fails++;
		close(fd);
		return true;
	}
	if (addr_add(t, src_key(&src), 1) < 0) {
		close(fd);
		return true;
	}
	c = conn_new(t, fd, EPOLLIN);
	if (!c) {
		addr_add(t, src_key(&src), -1);
		close(fd);
		return true;
	}
	c->src = src;
	c->src.conn = c->id;
	t->n_open[0]++;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (k >= L_MUX) {
		c->state = SNIFF;
		t->st.mux_accepted++;
		return true;
	}
	c->state = OPEN;
	if (k == L_TLS)
		conn_to_tls(t, c);
	else
		t->st.accepted[0]++;
	return true;
}

/* @c (accepted as TCP) carries TLS: a handshake to do. False if it was closed. */
static bool conn_to_tls(struct tstreams *t, struct conn *c)
{
	c->src.transport = TURN_TLS;
	t->n_open[0]--;
	t->n_open[1]++;
	t->st.accepted[1]++;
	c->state = HANDSHAKE;
	if (!t->tls || !(c->ssl = SSL_new(t->tls)) || SSL_set_fd(c->ssl, c->fd) != 1) {
		if (!t->tls) {
			t->st.tls_errors++; /* no certificate yet: nothing to offer */
			t->st.handshake_fails++;
		}
		conn_close(t, c, t->tls ? "no memory for TLS" : "no TLS certificate");
		return false;
	}
	SSL_set_accept_state(c->ssl);
	return true;
}

/* A browser port's connection: its first byte says what it carries (tstream_first_byte).
 * False if it was closed (neither, or gone). */
static bool conn_sniff(struct tstreams *t, struct conn *c)
{
	uint8_t b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return true; /* nothing yet */
	if (n <= 0) {
		t->st.closed_by_client++;
		c->failed = n < 0;
		conn_close(t, c, n == 0 ? "closed by the client" : strerror(errno));
		return false;
	}
	switch (tstream_first_byte(b)) {
	case TSTREAM_TLS:
		t->st.mux_tls++;
		return conn_to_tls(t, c);
	case TSTREAM_TURN:
		t->st.mux_tcp++;
		t->st.accepted[0]++;
		c->state = OPEN;
		return true;
	default:
		t->st.framing_errors++;
		conn_close(t, c, "neither TLS nor STUN nor ChannelData on the browser port");
		return false;
	}
}

/* Bytes waiting in @c's buffer (0 when none). */
static size_t conn_pending(const struct conn *c)
{
	return c->out ? c->out_tail - c->out_head : 0;
}

static bool conn_flush(struct tstreams *t, struct conn *c);

/* A pipe partner of @c paused for want of room in @c: room again, so it reads on. */
static void pipe_resume(struct tstreams *t, struct conn *c)
{
	struct conn *p = conn_get(t, c->pipe);

	if (p && p->paused && !p->drain && conn_pending(c) < OUT_CAP / 2) {
		p->paused = false;
		conn_events(t, p, false);
		if (p->ssl && SSL_has_pending(p->ssl))
			again_push(t, p); /* read when it paused, still inside OpenSSL */
	}
}

/* Writes what waits in @c's buffer. False when the connection failed (and is closed). */
static bool conn_flush(struct tstreams *t, struct conn *c)
{
	while (c->out && c->out_head < c->out_tail) {
		size_t len = c->retry_len ? c->retry_len : c->out_tail - c->out_head;
		ssize_t n;

		if (c->ssl) {
			int r;

			ERR_clear_error();
			r = SSL_write(c->ssl, c->out + c->out_head, (int)len);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					c->retry_len = len;
					break;
				}
				c->failed = true;
				conn_close(t, c, "write failed");
				return false;
			}
			n = r;
			c->retry_len = 0;
		} else {
			n = send(c->fd, c->out + c->out_head, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				c->failed = true;
				conn_close(t, c, "write failed");
				return false;
			}
		}
		c->out_head += (size_t)n;
		t->st.bytes_out += (uint64_t)n;
	}
	if (c->out && c->out_head == c->out_tail) {
		free(c->out); /* idle connections hold no output buffer */
		c->out = NULL;
		c->out_head = c->out_tail = 0;
		if (c->drain) {
			conn_close(t, c, "the other side closed, and all it sent is out");
			return false;
		}
	}
	conn_events(t, c, false);
	pipe_resume(t, c);
	return true;
}

/* Appends @len bytes to @c's output if no more than @cap would then wait. -ENOBUFS when they
 * do not fit (a frame for a slow reader: dropped, as a datagram would be). */
static int conn_queue(struct conn *c, const uint8_t *frame, size_t len, size_t cap)
{
	if (c->state != OPEN || c->drain)
		return -ENOENT;
	if (conn_pending(c) + len > cap)
		return -ENOBUFS;
	if (!c->out && !(c->out = malloc(OUT_CAP)))
		return -ENOMEM;
	/* moving bytes an SSL_write is to retry is allowed: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER */
	if (c->out_tail + len > OUT_CAP && c->out_head > 0) {
		memmove(c->out, c->out + c->out_head, c->out_tail - c->out_head);
		c->out_tail -= c->out_head;
		c->out_head = 0;
	}
	if (c->out_tail + len > OUT_CAP)
		return -ENOBUFS;
	memcpy(c->out + c->out_tail, frame, len);
	c->out_tail += len;
	return 0;
}

/* Sends @len bytes: written at once when nothing waits before them (the common case: no
 * copy, no buffer), else, or what the socket did not take, queued. 0, -ENOBUFS (nothing
 * sent: no room), -ENOENT (not open), or -EPIPE (the connection failed: the caller closes
 * it). */
static int conn_send(struct tstreams *t, struct conn *c, const uint8_t *buf, size_t len, size_t cap)
{
	size_t done = 0;
	int r;

	if (c->state != OPEN || c->drain)
		return -ENOENT;
	if (!c->out) {
		if (c->ssl) {
			ERR_clear_error();
			r = SSL_write(c->ssl, buf, (int)len);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
					c->failed = true;
					return -EPIPE;
				}
				/* to be retried with the same bytes: they move to the (empty) buffer */
				if ((r = conn_queue(c, buf, len, OUT_CAP)) < 0)
					return r;
				c->retry_len = len;
				conn_events(t, c, false);
				return 0;
			}
			done = (size_t)r;
		} else {
			ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				c->failed = true;
				return -EPIPE;
			}
			done = n > 0 ? (size_t)n : 0;
		}
		t->st.bytes_out += done;
		if (done == len)
			return 0;
	}
	/* what the socket did not take must go out after it, whatever the cap */
	if ((r = conn_queue(c, buf + done, len - done, done ? OUT_CAP : cap)) < 0)
		return r;
	conn_events(t, c, false);
	return 0;
}

/* One frame for client connection @conn, queued only while no more than @cap waits. */
static int send_frame(struct tstreams *t, uint32_t conn, const uint8_t *frame, size_t len,
	size_t cap)
{
	struct conn *c = conn_get(t, conn);
	int r;

	if (!c || c->pipe)
		return -ENOENT;
	r = conn_send(t, c, frame, len, cap);
	if (r == -ENOBUFS)
		t->st.slow_drops++; /* lost, as it would be over UDP */
	else if (r == -EPIPE)
		conn_close(t, c, "write failed");
	else if (r == 0)
		t->st.frames_out++;
	return r;
}

/* A peer's datagram: up to OUT_DATA_CAP waiting, the rest is kept for the server's answers */
int tstreams_send(struct tstreams *t, uint32_t conn, const uint8_t *frame, size_t len)
{
	return send_frame(t, conn, frame, len, OUT_DATA_CAP);
}

/* Raw bytes for @c's pipe partner (who has room: the reader checked); false if either end
 * is gone (the pipe closes as a whole). */
static bool pipe_write(struct tstreams *t, struct conn *c, const uint8_t *buf, size_t len)
{
	struct conn *p = conn_get(t, c->pipe);
	int r;

	if (!p) {
		conn_close(t, c, "pipe broken");
		return false;
	}
	r = conn_send(t, p, buf, len, OUT_CAP);
	if (r < 0) {
		conn_close(t, p, r == -EPIPE ? "write failed" : "pipe broken");
		return false;
	}
	t->st.peer_bytes[c->peer] += len;
	return true;
}

/* Frames in @c's input buffer go to the TURN server; answers are queued. False if @c was
 * closed (the stream held neither STUN nor ChannelData). */
static bool conn_frames(struct tstreams *t, struct conn *c)
{
	uint32_t id = c->id;
	size_t off = 0;
	int r = 0;

	while (c->in_len - off >= 4 && !c->pipe) {
		int fl = stun_frame_len(c->in + off, c->in_len - off);
		size_t n;

		if (fl < 0) {
			t->st.framing_errors++;
			conn_close(t, c, "neither STUN nor ChannelData on the stream");
			return false;
		}
		if (fl > IN_CAP) {
			/* longer than anything we relay: thrown away, the stream stays in step */
			t->st.oversize++;
			c->skip = (size_t)fl;
			break;
		}
		if ((size_t)fl > c->in_len - off)
			break;
		t->st.frames_in++;
		n = turn_server_stream_input(t->srv, &c->src, c->in + off, (size_t)fl, t->scratch,
			sizeof(t->scratch));
		if (!(c = conn_get(t, id)))
			return false;
		if (n && (r = conn_send(t, c, t->scratch, n, OUT_CAP)) == -EPIPE) {
			conn_close(t, c, "write failed");
			return false;
		}
		t->st.frames_out += n && r == 0;
		t->st.slow_drops += n && r == -ENOBUFS;
		off += (size_t)fl;
	}
	if (c->skip) {
		size_t drop = c->in_len - off < c->skip ? c->in_len - off : c->skip;

		off += drop;
		c->skip -= drop;
	}
	if (c->pipe && c->in_len > off) {
		/* ConnectionBind made it a pipe: what followed is the peer's */
		size_t rest = c->in_len - off;

		c->in_len = 0;
		return pipe_write(t, c, c->in + off, rest);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return true;
}

/* A TLS failure closes @c, counted, and logged with OpenSSL's reason (a client's "unknown
 * ca" alert says it does not trust our certificate): at most one line a second. */
static void tls_failed(struct tstreams *t, struct conn *c, const char *what)
{
	static uint64_t last_s, quiet;
	uint64_t now_s = mono_ms() / 1000;
	char why[160], a[46];

	t->st.tls_errors++;
	c->failed = true;
	ERR_error_string_n(ERR_peek_error(), why, sizeof(why));
	ERR_clear_error();
	if (now_s != last_s) {
		edge_log(LOG_NOTICE, "turn", "TLS %s with %s:%u failed: %s%s", what,
			turn_src_str(&c->src, a), ntohs(c->src.port), why,
			quiet ? " (and more, not logged)" : "");
		last_s = now_s;
		quiet = 0;
	} else {
		quiet++;
	}
	conn_close(t, c, why);
}

static void conn_handshake(struct tstreams *t, struct conn *c)
{
	const unsigned char *alpn;
	unsigned int alen;
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->state = OPEN;
		t->st.handshakes++;
		t->st.resumed += SSL_session_reused(c->ssl) == 1;
		SSL_get0_alpn_selected(c->ssl, &alpn, &alen);
		t->st.alpn_turn += alen > 0;
		conn_events(t, c, false);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		conn_events(t, c, e == SSL_ERROR_WANT_WRITE);
	} else {
		t->st.handshake_fails++;
		tls_failed(t, c, "handshake");
	}
}

/* Up to @room bytes from @c: their count, 0 when nothing is there now, -1 when @c closed. */
static ssize_t conn_recv(struct tstreams *t, struct conn *c, uint8_t *dst, size_t room)
{
	ssize_t n;

	if (c->ssl) {
		int r, e;

		ERR_clear_error();
		r = SSL_read(c->ssl, dst, (int)room);
		if (r > 0)
			return r;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) {
			/* close_notify, or the socket closed or reset under TLS: the client left */
			t->st.closed_by_client++;
			ERR_clear_error();
			c->failed = e == SSL_ERROR_SYSCALL; /* no close_notify into a dead socket */
			conn_close(t, c,
				e == SSL_ERROR_ZERO_RETURN ? "closed by the client" :
							     "connection reset by the client");
		} else {
			tls_failed(t, c, "session");
		}
		return -1;
	}
	n = recv(c->fd, dst, room, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) {
		t->st.closed_by_client += !c->peer;
		c->failed = n < 0;
		conn_close(t, c, n == 0 ? "closed by the other end" : strerror(errno));
		return -1;
	}
	return n;
}

/* Reads what @c has; false if it closed. */
static bool conn_read(struct tstreams *t, struct conn *c)
{
	size_t total = 0;

	/* a budget per event, so that one client cannot hold the control plane; what is left
	 * in the socket wakes epoll again, what OpenSSL holds goes on the again list */
	while (total < READ_PER_EVENT) {
		struct conn *p = conn_get(t, c->pipe);
		uint8_t *dst;
		size_t room;
		ssize_t n;

		if (c->pipe) {
			/* raw bytes, as many as the other side has room for: TCP's own back-pressure */
			room = p ? OUT_CAP - conn_pending(p) : 0;
			if (room > sizeof(t->scratch))
				room = sizeof(t->scratch);
			if (!room) {
				c->paused = true;
				conn_events(t, c, false);
				return true;
			}
			dst = t->scratch;
		} else if (c->skip) {
			dst = t->scratch;
			room = c->skip < sizeof(t->scratch) ? c->skip : sizeof(t->scratch);
		} else {
			dst = c->in + c->in_len;
			room = IN_CAP - c->in_len;
		}
		n = conn_recv(t, c, dst, room);
		if (n < 0)
			return false;
		if (n == 0)
			break;
		total += (size_t)n;
		t->st.bytes_in += (uint64_t)n;
		c->active_ms = mono_ms();
		if (c->pipe) {
			if (!pipe_write(t, c, dst, (size_t)n))
				return false;
		} else if (c->skip) {
			c->skip -= (size_t)n;
		} else {
			c->in_len += (size_t)n;
			if (!conn_frames(t, c))
				return false;
		}
	}
	if (c->ssl && !c->paused && SSL_has_pending(c->ssl))
		again_push(t, c);
	return true;
}

/* ---- TCP relays (RFC 6062) ---- */

/* A socket bound to relay address @ip, port @port (network order), that may share the port
 * with the allocation's listener and its other connections. */
static int relay_socket(uint32_t ip, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = ip };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int tstreams_tcp_listen(struct tstreams *t, uint32_t conn, uint32_t relay_ip, uint16_t relay_port)
{
	uint16_t hp = ntohs(relay_port);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_RELAY | hp };
	struct relay_listener *l;
	int fd = relay_socket(relay_ip, relay_port);

	if (fd < 0)
		return fd;
	if (t->relays[hp] || listen(fd, 64) < 0 || !(l = calloc(1, sizeof(*l)))) {
		close(fd);
		return -EADDRINUSE;
	}
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(l);
		close(fd);
		return -errno;
	}
	*l = (struct relay_listener){ .fd = fd, .ip = relay_ip, .owner = conn };
	t->relays[hp] = l;
	return 0;
}

void tstreams_tcp_unlisten(struct tstreams *t, uint32_t relay_ip, uint16_t relay_port)
{
	uint16_t hp = ntohs(relay_port);
	struct relay_listener *l = t->relays[hp];

	if (l && l->ip == relay_ip) {
		epoll_ctl(t->ep, EPOLL_CTL_DEL, l->fd, NULL);
		close(l->fd);
		free(l);
		t->relays[hp] = NULL;
	}
	for (uint32_t s = 0; s < MAX_CONNS; s++) {
		struct conn *c = t->conns[s];

		if (c && c->peer && c->relay_port == hp && c->src.dst_ip == relay_ip)
			conn_close(t, c, "allocation ended");
	}
}

static struct conn *peer_new(struct tstreams *t, int fd, uint32_t owner, uint32_t relay_ip,
	uint16_t relay_port, uint32_t ip, uint16_t port, enum conn_state state)
{
	struct conn *c = conn_new(t, fd, state == CONNECTING ? EPOLLOUT : 0), *o;

	if (!c)
		return NULL;
	c->peer = true;
	c->state = state;
	c->owner = owner;
	c->relay_port = ntohs(relay_port);
	c->src = (struct turn_src){ .ip = ip,
		.port = port,
		.dst_ip = relay_ip,
		.dst_port = relay_port,
		.conn = c->id };
	t->n_peers++;
	if ((o = conn_get(t, owner)))
		o->n_peer_conns++;
	return c;
}

int tstreams_tcp_connect(struct tstreams *t, uint32_t conn, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t tid[12])
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = peer_port,
		.sin_addr.s_addr = peer_ip };
	struct conn *c;
	int fd;

	for (uint32_t s = 0; s < MAX_CONNS; s++) {
		c = t->conns[s];
		if (c && c->peer && c->owner == conn && c->src.ip == peer_ip &&
			c->src.port == peer_port)
			return -EEXIST; /* 446 */
	}
	if (t->n_open[0] + t->n_open[1] + t->n_peers >= MAX_CONNS - 1 ||
		((c = conn_get(t, conn)) && c->n_peer_conns >= PEERS_PER_ALLOC))
		return -ENOSPC; /* 447 */
	fd = relay_socket(relay_ip, relay_port);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int e = -errno;

		close(fd);
		return e;
	}
	c = peer_new(t, fd, conn, relay_ip, relay_port, peer_ip, peer_port, CONNECTING);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	memcpy(c->tid, tid, sizeof(c->tid));
	return 0;
}

uint32_t tstreams_tcp_owner(struct tstreams *t, uint32_t cid)
{
	struct conn *p = conn_get(t, cid);

	return p && p->peer && p->state == WAITING ? p->owner : 0;
}

void tstreams_tcp_bind(struct tstreams *t, uint32_t conn, uint32_t cid)
{
	struct conn *p = conn_get(t, cid), *c = conn_get(t, conn);

	if (!p || !c)
		return;
	p->state = OPEN;
	p->pipe = conn;
	c->pipe = cid;
	t->st.peer_binds++;
	conn_events(t, p, false); /* the peer's bytes flow now */
}

/* Our connection to a peer is made, or failed: the Connect gets its answer. */
static void peer_connected(struct tstreams *t, struct conn *c)
{
	struct conn *ctl = conn_get(t, c->owner);
	uint32_t id = c->id;
	int err = 0;
	socklen_t el = sizeof(err);
	size_t n;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	n = turn_server_connect_done(t->srv, c->owner, c->tid, c->id, err, t->scratch,
		sizeof(t->scratch));
	if (n && ctl)
		send_frame(t, ctl->id, t->scratch, n, OUT_CAP);
	if (!(c = conn_get(t, id)))
		return; /* the control connection failed, and its allocation ended */
	if (err || !n) {
		t->st.peer_connect_fails++;
		conn_close(t, c, err ? strerror(err) : "allocation gone");
		return;
	}
	t->st.peer_connects++;
	c->state = WAITING;
	c->opened_ms = mono_ms(); /* the client has 30 s to bind it */
	conn_events(t, c, false);
}

/* A peer connects to a TCP relay: offered to the client if a permission allows. */
static void relay_accept(struct tstreams *t, uint16_t hp)
{
	struct relay_listener *l = t->relays[hp];
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	struct conn *c, *ctl;
	uint32_t owner = 0, id;
	size_t n;
	int fd;

	if (!l ||
		(fd = accept4(l->fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC)) <
			0)
		return;
	if ((ctl = conn_get(t, l->owner)) && ctl->n_peer_conns >= PEERS_PER_ALLOC) {
		t->st.peer_refused++; /* that allocation has enough peers */
		close(fd);
		return;
	}
	c = peer_new(t, fd, l->owner, l->ip, htons(hp), peer.sin_addr.s_addr, peer.sin_port,
		WAITING);
	if (!c) {
		close(fd);
		return;
	}
	n = turn_server_connection_attempt(t->srv, hp, peer.sin_addr.s_addr, peer.sin_port, c->id,
		t->scratch, sizeof(t->scratch), &owner);
	ctl = conn_get(t, owner);
	id = c->id;
	if (!n || !ctl || send_frame(t, owner, t->scratch, n, OUT_CAP) < 0) {
		t->st.peer_refused++;
		if ((c = conn_get(t, id)))
			conn_close(t, c, "no permission for that peer");
		return;
	}
	t->st.peer_attempts++;
}

static void conn_event(struct tstreams *t, struct conn *c, uint32_t ev)
{
	uint32_t id = c->id;

	if (c->state == CONNECTING) {
		peer_connected(t, c);
		return;
	}
	if ((ev & (EPOLLHUP | EPOLLERR)) && (c->state == WAITING || c->paused)) {
		conn_close(t, c, "reset"); /* it would wake us again and again */
		return;
	}
	if (c->state == SNIFF && (!conn_sniff(t, c) || c->state == SNIFF))
		return; /* closed, or no byte yet */
	if (c->state == HANDSHAKE) {
		conn_handshake(t, c);
		if (!(c = conn_get(t, id)) || c->state != OPEN)
			return;
	}
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->paused && c->state == OPEN &&
		!conn_read(t, c))
		return;
	if ((c = conn_get(t, id)) && c->out)
		conn_flush(t, c);
}

unsigned int tstreams_serve(struct tstreams *t)
{
	struct epoll_event evs[64];
	unsigned int snap = t->n_again;
	int n;

	/* connections whose bytes OpenSSL already holds: no event will come for them */
	for (unsigned int i = 0; i < snap; i++) {
		struct conn *c = conn_get(t, t->again[i]);

		if (c) {
			c->again = false;
			conn_event(t, c, EPOLLIN);
		}
	}
	memmove(t->again, t->again + snap, (t->n_again - snap) * sizeof(*t->again));
	t->n_again -= snap;
	n = epoll_wait(t->ep, evs, 64, 0);

	for (int i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;
		struct conn *c;

		if ((tag & ~(uint64_t)0xffff) == TAG_LISTEN) {
			int k = (int)(tag & 0xffff);

			for (int a = 0; k < N_LISTEN && a < ACCEPTS_PER_SERVE && t->lfd[k] >= 0 &&
				accept_one(t, k);
				a++)
				;
		} else if ((tag & ~(uint64_t)0xffff) == TAG_RELAY) {
			relay_accept(t, (uint16_t)tag);
		} else if ((c = conn_get(t, (uint32_t)tag))) {
			conn_event(t, c, evs[i].events);
		}
	}
	return (n > 0 ? (unsigned int)n : 0) + snap;
}

bool tstreams_pending(const struct tstreams *t)
{
	return t->n_again > 0;
}

void tstreams_tick(struct tstreams *t)
{
	uint64_t now = mono_ms();
	char err[512];

	for (uint32_t s = 0; s < MAX_CONNS; s++) {
		struct conn *c = t->conns[s];

		if (!c)
			continue;
		if ((c->state == HANDSHAKE || c->state == SNIFF) && t->cfg.handshake_s &&
			now - c->opened_ms >= t->cfg.handshake_s * 1000ull) {
			/* the browser port's first byte is a handshake's start, by this clock */
			t->st.handshake_timeouts++;
			t->st.tls_handshake_timeouts += c->state == HANDSHAKE;
			conn_close(t, c, "handshake timeout");
		} else if (c->state == SNIFF && t->cfg.idle_s &&
			now - c->opened_ms >= t->cfg.idle_s * 1000ull) {
			t->st.idle_timeouts++; /* no handshake timeout set: silence is idleness */
			conn_close(t, c, "idle timeout");
		} else if (c->state == CONNECTING && now - c->opened_ms >= PEER_WAIT_S * 1000ull) {
			size_t n = turn_server_connect_done(t->srv, c->owner, c->tid, 0, ETIMEDOUT,
				t->scratch, sizeof(t->scratch));
			struct conn *ctl = conn_get(t, c->owner);

			if (n && ctl)
				send_frame(t, ctl->id, t->scratch, n, OUT_CAP);
			t->st.peer_connect_fails++;
			if ((c = t->conns[s]))
				conn_close(t, c, "connect timeout");
		} else if (c->state == WAITING && now - c->opened_ms >= PEER_WAIT_S * 1000ull) {
			t->st.peer_bind_timeouts++;
			conn_close(t, c, "no ConnectionBind in 30 s");
		} else if (c->drain && now - c->active_ms >= PEER_WAIT_S * 1000ull) {
			conn_close(t, c, "the other side closed, and this one does not read");
		} else if (c->state == OPEN && !c->peer && !c->pipe && !c->drain && t->cfg.idle_s &&
			now - c->active_ms >= t->cfg.idle_s * 1000ull &&
			!turn_server_stream_allocated(t->srv, c->id)) {
			/* with an allocation, its lifetime decides (the client refreshes it) */
			t->st.idle_timeouts++;
			conn_close(t, c, "idle timeout");
		}
	}
	tls_reload(t, err, sizeof(err));
	/* a certificate that came good on disk opens the TLS port; a port that was taken is
	 * tried again now and then */
	for (int k = 0; k < N_LISTEN; k++) {
		struct laddr la;
		uint16_t port = wanted(t, k, &la);

		if (port && t->lfd[k] < 0 && now >= t->lretry_ms[k])
			listener_open(t, k, &la, port, err, sizeof(err));
	}
	for (int k = 0; k < N_LISTEN; k++)
		if (t->lpaused[k] && t->lfd[k] >= 0 && now >= t->lretry_ms[k]) {
			struct epoll_event ev = { .events = EPOLLIN,
				.data.u64 = TAG_LISTEN | (uint64_t)k };

			if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->lfd[k], &ev) == 0)
				t->lpaused[k] = false;
		}
}

struct tstreams *tstreams_new(struct turn_server *srv,
	int (*ifi_of)(void *ctx, int family, const void *addr), void *ctx)
{
	struct tstreams *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->srv = srv;
	t->ifi_of = ifi_of;
	t->ctx = ctx;
	for (int k = 0; k < N_LISTEN; k++)
		t->lfd[k] = -1;
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	t->conns = calloc(MAX_CONNS, sizeof(*t->conns));
	t->again = calloc(MAX_CONNS, sizeof(*t->again));
	if (t->ep < 0 || !t->conns || !t->again) {
		tstreams_free(t);
		return NULL;
	}
	return t;
}

static void close_all(struct tstreams *t, const char *why)
{
	for (uint32_t s = 0; s < MAX_CONNS; s++)
		if (t->conns[s])
			conn_close(t, t->conns[s], why);
}

void tstreams_free(struct tstreams *t)
{
	if (!t)
		return;
	if (t->conns)
		close_all(t, "TURN stopped");
	for (int p = 0; p < 65536; p++)
		if (t->relays[p]) {
			close(t->relays[p]->fd);
			free(t->relays[p]);
		}
	for (int k = 0; k < N_LISTEN; k++)
		listener_close(t, k);
	if (t->ep >= 0)
		close(t->ep);
	SSL_CTX_free(t->tls);
	free(t->conns);
	free(t->again);
	free(t);
}

int tstreams_config(struct tstreams *t, const struct tstream_cfg *c, char *err, size_t errlen)
{
	int ret = 0, r;

	t->cfg = *c;
	if (!c->key[0] || !c->cert[0]) {
		SSL_CTX_free(t->tls);
		t->tls = NULL;
		memset(t->loaded, 0, sizeof(t->loaded));
	} else if ((r = tls_reload(t, err, errlen)) < 0) {
		ret = r;
	}
	/* the browser port's: its plain TURN needs no certificate, its TLS waits for one */
	for (int k = 0; k < N_LISTEN; k++) {
		struct laddr la;
		uint16_t port = wanted(t, k, &la);

		if ((r = listener_open(t, k, &la, port, err, errlen)) < 0)
			ret = r;
	}
	if (c->tls_port && !t->tls && ret == 0) {
		snprintf(err, errlen, "TLS port %u: no certificate (turn certs)", c->tls_port);
		ret = -ENOENT;
	}
	if (!c->tcp_port && !c->tls_port && !(c->mux_port && c->n_mux + c->n_mux6))
		close_all(t, "TURN stopped");
	return ret;
}

int tstreams_fd(const struct tstreams *t)
{
	return t->ep;
}

const struct tstream_stats *tstreams_stats(const struct tstreams *t)
{
	return &t->st;
}

void tstreams_open_count(const struct tstreams *t, unsigned int *tcp, unsigned int *tls)
{
	*tcp = __atomic_load_n(&t->n_open[0], __ATOMIC_RELAXED);
	*tls = __atomic_load_n(&t->n_open[1], __ATOMIC_RELAXED);
}

static void limit(FILE *out, uint32_t v, const char *unit)
{
	if (v)
		fprintf(out, "%u%s", v, unit);
	else
		fprintf(out, "none");
}

void tstreams_print_stats(const struct tstreams *t, FILE *out)
{
	const struct tstream_stats *s = &t->st;

	fprintf(out,
		"Stream connections      : %u open (TCP %u, TLS %u), %llu accepted, %llu refused "
		"at a limit\n",
		t->n_open[0] + t->n_open[1], t->n_open[0], t->n_open[1],
		(unsigned long long)(s->accepted[0] + s->accepted[1]),
		(unsigned long long)(s->refused_total + s->refused_addr));
	fprintf(out,
		"Browser port            : %llu connections: %llu TLS, %llu TURN over TCP "
		"(by their first byte)\n",
		(unsigned long long)s->mux_accepted, (unsigned long long)s->mux_tls,
		(unsigned long long)s->mux_tcp);
	fprintf(out, "Stream limits           : ");
	limit(out, t->cfg.max_conns, "");
	fprintf(out, " total, ");
	limit(out, t->cfg.max_per_addr, "");
	fprintf(out, " per address; handshake ");
	limit(out, t->cfg.handshake_s, " s");
	fprintf(out, ", idle ");
	limit(out, t->cfg.idle_s, " s");
	fprintf(out, "\n");
	fprintf(out,
		"Stream refusals         : %llu over the total, %llu over the per-address limit, "
		"%llu not on a listen interface\n",
		(unsigned long long)s->refused_total, (unsigned long long)s->refused_addr,
		(unsigned long long)s->refused_iface);
	fprintf(out,
		"Stream closes           : %llu handshake timeouts, %llu idle timeouts, %llu TLS "
		"errors, %llu framing errors, %llu by clients\n",
		(unsigned long long)s->handshake_timeouts, (unsigned long long)s->idle_timeouts,
		(unsigned long long)s->tls_errors, (unsigned long long)s->framing_errors,
		(unsigned long long)s->closed_by_client);
	fprintf(out,
		"Stream drops            : %llu datagrams dropped for slow readers, %llu oversize "
		"frames skipped\n",
		(unsigned long long)s->slow_drops, (unsigned long long)s->oversize);
	fprintf(out,
		"TLS handshakes          : %llu (%llu resumed, %llu with ALPN stun.turn), "
		"certificate %s\n",
		(unsigned long long)s->handshakes, (unsigned long long)s->resumed,
		(unsigned long long)s->alpn_turn, t->tls ? t->cfg.cert : "none");
	fprintf(out,
		"TCP relays (RFC 6062)   : %u peer connections; %llu connected (%llu failed), %llu "
		"offered (%llu refused), %llu bound (%llu not in time); %llu / %llu bytes to / from "
		"peers\n",
		t->n_peers, (unsigned long long)s->peer_connects,
		(unsigned long long)s->peer_connect_fails, (unsigned long long)s->peer_attempts,
		(unsigned long long)s->peer_refused, (unsigned long long)s->peer_binds,
		(unsigned long long)s->peer_bind_timeouts, (unsigned long long)s->peer_bytes[0],
		(unsigned long long)s->peer_bytes[1]);
	fprintf(out, "Stream frames           : %llu in, %llu out (%llu / %llu bytes)\n",
		(unsigned long long)s->frames_in, (unsigned long long)s->frames_out,
		(unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
}

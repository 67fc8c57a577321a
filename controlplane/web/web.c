/* Helpers shared by webbridge3 and the callbridge over libwebsockets (see web.h). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include "edge_log.h"
#include "web.h"

struct web_msg {
	struct web_msg *next;
	size_t len;
	unsigned char data[]; /* LWS_PRE bytes, then the message */
};

void web_uuid(char out[WEB_UUID_LEN])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* OpenSSL's generator failing is not something to limp on with */
		LOG_ERRX("mgmt", "RAND_bytes failed: cannot make a UUID");
		abort();
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, WEB_UUID_LEN,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		b[15]);
}

int web_respond(struct lws *wsi, unsigned int status, const char *ctype, const struct web_hdr *hdrs,
	const char *body, size_t len)
{
	unsigned char head[LWS_PRE + 2048], *start = head + LWS_PRE, *p = start,
					    *end = head + sizeof(head) - 1;
	unsigned char *buf;

	if (lws_add_http_common_headers(wsi, status, ctype, len, &p, end))
		return -1;
	for (; hdrs && hdrs->name; hdrs++)
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)hdrs->name,
			    (const unsigned char *)hdrs->value, (int)strlen(hdrs->value), &p, end))
			return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (len) {
		buf = malloc(LWS_PRE + len);
		if (!buf)
			return -1;
		memcpy(buf + LWS_PRE, body, len);
		int n = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
		free(buf);
		if (n < 0)
			return -1;
	}
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int web_msgq_push(struct lws *wsi, struct web_msgq *q, const char *data, size_t len, size_t max)
{
	struct web_msg *m;

	if (q->bytes + len > max)
		return -ENOBUFS;
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data + LWS_PRE, data, len);
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->bytes += len;
	if (wsi)
		lws_callback_on_writable(wsi);
	return 0;
}

int web_msgq_write(struct lws *wsi, struct web_msgq *q)
{
	struct web_msg *m = q->head;

	if (!m)
		return 0;
	if (lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
		return -1;
	q->head = m->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= m->len;
	free(m);
	if (q->head)
		lws_callback_on_writable(wsi);
	return 0;
}

void web_msgq_clear(struct web_msgq *q)
{
	while (q->head) {
		struct web_msg *m = q->head;
		q->head = m->next;
		free(m);
	}
	q->tail = NULL;
	q->bytes = 0;
}

int web_json_dump(json_t *msg, size_t max, char **out, size_t *len)
{
	char *s = json_dumps(msg, JSON_COMPACT);

	json_decref(msg);
	*out = NULL;
	*len = 0;
	if (!s)
		return -ENOMEM;
	*len = strlen(s);
	if (*len > max) {
		free(s);
		return -EMSGSIZE;
	}
	*out = s;
	return 0;
}

int web_rx_add(struct web_rx *rx, const void *data, size_t len, size_t max)
{
	if (rx->discard)
		return rx->err;
	if (rx->len + len > max) {
		web_rx_reset(rx);
		rx->discard = true;
		rx->err = -EMSGSIZE;
		return -EMSGSIZE;
	}
	if (rx->len + len + 1 > rx->cap) {
		size_t cap = rx->cap ? rx->cap : 1024;
		while (cap < rx->len + len + 1)
			cap *= 2;
		char *nb = realloc(rx->buf, cap);
		if (!nb) {
			web_rx_reset(rx);
			rx->discard = true;
			rx->err = -ENOMEM;
			return -ENOMEM;
		}
		rx->buf = nb;
		rx->cap = cap;
	}
	memcpy(rx->buf + rx->len, data, len);
	rx->len += len;
	rx->buf[rx->len] = '\0';
	return 0;
}

void web_rx_reset(struct web_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->len = rx->cap = 0;
	rx->discard = rx->done = false;
	rx->err = 0;
}

int web_rx_msg(struct web_rx *rx, const void *data, size_t len, bool final, size_t max)
{
	int rc;

	if (rx->done)
		web_rx_reset(rx); /* the last message was taken: this one is new */
	rc = web_rx_add(rx, data, len, max);
	if (!final)
		return 0;
	if (rx->discard) {
		rc = rx->err;
		web_rx_reset(rx); /* the next fragment starts the next message */
		return rc;
	}
	if (rc < 0) {
		web_rx_reset(rx);
		return rc;
	}
	rx->done = true;
	return 1;
}

bool web_rx_final(struct lws *wsi)
{
	return lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
}

void web_peer(struct lws *wsi, char *buf, size_t len)
{
	if (!lws_get_peer_simple(wsi, buf, len))
		snprintf(buf, len, "?");
	/* lws listens on IPv6 sockets: an IPv4 peer comes as ::ffff:a.b.c.d */
	if (!strncmp(buf, "::ffff:", 7) && strchr(buf + 7, '.'))
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
}

void web_fd_peer(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	snprintf(buf, len, "?");
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)len);
	} else if (ss.ss_family == AF_INET6) {
		struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)len);
		else
			inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	}
}

static void lws_to_edge_log(int level, const char *line)
{
	char msg[256];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", line);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	edge_log(level == LLL_ERR ? LOG_ERR : LOG_WARNING, "lws", "%s", msg);
}

void web_lws_logging(void)
{
	static bool done;

	if (!done) {
		lws_set_log_level(LLL_ERR | LLL_WARN, lws_to_edge_log);
		done = true;
	}
}

int web_basic_auth(const char *hdr, char *user, size_t ulen, char *pass, size_t plen)
{
	char dec[256];
	int n;
	char *colon;

	if (strncasecmp(hdr, "Basic ", 6))
		return -EINVAL;
	n = lws_b64_decode_string(hdr + 6, dec, sizeof(dec) - 1);
	if (n <= 0)
		return -EINVAL;
	dec[n] = '\0';
	colon = strchr(dec, ':');
	if (!colon || (size_t)(colon - dec) >= ulen || strlen(colon + 1) >= plen)
		return -EINVAL;
	*colon = '\0';
	snprintf(user, ulen, "%s", dec);
	snprintf(pass, plen, "%s", colon + 1);
	OPENSSL_cleanse(dec, sizeof(dec));
	return 0;
}

/* WebSockets that say nothing for 20 s are pinged; one silent for 45 s is gone (a browser
 * that vanished, a web bridge behind a cut link): its guests and legs end. */
const lws_retry_bo_t web_idle_policy = {
	.secs_since_valid_ping = 20,
	.secs_since_valid_hangup = 45,
};

const lws_retry_bo_t web_link_idle_policy = {
	.secs_since_valid_ping = 5,
	.secs_since_valid_hangup = 12,
};

/* Port 80: every request is sent on to the HTTPS URL the vhost's user data holds. */
static int redirect_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	if (reason == LWS_CALLBACK_HTTP) {
		const char *url = lws_vhost_user(lws_get_vhost(wsi));
		unsigned char buf[LWS_PRE + 512], *p = buf + LWS_PRE, *end = buf + sizeof(buf) - 1;
		if (lws_http_redirect(wsi, HTTP_STATUS_MOVED_PERMANENTLY,
			    (const unsigned char *)url, (int)strlen(url), &p, end) < 0)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols web_redirect_protocols[] = { { "http", redirect_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 } };

int web_svc_say(struct web_svc *s, int rc, const char *fmt, ...)
{
	size_t n = strlen(s->building);
	va_list ap;

	if (n < sizeof(s->building) - 1) {
		va_start(ap, fmt);
		vsnprintf(s->building + n, sizeof(s->building) - n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- certificates replaced while serving ---- */

static void file_id(const char *path, unsigned long long id[3])
{
	struct stat st;

	if (stat(path, &st) < 0) {
		id[0] = id[1] = id[2] = 0;
		return;
	}
	id[0] = st.st_ino;
	id[1] = (unsigned long long)st.st_size;
	id[2] = (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec;
}

static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[160];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "failed");
	ERR_clear_error();
}

int web_tls_load(void *ssl_ctx, const char *key, const char *cert, char *err, size_t errlen)
{
	SSL_CTX *ctx = ssl_ctx, *t = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *old = SSL_CTX_get0_privatekey(ctx), *new;
	int rc = -EINVAL;

	if (!t) {
		ssl_err(err, errlen, "no memory");
		return -ENOMEM;
	}
	if (SSL_CTX_use_certificate_chain_file(t, cert) != 1)
		ssl_err(err, errlen, cert);
	else if (SSL_CTX_use_PrivateKey_file(t, key, SSL_FILETYPE_PEM) != 1)
		ssl_err(err, errlen, key);
	else if (SSL_CTX_check_private_key(t) != 1)
		ssl_err(err, errlen, "key and certificate mismatch");
	else if (old && (new = SSL_CTX_get0_privatekey(t)) &&
		EVP_PKEY_base_id(old) != EVP_PKEY_base_id(new))
		/* a context keeps a pair per key type: the old type's would stay offered */
		snprintf(err, errlen,
			"a key of another type than the one in use (takes a restart)");
	else {
		/* what was read and checked, installed in one call: never a new certificate with
		 * the old key, whatever happens to the files meanwhile */
		STACK_OF(X509) *chain = NULL;

		SSL_CTX_get0_chain_certs(t, &chain);
		if (SSL_CTX_use_cert_and_key(ctx, SSL_CTX_get0_certificate(t),
			    SSL_CTX_get0_privatekey(t), chain, 1) != 1)
			ssl_err(err, errlen, "installing the pair");
		else
			rc = 0;
	}
	SSL_CTX_free(t);
	return rc;
}

void web_svc_tls_seen(struct web_svc *s, int tag, void *ssl_ctx)
{
	struct web_tls_listener *l;

	if (!ssl_ctx || !s->cert_paths)
		return;
	if (s->n_tls >= WEB_SVC_MAX_TLS) {
		LOG_WARN(s->name,
			"over %d TLS listeners: this one's certificate changes at a restart",
			WEB_SVC_MAX_TLS);
		return;
	}
	l = &s->tls[s->n_tls];
	memset(l, 0, sizeof(*l));
	if (s->cert_paths(s, tag, &s->cfg, l->key, l->cert, sizeof(l->key)) < 0)
		return;
	l->ssl_ctx = ssl_ctx;
	l->tag = tag;
	file_id(l->key, l->key_id);
	file_id(l->cert, l->cert_id);
	s->n_tls++;
}

/* In the thread: each listener whose files changed loads them again. */
static void tls_reload(struct web_svc *s, const struct edge_cfg *cfg)
{
	for (int i = 0; i < s->n_tls; i++) {
		struct web_tls_listener *l = &s->tls[i];
		char key[sizeof(l->key)], cert[sizeof(l->cert)], err[256];
		unsigned long long kid[3], cid[3];

		if (s->cert_paths(s, l->tag, cfg, key, cert, sizeof(key)) < 0)
			continue; /* no certificate any more: the listener goes at the restart */
		file_id(key, kid);
		file_id(cert, cid);
		if (!strcmp(key, l->key) && !strcmp(cert, l->cert) &&
			!memcmp(kid, l->key_id, sizeof(kid)) &&
			!memcmp(cid, l->cert_id, sizeof(cid)))
			continue;
		if (web_tls_load(l->ssl_ctx, key, cert, err, sizeof(err)) < 0) {
			LOG_ERRX(s->name,
				"the new certificate %s is not in use, the old one is: %s", cert,
				err);
			/* not again at every change: only when these files change again */
		} else {
			LOG_NOTE(s->name,
				"certificate %s and key %s in use for new connections (those "
				"established keep theirs)",
				cert, key);
		}
		snprintf(l->key, sizeof(l->key), "%s", key);
		snprintf(l->cert, sizeof(l->cert), "%s", cert);
		memcpy(l->key_id, kid, sizeof(kid));
		memcpy(l->cert_id, cid, sizeof(cid));
	}
}

void web_svc_reload(struct web_svc *s, const struct edge_cfg *cfg)
{
	if (!s->cert_paths)
		return;
	pthread_mutex_lock(&s->lock);
	s->reload_cfg = *cfg;
	s->want_reload = true;
	if (s->live)
		lws_cancel_service(s->live);
	pthread_mutex_unlock(&s->lock);
}

static void *svc_main(void *arg)
{
	struct web_svc *s = arg;
	struct lws_context *ctx = NULL;

	pthread_setname_np(pthread_self(), s->name);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		bool stop = s->stop, restart = s->want_restart, reload = s->want_reload;
		if (restart) {
			s->cfg = s->next;
			s->want_restart = false;
			s->live = NULL; /* nobody wakes what is about to go */
		}
		struct edge_cfg *rcfg = NULL;
		/* a copy of what to reload from: the files are read with the lock released */
		if (reload && !restart && !stop && ctx && (rcfg = malloc(sizeof(*rcfg))))
			*rcfg = s->reload_cfg;
		s->want_reload = false;
		pthread_mutex_unlock(&s->lock);
		if (rcfg) {
			tls_reload(s, rcfg);
			free(rcfg);
		}
		if (stop)
			break;
		if (restart) {
			s->teardown(s, ctx);
			ctx = NULL;
			s->n_tls = 0; /* build() names the new listeners */
			s->building[0] = '\0';
			int rc = s->build(s, &ctx);
			pthread_mutex_lock(&s->lock);
			s->live = ctx;
			s->restart_rc = rc;
			memcpy(s->msg, s->building, sizeof(s->msg));
			s->restart_done = true;
			pthread_cond_broadcast(&s->cond);
			pthread_mutex_unlock(&s->lock);
		}
		if (ctx) {
			lws_service(ctx, 0);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_mutex_lock(&s->lock);
			if (!s->stop && !s->want_restart)
				pthread_cond_timedwait(&s->cond, &s->lock, &ts);
			pthread_mutex_unlock(&s->lock);
		}
	}
	pthread_mutex_lock(&s->lock);
	s->live = NULL;
	pthread_mutex_unlock(&s->lock);
	s->teardown(s, ctx);
	return NULL;
}

int web_svc_start(struct web_svc *s, const struct edge_cfg *cfg)
{
	web_lws_logging();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->next = *cfg;
	s->want_restart = true;
	if (pthread_create(&s->thread, NULL, svc_main, s)) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		return -EAGAIN;
	}
	return 0;
}

int web_svc_restart(struct web_svc *s, const struct edge_cfg *cfg, FILE *out)
{
	struct timespec ts;
	int rc = -ETIMEDOUT;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&s->lock);
	s->next = *cfg;
	s->want_restart = true;
	s->restart_done = false;
	if (s->live)
		lws_cancel_service(s->live);
	pthread_cond_broadcast(&s->cond);
	while (!s->restart_done)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &ts))
			break;
	if (s->restart_done) {
		rc = s->restart_rc;
		if (out)
			fputs(s->msg, out);
	} else if (out) {
		fprintf(out, "%s: still restarting after 10 s\n", s->name);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void web_svc_stop(struct web_svc *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	if (s->live)
		lws_cancel_service(s->live);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

int web_if_addrs(const struct edge_cfg *cfg, int ifi, char out[WEB_IF_ADDRS][46])
{
	const struct cfg_iface *ifc;
	int n = 0;

	if (ifi < 0 || ifi >= cfg->n_ifs)
		return 0;
	ifc = &cfg->ifs[ifi];
	if (ifc->n_addrs)
		cfg_ipv4_str(ifc->addrs[0].addr, out[n++]);
	for (int k = 0; k < ifc->n_addrs6 && n < WEB_IF_ADDRS; k++)
		cfg_ipv6_str(ifc->addrs6[k].addr, out[n++]);
	return n;
}

void web_vhost_addr(struct lws_context_creation_info *vi, const char *addr)
{
	vi->iface = addr;
	/* an IPv4 address: an IPv4 socket; an IPv6 one: an IPv6 socket bound to it alone */
	if (strchr(addr, ':'))
		vi->options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
	else
		vi->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
}

void web_https_url(char *buf, size_t len, const char *addr, unsigned int port)
{
	if (strchr(addr, ':'))
		snprintf(buf, len, "https://[%s]:%u/", addr, port);
	else
		snprintf(buf, len, "https://%s:%u/", addr, port);
}

size_t web_addr_key(const char *peer, unsigned int tag, uint8_t key[ADDR_LIMIT_KEY_MAX])
{
	struct in6_addr a6;
	size_t n;

	if (inet_pton(AF_INET, peer, key) == 1) {
		n = 4;
	} else if (inet_pton(AF_INET6, peer, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(key, &a6.s6_addr[12], 4);
			n = 4;
		} else {
			memcpy(key, a6.s6_addr, 8); /* the /64 */
			n = 8;
		}
	} else {
		/* not an address ("?"): its text in 15 bytes, a length no address has */
		n = ADDR_LIMIT_KEY_MAX - 1;
		memset(key, 0, n);
		memcpy(key, peer, strnlen(peer, n));
	}
	key[n] = (uint8_t)tag;
	return n + 1;
}

bool web_addr_same(const char *a, const char *b)
{
	uint8_t ka[ADDR_LIMIT_KEY_MAX], kb[ADDR_LIMIT_KEY_MAX];
	size_t na = web_addr_key(a, 0, ka), nb = web_addr_key(b, 0, kb);

	return na == nb && !memcmp(ka, kb, na);
}

uint64_t web_limit_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

bool web_limit_take(struct addr_limit *l, const char *peer, unsigned int tag)
{
	uint8_t k[ADDR_LIMIT_KEY_MAX];
	size_t n = web_addr_key(peer, tag, k);

	return addr_limit_take(l, k, n, web_limit_now());
}

void web_limit_refund(struct addr_limit *l, const char *peer, unsigned int tag)
{
	uint8_t k[ADDR_LIMIT_KEY_MAX];
	size_t n = web_addr_key(peer, tag, k);

	addr_limit_refund(l, k, n, web_limit_now());
}

bool web_limit_over(const struct addr_limit *l, const char *peer, unsigned int tag)
{
	uint8_t k[ADDR_LIMIT_KEY_MAX];
	size_t n = web_addr_key(peer, tag, k);

	return addr_limit_over(l, k, n, web_limit_now());
}

/* DTLS 1.2 servers for the media legs, with use_srtp (RFC 5764) and the peer checked by the
 * fingerprint in its offer (RFC 8122): OpenSSL 3 behind a datagram BIO of our own, so the
 * media server feeds and drains whole datagrams and runs the retransmission timer itself. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "media_dtls.h"
#include "tls_policy.h"

/* Our preference first (the server's order decides, RFC 5764 4.1.1): GCM is cheaper per packet
 * and authenticates the header too (RFC 7714). */
#define MDTLS_SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define MDTLS_CERT_DAYS 365  /* browsers check the fingerprint, not the validity */
#define MDTLS_DGRAM_CAP 1500 /* one queued datagram; OpenSSL fills up to MDTLS_MTU */
#define MDTLS_QUEUE_MAX 64   /* datagrams waiting for mdtls_output(): a few flights */
/* Retransmission: the path is ICE-checked and its RTT small, so start below OpenSSL's 1 s;
 * double up to 4 s; OpenSSL gives up after 12 timeouts (about 40 s in all). */
#define MDTLS_TIMER_FIRST_US 400000u
#define MDTLS_TIMER_MAX_US 4000000u

struct mdtls_ctx {
	SSL_CTX *ssl;
	char fp[MDTLS_FP_STR_LEN];
};

struct mdtls_dgram {
	struct mdtls_dgram *next;
	size_t len;
	uint8_t data[MDTLS_DGRAM_CAP];
};

struct mdtls {
	SSL *ssl;
	enum mdtls_state state;
	uint8_t remote_fp[MDTLS_FP_LEN];
	bool fp_ok, fp_bad;
	/* the datagram being read: OpenSSL pulls it through the BIO during one call */
	const uint8_t *in;
	size_t in_len;
	/* datagrams written: the last one stays open until OpenSSL flushes (end of a flight or
	 * full MTU), so a flight's small records share a datagram as BIO_s_dgram would not */
	struct mdtls_dgram *head, *tail;
	bool tail_open;
	unsigned int queued;
	char err[160];
};

static BIO_METHOD *mdtls_bio_method;
static int mdtls_ex_idx = -1;
static pthread_once_t mdtls_once = PTHREAD_ONCE_INIT;

/* ---- the datagram BIO ---- */

static int bio_write(BIO *b, const char *buf, int len)
{
	struct mdtls *d = BIO_get_data(b);
	struct mdtls_dgram *g = d->tail_open ? d->tail : NULL;

	if (len <= 0 || len > MDTLS_DGRAM_CAP)
		return -1;
	if (g && g->len + (size_t)len > MDTLS_MTU)
		g = NULL;
	if (!g) {
		if (d->queued >= MDTLS_QUEUE_MAX)
			return -1;
		g = malloc(sizeof(*g));
		if (!g)
			return -1;
		g->next = NULL;
		g->len = 0;
		if (d->tail)
			d->tail->next = g;
		else
			d->head = g;
		d->tail = g;
		d->tail_open = true;
		d->queued++;
	}
	memcpy(g->data + g->len, buf, (size_t)len);
	g->len += (size_t)len;
	return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
	struct mdtls *d = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!d->in) {
		BIO_set_retry_read(b);
		return -1;
	}
	/* a datagram longer than the buffer is truncated, as recv() would */
	n = d->in_len < (size_t)len ? d->in_len : (size_t)len;
	memcpy(buf, d->in, n);
	d->in = NULL;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct mdtls *d = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		d->tail_open = false;
		return 1;
	case BIO_CTRL_WPENDING: /* what the open datagram holds: OpenSSL sizes records by it */
		return d->tail_open ? (long)d->tail->len : 0;
	case BIO_CTRL_PENDING:
		return d->in ? (long)d->in_len : 0;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return MDTLS_MTU;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void mdtls_init_once(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mdtls datagram");

	if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) &&
		BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_create(m, bio_create))
		mdtls_bio_method = m;
	else
		BIO_meth_free(m);
	mdtls_ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* ---- the certificate and context ---- */

/* RFC 8122: the fingerprint is the hash of the end-entity certificate, whatever its chain. */
static int cert_verify(X509_STORE_CTX *x, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct mdtls *d = ssl ? SSL_get_ex_data(ssl, mdtls_ex_idx) : NULL;
	X509 *cert = X509_STORE_CTX_get0_cert(x);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	(void)arg;
	if (!d || !cert || !X509_digest(cert, EVP_sha256(), md, &n) || n != MDTLS_FP_LEN ||
		CRYPTO_memcmp(md, d->remote_fp, MDTLS_FP_LEN) != 0) {
		if (d) {
			d->fp_bad = true;
			snprintf(d->err, sizeof(d->err),
				"fingerprint mismatch: the client's "
				"certificate is not the one its offer's a=fingerprint names");
		}
		X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	d->fp_ok = true;
	X509_STORE_CTX_set_error(x, X509_V_OK);
	return 1;
}

static int make_cert(EVP_PKEY **pkey, X509 **cert)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name;
	int ok;

	ok = k && x && serial && X509_set_version(x, 2) &&
		BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
		X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
		X509_gmtime_adj(X509_getm_notAfter(x), 86400L * MDTLS_CERT_DAYS) &&
		(name = X509_get_subject_name(x)) &&
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"edged",
			-1, -1, 0) &&
		X509_set_issuer_name(x, name) && X509_set_pubkey(x, k) &&
		X509_sign(x, k, EVP_sha256()) > 0;
	BN_free(serial);
	if (!ok) {
		EVP_PKEY_free(k);
		X509_free(x);
		return -ENOMEM;
	}
	*pkey = k;
	*cert = x;
	return 0;
}

static void format_fp(const uint8_t *md, char *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (int i = 0; i < MDTLS_FP_LEN; i++) {
		out[3 * i] = hex[md[i] >> 4];
		out[3 * i + 1] = hex[md[i] & 15];
		out[3 * i + 2] = i + 1 < MDTLS_FP_LEN ? ':' : '\0';
	}
}

/* A context with a fresh certificate; its fingerprint into @fp. */
static SSL_CTX *make_ssl_ctx(char *fp, const char **why)
{
	SSL_CTX *s = SSL_CTX_new(DTLS_server_method());
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	*why = "SSL_CTX_new";
	if (!s)
		return NULL;
	/* No cookie exchange (SSL_OP_COOKIE_EXCHANGE stays off): the media server hands us a
	 * datagram only from a 5-tuple that passed an authenticated ICE check, which already
	 * proves the address, as a HelloVerifyRequest would. No sessions, no tickets: every
	 * handshake must show the certificate whose fingerprint we check. */
	SSL_CTX_set_options(s, TLS_POLICY_OPTIONS | SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(s, cert_verify, NULL);
	if (!SSL_CTX_set_min_proto_version(s, DTLS1_2_VERSION) ||
		!SSL_CTX_set_max_proto_version(s, DTLS1_2_VERSION) ||
		!SSL_CTX_set_cipher_list(s, TLS_POLICY_TLS12_CIPHERS)) {
		*why = "DTLS 1.2 policy";
		goto fail;
	}
	if (SSL_CTX_set_tlsext_use_srtp(s, MDTLS_SRTP_PROFILES) != 0) { /* 0 is success */
		*why = "use_srtp profiles";
		goto fail;
	}
	if (make_cert(&k, &x) < 0) {
		*why = "ECDSA P-256 certificate";
		goto fail;
	}
	if (!SSL_CTX_use_certificate(s, x) || !SSL_CTX_use_PrivateKey(s, k) ||
		!X509_digest(x, EVP_sha256(), md, &n) || n != MDTLS_FP_LEN) {
		*why = "installing the certificate";
		goto fail;
	}
	format_fp(md, fp);
	EVP_PKEY_free(k);
	X509_free(x);
	return s;
fail:
	EVP_PKEY_free(k);
	X509_free(x);
	SSL_CTX_free(s);
	return NULL;
}

struct mdtls_ctx *mdtls_ctx_new(char *err, size_t errlen)
{
	struct mdtls_ctx *c;
	const char *why = "out of memory";

	pthread_once(&mdtls_once, mdtls_init_once);
	if (!mdtls_bio_method || mdtls_ex_idx < 0)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->ssl = make_ssl_ctx(c->fp, &why);
	if (c->ssl)
		return c;
	free(c);
fail:
	if (err && errlen)
		snprintf(err, errlen, "dtls: %s failed", why);
	ERR_clear_error();
	return NULL;
}

int mdtls_ctx_rotate(struct mdtls_ctx *c)
{
	char fp[MDTLS_FP_STR_LEN];
	const char *why;
	SSL_CTX *s = make_ssl_ctx(fp, &why);

	if (!s) {
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_CTX_free(c->ssl); /* legs made with it hold their own reference */
	c->ssl = s;
	memcpy(c->fp, fp, sizeof(fp));
	return 0;
}

const char *mdtls_ctx_fingerprint(const struct mdtls_ctx *c)
{
	return c->fp;
}

void mdtls_ctx_free(struct mdtls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ssl);
	free(c);
}

/* ---- legs ---- */

static unsigned int timer_cb(SSL *ssl, unsigned int us)
{
	(void)ssl;
	if (us == 0)
		return MDTLS_TIMER_FIRST_US;
	return us >= MDTLS_TIMER_MAX_US / 2 ? MDTLS_TIMER_MAX_US : us * 2;
}

struct mdtls *mdtls_new(struct mdtls_ctx *c, const uint8_t *remote_fp, size_t fp_len)
{
	struct mdtls *d;
	BIO *b;

	if (fp_len != MDTLS_FP_LEN) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		goto nomem;
	memcpy(d->remote_fp, remote_fp, MDTLS_FP_LEN);
	d->ssl = SSL_new(c->ssl);
	b = BIO_new(mdtls_bio_method);
	if (!d->ssl || !b) {
		BIO_free(b);
		goto nomem;
	}
	BIO_set_data(b, d);
	SSL_set_bio(d->ssl, b, b);
	if (!SSL_set_ex_data(d->ssl, mdtls_ex_idx, d) || !SSL_set_mtu(d->ssl, MDTLS_MTU))
		goto nomem;
	DTLS_set_timer_cb(d->ssl, timer_cb);
	SSL_set_accept_state(d->ssl);
	return d;
nomem:
	mdtls_free(d);
	ERR_clear_error();
	errno = ENOMEM;
	return NULL;
}

static void fail(struct mdtls *d, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	d->state = MDTLS_FAILED;
	/* the verify callback's message says more than OpenSSL's "certificate verify failed" */
	if (d->fp_bad)
		return;
	if (reason)
		snprintf(d->err, sizeof(d->err), "%s: %s", what, reason);
	else
		snprintf(d->err, sizeof(d->err), "%s", what);
}

/* After an SSL call returned @r <= 0. */
static int settle(struct mdtls *d, int r, const char *what)
{
	switch (SSL_get_error(d->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		d->state = MDTLS_CLOSED;
		snprintf(d->err, sizeof(d->err), "closed by the peer (close_notify)");
		SSL_shutdown(d->ssl); /* our close_notify back */
		return 0;
	default:
		fail(d, what);
		return -EPROTO;
	}
}

static int handshake(struct mdtls *d)
{
	int r = SSL_do_handshake(d->ssl);

	if (r <= 0)
		return settle(d, r, "handshake failed");
	/* belt and braces: resumption is off, so the callback must have seen the certificate */
	if (!d->fp_ok) {
		fail(d, "handshake ended without the client's certificate checked");
		return -EPROTO;
	}
	if (!SSL_get_selected_srtp_profile(d->ssl)) {
		fail(d,
			"no SRTP profile in common (we take SRTP_AEAD_AES_128_GCM or "
			"SRTP_AES128_CM_SHA1_80; the client offered neither or no use_srtp)");
		SSL_shutdown(d->ssl);
		return -EPROTO;
	}
	d->state = MDTLS_DONE;
	return 0;
}

/* Records after the handshake: alerts and retransmitted handshake flights are OpenSSL's to
 * handle; application data has no use on a media leg and is dropped. */
static int after_handshake(struct mdtls *d)
{
	uint8_t scratch[2048];

	for (;;) {
		int r = SSL_read(d->ssl, scratch, sizeof(scratch));

		if (r <= 0)
			return settle(d, r, "DTLS error");
	}
}

int mdtls_input(struct mdtls *d, const uint8_t *rec, size_t len)
{
	int ret = 0;

	if (len == 0)
		return -EMSGSIZE;
	if (d->state == MDTLS_FAILED || d->state == MDTLS_CLOSED)
		return -ENOTCONN;
	ERR_clear_error();
	d->in = rec;
	d->in_len = len;
	if (d->state == MDTLS_HANDSHAKING)
		ret = handshake(d);
	if (ret == 0 && d->state == MDTLS_DONE)
		ret = after_handshake(d);
	d->in = NULL;
	ERR_clear_error();
	return ret;
}

int mdtls_output(struct mdtls *d, uint8_t *buf, size_t cap)
{
	struct mdtls_dgram *g = d->head;
	int n;

	if (!g)
		return 0;
	if (g->len > cap)
		return -ENOSPC;
	memcpy(buf, g->data, g->len);
	n = (int)g->len;
	d->head = g->next;
	if (!d->head) {
		d->tail = NULL;
		d->tail_open = false;
	}
	d->queued--;
	free(g);
	return n;
}

int64_t mdtls_timeout_ms(struct mdtls *d)
{
	struct timeval tv;

	if (d->state != MDTLS_HANDSHAKING && d->state != MDTLS_DONE)
		return -1;
	if (DTLSv1_get_timeout(d->ssl, &tv) != 1)
		return -1;
	return (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
}

void mdtls_timer(struct mdtls *d)
{
	if (d->state != MDTLS_HANDSHAKING && d->state != MDTLS_DONE)
		return;
	ERR_clear_error();
	if (DTLSv1_handle_timeout(d->ssl) < 0)
		fail(d, "handshake timed out");
	ERR_clear_error();
}

int mdtls_close(struct mdtls *d)
{
	if (d->state == MDTLS_FAILED || d->state == MDTLS_CLOSED)
		return -ENOTCONN;
	ERR_clear_error();
	SSL_shutdown(d->ssl);
	ERR_clear_error();
	d->state = MDTLS_CLOSED;
	snprintf(d->err, sizeof(d->err), "closed by us");
	return 0;
}

enum mdtls_state mdtls_state(const struct mdtls *d)
{
	return d->state;
}

const char *mdtls_error(const struct mdtls *d)
{
	return d->err;
}

int mdtls_keys(struct mdtls *d, struct mdtls_keys *k)
{
	const SRTP_PROTECTION_PROFILE *p;
	uint8_t m[2 * (16 + 14)];
	size_t kl = 16, sl;

	if (d->state != MDTLS_DONE)
		return -EAGAIN;
	p = SSL_get_selected_srtp_profile(d->ssl);
	if (!p)
		return -EPROTO;
	if (p->id == MDTLS_SRTP_AEAD_AES_128_GCM)
		sl = 12; /* RFC 7714 12 */
	else if (p->id == MDTLS_SRTP_AES128_CM_SHA1_80)
		sl = 14;
	else
		return -ENOTSUP;
	if (SSL_export_keying_material(d->ssl, m, 2 * (kl + sl), "EXTRACTOR-dtls_srtp", 19, NULL, 0,
		    0) != 1) {
		ERR_clear_error();
		return -EPROTO;
	}
	/* RFC 5764 4.2: client key | server key | client salt | server salt */
	memset(k, 0, sizeof(*k));
	k->profile = (int)p->id;
	k->profile_name = p->name;
	k->key_len = kl;
	k->salt_len = sl;
	memcpy(k->client_key, m, kl);
	memcpy(k->server_key, m + kl, kl);
	memcpy(k->client_salt, m + 2 * kl, sl);
	memcpy(k->server_salt, m + 2 * kl + sl, sl);
	OPENSSL_cleanse(m, sizeof(m));
	return 0;
}

void mdtls_free(struct mdtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);
	while (d->head) {
		struct mdtls_dgram *g = d->head;

		d->head = g->next;
		free(g);
	}
	free(d);
}

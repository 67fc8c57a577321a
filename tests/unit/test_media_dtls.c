/* The DTLS-SRTP legs (controlplane/media/media_dtls.c) against a real OpenSSL DTLS client in
 * the same process, datagrams carried through memory: handshakes with each SRTP profile, the
 * exported keys split as RFC 5764 4.2 says, fingerprint mismatch, lost flights, garbage,
 * certificate rotation, close_notify. Runs under ASan too: everything is freed. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "media_dtls.h"
#include "unit.h"

/* ---- the browser's side: OpenSSL's DTLS client with a self-signed certificate ---- */

struct client {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb;			  /* memory BIOs: what the client reads, what it wrote */
	uint8_t fp[MDTLS_FP_LEN];	  /* its certificate's SHA-256, for the server's offer */
	char server_fp[MDTLS_FP_STR_LEN]; /* the server certificate it saw */
	int max_dgram;			  /* the largest datagram the server sent it */
};

static int client_verify(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct client *cl = SSL_get_app_data(ssl);
	X509 *cert = X509_STORE_CTX_get_current_cert(x);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n;

	(void)ok;
	if (X509_STORE_CTX_get_error_depth(x) == 0 && X509_digest(cert, EVP_sha256(), md, &n)) {
		for (unsigned int i = 0; i < n; i++)
			sprintf(cl->server_fp + 3 * i, i + 1 < n ? "%02X:" : "%02X", md[i]);
	}
	return 1; /* the browser checks the fingerprint against the answer: done by the test */
}

/* the browser's retransmission timer, short so that the lost-flight test runs quickly */
static unsigned int client_timer(SSL *ssl, unsigned int us)
{
	(void)ssl;
	return us ? 2 * us : 100000;
}

static void self_signed(EVP_PKEY **pkey, X509 **cert)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	CU_ASSERT_FATAL(k && x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), rand());
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
		(const unsigned char *)"WebRTC", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	CU_ASSERT_FATAL(X509_sign(x, k, EVP_sha256()) > 0);
	*pkey = k;
	*cert = x;
}

/* @profiles NULL: no use_srtp at all; @with_cert false: no client certificate. */
static void client_init(struct client *cl, const char *profiles, bool with_cert)
{
	EVP_PKEY *k;
	X509 *x;
	unsigned int n;

	memset(cl, 0, sizeof(*cl));
	cl->ctx = SSL_CTX_new(DTLS_client_method());
	CU_ASSERT_FATAL(cl->ctx != NULL);
	SSL_CTX_set_min_proto_version(cl->ctx, DTLS1_2_VERSION);
	self_signed(&k, &x);
	CU_ASSERT(X509_digest(x, EVP_sha256(), cl->fp, &n) && n == MDTLS_FP_LEN);
	if (with_cert) {
		CU_ASSERT(SSL_CTX_use_certificate(cl->ctx, x) == 1);
		CU_ASSERT(SSL_CTX_use_PrivateKey(cl->ctx, k) == 1);
	}
	EVP_PKEY_free(k);
	X509_free(x);
	if (profiles)
		CU_ASSERT(SSL_CTX_set_tlsext_use_srtp(cl->ctx, profiles) == 0);
	SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_PEER, client_verify);
	cl->ssl = SSL_new(cl->ctx);
	cl->rb = BIO_new(BIO_s_mem());
	cl->wb = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(cl->rb, -1);
	BIO_set_mem_eof_return(cl->wb, -1);
	SSL_set_bio(cl->ssl, cl->rb, cl->wb);
	SSL_set_app_data(cl->ssl, cl);
	/* a memory BIO keeps no datagram boundaries: a whole flight goes as one datagram, so
	 * let it be one (several records in a datagram are fine in DTLS) */
	SSL_set_options(cl->ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(cl->ssl, 1400);
	DTLS_set_timer_cb(cl->ssl, client_timer);
	SSL_set_connect_state(cl->ssl);
}

static void client_free(struct client *cl)
{
	SSL_free(cl->ssl);
	SSL_CTX_free(cl->ctx);
	ERR_clear_error();
}

/* The client's pending bytes to the server as one datagram; how many bytes, or 0. */
static int to_server(struct client *cl, struct mdtls *d, bool drop, int *input_ret)
{
	uint8_t buf[8192];
	int n = BIO_read(cl->wb, buf, sizeof(buf));

	if (n <= 0)
		return 0;
	if (!drop) {
		int r = mdtls_input(d, buf, (size_t)n);

		if (input_ret)
			*input_ret = r;
	}
	return n;
}

/* Every datagram the server has queued, to the client (or dropped); how many. */
static int to_client(struct mdtls *d, struct client *cl, bool drop)
{
	uint8_t buf[MDTLS_MTU];
	int n, count = 0;

	while ((n = mdtls_output(d, buf, sizeof(buf))) > 0) {
		if (n > cl->max_dgram)
			cl->max_dgram = n;
		if (!drop)
			BIO_write(cl->rb, buf, n);
		count++;
	}
	CU_ASSERT_EQUAL(n, 0);
	return count;
}

/* Runs both sides until neither moves; the client's last SSL_do_handshake() result. */
static int pump(struct client *cl, struct mdtls *d)
{
	int r = 0;

	for (int i = 0; i < 30; i++) {
		int moved;

		r = SSL_do_handshake(cl->ssl);
		moved = to_server(cl, d, false, NULL);
		moved += to_client(d, cl, false);
		if (!moved)
			break;
	}
	return r;
}

/* The keys as the client derives them: its write key and salt, then the server's. */
static void client_keys(struct client *cl, size_t kl, size_t sl, uint8_t *ck, uint8_t *cs,
	uint8_t *sk, uint8_t *ss)
{
	uint8_t m[60];

	CU_ASSERT_FATAL(SSL_export_keying_material(cl->ssl, m, 2 * (kl + sl), "EXTRACTOR-dtls_srtp",
				19, NULL, 0, 0) == 1);
	memcpy(ck, m, kl);
	memcpy(sk, m + kl, kl);
	memcpy(cs, m + 2 * kl, sl);
	memcpy(ss, m + 2 * kl + sl, sl);
}

static struct mdtls_ctx *ctx_new(void)
{
	char err[128] = "";
	struct mdtls_ctx *c = mdtls_ctx_new(err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

static void handshake_with(const char *profiles, int want_id, size_t want_salt,
	const char *want_name)
{
	struct mdtls_ctx *c = ctx_new();
	struct client cl;
	struct mdtls *d;
	struct mdtls_keys k;
	uint8_t ck[16], cs[14], sk[16], ss[14];
	const SRTP_PROTECTION_PROFILE *p;

	client_init(&cl, profiles, true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_HANDSHAKING);
	CU_ASSERT_EQUAL(mdtls_keys(d, &k), -EAGAIN);
	CU_ASSERT_EQUAL(mdtls_timeout_ms(d), -1); /* nothing sent yet */

	CU_ASSERT_EQUAL(pump(&cl, d), 1);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_DONE);
	CU_ASSERT_STRING_EQUAL(mdtls_error(d), "");
	CU_ASSERT(cl.max_dgram > 0 && cl.max_dgram <= MDTLS_MTU);
	CU_ASSERT_STRING_EQUAL(cl.server_fp, mdtls_ctx_fingerprint(c));

	p = SSL_get_selected_srtp_profile(cl.ssl);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL((int)p->id, want_id);
	CU_ASSERT_EQUAL_FATAL(mdtls_keys(d, &k), 0);
	CU_ASSERT_EQUAL(k.profile, want_id);
	CU_ASSERT_STRING_EQUAL(k.profile_name, want_name);
	CU_ASSERT_EQUAL(k.key_len, 16);
	CU_ASSERT_EQUAL(k.salt_len, want_salt);
	client_keys(&cl, 16, want_salt, ck, cs, sk, ss);
	CU_ASSERT_EQUAL(memcmp(k.client_key, ck, 16), 0);
	CU_ASSERT_EQUAL(memcmp(k.client_salt, cs, want_salt), 0);
	CU_ASSERT_EQUAL(memcmp(k.server_key, sk, 16), 0);
	CU_ASSERT_EQUAL(memcmp(k.server_salt, ss, want_salt), 0);
	CU_ASSERT(memcmp(k.client_key, k.server_key, 16) != 0);

	/* application data after the handshake: ignored, the leg stays up */
	CU_ASSERT(SSL_write(cl.ssl, "hello", 5) == 5);
	CU_ASSERT_EQUAL(to_server(&cl, d, false, NULL) > 0, 1);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_DONE);
	CU_ASSERT_EQUAL(to_client(d, &cl, false), 0);

	mdtls_free(d);
	client_free(&cl);
	mdtls_ctx_free(c);
}

static void test_gcm(void)
{
	handshake_with("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", MDTLS_SRTP_AEAD_AES_128_GCM,
		12, "SRTP_AEAD_AES_128_GCM");
	/* our preference decides, whatever the client's order */
	handshake_with("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", MDTLS_SRTP_AEAD_AES_128_GCM,
		12, "SRTP_AEAD_AES_128_GCM");
}

static void test_cm_only(void)
{
	handshake_with("SRTP_AES128_CM_SHA1_80", MDTLS_SRTP_AES128_CM_SHA1_80, 14,
		"SRTP_AES128_CM_SHA1_80");
}

static void test_fingerprint_mismatch(void)
{
	struct mdtls_ctx *c = ctx_new();
	struct client cl;
	struct mdtls *d;
	struct mdtls_keys k;
	uint8_t wrong[MDTLS_FP_LEN];
	int r = 0;

	client_init(&cl, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", true);
	memcpy(wrong, cl.fp, sizeof(wrong));
	wrong[31] ^= 1;
	CU_ASSERT_PTR_NULL(mdtls_new(c, wrong, 20)); /* SHA-1 length: refused */
	CU_ASSERT_EQUAL(errno, EINVAL);
	d = mdtls_new(c, wrong, sizeof(wrong));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);

	SSL_do_handshake(cl.ssl); /* ClientHello */
	to_server(&cl, d, false, &r);
	CU_ASSERT_EQUAL(r, 0);
	to_client(d, &cl, false);
	SSL_do_handshake(cl.ssl); /* Certificate ... Finished */
	to_server(&cl, d, false, &r);
	CU_ASSERT_EQUAL(r, -EPROTO);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(mdtls_error(d), "fingerprint"));
	CU_ASSERT_EQUAL(mdtls_keys(d, &k), -EAGAIN);
	/* the client is told (a fatal alert) and fails too */
	CU_ASSERT(to_client(d, &cl, false) >= 1);
	CU_ASSERT(SSL_do_handshake(cl.ssl) < 0);
	CU_ASSERT_EQUAL(SSL_get_error(cl.ssl, -1), SSL_ERROR_SSL);
	/* and the leg takes nothing more */
	CU_ASSERT_EQUAL(mdtls_input(d, (const uint8_t *)"\x16\xfe\xfd", 3), -ENOTCONN);
	CU_ASSERT_EQUAL(mdtls_timeout_ms(d), -1);

	mdtls_free(d);
	client_free(&cl);
	mdtls_ctx_free(c);
}

static void test_refusals(void)
{
	struct mdtls_ctx *c = ctx_new();
	struct client cl;
	struct mdtls *d;

	/* no client certificate: refused (browsers always send one) */
	client_init(&cl, "SRTP_AEAD_AES_128_GCM", false);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	CU_ASSERT(pump(&cl, d) != 1);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_FAILED);
	CU_ASSERT(strlen(mdtls_error(d)) > 0);
	mdtls_free(d);
	client_free(&cl);

	/* no use_srtp: the handshake completes in OpenSSL, the leg does not */
	client_init(&cl, NULL, true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	pump(&cl, d);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(mdtls_error(d), "SRTP profile"));
	mdtls_free(d);
	client_free(&cl);

	/* only a profile we do not take */
	client_init(&cl, "SRTP_AES128_CM_SHA1_32", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	pump(&cl, d);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(mdtls_error(d), "SRTP profile"));
	mdtls_free(d);
	client_free(&cl);
	mdtls_ctx_free(c);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void test_retransmit(void)
{
	struct mdtls_ctx *c = ctx_new();
	struct client cl;
	struct mdtls *d;
	int64_t t;
	int sent;

	client_init(&cl, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	SSL_do_handshake(cl.ssl);
	to_server(&cl, d, false, NULL);
	sent = to_client(d, &cl, true); /* the server's first flight is lost */
	CU_ASSERT(sent >= 1);
	t = mdtls_timeout_ms(d);
	CU_ASSERT(t > 0 && t <= 400);

	mdtls_timer(d); /* too early: nothing */
	CU_ASSERT_EQUAL(to_client(d, &cl, false), 0);
	sleep_ms(t + 5);
	CU_ASSERT_EQUAL(mdtls_timeout_ms(d), 0);
	mdtls_timer(d);
	/* the same flight again; OpenSSL flushes after each message when it retransmits */
	CU_ASSERT(to_client(d, &cl, false) >= sent);
	t = mdtls_timeout_ms(d);
	CU_ASSERT(t > 400 && t <= 800); /* backed off */

	/* then the client's flight is lost: the server retransmits its own, the client's timer
	 * (or that retransmission) sends its flight again, and the server finishes */
	SSL_do_handshake(cl.ssl);
	CU_ASSERT(to_server(&cl, d, true, NULL) > 0);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_HANDSHAKING);
	sleep_ms(mdtls_timeout_ms(d) + 5);
	mdtls_timer(d);
	CU_ASSERT(to_client(d, &cl, false) >= 1);
	SSL_do_handshake(cl.ssl);
	if (BIO_ctrl_pending(cl.wb) == 0) {
		struct timeval tv;

		CU_ASSERT_FATAL(DTLSv1_get_timeout(cl.ssl, &tv) == 1);
		sleep_ms(tv.tv_sec * 1000 + tv.tv_usec / 1000 + 5);
		CU_ASSERT(DTLSv1_handle_timeout(cl.ssl) == 1);
	}
	CU_ASSERT_EQUAL(pump(&cl, d), 1);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_DONE);

	mdtls_free(d);
	client_free(&cl);
	mdtls_ctx_free(c);
}

/* Our last flight (ChangeCipherSpec, Finished) is lost after we are DONE: the client's
 * retransmitted flight makes the leg send it again, and the client finishes. */
static void test_lost_last_flight(void)
{
	struct mdtls_ctx *c = ctx_new();
	struct client cl;
	struct mdtls *d;
	struct timeval tv;

	client_init(&cl, "SRTP_AEAD_AES_128_GCM", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	SSL_do_handshake(cl.ssl);
	to_server(&cl, d, false, NULL);
	to_client(d, &cl, false);
	SSL_do_handshake(cl.ssl);
	to_server(&cl, d, false, NULL);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_DONE);
	CU_ASSERT(to_client(d, &cl, true) >= 1); /* lost */
	CU_ASSERT(SSL_do_handshake(cl.ssl) <= 0);
	CU_ASSERT_FATAL(DTLSv1_get_timeout(cl.ssl, &tv) == 1);
	sleep_ms(tv.tv_sec * 1000 + tv.tv_usec / 1000 + 5);
	CU_ASSERT(DTLSv1_handle_timeout(cl.ssl) == 1);
	CU_ASSERT(to_server(&cl, d, false, NULL) > 0);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_DONE);
	CU_ASSERT(to_client(d, &cl, false) >= 1);
	CU_ASSERT_EQUAL(SSL_do_handshake(cl.ssl), 1);

	mdtls_free(d);
	client_free(&cl);
	mdtls_ctx_free(c);
}

static void fill_random(uint8_t *buf, size_t len, bool dtls_like)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rand();
	if (dtls_like && len >= 13) {
		/* a handshake record header, epoch 0, a length that may or may not fit */
		buf[0] = 22;
		buf[1] = 0xfe;
		buf[2] = 0xfd;
		buf[3] = buf[4] = 0;
		buf[11] = (uint8_t)((len - 13) >> 8);
		if (rand() & 1)
			buf[12] = (uint8_t)(len - 13);
		if (len >= 14 && (rand() & 1))
			buf[13] = 1; /* ClientHello */
	}
}

static void test_garbage(void)
{
	struct mdtls_ctx *c = ctx_new();
	struct client cl;
	struct mdtls *d;
	uint8_t buf[1500];
	int ignored = 0;

	srand(5764);
	/* a fresh leg: datagrams that are no DTLS record of ours (another version, a record type
	 * that is not alert, handshake or CCS) are dropped; a real handshake completes after */
	client_init(&cl, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	for (int i = 0; i < 3000; i++) {
		size_t len = 1 + (size_t)(rand() % (int)sizeof(buf));

		fill_random(buf, len, false);
		if (buf[0] >= 20 && buf[0] <= 22)
			buf[0] = 23;
		mdtls_input(d, buf, len);
		ignored += to_client(d, &cl, true) == 0;
	}
	CU_ASSERT_EQUAL(ignored, 3000);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_HANDSHAKING);
	CU_ASSERT_EQUAL(mdtls_input(d, buf, 0), -EMSGSIZE);
	CU_ASSERT_EQUAL(pump(&cl, d), 1);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_DONE);

	/* a finished leg: garbage leaves it up or fails it, never a crash */
	for (int i = 0; i < 3000 && mdtls_state(d) == MDTLS_DONE; i++) {
		size_t len = 1 + (size_t)(rand() % (int)sizeof(buf));

		fill_random(buf, len, i & 1);
		if (i & 2)
			buf[0] = 21 + (uint8_t)(rand() % 3); /* alert, handshake, app data */
		mdtls_input(d, buf, len);
		to_client(d, &cl, true);
	}
	CU_ASSERT(mdtls_state(d) == MDTLS_DONE || mdtls_state(d) == MDTLS_FAILED);
	mdtls_free(d);
	client_free(&cl);

	/* handshake-looking garbage before and during a handshake: a malformed ClientHello is
	 * fatal to the leg in OpenSSL (FAILED, "bad length"...), anything else is dropped */
	for (int leg = 0; leg < 40; leg++) {
		d = mdtls_new(c, cl.fp, sizeof(cl.fp));
		for (int i = 0; i < 200; i++) {
			size_t len = 1 + (size_t)(rand() % (int)sizeof(buf));

			fill_random(buf, len, true);
			mdtls_input(d, buf, len);
			to_client(d, &cl, true);
		}
		CU_ASSERT(mdtls_state(d) == MDTLS_HANDSHAKING || mdtls_state(d) == MDTLS_FAILED);
		mdtls_free(d);
	}
	client_init(&cl, "SRTP_AEAD_AES_128_GCM", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	SSL_do_handshake(cl.ssl);
	to_server(&cl, d, false, NULL);
	for (int i = 0; i < 1000; i++) {
		size_t len = 1 + (size_t)(rand() % (int)sizeof(buf));

		fill_random(buf, len, true);
		mdtls_input(d, buf, len);
	}
	CU_ASSERT(mdtls_state(d) == MDTLS_HANDSHAKING || mdtls_state(d) == MDTLS_FAILED);
	mdtls_free(d);
	client_free(&cl);
	mdtls_ctx_free(c);
}

static void test_rotate(void)
{
	struct mdtls_ctx *c = ctx_new();
	struct client a, b;
	struct mdtls *da, *db;
	char fp1[MDTLS_FP_STR_LEN];

	snprintf(fp1, sizeof(fp1), "%s", mdtls_ctx_fingerprint(c));
	CU_ASSERT_EQUAL(strlen(fp1), MDTLS_FP_STR_LEN - 1);
	client_init(&a, "SRTP_AEAD_AES_128_GCM", true);
	da = mdtls_new(c, a.fp, sizeof(a.fp));
	SSL_do_handshake(a.ssl); /* the old leg is mid-handshake when the certificate changes */
	to_server(&a, da, false, NULL);

	CU_ASSERT_EQUAL_FATAL(mdtls_ctx_rotate(c), 0);
	CU_ASSERT_STRING_NOT_EQUAL(mdtls_ctx_fingerprint(c), fp1);
	client_init(&b, "SRTP_AEAD_AES_128_GCM", true);
	db = mdtls_new(c, b.fp, sizeof(b.fp));

	/* the context may go before its legs */
	mdtls_ctx_free(c);
	CU_ASSERT_EQUAL(pump(&a, da), 1);
	CU_ASSERT_EQUAL(mdtls_state(da), MDTLS_DONE);
	CU_ASSERT_STRING_EQUAL(a.server_fp, fp1);
	CU_ASSERT_EQUAL(pump(&b, db), 1);
	CU_ASSERT_EQUAL(mdtls_state(db), MDTLS_DONE);
	CU_ASSERT_STRING_NOT_EQUAL(b.server_fp, fp1);

	mdtls_free(da);
	mdtls_free(db);
	client_free(&a);
	client_free(&b);
}

static void test_close(void)
{
	struct mdtls_ctx *c = ctx_new();
	struct client cl;
	struct mdtls *d;
	uint8_t buf[64];

	/* the browser closes: CLOSED, and our close_notify goes back */
	client_init(&cl, "SRTP_AEAD_AES_128_GCM", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	CU_ASSERT_EQUAL(pump(&cl, d), 1);
	CU_ASSERT_EQUAL(SSL_shutdown(cl.ssl), 0);
	CU_ASSERT_EQUAL(to_server(&cl, d, false, NULL) > 0, 1);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_CLOSED);
	CU_ASSERT_PTR_NOT_NULL(strstr(mdtls_error(d), "close_notify"));
	CU_ASSERT_EQUAL(to_client(d, &cl, false), 1);
	CU_ASSERT_EQUAL(SSL_shutdown(cl.ssl), 1);
	CU_ASSERT_EQUAL(mdtls_close(d), -ENOTCONN);
	mdtls_free(d);
	client_free(&cl);

	/* we close: the browser reads close_notify */
	client_init(&cl, "SRTP_AEAD_AES_128_GCM", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	CU_ASSERT_EQUAL(pump(&cl, d), 1);
	CU_ASSERT_EQUAL(mdtls_close(d), 0);
	CU_ASSERT_EQUAL(mdtls_state(d), MDTLS_CLOSED);
	CU_ASSERT_EQUAL(to_client(d, &cl, false), 1);
	CU_ASSERT(SSL_read(cl.ssl, buf, sizeof(buf)) <= 0);
	CU_ASSERT_EQUAL(SSL_get_error(cl.ssl, 0), SSL_ERROR_ZERO_RETURN);
	mdtls_free(d);
	client_free(&cl);

	/* a leg freed mid-handshake, with datagrams still queued: nothing leaks (ASan) */
	client_init(&cl, "SRTP_AEAD_AES_128_GCM", true);
	d = mdtls_new(c, cl.fp, sizeof(cl.fp));
	SSL_do_handshake(cl.ssl);
	to_server(&cl, d, false, NULL);
	mdtls_free(d);
	mdtls_free(NULL);
	client_free(&cl);
	mdtls_ctx_free(c);
	mdtls_ctx_free(NULL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "handshake, GCM chosen, keys split as RFC 5764 4.2", test_gcm },
		{ "a client with AES128_CM_SHA1_80 only: that profile, 14-byte salts",
			test_cm_only },
		{ "wrong fingerprint: FAILED, says so, client alerted", test_fingerprint_mismatch },
		{ "no client certificate, no use_srtp, no common profile: FAILED", test_refusals },
		{ "lost flights retransmitted on the timer, with backoff", test_retransmit },
		{ "our lost last flight sent again on the client's retransmission",
			test_lost_last_flight },
		{ "garbage before, during and after the handshake", test_garbage },
		{ "rotation: new legs new certificate, old legs finish with the old", test_rotate },
		{ "close_notify both ways; freeing mid-handshake", test_close },
		{ NULL, NULL },
	};

	return unit_run("media_dtls", tests);
}

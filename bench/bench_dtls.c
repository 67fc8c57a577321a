/* DTLS-SRTP handshakes per second on one core (controlplane/media/media_dtls.c), in memory:
 * an OpenSSL DTLS client (ECDSA P-256 certificate, as browsers make) against our leg, timing
 * the server's calls apart from the client's. Prints a table; bench/results/ keeps the runs.
 * Usage: bench_dtls [handshakes per row, default 2000] */
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* The browser's context: a self-signed ECDSA certificate and the offered profiles. */
static SSL_CTX *client_ctx(const char *profiles, uint8_t fp[MDTLS_FP_LEN])
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned int n;

	if (!ctx || !k || !x)
		exit(1);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
		(const unsigned char *)"WebRTC", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	if (X509_sign(x, k, EVP_sha256()) <= 0 || !X509_digest(x, EVP_sha256(), fp, &n) ||
		SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
		SSL_CTX_set_tlsext_use_srtp(ctx, profiles) != 0)
		exit(1);
	SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
	EVP_PKEY_free(k);
	X509_free(x);
	return ctx;
}

struct row {
	const char *profile;
	int n;
	double total_s, server_s;
	char cipher[64], group[32];
};

/* One handshake; the server's share of the time added to *server_s. */
static bool handshake(SSL_CTX *cctx, struct mdtls_ctx *sctx, const uint8_t *fp, double *server_s,
	struct row *r)
{
	SSL *c = SSL_new(cctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	uint8_t buf[8192];
	struct mdtls_keys keys;
	struct mdtls *d;
	bool ok = false;
	double t;
	int n;

	BIO_set_mem_eof_return(rb, -1);
	BIO_set_mem_eof_return(wb, -1);
	SSL_set_bio(c, rb, wb);
	SSL_set_mtu(c, 1400);
	SSL_set_connect_state(c);
	t = now_s();
	d = mdtls_new(sctx, fp, MDTLS_FP_LEN);
	*server_s += now_s() - t;
	for (int i = 0; i < 20; i++) {
		int moved = 0;

		SSL_do_handshake(c);
		n = BIO_read(wb, buf, sizeof(buf));
		t = now_s();
		if (n > 0) {
			mdtls_input(d, buf, (size_t)n);
			moved++;
		}
		while ((n = mdtls_output(d, buf, sizeof(buf))) > 0) {
			*server_s += now_s() - t;
			BIO_write(rb, buf, n);
			t = now_s();
			moved++;
		}
		*server_s += now_s() - t;
		if (!moved)
			break;
	}
	t = now_s();
	ok = mdtls_state(d) == MDTLS_DONE && mdtls_keys(d, &keys) == 0;
	mdtls_free(d);
	*server_s += now_s() - t;
	ok = ok && SSL_is_init_finished(c);
	if (ok && !r->cipher[0]) {
		snprintf(r->cipher, sizeof(r->cipher), "%s", SSL_get_cipher_name(c));
		snprintf(r->group, sizeof(r->group), "%s",
			OBJ_nid2sn(SSL_get_negotiated_group(c) & ~TLSEXT_nid_unknown));
	}
	SSL_free(c);
	ERR_clear_error();
	return ok;
}

static void run(struct row *r, struct mdtls_ctx *sctx, const char *offer)
{
	uint8_t fp[MDTLS_FP_LEN];
	SSL_CTX *cctx = client_ctx(offer, fp);
	double t0;

	for (int i = 0; i < 50; i++) { /* warm up */
		double ignored = 0;

		handshake(cctx, sctx, fp, &ignored, r);
	}
	t0 = now_s();
	for (int i = 0; i < r->n; i++) {
		if (!handshake(cctx, sctx, fp, &r->server_s, r)) {
			fprintf(stderr, "bench_dtls: handshake %d failed\n", i);
			exit(1);
		}
	}
	r->total_s = now_s() - t0;
	SSL_CTX_free(cctx);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	char err[128];
	struct mdtls_ctx *sctx = mdtls_ctx_new(err, sizeof(err));
	struct row rows[] = {
		{ .profile = "SRTP_AEAD_AES_128_GCM", .n = n },
		{ .profile = "SRTP_AES128_CM_SHA1_80", .n = n },
	};
	const char *offers[] = { "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
		"SRTP_AES128_CM_SHA1_80" };

	if (!sctx || n <= 0) {
		fprintf(stderr, "bench_dtls: %s\n", sctx ? "bad count" : err);
		return 1;
	}
	printf("DTLS 1.2 handshakes, one core, in memory (%s); %d per row\n",
		OpenSSL_version(OPENSSL_VERSION), n);
	printf("%-24s %-30s %-8s %12s %12s %12s %12s\n", "profile", "cipher", "group", "c+s us/hs",
		"c+s hs/s", "server us/hs", "server hs/s");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct row *r = &rows[i];

		run(r, sctx, offers[i]);
		printf("%-24s %-30s %-8s %12.1f %12.0f %12.1f %12.0f\n", r->profile, r->cipher,
			r->group, r->total_s * 1e6 / r->n, r->n / r->total_s,
			r->server_s * 1e6 / r->n, r->n / r->server_s);
	}
	mdtls_ctx_free(sctx);
	return 0;
}

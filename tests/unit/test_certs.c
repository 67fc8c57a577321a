/* Keys and certificates made at run time with OpenSSL for the unit tests: nothing is checked
 * in, so nothing expires in the repository. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "test_certs.h"

EVP_PKEY *tc_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int add_ext(STACK_OF(X509_EXTENSION) * *sk, X509 *x, X509V3_CTX *ctx, int nid,
	const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (!e)
		return -1;
	ok = sk ? X509v3_add_ext(sk, e, -1) != NULL : X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

static int set_time(ASN1_TIME *t, const char *when, long dflt_days)
{
	if (when)
		return ASN1_TIME_set_string_X509(t, when) ? 0 : -1;
	return X509_gmtime_adj(t, dflt_days * 86400) ? 0 : -1;
}

X509 *tc_cert(const struct tc_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	long serial = spec->serial ? spec->serial : 1000;
	X509_NAME *name;
	X509V3_CTX ctx;

	if (!x)
		return NULL;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) ||
		!ASN1_INTEGER_set_int64(X509_get_serialNumber(x), serial) ||
		set_time(X509_getm_notBefore(x), spec->not_before, -1) < 0 ||
		set_time(X509_getm_notAfter(x), spec->not_after, 365) < 0 ||
		!X509_set_pubkey(x, key) ||
		!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
			(const unsigned char *)spec->cn, -1, -1, 0) ||
		!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
		goto fail;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (add_ext(NULL, x, &ctx, NID_basic_constraints,
		    spec->ca ? "critical,CA:TRUE" : "CA:FALSE") < 0 ||
		add_ext(NULL, x, &ctx, NID_key_usage,
			spec->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") <
			0 ||
		add_ext(NULL, x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
		(!spec->ca &&
			add_ext(NULL, x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") < 0) ||
		(spec->san && add_ext(NULL, x, &ctx, NID_subject_alt_name, spec->san) < 0) ||
		!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

X509_REQ *tc_csr(const struct tc_spec *spec, EVP_PKEY *key)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_REQ *req = X509_REQ_new();
	X509V3_CTX ctx;
	int ok;

	if (!req)
		return NULL;
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	ok = X509_REQ_set_pubkey(req, key) &&
		X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
			(const unsigned char *)spec->cn, -1, -1, 0) &&
		(!spec->san ||
			(add_ext(&exts, NULL, &ctx, NID_subject_alt_name, spec->san) == 0 &&
				X509_REQ_add_extensions(req, exts))) &&
		X509_REQ_sign(req, key, EVP_sha256());
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (!ok) {
		X509_REQ_free(req);
		return NULL;
	}
	return req;
}

static FILE *open_in(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, "w");
}

int tc_write(const char *dir, const char *name, EVP_PKEY *key, X509 *const *certs, int n)
{
	FILE *f = open_in(dir, name);
	int ok;

	if (!f)
		return -1;
	ok = !key || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	for (int i = 0; ok && i < n; i++)
		ok = PEM_write_X509(f, certs[i]);
	return fclose(f) == 0 && ok ? 0 : -1;
}

int tc_write_csr(const char *dir, const char *name, X509_REQ *req)
{
	FILE *f = open_in(dir, name);
	int ok;

	if (!f)
		return -1;
	ok = PEM_write_X509_REQ(f, req);
	return fclose(f) == 0 && ok ? 0 : -1;
}

int tc_write_text(const char *dir, const char *name, const char *text)
{
	FILE *f = open_in(dir, name);
	int ok;

	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int tc_lab_make(struct tc_lab *lab)
{
	const struct tc_spec ca = { .cn = "Edge Lab CA", .ca = true, .serial = 1 };
	const struct tc_spec leaf = { .cn = "edge.lab.example",
		.san = "DNS:edge.lab.example,IP:198.18.20.1" };

	memset(lab, 0, sizeof(*lab));
	snprintf(lab->dir, sizeof(lab->dir), "/tmp/edge-certs-XXXXXX");
	if (!mkdtemp(lab->dir)) {
		lab->dir[0] = '\0';
		return -1;
	}
	lab->ca_key = tc_key();
	lab->key = tc_key();
	if (!lab->ca_key || !lab->key)
		return -1;
	lab->ca = tc_cert(&ca, lab->ca_key, NULL, NULL);
	lab->leaf = lab->ca ? tc_cert(&leaf, lab->key, lab->ca, lab->ca_key) : NULL;
	if (!lab->leaf)
		return -1;
	X509 *chain[] = { lab->leaf, lab->ca };
	if (tc_write(lab->dir, "edge.key", lab->key, NULL, 0) < 0 ||
		tc_write(lab->dir, "edge.cer", NULL, chain, 1) < 0 ||
		tc_write(lab->dir, "cmsedge-fullchain.cer", NULL, chain, 2) < 0 ||
		tc_write(lab->dir, "ca.pem", NULL, &lab->ca, 1) < 0)
		return -1;
	return 0;
}

void tc_lab_free(struct tc_lab *lab)
{
	DIR *d = lab->dir[0] ? opendir(lab->dir) : NULL;
	char path[512];

	for (struct dirent *e; d && (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", lab->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	if (lab->dir[0])
		rmdir(lab->dir);
	EVP_PKEY_free(lab->ca_key);
	EVP_PKEY_free(lab->key);
	X509_free(lab->ca);
	X509_free(lab->leaf);
	memset(lab, 0, sizeof(*lab));
}

/* Signing and checking the guests' JWTs (see web_jwt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "web_jwt.h"

static int alg_of(EVP_PKEY *pk, char *err, size_t errlen)
{
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC: {
		char group[64] = "";
		size_t gl;
		if (EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof(group), &gl) != 1 ||
			strcmp(group, "prime256v1")) {
			snprintf(err, errlen, "EC key on curve '%s': JWTs need P-256 (prime256v1)",
				group);
			return -EINVAL;
		}
		return JWT_ALG_ES256;
	}
	case EVP_PKEY_RSA:
		return JWT_ALG_RS256;
	default:
		snprintf(err, errlen, "key type %s cannot sign JWTs (EC P-256 or RSA)",
			OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
		return -EINVAL;
	}
}

/* PEM of @pk into @k (private or public). */
static int to_pem(struct web_jwt_key *k, EVP_PKEY *pk, int priv, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int alg = alg_of(pk, err, errlen);

	if (alg < 0 || !b) {
		BIO_free(b);
		return alg < 0 ? alg : -ENOMEM;
	}
	if ((priv ? PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) :
		    PEM_write_bio_PUBKEY(b, pk)) != 1) {
		BIO_free(b);
		snprintf(err, errlen, "cannot write the key as PEM");
		return -EINVAL;
	}
	n = BIO_get_mem_data(b, &data);
	k->pem = malloc((size_t)n + 1);
	if (!k->pem) {
		BIO_free(b);
		return -ENOMEM;
	}
	memcpy(k->pem, data, (size_t)n);
	k->pem[n] = '\0';
	k->len = (size_t)n;
	k->alg = alg;
	BIO_free(b);
	return 0;
}

int web_jwt_key_load(struct web_jwt_key *k, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pk;
	int rc;

	memset(k, 0, sizeof(*k));
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pk) {
		snprintf(err, errlen, "%s: not a PEM private key", path);
		ERR_clear_error();
		return -EINVAL;
	}
	rc = to_pem(k, pk, 1, err, errlen);
	EVP_PKEY_free(pk);
	return rc;
}

int web_jwt_key_from_cert(struct web_jwt_key *k, void *x509, char *err, size_t errlen)
{
	EVP_PKEY *pk = X509_get0_pubkey(x509);

	memset(k, 0, sizeof(*k));
	if (!pk) {
		snprintf(err, errlen, "certificate without a usable public key");
		return -EINVAL;
	}
	return to_pem(k, pk, 0, err, errlen);
}

void web_jwt_key_free(struct web_jwt_key *k)
{
	if (k->pem)
		OPENSSL_cleanse(k->pem, k->len);
	free(k->pem);
	memset(k, 0, sizeof(*k));
}

char *web_jwt_sign(const struct web_jwt_key *k, json_t *claims, time_t now, long lifetime)
{
	jwt_t *jwt = NULL;
	char *json = NULL, *tok = NULL;

	if (!k->pem || jwt_new(&jwt))
		return NULL;
	json = json_dumps(claims, JSON_COMPACT);
	if (json && !jwt_add_grants_json(jwt, json) && !jwt_add_grant_int(jwt, "iat", (long)now) &&
		!jwt_add_grant_int(jwt, "exp", (long)now + lifetime) &&
		!jwt_set_alg(jwt, k->alg, (const unsigned char *)k->pem, (int)k->len))
		tok = jwt_encode_str(jwt);
	free(json);
	jwt_free(jwt);
	return tok;
}

/* Part @i (0: header, 1: claims) of @token, base64url-decoded and parsed, unverified; NULL
 * if it is not a JSON object of at most 3 KB. */
static json_t *part(const char *token, int i)
{
	const char *p = token, *end;
	char b64[4100], raw[3100];
	size_t n = 0;
	int m;
	json_t *j;

	for (; i > 0 && p; i--)
		p = (p = strchr(p, '.')) ? p + 1 : NULL;
	if (!p || !(end = strchr(p, '.')) || end == p || (size_t)(end - p) > sizeof(b64) - 4)
		return NULL;
	/* base64url to base64, padded, for OpenSSL's decoder */
	for (; p < end; p++)
		b64[n++] = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	while (n % 4)
		b64[n++] = '=';
	m = EVP_DecodeBlock((unsigned char *)raw, (const unsigned char *)b64, (int)n);
	if (m <= 0 || m >= (int)sizeof(raw))
		return NULL;
	raw[m] = '\0';
	j = json_loads(raw, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The token's header names the algorithm; it must be the key's own. Checked before libjwt
 * sees the token: libjwt 1.10 would otherwise take "HS256" and use the public key, which
 * anyone has, as the HMAC secret. */
static int header_alg_ok(const char *token, int alg)
{
	json_t *h = part(token, 0);
	const char *a = json_string_value(json_object_get(h, "alg"));
	int ok = a && !strcmp(a, jwt_alg_str(alg));

	json_decref(h);
	return ok;
}

int web_jwt_peek(const char *token, const char *claim, char *buf, size_t len)
{
	json_t *c = part(token, 1);
	const char *v = json_string_value(json_object_get(c, claim));
	int rc = v && strlen(v) < len ? 0 : -ENOENT;

	if (!rc)
		snprintf(buf, len, "%s", v);
	json_decref(c);
	return rc;
}

int web_jwt_verify(const struct web_jwt_key *k, const char *token, time_t now, json_t **claims)
{
	jwt_t *jwt = NULL;
	char *json;
	long exp;
	int rc = -EBADMSG;

	*claims = NULL;
	if (!k->pem || !token || !header_alg_ok(token, k->alg))
		return -EBADMSG;
	if (jwt_decode(&jwt, token, (const unsigned char *)k->pem, (int)k->len) || !jwt)
		return -EBADMSG;
	if (jwt_get_alg(jwt) != (jwt_alg_t)k->alg)
		goto out;
	errno = 0;
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno)
		goto out;
	if (exp <= (long)now) {
		rc = -EKEYEXPIRED;
		goto out;
	}
	json = jwt_get_grants_json(jwt, NULL);
	if (json) {
		*claims = json_loads(json, 0, NULL);
		free(json);
	}
	rc = *claims ? 0 : -EBADMSG;
out:
	jwt_free(jwt);
	return rc;
}

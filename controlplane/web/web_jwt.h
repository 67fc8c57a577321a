/* The guests' tokens: the callbridge signs a JWT with its C2W key; webbridge3 checks it
 * against the public key of the certificate that callbridge showed on C2W. libjwt does the
 * work; this file fixes the algorithm by the key's type, so a token cannot choose it. */
#ifndef EDGE_WEB_JWT_H
#define EDGE_WEB_JWT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

struct web_jwt_key {
	char *pem; /* PEM: a private key to sign, a public key to check */
	size_t len;
	int alg; /* libjwt's jwt_alg_t: ES256 for EC P-256, RS256 for RSA */
};

/* Loads the private key in @path (PEM, EC P-256 or RSA). 0, -errno, or -EINVAL with @err. */
int web_jwt_key_load(struct web_jwt_key *k, const char *path, char *err, size_t errlen);
/* The public key of certificate @x509 (an OpenSSL X509 *). */
int web_jwt_key_from_cert(struct web_jwt_key *k, void *x509, char *err, size_t errlen);
void web_jwt_key_free(struct web_jwt_key *k);

/* Signs @claims (a JSON object of strings and integers) with iat = @now and
 * exp = @now + @lifetime. A malloc'd token, or NULL. */
char *web_jwt_sign(const struct web_jwt_key *k, json_t *claims, time_t now, long lifetime);

/* The string claim @claim of @token, UNVERIFIED: only to choose the key to verify it with
 * (which callbridge signed it). 0, or -ENOENT. */
int web_jwt_peek(const char *token, const char *claim, char *buf, size_t len);

/* Checks @token's algorithm, signature and expiry at @now. On success 0 and *@claims (a new
 * JSON object); -EKEYEXPIRED when expired, -EBADMSG otherwise. */
int web_jwt_verify(const struct web_jwt_key *k, const char *token, time_t now, json_t **claims);

#endif

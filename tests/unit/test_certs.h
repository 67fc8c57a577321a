/* Keys and certificates made at run time with OpenSSL, for the tests of what reads them
 * (test_pki, test_cli): a lab CA, the edge's key and certificate, and variations. */
#ifndef EDGE_TEST_CERTS_H
#define EDGE_TEST_CERTS_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct tc_spec {
	const char *cn;
	const char *san;	/* as openssl.cnf has it: "DNS:a.example,IP:198.18.20.1" */
	const char *not_before; /* "YYYYMMDDHHMMSSZ"; NULL: a day ago */
	const char *not_after;	/* NULL: a year on */
	bool ca;
	long serial; /* 0: 1000 */
};

/* An EC P-256 key. */
EVP_PKEY *tc_key(void);
/* A certificate for @key, signed by @issuer_key as @issuer (both NULL: self-signed). */
X509 *tc_cert(const struct tc_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key);
/* A CSR for @key with @spec's subject and SANs. */
X509_REQ *tc_csr(const struct tc_spec *spec, EVP_PKEY *key);

/* Writes @dir/@name: @key if not NULL, then @n certificates; 0 or -1. */
int tc_write(const char *dir, const char *name, EVP_PKEY *key, X509 *const *certs, int n);
int tc_write_csr(const char *dir, const char *name, X509_REQ *req);
int tc_write_text(const char *dir, const char *name, const char *text);

/* The lab: a temporary certificate directory holding
 *	edge.key		the edge's EC P-256 key
 *	edge.cer		its certificate (CN and DNS edge.lab.example, IP 198.18.20.1)
 *	cmsedge-fullchain.cer	the same, then the CA's
 *	ca.pem			the CA ("Edge Lab CA", self-signed)
 */
struct tc_lab {
	char dir[64];
	EVP_PKEY *ca_key, *key;
	X509 *ca, *leaf;
};

int tc_lab_make(struct tc_lab *lab);
/* Removes the directory and everything in it, frees the keys and certificates. */
void tc_lab_free(struct tc_lab *lab);

#endif

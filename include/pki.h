/* Key and certificate files for the appliance's TLS services: where a name the operator types
 * is looked up, and whether a key and its certificate chain belong together and hold now. */
#ifndef EDGE_PKI_H
#define EDGE_PKI_H

#include <stddef.h>

/* The path of @name: a bare file name is looked up in @cert_dir (edge_cfg.cert_dir), a name
 * holding a '/' is used as is. 0, -EINVAL (empty name, "." or ".."), or -ENAMETOOLONG. */
int pki_path(const char *cert_dir, const char *name, char *buf, size_t len);

/* Checks that the private key in @key (PEM: RSA, EC or Ed25519, unencrypted) belongs to the
 * first certificate in @cert, a PEM chain (server certificate first, then each issuer in
 * turn) whose certificates are all valid now, and that @bundle, if not NULL or "", holds at
 * least one certificate. Paths are full paths; messages name files by their base name:
 *	-errno		a file cannot be read ("edge.key: cannot read /path: ...")
 *	-EBADMSG	a file is not what it should be, or the chain is out of order
 *	-EKEYEXPIRED	a certificate has expired or is not valid yet (the message has its date)
 *	-EKEYREJECTED	the key does not match the server certificate
 * 0 when all holds (@err is then ""). */
int pki_check_pair(const char *key, const char *cert, const char *bundle, char *err, size_t errlen);

#endif

/* One TLS policy for every TLS endpoint of the appliance: TURN over TLS, webbridge3 (HTTPS
 * and C2W), the callbridge's C2W client and the webadmin. TLS 1.2 and later only; in TLS 1.2
 * forward secrecy and AEAD only (TLS 1.3 keeps OpenSSL's suites, all AEAD); no compression,
 * no renegotiation; the server's preference decides. libwebsockets vhosts take the two
 * macros (ssl_options_set, ssl_cipher_list); OpenSSL contexts of our own, tls_policy_apply(). */
#ifndef EDGE_TLS_POLICY_H
#define EDGE_TLS_POLICY_H

#include <errno.h>

#include <openssl/ssl.h>

#define TLS_POLICY_OPTIONS                                                                         \
	(SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION |           \
		SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE)
#define TLS_POLICY_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1"

static inline int tls_policy_apply(SSL_CTX *ctx)
{
	SSL_CTX_set_options(ctx, TLS_POLICY_OPTIONS);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
		!SSL_CTX_set_cipher_list(ctx, TLS_POLICY_TLS12_CIPHERS))
		return -EINVAL;
	return 0;
}

#endif

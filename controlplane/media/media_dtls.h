/* DTLS-SRTP for the media legs (RFC 5764, DTLS 1.2 on OpenSSL 3): the appliance's certificate
 * and one sans-I/O server object per leg, fed datagrams and drained of datagrams by the media
 * server, which owns sockets and timers. One thread (the control plane's) uses a context and
 * its legs. Functions return 0 or a negative errno unless they say otherwise. */
#ifndef EDGE_MEDIA_DTLS_H
#define EDGE_MEDIA_DTLS_H

#include <stddef.h>
#include <stdint.h>

#define MDTLS_MTU 1200			    /* the largest datagram we send: no MTU discovery */
#define MDTLS_FP_LEN 32			    /* SHA-256 */
#define MDTLS_FP_STR_LEN (MDTLS_FP_LEN * 3) /* "AB:CD:...", with the terminator */

/* The appliance's ECDSA P-256 self-signed certificate and the SSL_CTX that serves it. */
struct mdtls_ctx;

/* A new certificate and context; NULL with the reason in @err on failure. */
struct mdtls_ctx *mdtls_ctx_new(char *err, size_t errlen);
/* A new certificate for the legs made from now on. Existing legs keep the old one (each leg
 * holds a reference on the SSL_CTX it was made with), so their handshakes still complete. */
int mdtls_ctx_rotate(struct mdtls_ctx *c);
/* The current certificate's SHA-256 fingerprint, "AB:CD:..." (SDP a=fingerprint:sha-256). */
const char *mdtls_ctx_fingerprint(const struct mdtls_ctx *c);
/* Legs may outlive their context. */
void mdtls_ctx_free(struct mdtls_ctx *c);

/* One leg: the DTLS server side towards one browser. */
struct mdtls;

/* A leg with @c's current certificate that will accept only a client certificate whose
 * SHA-256 is @remote_fp (@fp_len = MDTLS_FP_LEN bytes, from the offer's a=fingerprint). NULL
 * with errno set (EINVAL: a fingerprint of another length; ENOMEM). */
struct mdtls *mdtls_new(struct mdtls_ctx *c, const uint8_t *remote_fp, size_t fp_len);
/* One datagram received (RFC 7983 says DTLS: first byte 20..63). Handshake records advance
 * the handshake; after it, alerts are handled (close_notify -> CLOSED) and application data
 * is ignored. Garbage is dropped by DTLS itself. 0, -EPROTO when this datagram made the leg
 * fail, -ENOTCONN when the leg had already failed or closed, -EMSGSIZE for an empty one. */
int mdtls_input(struct mdtls *d, const uint8_t *rec, size_t len);
/* The next datagram to send (its length), 0 when none, -ENOSPC when @cap is below its size
 * (MDTLS_MTU always suffices; the datagram stays queued). Call until 0 after every input,
 * timer and mdtls_close(). */
int mdtls_output(struct mdtls *d, uint8_t *buf, size_t cap);
/* -1: no timer; else milliseconds until mdtls_timer() is due (0: now). */
int64_t mdtls_timeout_ms(struct mdtls *d);
/* Retransmits the last flight when its timer has expired; gives up (FAILED) after OpenSSL's
 * retry limit. */
void mdtls_timer(struct mdtls *d);
/* Sends close_notify (to be drained with mdtls_output()) and marks the leg CLOSED. */
int mdtls_close(struct mdtls *d);

enum mdtls_state { MDTLS_HANDSHAKING, MDTLS_DONE, MDTLS_FAILED, MDTLS_CLOSED };
enum mdtls_state mdtls_state(const struct mdtls *d);
/* Why the leg FAILED or CLOSED, for its log line; "" otherwise. */
const char *mdtls_error(const struct mdtls *d);

/* The SRTP master keys and salts of a finished leg (RFC 5764 4.2). "client" is the browser:
 * its key protects what it sends (our unprotect), "server" what we send. */
struct mdtls_keys {
	int profile;		  /* RFC 5764/7714 ids: 1 AES128_CM_SHA1_80, 7 AEAD_AES_128_GCM */
	const char *profile_name; /* OpenSSL's name, "SRTP_AEAD_AES_128_GCM"; static */
	uint8_t client_key[16], client_salt[14], server_key[16], server_salt[14];
	size_t key_len, salt_len; /* 16; salt 14 for CM, 12 for GCM */
};

#define MDTLS_SRTP_AES128_CM_SHA1_80 1
#define MDTLS_SRTP_AEAD_AES_128_GCM 7

/* After DONE: the keys exported with "EXTRACTOR-dtls_srtp". -EAGAIN before DONE. */
int mdtls_keys(struct mdtls *d, struct mdtls_keys *k);
void mdtls_free(struct mdtls *d);

#endif

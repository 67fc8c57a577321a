/* The ICE-lite agent's answer to a connectivity check (RFC 8445 lite, RFC 8489 short-term
 * credentials, RFC 7675 consent): sans-I/O, over the datagram's bytes. The media server calls
 * mice_parse() to find the leg by its ufrag, then mice_answer() with that leg's ice-pwd. */
#ifndef EDGE_MEDIA_ICE_H
#define EDGE_MEDIA_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define MICE_UFRAG_MAX 64 /* with the terminator; RFC 8839 allows 4..256 ice-chars */

/* What a Binding request says, for the caller's leg lookup and nomination logic. */
struct mice_check {
	char local_ufrag[MICE_UFRAG_MAX];  /* ours: USERNAME before the ':' */
	char remote_ufrag[MICE_UFRAG_MAX]; /* the browser's: after the ':' */
	bool use_candidate;		   /* USE-CANDIDATE: nominates this path */
	bool controlling;		   /* ICE-CONTROLLING present (the normal case) */
	bool controlled;		   /* ICE-CONTROLLED present: a role conflict */
	uint64_t tiebreaker;		   /* the value of whichever of the two is present */
	uint32_t priority;		   /* PRIORITY, 0 when absent */
	uint8_t tid[STUN_TID_LEN];
};

/* Parses a Binding request into @c. Nothing is authenticated yet: use @c only to find the
 * leg, never to act on it before mice_answer() succeeds. Returns 0, -EBADMSG for a datagram
 * that is not a well-formed STUN message, -EINVAL for STUN that is not a Binding request or
 * lacks what a check must carry (USERNAME "ours:theirs" with both ufrags non-empty and
 * shorter than MICE_UFRAG_MAX, MESSAGE-INTEGRITY). */
int mice_parse(const uint8_t *buf, size_t len, struct mice_check *c);

/* Authenticates the request in @buf (parsed into @c) with our @local_pwd: FINGERPRINT when
 * present, then MESSAGE-INTEGRITY. On success writes the authenticated answer into @out:
 * a success response with XOR-MAPPED-ADDRESS of the sender @from_ip (network order),
 * @from_port (host order); or, as a lite agent must, 487 Role Conflict when the request says
 * ICE-CONTROLLED (see media_ice.c), or 420 for unknown comprehension-required attributes.
 * Returns the answer's length, or:
 *   -EACCES	wrong MESSAGE-INTEGRITY or FINGERPRINT: send nothing, count it (an unauthenticated
 *		request never gets an answer, so we reflect nothing);
 *   -EINVAL	@buf is not the request @c was parsed from, or not a check;
 *   -ENOSPC	@cap too small (120 bytes always suffice). */
int mice_answer(const uint8_t *buf, size_t len, const struct mice_check *c, const char *local_pwd,
	uint32_t from_ip, uint16_t from_port, uint8_t *out, size_t cap);

/* The same with the leg's key already made (stun_key_init() of stun_short_term_key(pwd),
 * once per leg: it saves OpenSSL's algorithm fetch per check) and a sender of either family. */
int mice_answer_key(const uint8_t *buf, size_t len, const struct mice_check *c,
	const struct stun_key *key, const struct stun_addr *from, uint8_t *out, size_t cap);

/* A leg's short-term key from its ice-pwd (free with stun_key_free()). */
int mice_key_init(struct stun_key *key, const char *local_pwd);

/* RFC 7675 5.1: a leg whose browser sent no check we answered with success for this long has
 * lost consent and ends. A 487 or 420 answer does not refresh it. */
#define MICE_CONSENT_TIMEOUT_MS 30000

#endif

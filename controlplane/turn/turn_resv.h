/* EVEN-PORT reservations (RFC 8656 7.2): the port after an allocation's even port, held for
 * a later Allocate that presents its RESERVATION-TOKEN. A fixed table: when every entry is
 * live a new reservation is refused (the server answers 508), never written over a live one;
 * an entry ends when its token is used, when it expires (its port is then handed back through
 * the release callback) or when the table is cleared. Written and read by the TURN control
 * plane only (one thread); nothing here is published to the data plane. */
#ifndef EDGE_TURN_RESV_H
#define EDGE_TURN_RESV_H

#include <stdint.h>

#define TURN_RESV_MAX 64
#define TURN_RESV_TOKEN_LEN 8
/* RFC 8656 7.2: "The server MUST hold this reservation for at least 30 seconds" */
#define TURN_RESV_LIFETIME_MS 30000
#define TURN_RESV_USER_LEN 128

struct turn_resv {
	uint8_t token[TURN_RESV_TOKEN_LEN]; /* RAND_bytes: not guessable, unique while live */
	uint16_t port;			    /* host order; 0: a free entry */
	uint64_t expires_ms;
	char user[TURN_RESV_USER_LEN]; /* the username whose Allocate made it */
};

struct turn_resv_table {
	struct turn_resv r[TURN_RESV_MAX];
	unsigned int n; /* entries in use */
};

/* Gives a reservation's port back (its owner marks it free). */
typedef void turn_resv_release_fn(void *ctx, uint16_t port);

/* Holds @port for @user until @now_ms + TURN_RESV_LIFETIME_MS and writes its new token into
 * @token: 0, -ENOSPC when every entry is live (expire first), -EIO when no random bytes. */
int turn_resv_add(struct turn_resv_table *t, uint16_t port, const char *user, uint64_t now_ms,
	uint8_t token[TURN_RESV_TOKEN_LEN]);
/* Uses @token for @user: its port (> 0), whose reservation ends (the port is the caller's
 * now); -ENOENT for no such live token; -EACCES for another user's (which stays held). */
int turn_resv_take(struct turn_resv_table *t, const uint8_t token[TURN_RESV_TOKEN_LEN],
	const char *user, uint64_t now_ms);
/* Ends the reservations whose time is up, releasing their ports: how many ended. */
unsigned int turn_resv_expire(struct turn_resv_table *t, uint64_t now_ms,
	turn_resv_release_fn *release, void *ctx);
/* Ends them all, releasing their ports. */
void turn_resv_clear(struct turn_resv_table *t, turn_resv_release_fn *release, void *ctx);

#endif

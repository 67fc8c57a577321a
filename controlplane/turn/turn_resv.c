/* EVEN-PORT reservations: a table of at most TURN_RESV_MAX held ports, each with a random
 * token bound to the username that got it (see turn_resv.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "turn_resv.h"

static bool token_live(const struct turn_resv_table *t, const uint8_t *token)
{
	for (int i = 0; i < TURN_RESV_MAX; i++)
		if (t->r[i].port && !memcmp(t->r[i].token, token, TURN_RESV_TOKEN_LEN))
			return true;
	return false;
}

int turn_resv_add(struct turn_resv_table *t, uint16_t port, const char *user, uint64_t now_ms,
	uint8_t token[TURN_RESV_TOKEN_LEN])
{
	struct turn_resv *e = NULL;

	for (int i = 0; i < TURN_RESV_MAX && !e; i++)
		if (!t->r[i].port)
			e = &t->r[i];
	if (!e)
		return -ENOSPC;
	/* 64 random bits: a collision among 64 live tokens is ~2^-52, but a token must name
	 * one port, so draw again rather than trust the odds */
	do {
		if (RAND_bytes(token, TURN_RESV_TOKEN_LEN) != 1)
			return -EIO;
	} while (token_live(t, token));
	memcpy(e->token, token, TURN_RESV_TOKEN_LEN);
	e->port = port;
	e->expires_ms = now_ms + TURN_RESV_LIFETIME_MS;
	snprintf(e->user, sizeof(e->user), "%s", user);
	t->n++;
	return 0;
}

/* RFC 8656 7.2 lets the token come from "any allowed 5-tuple ... a different client IP
 * address and port, a different transport protocol": the reservation is server-wide. What
 * binds it to the client that made it is the credential: only the same username may use it. */
int turn_resv_take(struct turn_resv_table *t, const uint8_t token[TURN_RESV_TOKEN_LEN],
	const char *user, uint64_t now_ms)
{
	for (int i = 0; i < TURN_RESV_MAX; i++) {
		struct turn_resv *e = &t->r[i];
		int port = e->port;

		if (!port || CRYPTO_memcmp(e->token, token, TURN_RESV_TOKEN_LEN))
			continue;
		if (e->expires_ms <= now_ms)
			return -ENOENT; /* the next expiry pass releases its port */
		if (strcmp(e->user, user))
			return -EACCES;
		memset(e, 0, sizeof(*e));
		t->n--;
		return port;
	}
	return -ENOENT;
}

unsigned int turn_resv_expire(struct turn_resv_table *t, uint64_t now_ms,
	turn_resv_release_fn *release, void *ctx)
{
	unsigned int n = 0;

	for (int i = 0; t->n && i < TURN_RESV_MAX; i++) {
		struct turn_resv *e = &t->r[i];

		if (!e->port || e->expires_ms > now_ms)
			continue;
		release(ctx, e->port);
		memset(e, 0, sizeof(*e));
		t->n--;
		n++;
	}
	return n;
}

void turn_resv_clear(struct turn_resv_table *t, turn_resv_release_fn *release, void *ctx)
{
	for (int i = 0; t->n && i < TURN_RESV_MAX; i++)
		if (t->r[i].port) {
			release(ctx, t->r[i].port);
			memset(&t->r[i], 0, sizeof(t->r[i]));
			t->n--;
		}
}

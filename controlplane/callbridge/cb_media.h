/* The callbridge's side of a guest's media: its SDP offers answered for the media server
 * (ICE-lite, DTLS passive, one receive pair per other participant) and renegotiation when
 * the meeting's participants change. Runs on the callbridge's thread. */
#ifndef CB_MEDIA_H
#define CB_MEDIA_H

#include <jansson.h>

#include "cb_model.h"
#include "media.h"

struct cb_media_io {
	void *ctx;
	/* Sends @msg (taken) to @leg's browser over its web bridge. */
	void (*to_guest)(void *ctx, struct cb_leg *leg, json_t *msg);
	/* `callbridge simulcast enable`: a guest's video may come as up to MEDIA_MAX_LAYERS
	 * layers (RFC 8853), each receiver given one under an SSRC of ours */
	bool simulcast;
};

/* A guest's offer: answered, or refused with a {"type":"media","state":"error"} message
 * naming why. True when the leg's media started with it (the others must renegotiate). */
bool cb_media_offer(struct media_server *ms, const struct cb_media_io *io, struct cb_leg *leg,
	const char *sdp);
/* After @c's participants changed: asks each guest whose receive pairs no longer match the
 * others' media to renegotiate. */
void cb_media_check(const struct cb_media_io *io, struct cb_call *c);
/* The sources @leg takes, for the media server, after its answer. */
void cb_media_leave(struct media_server *ms, struct cb_leg *leg, const char *why);

#endif

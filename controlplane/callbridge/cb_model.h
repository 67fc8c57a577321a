/* The callbridge's live meetings: conferences (API calls), call legs and participants.
 * Soft state, never on disk: owned by the callbridge thread (cb.c), which holds
 * cb_model.lock while it changes anything; readers (the REST API, edgectl) take the lock
 * too. */
#ifndef CB_MODEL_H
#define CB_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CB_ID_LEN 37	  /* a UUID and its NUL */
#define CB_MAX_PAIRS 24	  /* other participants a guest receives (media_tables.h) */
#define CB_CALL_SSRCS 256 /* SSRCs a call remembers */

struct cb_call;

/* One guest in one conference: the API's callLeg (id = the web app's participant id) and
 * its participant (a separate id, as in the real API). */
struct cb_leg {
	char id[CB_ID_LEN];		/* API call leg id; the JWT's "participant" */
	char participant_id[CB_ID_LEN]; /* API participant id */
	char guest[20];			/* guest account, "guestNNNNNNNNNN" */
	char name[64];			/* display name ("Thomas") */
	char remote[64];		/* browser's address, as webbridge3 saw it */
	char user_agent[32];		/* "Chrome", "Firefox", ... */
	int call_no;			/* the log's "call N" (per callbridge, from 1) */
	time_t started;
	bool session; /* the guest's WebSocket is up */
	bool audio_muted, video_muted;
	bool offer_seen;	   /* an SDP offer arrived */
	unsigned int n_candidates; /* ICE candidates that arrived */
	unsigned int link;	   /* which C2W link carries it */
	/* media (cb_media.c, the callbridge's thread only): what its last offer said, and
	 * which source each of its receive pairs (an audio and a video m-line) carries */
	bool media_open; /* an answer went out: it sends and receives */
	uint32_t audio_ssrc, video_ssrc;
	char cname[64];
	char video_codec[16];			/* what it sends video with: "VP8", "H264" */
	char pair_src[CB_MAX_PAIRS][CB_ID_LEN]; /* the source's leg id, "" = free */
	unsigned int n_pairs;			/* receive pairs in its last offer */
	uint64_t sdp_session, sdp_version;	/* the answers' o= line: one session, counted */
	struct cb_call *call;
	struct cb_leg *next; /* in call->legs */
};

/* A conference: created on the first join to a space, destroyed after the last leave. */
struct cb_call {
	char id[CB_ID_LEN];	    /* API call id; the JWT's "call" */
	char correlator[CB_ID_LEN]; /* Call Correlator GUID */
	char internal[CB_ID_LEN];   /* the log's conference id (Internal GUID) */
	char media[CB_ID_LEN];	    /* control/media GUID */
	char cospace[CB_ID_LEN];    /* API coSpace id */
	char name[256];		    /* the space's name ("9999") */
	time_t started;
	unsigned int n_legs;
	unsigned int max_legs; /* most legs it has had at once */
	bool roster_due;       /* its roster changed: sent to everyone shortly */
	/* every SSRC a leg of this call ever sent (cb_media.c): another leg may never take one,
	 * while receivers that got it could still hold it (the call's life) */
	struct {
		uint32_t ssrc;
		char leg[CB_ID_LEN];
	} ssrcs[CB_CALL_SSRCS];
	unsigned int n_ssrcs;
	struct cb_leg *legs;
	struct cb_call *next;
};

struct cb_model {
	pthread_mutex_t lock;
	struct cb_call *calls;
	unsigned int n_calls;
	char guid[CB_ID_LEN]; /* this callbridge's GUID (JWT "callbridge") */
	/* called by cb_conf_leave() before a leg goes (its media ends), lock not held */
	void (*on_leave)(void *ctx, struct cb_leg *l, const char *why);
	void *on_leave_ctx;
};

#endif

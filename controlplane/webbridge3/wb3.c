/* webbridge3 (see wb3.h and docs/webbridge3.md): the web app's files and POST /api/join on
 * the HTTPS listeners, the guests' signalling WebSockets on /api/ws, and the C2W listener
 * where callbridges connect with a client certificate that must chain to `c2w trust`.
 * A join travels to a callbridge over C2W and its answer comes back to the waiting HTTP
 * request; a guest's WebSocket is bound to the callbridge that signed its JWT. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "edge_log.h"
#include "pki.h"
#include "tls_policy.h"
#include "wb3.h"
#include "../web/web.h"
#include "../web/web_jwt.h"

#ifndef EDGE_WEBAPP_DIR
#define EDGE_WEBAPP_DIR "/usr/share/edge/webapp"
#endif

#define WB3_JOIN_TIMEOUT_S 10
#define WB3_MAX_BODY 8192	      /* POST /api/join */
#define WB3_MAX_WS_MSG (64 * 1024)    /* a browser's message: an SDP offer fits */
#define WB3_MAX_WS_QUEUE (512 * 1024) /* waiting for a slow browser */
#define WB3_MAX_JOINS_WAITING 256     /* joins the callbridges have not answered yet */
#define C2W_MAX_MSG (256 * 1024)
#define WB3_MAX_MEDIA 8 /* media ports a callbridge may announce */
#define C2W_MAX_QUEUE (8 * 1024 * 1024)
/* What guests' signalling may fill of a link's queue: past it their messages are refused
 * (callBridgeBusy) and the rest is kept for joins, sessions and leaves. */
#define C2W_GUEST_QUEUE (C2W_MAX_QUEUE / 2)
#define C2W_LOG_EVERY_S 10		     /* a link's dropped messages: a line, then a count */
enum { WB3_LOG_TOO_BIG = 16, WB3_LOG_BUSY }; /* web_log_once tags (the joins' are below) */

/* A callbridge connected over C2W: the lws per-session data of the "c2w" protocol. */
struct wb3_link {
	struct lws *wsi;
	struct wb3_link *next;
	char guid[WEB_UUID_LEN]; /* from its hello; "" until then */
	char peer[64];
	char subject[128];	/* its certificate's subject */
	struct web_jwt_key key; /* its certificate's public key: checks its JWTs */
	struct web_msgq q;
	struct web_rx rx;
	time_t since;
	unsigned long joins;
	bool broken;		  /* no longer usable: closing (the callbridge redials) */
	unsigned long too_big_rx; /* its messages dropped: over C2W_MAX_MSG */
	time_t logged_rx;
	struct wb3_media media[WB3_MAX_MEDIA]; /* its media ports, from its "media" message */
	unsigned int n_media;
};

/* A request on the HTTPS listeners' "/api" mount; a join waits here for its callbridge. */
struct wb3_http {
	struct lws *wsi;
	struct wb3_http *next; /* in wb3.joins while waiting */
	struct wb3_link *link;
	struct web_rx body;
	lws_sorted_usec_list_t sul; /* the join's deadline */
	uint32_t req;
	bool post, too_big, waiting, ready;
	bool close; /* answered before its body was read: close after */
	char path[64];
	char session[WEB_UUID_LEN];
	char name[65];
	char peer[64];
	char referer[160], ua[200];
	struct timespec t0;
	unsigned int status;
	char *answer;
	size_t answer_len;
	char participant[WEB_UUID_LEN];
};

/* A guest's signalling WebSocket: the lws per-session data of "wb3-signalling". */
struct wb3_guest {
	struct lws *wsi;
	struct wb3_guest *next;
	struct wb3_link *link; /* NULL once its callbridge is gone */
	struct web_msgq q;
	struct web_rx rx;
	bool authed, left, closing;
	double tokens; /* messages it may still send now (rate_ok) */
	struct timespec refill;
	char participant[WEB_UUID_LEN], call[WEB_UUID_LEN], callbridge[WEB_UUID_LEN];
	char guest[24], name[65];
	char session[WEB_UUID_LEN];
	char ua[200];
};

/* Failed joins (unknown meeting, wrong passcode) an address may have in a minute; each join
 * is counted when it goes to the callbridge and given back when it was not such a failure,
 * so joins in flight count too. Addresses tracked: a table full of blocked addresses refuses
 * newcomers (addr_limit.h). */
#define WB3_MAX_FAILS 10
#define WB3_FAIL_WINDOW_S 60
#define WB3_FAIL_KEYS 8192
/* Joins one address may have waiting for a callbridge: a browser makes one at a time. */
#define WB3_MAX_JOINS_PER_ADDR 8
enum { WB3_LOG_FAILS, WB3_LOG_JOINS }; /* web_log_once tags */

struct wb3 {
	struct web_svc svc;   /* the thread; svc.cfg is the running configuration */
	pthread_mutex_t lock; /* the lists, for readers in other threads */
	bool destroying;      /* lws_context_destroy is closing everything */
	bool running;
	struct lws_context *ctx; /* the thread's */
	char guid[WEB_UUID_LEN];
	struct wb3_link *links;
	struct wb3_guest *guests;
	struct wb3_http *joins;
	uint32_t next_req;
	unsigned int rr; /* round robin over callbridges */
	/* what the vhosts point at while the context lives */
	struct lws_http_mount mount_api, mount_root;
	struct lws_protocol_vhost_options hdr_csp, hdr_nosniff, hdr_referrer, hdr_hsts;
	char csp[512];
	char webapp_dir[256];
	/* the listeners' addresses (lws keeps the pointers: they live as long as the context)
	 * and, for each HTTPS one, where port 80 sends a browser */
	char https_addrs[WEB_MAX_LISTEN][WEB_IF_ADDRS][46],
		c2w_addrs[WEB_MAX_LISTEN][WEB_IF_ADDRS][46];
	char https_urls[WEB_MAX_LISTEN][WEB_IF_ADDRS][80];
	struct addr_limit *fails;    /* failed joins per address (the thread's) */
	struct addr_limit *log_once; /* what a stranger triggers, logged once a minute */
	unsigned long joins_ok, joins_failed;
	/* failed joins by reason (wb3_join_fail_reasons), for wb3_figures: this thread adds,
	 * any thread reads, both atomically */
	uint64_t join_fails[WB3_JOIN_FAIL_REASONS];
	unsigned long c2w_too_big; /* guests' messages refused: too large for C2W */
	unsigned long c2w_busy;	   /* guests' messages refused: C2W_GUEST_QUEUE full */
	struct wb3_services services;
};

static void ts_now(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static double ts_since(const struct timespec *t0)
{
	struct timespec t;

	ts_now(&t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Text a stranger sent, made safe for one log line. */
static void clean(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; src && *src && i + 1 < len; src++)
		dst[i++] = (*src >= 0x20 && *src < 0x7f && *src != '"') ? *src : '?';
	dst[i] = '\0';
}

static const char *browser_of(const char *ua)
{
	if (strstr(ua, "Firefox/"))
		return "Firefox";
	if (strstr(ua, "Edg/"))
		return "Edge";
	if (strstr(ua, "Chrome/") || strstr(ua, "HeadlessChrome/"))
		return "Chrome";
	if (strstr(ua, "Safari/"))
		return "Safari";
	return "unknown";
}

/* ---- sending ---- */

static int send_json(struct lws *wsi, struct web_msgq *q, json_t *msg, size_t max)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	int rc = s ? web_msgq_push(wsi, q, s, strlen(s), max) : -ENOMEM;

	free(s);
	json_decref(msg);
	return rc;
}

/* A link that cannot carry what it must (its callbridge does not read, or speaks garbage)
 * is closed, never left up and deaf: the callbridge redials, its guests are told. */
static void link_kill(struct wb3_link *l, const char *why)
{
	if (l->broken)
		return;
	l->broken = true;
	LOG_WARN("webbridge3", "C2W: callbridge %s at %s: %s: closing the link",
		l->guid[0] ? l->guid : "(no hello)", l->peer, why);
	if (l->wsi)
		lws_set_timeout(l->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

/* Queues @msg (taken) for a callbridge if it fits what the callbridge reads (C2W_MAX_MSG,
 * measured as sent: -EMSGSIZE, the link carries on) and @max bytes of queue (-ENOBUFS). */
static int link_push(struct wb3_link *l, json_t *msg, size_t max)
{
	size_t len;
	char *s;
	int rc = web_json_dump(msg, C2W_MAX_MSG, &s, &len);

	if (!rc)
		rc = l->broken ? -ENOTCONN : web_msgq_push(l->wsi, &l->q, s, len, max);
	free(s);
	return rc;
}

static int link_send(struct wb3_link *l, json_t *msg)
{
	int rc = link_push(l, msg, C2W_MAX_QUEUE);

	if (rc == -ENOBUFS)
		link_kill(l, "it reads nothing (8 MB waiting)");
	else if (rc < 0)
		LOG_WARN("webbridge3", "C2W: callbridge %s: message not sent (%s)", l->guid,
			strerror(-rc));
	return rc;
}

/* Ends a guest's socket once what is queued for it is out, or in 5 s if it does not read. */
static void guest_closing(struct wb3_guest *g)
{
	if (!g->closing) {
		g->closing = true;
		lws_set_timeout(g->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
	}
	lws_callback_on_writable(g->wsi);
}

/* A browser sends a few messages a second (a burst of ICE candidates at the start): 20 a
 * second with bursts of 60 is far above that and far below a flood. */
#define GUEST_MSG_RATE 20.0
#define GUEST_MSG_BURST 60.0

static bool rate_ok(struct wb3_guest *g)
{
	struct timespec now;

	ts_now(&now);
	if (!g->refill.tv_sec) {
		g->tokens = GUEST_MSG_BURST;
	} else {
		g->tokens += GUEST_MSG_RATE *
			((double)(now.tv_sec - g->refill.tv_sec) +
				(double)(now.tv_nsec - g->refill.tv_nsec) / 1e9);
		if (g->tokens > GUEST_MSG_BURST)
			g->tokens = GUEST_MSG_BURST;
	}
	g->refill = now;
	if (g->tokens < 1.0)
		return false;
	g->tokens -= 1.0;
	return true;
}

static void guest_send(struct wb3_guest *g, json_t *msg)
{
	if (send_json(g->wsi, &g->q, msg, WB3_MAX_WS_QUEUE) < 0)
		guest_closing(g); /* a browser that reads nothing: end it, not queue forever */
}

static void guest_error(struct wb3_guest *g, const char *code, const char *message)
{
	guest_send(g,
		json_pack("{s:s, s:s, s:s}", "type", "error", "error", code, "message", message));
}

static void guest_end(struct wb3_guest *g, const char *reason)
{
	guest_send(g, json_pack("{s:s, s:s}", "type", "ended", "reason", reason));
	guest_closing(g);
}

/* ---- joins waiting for a callbridge ---- */

static void join_unlink(struct wb3 *w, struct wb3_http *h)
{
	for (struct wb3_http **pp = &w->joins; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	h->next = NULL;
	h->waiting = false;
	lws_sul_cancel(&h->sul);
}

/* The answer to a join, sent when the HTTP connection is writable. Takes @body. */
static void join_answer(struct wb3 *w, struct wb3_http *h, unsigned int status, json_t *body)
{
	if (h->waiting)
		join_unlink(w, h);
	h->status = status;
	h->answer = json_dumps(body, JSON_COMPACT);
	h->answer_len = h->answer ? strlen(h->answer) : 0;
	json_decref(body);
	h->ready = true;
	if (status == 200)
		__atomic_fetch_add(&w->joins_ok, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&w->joins_failed, 1, __ATOMIC_RELAXED);
	lws_callback_on_writable(h->wsi);
}

const char *const wb3_join_fail_reasons[WB3_JOIN_FAIL_REASONS] = { "badRequest", "meetingNotFound",
	"passcodeRequired", "invalidPasscode", "guestAccessDisabled", "nonMemberAccessDisabled",
	"participantLimitReached", "tooManyParticipants", "tooManyJoins", "tooManyAttempts",
	"callBridgeUnavailable", "callBridgeTimeout", "other" };

static void join_fail(struct wb3 *w, struct wb3_http *h, unsigned int status, const char *code,
	const char *message)
{
	unsigned int i = 0;

	/* the callbridge's codes are a stranger's text to us: anything unknown is "other" */
	while (i < WB3_JOIN_FAIL_REASONS - 1 && strcmp(code, wb3_join_fail_reasons[i]))
		i++;
	__atomic_fetch_add(&w->join_fails[i], 1, __ATOMIC_RELAXED);
	join_answer(w, h, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

static void join_timeout(lws_sorted_usec_list_t *sul)
{
	struct wb3_http *h = lws_container_of(sul, struct wb3_http, sul);
	struct wb3 *w = lws_context_user(lws_get_context(h->wsi));

	LOG_WARN("webbridge3", "join %u: no answer from callbridge %s in %d s", h->req,
		h->link ? h->link->guid : "?", WB3_JOIN_TIMEOUT_S);
	web_limit_refund(w->fails, h->peer, 0); /* not the guest's failure */
	join_fail(w, h, 504, "callBridgeTimeout", "The meeting server did not answer. Try again.");
}

static unsigned int status_of(const char *code)
{
	if (!strcmp(code, "meetingNotFound"))
		return 404;
	if (!strcmp(code, "passcodeRequired") || !strcmp(code, "invalidPasscode") ||
		!strcmp(code, "guestAccessDisabled") || !strcmp(code, "nonMemberAccessDisabled"))
		return 403;
	if (!strcmp(code, "badRequest"))
		return 400;
	if (!strcmp(code, "participantLimitReached"))
		return 409;
	if (!strcmp(code, "tooManyParticipants"))
		return 429;
	return 503;
}

static struct wb3_link *pick_link(struct wb3 *w)
{
	unsigned int n = 0, i = 0;

	for (struct wb3_link *l = w->links; l; l = l->next)
		n += l->guid[0] != '\0';
	if (!n)
		return NULL;
	unsigned int want = w->rr++ % n;
	for (struct wb3_link *l = w->links; l; l = l->next)
		if (l->guid[0] && i++ == want)
			return l;
	return NULL;
}

/* A string field of a browser's JSON, present, 1..@max bytes, printable. */
static const char *field(json_t *o, const char *key, size_t max, bool required, char *why,
	size_t wlen)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v || json_is_null(v)) {
		if (required)
			snprintf(why, wlen, "%s is missing", key);
		return required ? NULL : "";
	}
	s = json_string_value(v);
	if (!s) {
		snprintf(why, wlen, "%s must be a string", key);
		return NULL;
	}
	if (strlen(s) > max || (required && !*s)) {
		snprintf(why, wlen, "%s must be 1 to %zu characters", key, max);
		return NULL;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(why, wlen, "%s holds a control character", key);
			return NULL;
		}
	return s;
}

static void join_start(struct wb3 *w, struct wb3_http *h)
{
	json_error_t jerr;
	json_t *o = h->body.buf ? json_loads(h->body.buf, 0, &jerr) : NULL;
	const char *id, *pass, *name;
	char why[96] = "", safe[65];
	struct wb3_link *l;

	if (!json_is_object(o)) {
		json_decref(o);
		join_fail(w, h, 400, "badRequest", "The request is not a JSON object.");
		return;
	}
	if (!(id = field(o, "meetingId", 64, true, why, sizeof(why))) ||
		!(pass = field(o, "passcode", 32, false, why, sizeof(why))) ||
		!(name = field(o, "name", 63, true, why, sizeof(why)))) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Bad request: %s.", why);
		json_decref(o);
		join_fail(w, h, 400, "badRequest", msg);
		return;
	}
	snprintf(h->name, sizeof(h->name), "%s", name);
	web_uuid(h->session);
	clean(safe, sizeof(safe), name);
	edge_log(LOG_INFO, "client_backend",
		"INFO : WebApp Audit : Session: %s : Participant %s performed action of join call",
		h->session, safe);
	unsigned int waiting = 0, mine = 0;
	for (struct wb3_http *j = w->joins; j; j = j->next) {
		waiting++;
		mine += web_addr_same(j->peer, h->peer);
	}
	if (mine >= WB3_MAX_JOINS_PER_ADDR) {
		json_decref(o);
		if (web_log_once(w->log_once, h->peer, WB3_LOG_JOINS))
			LOG_WARN("webbridge3",
				"join from %s: %u of its joins already waiting: "
				"refusing more (logged once a minute)",
				h->peer, mine);
		join_fail(w, h, 429, "tooManyJoins",
			"Too many joins from your address at once. Wait a moment and try again.");
		return;
	}
	/* counted as a failure now, given back when the answer says otherwise */
	if (!web_limit_take(w->fails, h->peer, 0)) {
		json_decref(o);
		join_fail(w, h, 429, "tooManyAttempts",
			"Too many attempts. Wait a minute and try again.");
		return;
	}
	if (waiting >= WB3_MAX_JOINS_WAITING) {
		web_limit_refund(w->fails, h->peer, 0);
		json_decref(o);
		LOG_WARN("webbridge3", "join from %s: %u joins already waiting for a callbridge",
			h->peer, waiting);
		join_fail(w, h, 503, "callBridgeUnavailable",
			"The meeting service is busy. Try again in a moment.");
		return;
	}
	l = pick_link(w);
	if (!l) {
		web_limit_refund(w->fails, h->peer, 0);
		json_decref(o);
		LOG_WARN("webbridge3", "join from %s: no callbridge connected over C2W", h->peer);
		join_fail(w, h, 503, "callBridgeUnavailable",
			"The meeting service is not available right now. Try again later.");
		return;
	}
	h->req = ++w->next_req;
	h->link = l;
	l->joins++;
	if (link_send(l,
		    json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "join", "req",
			    (json_int_t)h->req, "session", h->session, "meetingId", id, "passcode",
			    pass, "name", name, "userAgent", browser_of(h->ua), "remote",
			    h->peer)) < 0) {
		web_limit_refund(w->fails, h->peer, 0);
		json_decref(o);
		join_fail(w, h, 503, "callBridgeUnavailable",
			"The meeting service is not available right now. Try again later.");
		return;
	}
	json_decref(o);
	h->waiting = true;
	h->next = w->joins;
	w->joins = h;
	lws_sul_schedule(lws_get_context(h->wsi), 0, &h->sul, join_timeout,
		WB3_JOIN_TIMEOUT_S * LWS_US_PER_SEC);
}

/* The callbridge's joinResult. */
static void join_result(struct wb3 *w, struct wb3_link *l, json_t *m)
{
	uint32_t req = (uint32_t)json_integer_value(json_object_get(m, "req"));
	struct wb3_http *h;

	for (h = w->joins; h && h->req != req; h = h->next)
		;
	if (!h || h->link != l) {
		/* the browser went away, or it timed out: the guest the callbridge made for it
		 * will never come; let it go at once */
		const char *p = json_string_value(json_object_get(m, "participant"));
		if (json_is_true(json_object_get(m, "ok")) && p)
			link_send(l,
				json_pack("{s:s, s:s, s:s}", "type", "leave", "participant", p,
					"reason", "closed"));
		return;
	}
	if (!json_is_true(json_object_get(m, "ok"))) {
		const char *code = json_string_value(json_object_get(m, "error"));
		const char *msg = json_string_value(json_object_get(m, "message"));
		code = code ? code : "callBridgeUnavailable";
		if (strcmp(code, "meetingNotFound") && strcmp(code, "invalidPasscode"))
			web_limit_refund(w->fails, h->peer, 0);
		else if (web_limit_over(w->fails, h->peer, 0) &&
			web_log_once(w->log_once, h->peer, WB3_LOG_FAILS))
			LOG_WARN("webbridge3",
				"%s: %u failed joins in %d s: refusing its joins for a "
				"while",
				h->peer, WB3_MAX_FAILS, WB3_FAIL_WINDOW_S);
		join_fail(w, h, status_of(code), code, msg ? msg : "The join was refused.");
		return;
	}
	web_limit_refund(w->fails, h->peer, 0);
	const char *p = json_string_value(json_object_get(m, "participant"));
	snprintf(h->participant, sizeof(h->participant), "%s", p ? p : "");
	json_t *a = json_pack("{s:O?, s:O?, s:O?, s:O?, s:s, s:O?}", "jwt",
		json_object_get(m, "jwt"), "participant", json_object_get(m, "participant"), "call",
		json_object_get(m, "call"), "conference", json_object_get(m, "conference"), "ws",
		"/api/ws", "iceServers", json_object_get(m, "iceServers"));
	join_answer(w, h, 200, a);
}

/* nginx-style access line, as the guide's wb3_frontend prints it. */
static void access_log(struct wb3_http *h, size_t sent)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	edge_log(LOG_INFO, "wb3_frontend",
		"[Join call:%s] %s - - [%s] status %u \"%s /api%s HTTP/1.1\" bytes_sent %zu "
		"http_referer \"%s\" http_user_agent \"%s\" request_time %.3f",
		h->participant[0] ? h->participant : "-", h->peer, date, h->status,
		h->post ? "POST" : "GET", h->path, sent, h->referer, h->ua, ts_since(&h->t0));
}

static int http_send_answer(struct wb3_http *h)
{
	static const struct web_hdr hdrs[] = { { "cache-control:", "no-store" },
		{ "x-content-type-options:", "nosniff" }, { NULL, NULL } };
	char *answer = h->answer;
	size_t len = h->answer_len;
	struct lws *wsi = h->wsi;

	/* log and forget first: answering may end the transaction and free @h */
	access_log(h, len);
	h->ready = false;
	h->answer = NULL;
	bool close = h->close;
	int rc = web_respond(wsi, h->status, "application/json", hdrs, answer ? answer : "{}",
		answer ? len : 2);
	free(answer);
	/* a body we did not read must not be taken for the next request */
	return close ? -1 : rc;
}

static int cb_api(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	struct wb3_http *h = user;
	struct wb3 *w = lws_context_user(lws_get_context(wsi));
	char cl[16];

	if (!h) /* after the transaction ended, lws may call us without our data */
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (h->waiting)
			join_unlink(w, h);
		free(h->answer);
		web_rx_reset(&h->body);
		memset(h, 0, sizeof(*h));
		h->wsi = wsi;
		ts_now(&h->t0);
		clean(h->path, sizeof(h->path), in ? (const char *)in : "");
		web_peer(wsi, h->peer, sizeof(h->peer));
		{
			char tmp[200];
			if (lws_hdr_copy(wsi, tmp, sizeof(tmp), WSI_TOKEN_HTTP_USER_AGENT) < 0)
				tmp[0] = '\0';
			clean(h->ua, sizeof(h->ua), tmp);
			if (lws_hdr_copy(wsi, tmp, sizeof(tmp), WSI_TOKEN_HTTP_REFERER) < 0)
				tmp[0] = '\0';
			clean(h->referer, sizeof(h->referer), tmp);
		}
		h->post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
		h->close = h->post; /* until its body is read */
		if (strcmp(h->path, "/join")) {
			h->status = 404;
			h->answer =
				strdup("{\"error\":\"notFound\",\"message\":\"No such page.\"}");
			h->answer_len = h->answer ? strlen(h->answer) : 0;
			return http_send_answer(h);
		}
		if (!h->post) {
			h->status = 405;
			h->answer = strdup("{\"error\":\"badRequest\",\"message\":\"Use POST.\"}");
			h->answer_len = h->answer ? strlen(h->answer) : 0;
			return http_send_answer(h);
		}
		{
			/* JSON only: a cross-site form can post text/plain, not this */
			char ct[64];
			if (lws_hdr_copy(wsi, ct, sizeof(ct), WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0 ||
				strncasecmp(ct, "application/json", 16)) {
				join_fail(w, h, 415, "badRequest", "The request must be JSON.");
				h->close = true;
				return 0;
			}
		}
		if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
			atol(cl) <= 0) {
			join_fail(w, h, 400, "badRequest", "The request has no body.");
			h->close = true;
			return 0;
		}
		if (atol(cl) > WB3_MAX_BODY) {
			join_fail(w, h, 413, "badRequest", "The request is too large.");
			h->close = true;
			return 0;
		}
		h->close = false;
		return 0; /* the body follows */
	case LWS_CALLBACK_HTTP_BODY:
		if (!h->too_big && web_rx_add(&h->body, in, len, WB3_MAX_BODY) < 0)
			h->too_big = true;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (h->ready)
			return 0;
		if (h->too_big)
			join_fail(w, h, 413, "badRequest", "The request is too large.");
		else
			join_start(w, h);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (h->ready)
			return http_send_answer(h);
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (h->waiting)
			join_unlink(w, h);
		lws_sul_cancel(&h->sul);
		free(h->answer);
		h->answer = NULL;
		web_rx_reset(&h->body);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---- guests' WebSockets ---- */

static struct wb3_guest *guest_by_participant(struct wb3 *w, const char *p)
{
	for (struct wb3_guest *g = w->guests; g; g = g->next)
		if (g->authed && !strcmp(g->participant, p))
			return g;
	return NULL;
}

static struct wb3_link *link_by_guid(struct wb3 *w, const char *guid)
{
	for (struct wb3_link *l = w->links; l; l = l->next)
		if (l->guid[0] && !strcmp(l->guid, guid))
			return l;
	return NULL;
}

static void guest_auth(struct wb3 *w, struct wb3_guest *g, json_t *m)
{
	const char *tok = json_string_value(json_object_get(m, "jwt"));
	json_t *claims = NULL;
	struct wb3_link *l = NULL;
	int rc = -EBADMSG;

	/* which callbridge signed it: read the claim unverified, then verify with its key */
	char signer[WEB_UUID_LEN];
	if (tok && !web_jwt_peek(tok, "callbridge", signer, sizeof(signer)))
		l = link_by_guid(w, signer);
	if (l)
		rc = web_jwt_verify(&l->key, tok, time(NULL), &claims);
	if (rc < 0) {
		char peer[64];
		web_peer(g->wsi, peer, sizeof(peer));
		const char *what = rc == -EKEYEXPIRED ? "expired" :
			l			      ? "invalid" :
							"unknown callbridge's";
		LOG_WARN("client_backend", "WARNING : WebSocket : %s token from %s refused", what,
			peer);
		guest_send(g,
			json_pack("{s:s, s:s, s:s}", "type", "error", "error",
				rc == -EKEYEXPIRED ? "expiredToken" : "invalidToken", "message",
				rc == -EKEYEXPIRED ? "Your session has expired. Join again." :
						     "Your session is not valid. Join again."));
		guest_closing(g);
		return;
	}
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *call = json_string_value(json_object_get(claims, "call"));
	const char *part = json_string_value(json_object_get(claims, "participant"));
	const char *name = json_string_value(json_object_get(claims, "name"));
	const char *conf = json_string_value(json_object_get(claims, "conference"));
	if (!sub || !call || !part || strlen(part) >= sizeof(g->participant)) {
		json_decref(claims);
		guest_error(g, "invalidToken", "Your session is not valid. Join again.");
		guest_closing(g);
		return;
	}
	if (guest_by_participant(w, part)) {
		json_decref(claims);
		guest_error(g, "alreadyConnected", "This session is already in use.");
		guest_closing(g);
		return;
	}
	snprintf(g->participant, sizeof(g->participant), "%s", part);
	snprintf(g->call, sizeof(g->call), "%s", call);
	snprintf(g->callbridge, sizeof(g->callbridge), "%s", l->guid);
	snprintf(g->guest, sizeof(g->guest), "%s", sub);
	snprintf(g->name, sizeof(g->name), "%s", name ? name : "");
	const char *sess = json_string_value(json_object_get(claims, "session"));
	snprintf(g->session, sizeof(g->session), "%s", sess ? sess : "");
	g->link = l;
	g->authed = true;
	edge_log(LOG_INFO, "client_backend",
		"INFO : WebSocket : Got authenticated JWT for %s callbridge %s call %s participant "
		"%s "
		"tracing 0",
		g->guest, l->guid, g->call, g->participant);
	/* the callbridge's word on simulcast, in its JWT: the web app asks for layers (or not)
	 * in its first offer, which follows this message */
	guest_send(g,
		json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "authenticated", "participant",
			g->participant, "name", g->name, "conference", conf ? conf : "",
			"simulcast", json_is_true(json_object_get(claims, "simulcast"))));
	link_send(l,
		json_pack("{s:s, s:s, s:s}", "type", "session", "participant", g->participant,
			"userAgent", browser_of(g->ua)));
	json_decref(claims);
}

static void guest_leave_audit(struct wb3_guest *g)
{
	char safe[65];

	clean(safe, sizeof(safe), g->name);
	edge_log(LOG_INFO, "client_backend",
		"INFO : WebApp Audit : Session: %s : Participant %s(%s) performed action of leave "
		"call",
		g->session, safe, g->participant);
}

/* Checks a browser's signalling message before it goes to the callbridge. */
static const char *signal_ok(json_t *m, const char *type)
{
	if (!strcmp(type, "offer")) {
		const char *sdp = json_string_value(json_object_get(m, "sdp"));
		return sdp && !strncmp(sdp, "v=0", 3) ? NULL : "offer: sdp must be an SDP text";
	}
	if (!strcmp(type, "candidate")) {
		json_t *c = json_object_get(m, "candidate");
		if (!json_is_string(c) || json_string_length(c) > 1024)
			return "candidate: candidate must be a string";
		return NULL;
	}
	if (!strcmp(type, "mute")) {
		json_t *a = json_object_get(m, "audio"), *v = json_object_get(m, "video");
		if ((a && !json_is_boolean(a)) || (v && !json_is_boolean(v)) || (!a && !v))
			return "mute: audio and video must be true or false";
		return NULL;
	}
	if (!strcmp(type, "view")) { /* how high the page shows a participant's video */
		json_t *p = json_object_get(m, "participant"), *h = json_object_get(m, "height");
		if (!json_is_string(p) || json_string_length(p) == 0 || json_string_length(p) > 64)
			return "view: participant must be a participant id";
		if (!json_is_integer(h) || json_integer_value(h) < 0 ||
			json_integer_value(h) > 16383)
			return "view: height must be an integer from 0 to 16383";
		return NULL;
	}
	return "unknown message type";
}

/* Whether @v holds only what the protocol has: no number that is not an integer (jansson
 * writes 0.1 back as 0.10000000000000001, five times as long) and no deep nesting. */
static bool plain(json_t *v, int depth)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_real(v) || depth > 8)
		return false;
	if (json_is_object(v))
		json_object_foreach(v, k, e) if (!plain(e, depth + 1)) return false;
	if (json_is_array(v))
		json_array_foreach(v, i, e) if (!plain(e, depth + 1)) return false;
	return true;
}

/* A guest's offer, candidate or mute, on to its callbridge as "signal". Measured as it will
 * be sent before anything else: a message the callbridge cannot read must never reach C2W
 * (it cost every guest of the link their joins), and the guest is told. */
static void guest_signal(struct wb3 *w, struct wb3_guest *g, json_t *m)
{
	struct wb3_link *l = g->link;
	char *s, peer[64];
	size_t len;
	int rc = web_json_dump(json_pack("{s:s, s:s, s:O}", "type", "signal", "participant",
				       g->participant, "msg", m),
		C2W_MAX_MSG, &s, &len);

	if (rc == -EMSGSIZE) {
		w->c2w_too_big++;
		web_peer(g->wsi, peer, sizeof(peer));
		if (web_log_once(w->log_once, peer, WB3_LOG_TOO_BIG))
			LOG_WARN("webbridge3",
				"guest %s from %s: a message of %zu bytes would "
				"be %zu on C2W, over its %d: refused (too large for C2W; %lu so "
				"far, logged once a minute per address)",
				g->participant, peer, g->rx.len, len, C2W_MAX_MSG, w->c2w_too_big);
		guest_error(g, "messageTooLarge",
			"That message is too large to pass on to the meeting server.");
		return;
	}
	if (!rc && !plain(m, 0)) {
		free(s);
		guest_error(g, "badMessage", "Numbers must be integers, and nesting shallow.");
		return;
	}
	if (!rc)
		rc = l->broken ? -ENOTCONN : web_msgq_push(l->wsi, &l->q, s, len, C2W_GUEST_QUEUE);
	free(s);
	if (rc == -ENOBUFS) {
		w->c2w_busy++;
		web_peer(g->wsi, peer, sizeof(peer));
		if (web_log_once(w->log_once, peer, WB3_LOG_BUSY))
			LOG_WARN("webbridge3",
				"C2W: callbridge %s has %d bytes waiting: guests' "
				"messages refused (%lu so far, logged once a minute per address)",
				l->guid, C2W_GUEST_QUEUE, w->c2w_busy);
		guest_error(g, "callBridgeBusy",
			"The meeting server is busy: that message was not sent. Try again.");
	} else if (rc < 0) {
		guest_error(g, "callBridgeUnavailable", "The meeting server is not connected.");
	}
}

static void guest_message(struct wb3 *w, struct wb3_guest *g)
{
	json_t *m = json_loads(g->rx.buf, 0, NULL);
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *why;

	if (!json_is_object(m) || !type) {
		guest_error(g, "badMessage", "A message must be a JSON object with a type.");
		json_decref(m);
		return;
	}
	if (!g->authed) {
		if (!strcmp(type, "auth"))
			guest_auth(w, g, m);
		else {
			guest_error(g, "notAuthenticated", "Send auth first.");
			guest_closing(g);
		}
		json_decref(m);
		return;
	}
	if (!strcmp(type, "leave")) {
		if (!g->left) {
			g->left = true;
			guest_leave_audit(g);
			if (g->link)
				link_send(g->link,
					json_pack("{s:s, s:s, s:s}", "type", "leave", "participant",
						g->participant, "reason", "left"));
		}
		guest_send(g, json_pack("{s:s}", "type", "left"));
		guest_closing(g);
		json_decref(m);
		return;
	}
	why = signal_ok(m, type);
	if (why)
		guest_error(g, "badMessage", why);
	else if (!g->link)
		guest_error(g, "callBridgeUnavailable", "The meeting server is not connected.");
	else
		guest_signal(w, g, m);
	json_decref(m);
}

static void guest_unlink(struct wb3 *w, struct wb3_guest *g)
{
	pthread_mutex_lock(&w->lock);
	for (struct wb3_guest **pp = &w->guests; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	pthread_mutex_unlock(&w->lock);
}

static int cb_signalling(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	struct wb3_guest *g = user;
	struct wb3 *w = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		char tmp[200];
		memset(g, 0, sizeof(*g));
		g->wsi = wsi;
		if (lws_hdr_copy(wsi, tmp, sizeof(tmp), WSI_TOKEN_HTTP_USER_AGENT) < 0)
			tmp[0] = '\0';
		clean(g->ua, sizeof(g->ua), tmp);
		pthread_mutex_lock(&w->lock);
		g->next = w->guests;
		w->guests = g;
		pthread_mutex_unlock(&w->lock);
		/* a socket that never authenticates does not stay */
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 30);
		return 0;
	}
	case LWS_CALLBACK_RECEIVE: {
		if (g->closing)
			return 0;
		/* an oversized message is dropped whole; the next fragment starts the next one */
		int rc = web_rx_msg(&g->rx, in, len, web_rx_final(wsi), WB3_MAX_WS_MSG);
		if (!rc)
			return 0;
		if (!rate_ok(g)) {
			/* a flood: each message costs the callbridge, and rosters go to everyone */
			web_rx_reset(&g->rx);
			guest_error(g, "tooManyMessages", "Too many messages.");
			guest_closing(g);
			return 0;
		}
		if (rc < 0) {
			guest_error(g, "badMessage", "Message too large (over 64 KB).");
			return 0;
		}
		guest_message(w, g);
		if (g->authed)
			lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		web_rx_reset(&g->rx);
		if (g->closing)
			lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (web_msgq_write(wsi, &g->q) < 0)
			return -1;
		if (g->closing && !g->q.head) {
			lws_close_reason(wsi, g->left ? LWS_CLOSE_STATUS_NORMAL : 4001,
				(unsigned char *)"bye", 3);
			return -1;
		}
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (g->authed && !g->left) {
			g->left = true;
			guest_leave_audit(g);
			if (g->link && !w->destroying)
				link_send(g->link,
					json_pack("{s:s, s:s, s:s}", "type", "leave", "participant",
						g->participant, "reason", "closed"));
		}
		guest_unlink(w, g);
		web_msgq_clear(&g->q);
		web_rx_reset(&g->rx);
		return 0;
	default:
		return 0;
	}
}

/* ---- C2W: callbridges ---- */

/* Tells the appliance the media ports of every linked callbridge. */
static void media_publish(struct wb3 *w)
{
	struct wb3_media *all;
	unsigned int n = 0;

	if (!w->services.media_ports)
		return;
	for (struct wb3_link *l = w->links; l; l = l->next)
		n += l->n_media;
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all) {
		LOG_ERRX("webbridge3",
			"out of memory: the callbridges' media ports are not passed on");
		return;
	}
	n = 0;
	for (struct wb3_link *l = w->links; l; l = l->next)
		for (unsigned int i = 0; i < l->n_media; i++)
			all[n++] = l->media[i];
	w->services.media_ports(w->services.ctx, all, n);
	free(all);
}

/* A callbridge's "media" message: its media ports as "a.b.c.d:port" strings. Anything
 * else in the list is refused whole (logged), and the link's ports are then none. */
static void link_media(struct wb3 *w, struct wb3_link *l, json_t *a)
{
	size_t i;
	json_t *v;

	l->n_media = 0;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v), *colon = s ? strrchr(s, ':') : NULL;
		char ip[16], *end;
		struct in_addr in;
		unsigned long port;

		if (!colon || colon - s >= (ptrdiff_t)sizeof(ip) || l->n_media >= WB3_MAX_MEDIA)
			goto bad;
		memcpy(ip, s, (size_t)(colon - s));
		ip[colon - s] = '\0';
		port = strtoul(colon + 1, &end, 10);
		if (inet_pton(AF_INET, ip, &in) != 1 || *end || !colon[1] || !port || port > 65535)
			goto bad;
		l->media[l->n_media++] =
			(struct wb3_media){ .ip = in.s_addr, .port = htons((uint16_t)port) };
	}
	if (!json_is_array(a))
		goto bad;
	LOG_INFO_("webbridge3", "C2W: callbridge %s has %u media port%s", l->guid, l->n_media,
		l->n_media == 1 ? "" : "s");
	media_publish(w);
	return;
bad:
	l->n_media = 0;
	LOG_WARN("webbridge3",
		"C2W: callbridge %s sent media ports that are not a list of "
		"\"a.b.c.d:port\": none taken",
		l->guid);
	media_publish(w);
}

/* A "signal" for several of the link's guests (a roster): written once, queued for each. */
static void link_signal_many(struct wb3 *w, struct wb3_link *l, json_t *m)
{
	json_t *msg = json_object_get(m, "msg"), *p;
	size_t i, len;
	char *s;

	if (!json_is_object(msg) || !(s = json_dumps(msg, JSON_COMPACT)))
		return;
	len = strlen(s);
	json_array_foreach(json_object_get(m, "participants"), i, p)
	{
		const char *id = json_string_value(p);
		struct wb3_guest *g = id ? guest_by_participant(w, id) : NULL;
		if (g && g->link == l && !g->left &&
			web_msgq_push(g->wsi, &g->q, s, len, WB3_MAX_WS_QUEUE) < 0)
			guest_closing(g); /* a browser that reads nothing */
	}
	free(s);
}

/* One whole message from a callbridge. -EBADMSG: not a JSON object, so the link cannot be
 * trusted to be in step any more (close it). */
static int link_message(struct wb3 *w, struct wb3_link *l, const char *buf)
{
	json_t *m = json_loads(buf, 0, NULL);
	const char *type = json_string_value(json_object_get(m, "type"));

	if (!json_is_object(m)) {
		json_decref(m);
		return -EBADMSG;
	}
	if (!type) {
		LOG_WARN("webbridge3", "C2W: callbridge at %s sent a message without a type",
			l->peer);
	} else if (!strcmp(type, "hello")) {
		const char *guid = json_string_value(json_object_get(m, "guid"));
		struct wb3_link *other = guid ? link_by_guid(w, guid) : NULL;
		if (l->guid[0] || !guid || strlen(guid) != WEB_UUID_LEN - 1 || other) {
			/* a GUID is a callbridge's for good: its JWTs are checked with its key */
			const char *why = l->guid[0] ? "a second hello" :
				other ? "its GUID is another connected callbridge's" :
					"hello without a GUID";
			LOG_WARN("webbridge3", "C2W: callbridge at %s (%s): %s: closing", l->peer,
				l->subject, why);
			l->broken = true;
			if (l->wsi)
				lws_set_timeout(l->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
					LWS_TO_KILL_ASYNC);
		} else {
			pthread_mutex_lock(&w->lock);
			snprintf(l->guid, sizeof(l->guid), "%s", guid);
			pthread_mutex_unlock(&w->lock);
			LOG_INFO_("webbridge3", "C2W: callbridge %s connected from %s (%s)",
				l->guid, l->peer, l->subject);
		}
	} else if (!l->guid[0]) {
		LOG_WARN("webbridge3", "C2W: callbridge at %s spoke before its hello", l->peer);
	} else if (!strcmp(type, "media")) {
		link_media(w, l, json_object_get(m, "addresses"));
	} else if (!strcmp(type, "joinResult")) {
		join_result(w, l, m);
	} else if (!strcmp(type, "signal") && json_object_get(m, "participants")) {
		link_signal_many(w, l, m);
	} else if (!strcmp(type, "signal") || !strcmp(type, "drop")) {
		const char *p = json_string_value(json_object_get(m, "participant"));
		struct wb3_guest *g = p ? guest_by_participant(w, p) : NULL;
		if (g && g->link == l && !g->left) {
			if (!strcmp(type, "drop")) {
				const char *why = json_string_value(json_object_get(m, "reason"));
				g->left = true; /* the callbridge ended it: no leave to send back */
				guest_leave_audit(g);
				guest_end(g, why ? why : "The meeting ended.");
			} else if (json_is_object(json_object_get(m, "msg"))) {
				guest_send(g, json_incref(json_object_get(m, "msg")));
			}
		}
	}
	json_decref(m);
	return 0;
}

static bool log_due(time_t *last)
{
	time_t now = time(NULL);

	if (*last && now - *last < C2W_LOG_EVERY_S)
		return false;
	*last = now;
	return true;
}

/* One fragment from a callbridge (@final: its message's last). A message over C2W_MAX_MSG
 * is dropped whole (counted) and the next one read; one that is not JSON closes the link.
 * Needs no socket: the fuzzer calls it. -1: close the connection. */
static int link_receive(struct wb3 *w, struct wb3_link *l, const void *in, size_t len, bool final)
{
	int rc = web_rx_msg(&l->rx, in, len, final, C2W_MAX_MSG);

	if (l->broken)
		return -1;
	if (rc == -EMSGSIZE || rc == -ENOMEM) {
		l->too_big_rx++;
		if (log_due(&l->logged_rx))
			LOG_WARN("webbridge3",
				"C2W: callbridge %s: a message over %d bytes "
				"dropped (%lu so far); reading the next",
				l->guid, C2W_MAX_MSG, l->too_big_rx);
		return 0;
	}
	if (rc <= 0)
		return 0;
	rc = link_message(w, l, l->rx.buf);
	web_rx_reset(&l->rx);
	if (rc < 0) {
		link_kill(l, "it sent a message that is not a JSON object");
		return -1;
	}
	return l->broken ? -1 : 0;
}

static void link_closed(struct wb3 *w, struct wb3_link *l)
{
	pthread_mutex_lock(&w->lock);
	for (struct wb3_link **pp = &w->links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	pthread_mutex_unlock(&w->lock);
	if (l->n_media) {
		l->n_media = 0;
		media_publish(w); /* l is off the list: its ports go */
	}
	if (w->destroying) {
		for (struct wb3_guest *g = w->guests; g; g = g->next)
			if (g->link == l)
				g->link = NULL;
		web_msgq_clear(&l->q);
		web_rx_reset(&l->rx);
		web_jwt_key_free(&l->key);
		return;
	}
	for (struct wb3_http *h = w->joins, *n; h; h = n) {
		n = h->next;
		if (h->link == l) {
			/* not a failed guess: the callbridge went away (a restart) before answering */
			web_limit_refund(w->fails, h->peer, 0);
			join_fail(w, h, 503, "callBridgeUnavailable",
				"The meeting server went away. Try again.");
		}
	}
	for (struct wb3_guest *g = w->guests; g; g = g->next)
		if (g->link == l) {
			g->link = NULL;
			if (!g->left) {
				g->left = true;
				guest_leave_audit(g);
				guest_end(g, "The connection to the meeting server was lost.");
			}
		}
	if (l->guid[0] || l->peer[0])
		LOG_WARN("webbridge3", "C2W: callbridge %s at %s disconnected",
			l->guid[0] ? l->guid : "(no hello)", l->peer);
	web_msgq_clear(&l->q);
	web_rx_reset(&l->rx);
	web_jwt_key_free(&l->key);
}

static int cb_c2w(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	struct wb3_link *l = user;
	struct wb3 *w = lws_context_user(lws_get_context(wsi));
	char err[160];

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		memset(l, 0, sizeof(*l));
		l->wsi = wsi;
		l->since = time(NULL);
		web_peer(wsi, l->peer, sizeof(l->peer));
		SSL *ssl = lws_get_ssl(wsi);
		X509 *x = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
		if (!x) {
			LOG_WARN("webbridge3", "C2W: refusing %s: no client certificate", l->peer);
			return -1;
		}
		X509_NAME_oneline(X509_get_subject_name(x), l->subject, sizeof(l->subject));
		int rc = web_jwt_key_from_cert(&l->key, x, err, sizeof(err));
		X509_free(x);
		if (rc < 0) {
			LOG_WARN("webbridge3", "C2W: refusing callbridge at %s: %s", l->peer, err);
			return -1;
		}
		pthread_mutex_lock(&w->lock);
		l->next = w->links;
		w->links = l;
		pthread_mutex_unlock(&w->lock);
		link_send(l,
			json_pack("{s:s, s:s, s:s}", "type", "hello", "guid", w->guid, "role",
				"webbridge3"));
		return 0;
	}
	case LWS_CALLBACK_RECEIVE:
		return link_receive(w, l, in, len, web_rx_final(wsi));
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return web_msgq_write(wsi, &l->q);
	case LWS_CALLBACK_CLOSED:
		link_closed(w, l);
		return 0;
	default:
		return 0;
	}
}

/* the TLS listeners whose certificates are replaced while they serve (web_svc_reload) */
enum { WB3_TLS_HTTPS, WB3_TLS_C2W };

/* protocol[0] of the C2W listener: refuses a client certificate that does not chain to the
 * trust bundle, and says why in the log (the guide: without the trust step WebRTC fails). */
static int cb_c2w_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
		struct wb3 *w = lws_vhost_user(in);

		web_svc_tls_seen(&w->svc, WB3_TLS_C2W, user);
		return 0;
	}
	if (reason == LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION) {
		X509_STORE_CTX *xs = user;
		SSL *ssl = in;
		char subj[160] = "?", peer[64];

		if (len) /* OpenSSL's own check passed */
			return 0;
		/* name the callbridge's own certificate, whichever link of its chain failed */
		X509 *x = X509_STORE_CTX_get0_cert(xs);
		if (x)
			X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
		web_fd_peer(SSL_get_fd(ssl), peer, sizeof(peer));
		static time_t last;
		time_t now = time(NULL);
		if (now != last) {
			last = now;
			LOG_WARN("webbridge3",
				"C2W: refused the callbridge at %s: certificate %s: %s "
				"(is its CA in 'webbridge3 c2w trust'?)",
				peer, subj,
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
		}
		return 1;
	}
	if (reason == LWS_CALLBACK_HTTP)
		return web_respond(wsi, 404, "text/plain", NULL, "C2W only\n", 9);
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int cert_paths(const struct web_svc *svc, int tag, const struct edge_cfg *cfg, char *key,
	char *cert, size_t len);

static int cb_https_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
		struct wb3 *w = lws_vhost_user(in);

		web_svc_tls_seen(&w->svc, WB3_TLS_HTTPS, user);
		return 0;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols https_protocols[] = { { "http", cb_https_http, 0, 0, 0, NULL, 0 },
	{ "wb3-api", cb_api, sizeof(struct wb3_http), 0, 0, NULL, 0 },
	{ "wb3-signalling", cb_signalling, sizeof(struct wb3_guest), 8192, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 } };

static const struct lws_protocols c2w_protocols[] = { { "c2w-http", cb_c2w_http, 0, 0, 0, NULL, 0 },
	{ "c2w", cb_c2w, sizeof(struct wb3_link), 16384, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 } };

/* ---- the context ---- */

/* every TLS endpoint of the appliance shares one policy (tls_policy.h) */
#define TLS_OPTS TLS_POLICY_OPTIONS
#define TLS12_CIPHERS TLS_POLICY_TLS12_CIPHERS

/* what build() did, for the operator who restarted */
#define SAY(...) web_svc_say(&w->svc, __VA_ARGS__)

static int paths(const struct edge_cfg *cfg, const char *key, const char *cert, char *kp, char *cp,
	size_t len)
{
	if (!key[0] || !cert[0] || pki_path(cfg->cert_dir, key, kp, len) < 0 ||
		pki_path(cfg->cert_dir, cert, cp, len) < 0)
		return -ENOENT;
	return 0;
}

static int cert_paths(const struct web_svc *svc, int tag, const struct edge_cfg *cfg, char *key,
	char *cert, size_t len)
{
	const struct cfg_webbridge3 *c = &cfg->wb3;

	(void)svc;
	return tag == WB3_TLS_HTTPS ? paths(cfg, c->https_key, c->https_cert, key, cert, len) :
				      paths(cfg, c->c2w_key, c->c2w_cert, key, cert, len);
}

static int build(struct web_svc *svc, struct lws_context **ctxp)
{
	struct wb3 *w = (struct wb3 *)svc;
	const struct edge_cfg *cfg = &w->svc.cfg;
	const struct cfg_webbridge3 *c = &cfg->wb3;
	struct lws_context_creation_info ci;
	struct lws_context_creation_info vi;
	char key[300], cert[300], trust[300], name[48];
	int nv = 0;

	if (!c->enabled)
		return SAY(0, "webbridge3: disabled\n");
	if (cfg->role == EDGE_ROLE_CORE)
		return SAY(0, "webbridge3: not on this appliance (role core)\n");
	memset(&ci, 0, sizeof(ci));
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.user = w;
	ci.port = CONTEXT_PORT_NO_LISTEN;
	w->ctx = lws_create_context(&ci);
	if (!w->ctx)
		return SAY(-ENOMEM, "webbridge3: cannot create the web server\n");

	snprintf(w->webapp_dir, sizeof(w->webapp_dir), "%s",
		c->webapp_dir[0] ? c->webapp_dir : EDGE_WEBAPP_DIR);
	/* the web app loads only its own files and talks only to us; who may frame it is the
	 * operator's `https frame-ancestors` */
	snprintf(w->csp, sizeof(w->csp),
		"default-src 'self'; connect-src 'self' wss:; "
		"img-src 'self' data:; media-src 'self' blob: mediastream:; base-uri 'none'; "
		"form-action 'self'; frame-ancestors %s",
		c->frame_ancestors[0] ? c->frame_ancestors : "'self'");
	w->hdr_csp = (struct lws_protocol_vhost_options){ &w->hdr_nosniff, NULL,
		"content-security-policy:", w->csp };
	w->hdr_nosniff = (struct lws_protocol_vhost_options){ &w->hdr_referrer, NULL,
		"x-content-type-options:", "nosniff" };
	w->hdr_referrer = (struct lws_protocol_vhost_options){ &w->hdr_hsts, NULL,
		"referrer-policy:", "same-origin" };
	w->hdr_hsts = (struct lws_protocol_vhost_options){ NULL, NULL,
		"strict-transport-security:", "max-age=31536000" };
	memset(&w->mount_api, 0, sizeof(w->mount_api));
	w->mount_api.mount_next = &w->mount_root;
	w->mount_api.mountpoint = "/api";
	w->mount_api.mountpoint_len = 4;
	w->mount_api.origin = "wb3-api";
	w->mount_api.origin_protocol = LWSMPRO_CALLBACK;
	memset(&w->mount_root, 0, sizeof(w->mount_root));
	w->mount_root.mountpoint = "/";
	w->mount_root.mountpoint_len = 1;
	w->mount_root.origin = w->webapp_dir;
	w->mount_root.def = "index.html";
	w->mount_root.origin_protocol = LWSMPRO_FILE;
	w->mount_root.cache_max_age = 0;

	if (paths(cfg, c->https_key, c->https_cert, key, cert, sizeof(key)) < 0)
		SAY(0,
			"webbridge3: no HTTPS certificate ('webbridge3 https certs'): not listening "
			"for browsers\n");
	else
		for (int i = 0; i < c->n_https; i++) {
			const char *ifn = cfg->ifs[c->https[i].ifi].name;
			int na = web_if_addrs(cfg, c->https[i].ifi, w->https_addrs[i]);

			if (!na)
				SAY(0, "webbridge3: interface %s has no address\n", ifn);
			for (int k = 0; k < na; k++) {
				const char *ip = w->https_addrs[i][k];

				memset(&vi, 0, sizeof(vi));
				snprintf(name, sizeof(name), "https-%s-%u-%d", ifn,
					c->https[i].port, k);
				vi.vhost_name = name;
				web_vhost_addr(&vi, ip); /* that address only */
				vi.port = c->https[i].port;
				vi.protocols = https_protocols;
				vi.mounts = &w->mount_api;
				vi.headers = &w->hdr_csp;
				vi.retry_and_idle_policy = &web_idle_policy;
				vi.ssl_cert_filepath = cert;
				vi.ssl_private_key_filepath = key;
				vi.ssl_options_set = TLS_OPTS;
				vi.ssl_cipher_list = TLS12_CIPHERS;
				vi.alpn = "http/1.1";
				vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
				vi.user = w;
				if (!lws_create_vhost(w->ctx, &vi)) {
					SAY(0,
						"webbridge3: cannot listen on %s port %u (HTTPS; see "
						"the log)\n",
						ip, vi.port);
					continue;
				}
				nv++;
				SAY(0, "webbridge3: HTTPS on %s:%u (%s port %u)\n", ifn, vi.port,
					ip, vi.port);
				if (!c->http_redirect)
					continue;
				web_https_url(w->https_urls[i][k], sizeof(w->https_urls[i][k]), ip,
					c->https[i].port);
				memset(&vi, 0, sizeof(vi));
				snprintf(name, sizeof(name), "redirect-%s-%d", ifn, k);
				vi.vhost_name = name;
				web_vhost_addr(&vi, ip);
				vi.port = 80;
				vi.protocols = web_redirect_protocols;
				vi.user = w->https_urls[i][k];
				if (lws_create_vhost(w->ctx, &vi))
					SAY(0, "webbridge3: HTTP redirect on %s port 80\n", ip);
				else
					SAY(0,
						"webbridge3: cannot listen on %s port 80 for the "
						"redirect\n",
						ip);
			}
		}

	if (paths(cfg, c->c2w_key, c->c2w_cert, key, cert, sizeof(key)) < 0 || !c->c2w_trust[0] ||
		pki_path(cfg->cert_dir, c->c2w_trust, trust, sizeof(trust)) < 0)
		SAY(0,
			"webbridge3: C2W needs 'webbridge3 c2w certs' and 'webbridge3 c2w trust': "
			"no callbridge can connect\n");
	else
		for (int i = 0; i < c->n_c2w; i++) {
			const char *ifn = cfg->ifs[c->c2w[i].ifi].name;
			int na = web_if_addrs(cfg, c->c2w[i].ifi, w->c2w_addrs[i]);

			for (int k = 0; k < na; k++) {
				const char *ip = w->c2w_addrs[i][k];

				memset(&vi, 0, sizeof(vi));
				snprintf(name, sizeof(name), "c2w-%s-%u-%d", ifn, c->c2w[i].port,
					k);
				vi.vhost_name = name;
				web_vhost_addr(&vi, ip); /* that address only */
				vi.port = c->c2w[i].port;
				vi.protocols = c2w_protocols;
				vi.ssl_cert_filepath = cert;
				vi.ssl_private_key_filepath = key;
				vi.ssl_ca_filepath = trust;
				vi.retry_and_idle_policy = &web_link_idle_policy;
				vi.ssl_options_set = TLS_OPTS;
				vi.ssl_cipher_list = TLS12_CIPHERS;
				vi.alpn = "http/1.1";
				vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
					LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
				vi.user = w;
				if (!lws_create_vhost(w->ctx, &vi)) {
					SAY(0,
						"webbridge3: cannot listen on %s port %u (C2W; see the "
						"log)\n",
						ip, vi.port);
					continue;
				}
				nv++;
				SAY(0, "webbridge3: C2W on %s:%u (%s port %u), trusting %s\n", ifn,
					vi.port, ip, vi.port, c->c2w_trust);
			}
		}
	if (!nv) {
		lws_context_destroy(w->ctx);
		w->ctx = NULL;
		return SAY(-EADDRNOTAVAIL, "webbridge3: nothing is listening\n");
	}
	LOG_NOTE("webbridge3", "started (%d listeners)", nv);
	pthread_mutex_lock(&w->lock);
	w->running = true;
	pthread_mutex_unlock(&w->lock);
	*ctxp = w->ctx;
	return 0;
}

static void teardown(struct web_svc *svc, struct lws_context *ctx)
{
	struct wb3 *w = (struct wb3 *)svc;

	if (!ctx)
		return;
	w->destroying = true;
	lws_context_destroy(ctx); /* closes every connection: their CLOSED callbacks run */
	w->destroying = false;
	pthread_mutex_lock(&w->lock);
	w->ctx = NULL;
	w->running = false;
	w->links = NULL;
	w->guests = NULL;
	pthread_mutex_unlock(&w->lock);
	w->joins = NULL;
	LOG_NOTE("webbridge3", "stopped");
}

struct wb3 *wb3_start(const struct edge_cfg *cfg, const struct wb3_services *svc)
{
	struct wb3 *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if (svc)
		w->services = *svc;
	pthread_mutex_init(&w->lock, NULL);
	web_uuid(w->guid);
	w->fails = addr_limit_new(WB3_FAIL_KEYS, WB3_MAX_FAILS, WB3_FAIL_WINDOW_S * 1000);
	w->log_once = web_log_once_new(60 * 1000);
	if (!w->fails || !w->log_once) {
		addr_limit_free(w->fails);
		addr_limit_free(w->log_once);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	w->svc.name = "webbridge3";
	w->svc.build = build;
	w->svc.teardown = teardown;
	w->svc.cert_paths = cert_paths;
	if (web_svc_start(&w->svc, cfg) < 0) {
		addr_limit_free(w->fails);
		addr_limit_free(w->log_once);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

int wb3_restart(struct wb3 *w, const struct edge_cfg *cfg, FILE *out)
{
	return web_svc_restart(&w->svc, cfg, out);
}

void wb3_certs(struct wb3 *w, const struct edge_cfg *cfg)
{
	web_svc_reload(&w->svc, cfg);
}

void wb3_stop(struct wb3 *w)
{
	if (!w)
		return;
	web_svc_stop(&w->svc);
	addr_limit_free(w->fails);
	addr_limit_free(w->log_once);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void wb3_figures(struct wb3 *w, struct wb3_figures *f)
{
	*f = (struct wb3_figures){ 0 };
	pthread_mutex_lock(&w->lock);
	for (const struct wb3_link *l = w->links; l; l = l->next)
		f->links += l->guid[0] != '\0'; /* set under the lock */
	for (const struct wb3_guest *g = w->guests; g; g = g->next)
		f->guests += __atomic_load_n(&g->authed, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&w->lock);
	f->joins_ok = __atomic_load_n(&w->joins_ok, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < WB3_JOIN_FAIL_REASONS; i++)
		f->join_fails[i] = __atomic_load_n(&w->join_fails[i], __ATOMIC_RELAXED);
}

void wb3_connections(struct wb3 *w, FILE *out)
{
	unsigned int nl = 0, ng = 0;
	time_t now = time(NULL);

	pthread_mutex_lock(&w->lock);
	fprintf(out, "webbridge3 GUID %s: %s\n", w->guid, w->running ? "running" : "not running");
	fprintf(out, "%-36s  %-15s  %8s  %6s  %s\n", "callbridge", "address", "up (s)", "joins",
		"certificate");
	for (struct wb3_link *l = w->links; l; l = l->next, nl++)
		fprintf(out, "%-36s  %-15s  %8ld  %6lu  %s\n", l->guid[0] ? l->guid : "(no hello)",
			l->peer, (long)(now - l->since), l->joins, l->subject);
	for (struct wb3_guest *g = w->guests; g; g = g->next)
		ng += g->authed;
	fprintf(out, "C2W links: %u   guests connected: %u   joins answered: %lu, refused: %lu\n",
		nl, ng, w->joins_ok, w->joins_failed);
	fprintf(out, "guests' messages refused: %lu too large for C2W, %lu with C2W busy\n",
		w->c2w_too_big, w->c2w_busy);
	pthread_mutex_unlock(&w->lock);
}

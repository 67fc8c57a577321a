/* The callbridge (see cb.h and docs/webbridge3.md). Its thread runs one libwebsockets
 * context holding the webadmin's HTTPS listener (REST API and pages, cb_api.c) and the C2W
 * client links: one per /api/v1/webBridges object, dialled with `callbridge certs`, the web
 * bridge checked against `callbridge trust c2w` and the URL's host, redialled with back-off.
 * Guests join through those links (cb_conf.c keeps the meetings). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cb.h"
#include "cb_api.h"
#include "cb_conf.h"
#include "cb_db.h"
#include "cb_media.h"
#include "cb_speaker.h"
#include "cb_turn_urls.h"
#include "edge_log.h"
#include "pki.h"
#include "stun.h"
#include "tls_policy.h"
#include "../web/web.h"
#include "../web/web_jwt.h"

#define CB_MAX_LINKS 16
#define C2W_MAX_MSG (256 * 1024)
#define C2W_MAX_QUEUE (8 * 1024 * 1024)
#define C2W_BACKOFF_MAX_S 10
#define C2W_LOG_EVERY_S 10 /* a link's dropped messages: a line, then a count */
#define CB_MAX_TURN 8
#define CB_MAX_LEGS 450		       /* guests per callbridge: CMS's figure (CVD) */
#define CB_JOIN_REAP_S 60	       /* a guest whose WebSocket never came is let go */
#define CB_MAX_LOGIN_FAILS 10	       /* failed logins an address may have in a minute */
#define CB_LOGIN_KEYS 4096	       /* addresses tracked for that (addr_limit.h) */
enum { CB_LOG_LOGINS, CB_LOG_GUESTS }; /* web_log_once tags */

/* A name looked up in a thread of its own: getaddrinfo() can block for seconds, and the
 * callbridge's thread serves every guest. The link and the thread share it; the last to let
 * go frees it, so a link deleted meanwhile leaves the thread nothing to trip on. */
struct cb_resolve {
	int refs; /* atomic */
	int done; /* atomic: the answer is in */
	int err;  /* getaddrinfo()'s, 0 = found */
	char host[128];
	char addr[INET_ADDRSTRLEN];
};

static void resolve_put(struct cb_resolve *r)
{
	if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(r);
}

static void *resolve_main(void *arg)
{
	struct cb_resolve *r = arg;
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;

	r->err = getaddrinfo(r->host, NULL, &hints, &ai);
	if (!r->err && ai)
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, r->addr,
			sizeof(r->addr));
	else if (!r->err)
		r->err = EAI_NONAME;
	if (ai)
		freeaddrinfo(ai);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	resolve_put(r);
	return NULL;
}

static struct cb_resolve *resolve_start(const char *host)
{
	struct cb_resolve *r = calloc(1, sizeof(*r));
	pthread_attr_t at;
	pthread_t t;
	int rc;

	if (!r)
		return NULL;
	r->refs = 2;
	snprintf(r->host, sizeof(r->host), "%s", host);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &at, resolve_main, r);
	pthread_attr_destroy(&at);
	if (rc) {
		free(r);
		return NULL;
	}
	return r;
}

/* One web bridge's C2W link: the lws user data of its client connection. */
struct cb_link {
	struct callbridge *cb;
	struct cb_link *next;
	unsigned int no;       /* the log's "web bridge link N" */
	char wb_id[CB_ID_LEN]; /* its /api/v1/webBridges id */
	char url[256], host[128];
	int port;
	struct lws *wsi;	 /* NULL while not connected */
	bool up;		 /* TLS and WebSocket up */
	bool gone;		 /* its webBridge was deleted: free once closed */
	char wb_guid[CB_ID_LEN]; /* from its hello */
	const char *status;	 /* for /webBridges/<id>/status */
	char why[200];		 /* the last failure */
	unsigned int backoff_s;
	lws_sorted_usec_list_t sul; /* the next dial */
	struct cb_resolve *res;	    /* its host name being looked up */
	bool dialing;		    /* connect in flight: its failure reschedules */
	struct web_msgq q;
	struct web_rx rx;
	bool broken;		     /* no longer usable: closing, then redialled */
	unsigned long too_big_rx;    /* messages dropped: over C2W_MAX_MSG */
	unsigned long too_big_tx;    /* messages not sent: they would have been */
	time_t logged_rx, logged_tx; /* those are logged once per C2W_LOG_EVERY_S */
};

struct callbridge {
	struct web_svc svc;   /* the thread; svc.cfg is the running configuration */
	pthread_mutex_t lock; /* links and webadmin_up, for readers in other threads */
	bool destroying, resync;
	struct lws_context *ctx; /* the thread's */
	lws_sorted_usec_list_t reap_sul;
	lws_sorted_usec_list_t roster_sul;
	bool roster_scheduled;
	lws_sorted_usec_list_t media_sul; /* the media server's events */
	struct media_server *media;	  /* NULL: signalling only */
	/* the active speakers (cb_speaker.h), sampled every CB_SPEAKER_TICK_MS */
	lws_sorted_usec_list_t speaker_sul;
	struct cb_speaker *speaker;
	struct media_level *levels; /* the sample: CB_MAX_LEGS of them */
	struct cb_media_io media_io;
	struct lws_vhost *client_vh;
	bool webadmin_up;
	struct cb_model model;
	struct cb_db *db;
	struct cb_api api;
	struct web_jwt_key key; /* signs the guests' JWTs: the C2W key */
	struct cb_link *links;
	unsigned int next_link_no;
	char cert[300], key_path[300], trust[300];
	/* the webadmin's addresses (lws keeps the pointers) and where port 80 sends each */
	char webadmin_addrs[WEB_IF_ADDRS][46], redirect_urls[WEB_IF_ADDRS][80];
	/* who may use the API: the running configuration's users, kept current by cb_admins()
	 * (a `user` change applies at once, no restart) */
	pthread_mutex_t auth_lock;
	struct edge_cfg *auth;
	struct addr_limit *login_fails; /* failed logins per address (the thread's) */
	struct addr_limit *log_once;	/* what a stranger triggers, logged once a minute */
	bool warned_static_turn;	/* logged that a static-password TURN server was withheld */
	char peer[64];			/* the request's address */
	/* guests' joins for cb_figures: this thread adds, any thread reads, both atomically */
	uint64_t joins_ok;
	uint64_t join_fails[CB_JOIN_FAIL_REASONS]; /* by cb_join_fail_reasons */
};

/* what build() did, for the operator who restarted */
#define SAY(...) web_svc_say(&cb->svc, __VA_ARGS__)

/* ---- C2W links ---- */

static bool log_due(time_t *last)
{
	time_t now = time(NULL);

	if (*last && now - *last < C2W_LOG_EVERY_S)
		return false;
	*last = now;
	return true;
}

/* A link that cannot carry what it must (its peer does not read, or speaks garbage) is
 * closed, never left up and deaf: CLIENT_CLOSED then ends its guests and redials. */
static void link_kill(struct cb_link *l, const char *why)
{
	if (l->broken)
		return;
	l->broken = true;
	LOG_WARN("callbridge", "web bridge link %u (%s): %s: closing it, to redial", l->no, l->url,
		why);
	if (l->wsi)
		lws_set_timeout(l->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

/* Sends @msg (taken) if it fits what the web bridge reads (C2W_MAX_MSG); a message that does
 * not is not sent (-EMSGSIZE, counted), the link carries on. */
static int link_send(struct cb_link *l, json_t *msg)
{
	size_t len;
	char *s;
	int rc = web_json_dump(msg, C2W_MAX_MSG, &s, &len);

	if (rc == -EMSGSIZE) {
		l->too_big_tx++;
		if (log_due(&l->logged_tx))
			LOG_WARN("callbridge",
				"web bridge link %u: a message of %zu bytes is over "
				"C2W's %d: not sent (%lu so far)",
				l->no, len, C2W_MAX_MSG, l->too_big_tx);
		return rc;
	}
	if (!rc)
		rc = l->up && !l->broken ? web_msgq_push(l->wsi, &l->q, s, len, C2W_MAX_QUEUE) :
					   -ENOTCONN;
	free(s);
	if (rc == -ENOBUFS)
		link_kill(l, "the web bridge reads nothing (8 MB waiting)");
	else if (rc < 0)
		LOG_WARN("callbridge", "web bridge link %u: message not sent (%s)", l->no,
			strerror(-rc));
	return rc;
}

static struct cb_link *link_by_no(struct callbridge *cb, unsigned int no)
{
	for (struct cb_link *l = cb->links; l; l = l->next)
		if (l->no == no)
			return l;
	return NULL;
}

static void dial(lws_sorted_usec_list_t *sul);

static void schedule_dial(struct cb_link *l)
{
	unsigned int s = l->backoff_s;

	l->backoff_s = l->backoff_s ? l->backoff_s * 2 : 1;
	if (l->backoff_s > C2W_BACKOFF_MAX_S)
		l->backoff_s = C2W_BACKOFF_MAX_S;
	lws_sul_schedule(l->cb->ctx, 0, &l->sul, dial, (lws_usec_t)s * LWS_US_PER_SEC);
}

/* "c2w://host:port" */
static int parse_url(struct cb_link *l)
{
	const char *p;
	char *colon;

	if (strncasecmp(l->url, "c2w://", 6))
		return -EINVAL;
	p = l->url + 6;
	snprintf(l->host, sizeof(l->host), "%s", p);
	l->host[strcspn(l->host, "/")] = '\0';
	colon = strrchr(l->host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	l->port = atoi(colon + 1);
	return l->host[0] && l->port > 0 && l->port < 65536 ? 0 : -EINVAL;
}

static void dial(lws_sorted_usec_list_t *sul)
{
	struct cb_link *l = lws_container_of(sul, struct cb_link, sul);
	struct callbridge *cb = l->cb;
	struct lws_client_connect_info ci;
	char addr[INET_ADDRSTRLEN];
	struct in_addr a;

	if (l->wsi || l->gone)
		return;
	if (inet_pton(AF_INET, l->host, &a) == 1) {
		inet_ntop(AF_INET, &a, addr, sizeof(addr));
	} else if (!l->res) {
		l->res = resolve_start(l->host);
		if (!l->res) {
			schedule_dial(l);
			return;
		}
		lws_sul_schedule(cb->ctx, 0, &l->sul, dial, 50 * LWS_US_PER_MS);
		return;
	} else if (!__atomic_load_n(&l->res->done, __ATOMIC_ACQUIRE)) {
		lws_sul_schedule(cb->ctx, 0, &l->sul, dial, 100 * LWS_US_PER_MS);
		return;
	} else {
		int err = l->res->err;
		snprintf(addr, sizeof(addr), "%s", l->res->addr);
		resolve_put(l->res);
		l->res = NULL;
		if (err) {
			/* the 2.x wording; said once until it changes */
			if (strcmp(l->status, "dnsFailure"))
				LOG_WARN("callbridge",
					"web bridge link %u: name resolution for \"%s\" "
					"failed (%s)",
					l->no, l->host, gai_strerror(err));
			l->status = "dnsFailure";
			schedule_dial(l);
			return;
		}
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = cb->ctx;
	ci.vhost = cb->client_vh;
	ci.address = addr;
	ci.port = l->port;
	ci.host = l->host;
	ci.origin = l->host;
	ci.path = "/c2w";
	ci.protocol = "c2w";
	ci.alpn = "http/1.1";
	/* the host name check is ours (check_server_cert): it covers IP addresses too */
	ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
	ci.userdata = l;
	ci.pwsi = &l->wsi;
	ci.retry_and_idle_policy = &web_link_idle_policy;
	l->dialing = true;
	if (!lws_client_connect_via_info(&ci)) {
		l->wsi = NULL;
		if (!l->dialing)
			return; /* its error callback came first and rescheduled */
		l->dialing = false;
		if (strcmp(l->status, "connectionFailure"))
			LOG_WARN("callbridge",
				"failed to establish connection to web bridge link %u "
				"(%s): cannot connect",
				l->no, l->url);
		l->status = "connectionFailure";
		schedule_dial(l);
	}
}

static void link_free(struct cb_link *l)
{
	lws_sul_cancel(&l->sul);
	resolve_put(l->res);
	web_msgq_clear(&l->q);
	web_rx_reset(&l->rx);
	free(l);
}

/* A deleted webBridge's link, once its connection is gone. */
static void link_drop(struct callbridge *cb, struct cb_link *l)
{
	pthread_mutex_lock(&cb->lock);
	for (struct cb_link **pp = &cb->links; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	pthread_mutex_unlock(&cb->lock);
	link_free(l);
}

/* Brings the links in line with the webBridges in the store. */
static void sync_links(struct callbridge *cb)
{
	struct cb_webbridge wbs[CB_MAX_LINKS];
	int n = cb->db ? cb_db_webbridges(cb->db, wbs, CB_MAX_LINKS) : 0;

	if (n < 0)
		n = 0;
	pthread_mutex_lock(&cb->lock);
	/* drop links whose webBridge went or changed its url */
	for (struct cb_link **pp = &cb->links; *pp;) {
		struct cb_link *l = *pp;
		bool keep = false;
		for (int i = 0; i < n && !keep; i++)
			keep = !strcmp(wbs[i].id, l->wb_id) && !strcmp(wbs[i].url, l->url);
		if (keep || l->gone) {
			pp = &l->next;
			continue;
		}
		if (l->wsi) {
			l->gone = true; /* freed when its connection closes */
			lws_set_timeout(l->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
				LWS_TO_KILL_ASYNC);
			pp = &l->next;
		} else {
			*pp = l->next;
			link_free(l);
		}
	}
	for (int i = 0; i < n; i++) {
		struct cb_link *l;
		for (l = cb->links; l; l = l->next)
			if (!l->gone && !strcmp(l->wb_id, wbs[i].id))
				break;
		if (l)
			continue;
		l = calloc(1, sizeof(*l));
		if (!l)
			break;
		l->cb = cb;
		l->no = ++cb->next_link_no;
		memcpy(l->wb_id, wbs[i].id, sizeof(l->wb_id));
		l->wb_id[sizeof(l->wb_id) - 1] = '\0';
		snprintf(l->url, sizeof(l->url), "%s", wbs[i].url);
		l->status = "unused";
		l->next = cb->links;
		cb->links = l;
		if (parse_url(l) < 0) {
			/* https:// is the older web bridge: not a C2W link */
			snprintf(l->why, sizeof(l->why), "not a c2w:// URL");
			continue;
		}
		if (cb->client_vh)
			lws_sul_schedule(cb->ctx, 0, &l->sul, dial, 1);
	}
	pthread_mutex_unlock(&cb->lock);
}

/* ---- guests ---- */

/* The URLs of one TURN server, as cb_turn_urls.h picks them; a port browsers never use for
 * TURN (tcpPortNumberOverride 447) is left out, and said once. */
static void add_turn_urls(json_t *urls, const char *addr, const char *type, int tcp_port)
{
	static bool warned;
	struct cb_turn_urls u;

	cb_turn_urls(addr, type, tcp_port, &u);
	for (int i = 0; i < u.n; i++)
		json_array_append_new(urls, json_string(u.url[i]));
	if (u.dropped_port && !warned) {
		warned = true;
		LOG_WARN("callbridge",
			"TURN server %s: port %d is not handed to guests: browsers "
			"use TURN below port 1024 only on 53, 80 and 443 (they get the server's 443 "
			"instead, if it is ours)",
			addr, u.dropped_port);
	}
}

/* A guest's own TURN credentials (the TURN REST API: username "<expiry>:<guest account>",
 * password base64(HMAC-SHA1(secret, username))), valid as long as the guest's JWT. The TURN
 * server checks them with the same secret and lets such allocations reach only media. */
static json_t *guest_turn(json_t *urls, const char *secret, const char *guest, long lifetime_s)
{
	char user[160], pw[64];

	snprintf(user, sizeof(user), "%lld:%s", (long long)time(NULL) + lifetime_s, guest);
	if (stun_rest_password(secret, user, pw, sizeof(pw)) < 0) {
		json_decref(urls);
		return NULL;
	}
	return json_pack("{s:o, s:s, s:s}", "urls", urls, "username", user, "credential", pw);
}

/* The TURN servers a guest's browser gets: Configuration > General, then /turnServers, each
 * with credentials made for this guest from its shared secret. A TURN server configured with
 * a static username and password only is never handed to guests: that password is the
 * operator's, and with it a guest's relay could reach whatever the operator's can. */
static json_t *ice_servers(struct callbridge *cb, const char *guest)
{
	long life = (long)cb->svc.cfg.cb.jwt_expiry_hours * 3600;
	struct cb_turnserver ts[CB_MAX_TURN];
	json_t *a = json_array(), *e;
	struct cb_general g;
	bool withheld = false;
	int n;

	if (!cb_db_general_get(cb->db, &g) &&
		(g.turn_client_address[0] || g.turn_server_address[0])) {
		const char *addr = g.turn_client_address[0] ? g.turn_client_address :
							      g.turn_server_address;
		json_t *urls = json_array();
		char v6[80];

		add_turn_urls(urls, addr, "acano", 0);
		if (cb_turn_own_ipv6(&cb->svc.cfg, addr, v6, sizeof(v6)))
			add_turn_urls(urls, v6, "acano", 0);
		if (!g.turn_shared_secret[0]) {
			json_decref(urls);
			withheld = true;
		} else if ((e = guest_turn(urls, g.turn_shared_secret, guest, life))) {
			json_array_append_new(a, e);
		}
	}
	n = cb_db_turnservers(cb->db, ts, CB_MAX_TURN);
	for (int i = 0; i < n; i++) {
		const char *addr = ts[i].client_address[0] ? ts[i].client_address :
							     ts[i].server_address;
		if (!addr[0])
			continue;
		if (!ts[i].shared_secret[0]) {
			withheld = true;
			continue;
		}
		json_t *urls = json_array();
		add_turn_urls(urls, addr, ts[i].type, ts[i].tcp_port_number_override);
		if ((e = guest_turn(urls, ts[i].shared_secret, guest, life)))
			json_array_append_new(a, e);
	}
	if (withheld && !cb->warned_static_turn) {
		cb->warned_static_turn = true;
		LOG_WARN("callbridge",
			"a TURN server has no shared secret: guests are not given "
			"it (its static password is never handed to guests; set turnSharedSecret in "
			"Configuration > General or sharedSecret on /turnServers)");
	}
	return a;
}

const char *const cb_join_fail_reasons[CB_JOIN_FAIL_REASONS] = { "badRequest", "meetingNotFound",
	"passcodeRequired", "invalidPasscode", "guestAccessDisabled", "nonMemberAccessDisabled",
	"participantLimitReached", "tooManyParticipants", "callBridgeUnavailable", "other" };

static void join_refuse(struct cb_link *l, json_int_t req, unsigned int login, const char *code,
	const char *message)
{
	unsigned int i = 0;

	while (i < CB_JOIN_FAIL_REASONS - 1 && strcmp(code, cb_join_fail_reasons[i]))
		i++;
	__atomic_fetch_add(&l->cb->join_fails[i], 1, __ATOMIC_RELAXED);
	edge_log(LOG_INFO, "host:server", "INFO : guest login request %u: %s", login, message);
	link_send(l,
		json_pack("{s:s, s:I, s:b, s:s, s:s}", "type", "joinResult", "req", req, "ok", 0,
			"error", code, "message", message));
}

/* The roster goes once to each web bridge, naming its guests that get it: one message per
 * guest made it n copies of n entries on C2W (450 guests: ~20 MB a roster, over the link's
 * 8 MB queue); this way 450 guests are one message of ~50-120 KB. */
static void roster(struct callbridge *cb, struct cb_call *c)
{
	json_t *parts;
	const char *speaker;

	if (!c)
		return;
	speaker = cb_speaker_of(cb->speaker, c->id);
	parts = json_array();
	for (struct cb_leg *l = c->legs; l; l = l->next)
		if (l->session)
			json_array_append_new(parts,
				json_pack("{s:s, s:s, s:b, s:b}", "id", l->id, "name", l->name,
					"audioMuted", l->audio_muted, "videoMuted",
					l->video_muted));
	for (struct cb_link *k = cb->links; k; k = k->next) {
		json_t *to = json_array();
		for (struct cb_leg *l = c->legs; l; l = l->next)
			if (l->session && l->link == k->no)
				json_array_append_new(to, json_string(l->id));
		if (json_array_size(to))
			link_send(k,
				json_pack("{s:s, s:o, s:{s:s, s:O, s:s?}}", "type", "signal",
					"participants", to, "msg", "type", "roster", "participants",
					parts, "activeSpeaker", speaker));
		else
			json_decref(to);
	}
	json_decref(parts);
	cb_media_check(&cb->media_io, c);
}

/* Rosters go out at most every 100 ms per call: each change would otherwise send the whole
 * roster to every guest at once (n * n per change, and guests choose how often they mute). */
static void rosters_due(lws_sorted_usec_list_t *sul)
{
	struct callbridge *cb = lws_container_of(sul, struct callbridge, roster_sul);

	cb->roster_scheduled = false;
	for (struct cb_call *c = cb->model.calls; c; c = c->next)
		if (c->roster_due) {
			c->roster_due = false;
			roster(cb, c);
		}
}

static void roster_later(struct callbridge *cb, struct cb_call *c)
{
	if (c->roster_due)
		return;
	c->roster_due = true;
	if (!cb->roster_scheduled && cb->ctx) {
		cb->roster_scheduled = true;
		lws_sul_schedule(cb->ctx, 0, &cb->roster_sul, rosters_due, 100 * LWS_US_PER_MS);
	}
}

static void guest_join(struct callbridge *cb, struct cb_link *l, json_t *m)
{
	json_int_t req = json_integer_value(json_object_get(m, "req"));
	const char *id = json_string_value(json_object_get(m, "meetingId"));
	const char *pass = json_string_value(json_object_get(m, "passcode"));
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *remote = json_string_value(json_object_get(m, "remote"));
	const char *session = json_string_value(json_object_get(m, "session"));
	struct cb_accessmethod am;
	struct cb_wbprofile prof;
	struct cb_cospace s;
	unsigned int login;
	int rc;
	struct cb_leg *leg;

	RAND_bytes((unsigned char *)&login, sizeof(login));
	login = 1000000000u + login % 2000000000u;
	if (!id || !name || !*name) {
		join_refuse(l, req, login, "badRequest", "A meeting ID and a name are needed.");
		return;
	}
	edge_log(LOG_INFO, "host:server", "INFO : guest login request %u: resolution in progress",
		login);
	edge_log(LOG_INFO, "host:server", "INFO : guest login request %u: call ID lookup scheduled",
		login);
	edge_log(LOG_INFO, "host:server", "INFO : guest login request %u: resolution in progress",
		login);
	/* what the guests of this web bridge may use: its profile, or the system's */
	if (!cb->db || cb_db_wbprofile_for(cb->db, l->wb_id, &prof)) {
		join_refuse(l, req, login, "callBridgeUnavailable", "The meeting server is busy.");
		return;
	}
	if (!prof.allow_unauthenticated_guests) {
		edge_log(LOG_INFO, "host:server",
			"INFO : guest login request %u: refused: web "
			"bridge profile %s does not allow guests",
			login, prof.id[0] ? prof.id : "(default)");
		join_refuse(l, req, login, "guestAccessDisabled",
			"Guests cannot join meetings here.");
		return;
	}
	rc = cb_db_meeting_find(cb->db, id, pass,
		(prof.resolve_cospace_call_ids ? CB_DB_BY_CALL_ID : 0) |
			(strcmp(prof.resolve_cospace_uris, "off") ? CB_DB_BY_URI : 0),
		&s, &am);
	if (rc == -EPERM) {
		edge_log(LOG_INFO, "host:server",
			"INFO : guest login request %u: refused: space "
			"%s (%s) admits members only (nonMemberAccess false)",
			login, s.id, s.name[0] ? s.name : s.uri);
		join_refuse(l, req, login, "nonMemberAccessDisabled",
			"This meeting is for the members of its space only: guests cannot join it.");
		return;
	}
	if (rc == -EACCES && (!pass || !*pass)) {
		join_refuse(l, req, login, "passcodeRequired", "This meeting needs a passcode.");
		return;
	}
	if (rc == -EACCES) {
		join_refuse(l, req, login, "invalidPasscode", "The passcode is not correct.");
		return;
	}
	if (rc == -EIO) {
		join_refuse(l, req, login, "callBridgeUnavailable", "The meeting server is busy.");
		return;
	}
	if (rc) {
		join_refuse(l, req, login, "meetingNotFound",
			"That meeting ID was not found. Check it and try again.");
		return;
	}
	if (am.id[0])
		edge_log(LOG_INFO, "host:server",
			"INFO : guest login request %u: via access "
			"method %s%s%s",
			login, am.id, am.name[0] ? " " : "", am.name);
	rc = cb_conf_admit(&cb->model, s.id, remote ? remote : "", CB_MAX_LEGS);
	if (rc == -ENOSPC) {
		join_refuse(l, req, login, "participantLimitReached",
			"The meeting server is full. Try again later.");
		return;
	}
	if (rc == -EDQUOT) {
		edge_log(LOG_INFO, "host:server",
			"INFO : guest login request %u: refused: space "
			"%s has %d participants",
			login, s.id, CB_CONF_MAX_SPACE_LEGS);
		join_refuse(l, req, login, "participantLimitReached",
			"This meeting is full. Try again later.");
		return;
	}
	if (rc == -EUSERS) {
		if (web_log_once(cb->log_once, remote ? remote : "", CB_LOG_GUESTS))
			LOG_WARN("callbridge",
				"guest login request %u: refused: %s already has %d "
				"guests in calls (logged once a minute)",
				login, remote ? remote : "", CB_CONF_MAX_ADDR_LEGS);
		join_refuse(l, req, login, "tooManyParticipants",
			"Too many guests from your address are in meetings. Leave one and try again.");
		return;
	}
	struct cb_conf_space sp = { .id = s.id, .name = s.name[0] ? s.name : s.uri };
	leg = cb_conf_join(&cb->model, &sp, login, name, remote ? remote : "", l->no);
	if (!leg) {
		join_refuse(l, req, login, "callBridgeUnavailable", "The meeting server is busy.");
		return;
	}
	/* "simulcast": the web app must know before its first offer whether to send layers
	 * (webbridge3 passes it on in "authenticated") */
	json_t *claims = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "sub", leg->guest,
		"callbridge", cb->model.guid, "call", leg->call->id, "participant", leg->id, "name",
		leg->name, "conference", leg->call->name, "session", session ? session : "",
		"simulcast", cb->svc.cfg.cb.simulcast);
	char *tok = web_jwt_sign(&cb->key, claims, time(NULL),
		(long)cb->svc.cfg.cb.jwt_expiry_hours * 3600);
	json_decref(claims);
	if (!tok) {
		LOG_ERRX("callbridge", "cannot sign a JWT with %s", cb->svc.cfg.cb.key);
		cb_conf_leave(&cb->model, leg, "failed login");
		join_refuse(l, req, login, "callBridgeUnavailable", "The meeting server is busy.");
		return;
	}
	link_send(l,
		json_pack("{s:s, s:I, s:b, s:s, s:s, s:s, s:s, s:o}", "type", "joinResult", "req",
			req, "ok", 1, "jwt", tok, "participant", leg->id, "call", leg->call->id,
			"conference", leg->call->name, "iceServers", ice_servers(cb, leg->guest)));
	free(tok);
	__atomic_fetch_add(&cb->joins_ok, 1, __ATOMIC_RELAXED);
}

/* Where this callbridge's media ports are ("a.b.c.d:port", each media interface's first
 * address): the web bridge lets its guests' TURN relays reach these and nothing else. */
static json_t *media_ports(struct callbridge *cb)
{
	const struct edge_cfg *c = &cb->svc.cfg;
	json_t *a = json_array();

	for (int i = 0; i < c->cb.n_media; i++) {
		const struct cfg_iface *f = &c->ifs[c->cb.media[i].ifi];
		char ip[16], buf[32];

		if (!f->n_addrs)
			continue;
		snprintf(buf, sizeof(buf), "%s:%u", cfg_ipv4_str(f->addrs[0].addr, ip),
			c->cb.media[i].port);
		json_array_append_new(a, json_string(buf));
	}
	return json_pack("{s:s, s:o}", "type", "media", "addresses", a);
}

/* Counts candidate types for the log, from "candidate:... typ relay ..." */
static const char *cand_type(const char *c)
{
	const char *t = strstr(c, " typ ");

	if (!t)
		return "unknown";
	t += 5;
	if (!strncmp(t, "host", 4))
		return "host";
	if (!strncmp(t, "srflx", 5))
		return "srflx";
	if (!strncmp(t, "prflx", 5))
		return "prflx";
	if (!strncmp(t, "relay", 5))
		return "relay";
	return "unknown";
}

static void guest_signal(struct callbridge *cb, struct cb_link *l, struct cb_leg *leg, json_t *msg)
{
	const char *type = json_string_value(json_object_get(msg, "type"));

	if (!type)
		return;
	if (!strcmp(type, "offer")) {
		const char *sdp = json_string_value(json_object_get(msg, "sdp"));
		unsigned int mlines = 0;
		for (const char *p = sdp; p && (p = strstr(p, "\nm=")); p++)
			mlines++;
		pthread_mutex_lock(&cb->model.lock);
		leg->offer_seen = true;
		pthread_mutex_unlock(&cb->model.lock);
		edge_log(LOG_INFO, "host:server",
			"INFO : call %d: SDP offer received (%u media lines, "
			"%zu bytes)",
			leg->call_no, mlines, sdp ? strlen(sdp) : 0);
		(void)l;
		cb->media_io.simulcast = cb->svc.cfg.cb.simulcast;
		if (cb_media_offer(cb->media, &cb->media_io, leg, sdp))
			roster_later(cb, leg->call); /* the others renegotiate to receive it */
	} else if (!strcmp(type, "candidate")) {
		const char *c = json_string_value(json_object_get(msg, "candidate"));
		pthread_mutex_lock(&cb->model.lock);
		if (c && *c)
			leg->n_candidates++;
		pthread_mutex_unlock(&cb->model.lock);
		if (c && *c)
			edge_log(LOG_INFO, "host:server",
				"INFO : call %d: ICE candidate %u from \"%s\" "
				"(%s)",
				leg->call_no, leg->n_candidates, leg->guest, cand_type(c));
		else
			edge_log(LOG_INFO, "host:server",
				"INFO : call %d: end of ICE candidates from "
				"\"%s\" (%u)",
				leg->call_no, leg->guest, leg->n_candidates);
	} else if (!strcmp(type, "mute")) {
		json_t *a = json_object_get(msg, "audio"), *v = json_object_get(msg, "video");
		pthread_mutex_lock(&cb->model.lock);
		if (json_is_boolean(a))
			leg->audio_muted = json_is_true(a);
		if (json_is_boolean(v))
			leg->video_muted = json_is_true(v);
		pthread_mutex_unlock(&cb->model.lock);
		edge_log(LOG_INFO, "host:server", "INFO : call %d: \"%s\" audio %s, video %s",
			leg->call_no, leg->guest, leg->audio_muted ? "muted" : "unmuted",
			leg->video_muted ? "muted" : "unmuted");
		if (leg->media_open)
			media_leg_mute(cb->media, leg->id, leg->audio_muted, leg->video_muted);
		roster_later(cb, leg->call);
	} else if (!strcmp(type, "view")) { /* checked by the web bridge; again here */
		const char *src = json_string_value(json_object_get(msg, "participant"));
		json_t *h = json_object_get(msg, "height");

		if (src && json_is_integer(h) && json_integer_value(h) >= 0 &&
			json_integer_value(h) <= 16383 && leg->media_open)
			media_leg_view(cb->media, leg->id, src,
				(unsigned int)json_integer_value(h));
	}
}

static void leave_leg(struct callbridge *cb, struct cb_leg *leg, const char *why);

/* cb_media's way to a guest's browser: a signal through the leg's web bridge */
static void media_to_guest(void *ctx, struct cb_leg *leg, json_t *msg)
{
	struct callbridge *cb = ctx;
	struct cb_link *l = link_by_no(cb, leg->link);

	if (!l) {
		json_decref(msg);
		return;
	}
	link_send(l,
		json_pack("{s:s, s:s, s:o}", "type", "signal", "participant", leg->id, "msg", msg));
}

/* cb_conf_leave()'s hook: a leg's media ends with it */
static void media_on_leave(void *ctx, struct cb_leg *leg, const char *why)
{
	struct callbridge *cb = ctx;

	cb_media_leave(cb->media, leg, why);
}

/* The media server's news, four times a second: a leg whose browser went silent (consent) or
 * whose DTLS failed leaves the meeting, and its guest is told. */
static void media_events(lws_sorted_usec_list_t *sul)
{
	struct callbridge *cb = lws_container_of(sul, struct callbridge, media_sul);
	struct media_event ev[32];
	unsigned int n = media_events_take(cb->media, ev, 32);

	for (unsigned int i = 0; i < n; i++) {
		struct cb_leg *leg = cb_conf_leg(&cb->model, ev[i].id);
		char why[160];

		if (!leg)
			continue;
		if (ev[i].type == MEDIA_EV_CONNECTED) {
			edge_log(LOG_INFO, "host:server", "INFO : call %d: media connected (%s)",
				leg->call_no, ev[i].why);
			continue;
		}
		snprintf(why, sizeof(why), "media %s", ev[i].why);
		struct cb_link *l = link_by_no(cb, leg->link);
		if (l)
			link_send(l,
				json_pack("{s:s, s:s, s:s}", "type", "drop", "participant", leg->id,
					"reason",
					"The connection to your browser's media was lost. "
					"Join again."));
		leave_leg(cb, leg, why);
	}
	lws_sul_schedule(cb->ctx, 0, &cb->media_sul, media_events, 250 * LWS_US_PER_MS);
}

/* A call's new active speaker (NULL: nobody) to its guests: like a roster, one message per
 * web bridge naming its guests in the call. */
static void speaker_tell(struct callbridge *cb, struct cb_call *c, const struct cb_leg *who)
{
	for (struct cb_link *k = cb->links; k; k = k->next) {
		json_t *to = json_array();
		for (struct cb_leg *l = c->legs; l; l = l->next)
			if (l->session && l->link == k->no)
				json_array_append_new(to, json_string(l->id));
		if (json_array_size(to))
			link_send(k,
				json_pack("{s:s, s:o, s:{s:s, s:s?, s:s?}}", "type", "signal",
					"participants", to, "msg", "type", "activeSpeaker",
					"participant", who ? who->id : NULL, "name",
					who ? who->name : NULL));
		else
			json_decref(to);
	}
}

/* At log_level debug, each sample: every call's legs and their levels ("-" = no audio), to
 * see why a speaker was (not) chosen. */
static void speakers_trace(struct callbridge *cb)
{
	for (struct cb_call *c = cb->model.calls; c; c = c->next) {
		const char *who = cb_speaker_of(cb->speaker, c->id);
		char buf[512], level[16];
		size_t len = 0;
		int x = 0;

		buf[0] = '\0';
		for (struct cb_leg *l = c->legs; l && len < sizeof(buf); l = l->next) {
			if (cb_speaker_level_of(cb->speaker, l->id, &x))
				snprintf(level, sizeof(level), "%d", x);
			else
				snprintf(level, sizeof(level), "-");
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %s %s", l->guest,
				level);
		}
		if (buf[0])
			edge_log(LOG_DEBUG, "callbridge", "speaker: conference %s:%s (speaker %s)",
				c->internal, buf, who ? who : "none");
	}
}

/* Every CB_SPEAKER_TICK_MS: the legs' audio levels (RFC 6464, read by the fast path) into
 * the active speaker selector; a call whose speaker changed tells its guests and logs a line.
 * The selector's hold time is what limits both to one per CB_SPEAKER_HOLD_MS and call. */
static void speakers_tick(lws_sorted_usec_list_t *sul)
{
	struct callbridge *cb = lws_container_of(sul, struct callbridge, speaker_sul);
	struct cb_speaker_change chg[16];
	unsigned int n = media_levels(cb->media, cb->levels, CB_MAX_LEGS);

	n = cb_speaker_levels(cb->speaker, cb->levels, n, (uint64_t)lws_now_usecs() / LWS_US_PER_MS,
		chg, 16);
	if (cb->svc.cfg.log_level >= LOG_DEBUG)
		speakers_trace(cb);
	for (unsigned int i = 0; i < n; i++) {
		struct cb_call *c = cb->model.calls;
		struct cb_leg *who = chg[i].speaker[0] ? cb_conf_leg(&cb->model, chg[i].speaker) :
							 NULL;

		while (c && strcmp(c->id, chg[i].call))
			c = c->next;
		if (!c)
			continue; /* it ended: nobody to tell */
		if (who) {
			/* the others' loudest in the same sample: how clear the choice was */
			int other = -127, x;
			for (struct cb_leg *l = c->legs; l; l = l->next)
				if (l != who && cb_speaker_level_of(cb->speaker, l->id, &x) &&
					x > other)
					other = x;
			edge_log(LOG_INFO, "host:server",
				"INFO : conference %s: active speaker participant \"%s\" (call %d, "
				"%d dBov; the others at most %d dBov)",
				c->internal, who->guest, who->call_no, chg[i].dbov, other);
		} else
			edge_log(LOG_INFO, "host:server",
				"INFO : conference %s: no active speaker (API call leg %s left)",
				c->internal, chg[i].previous);
		speaker_tell(cb, c, who);
	}
	lws_sul_schedule(cb->ctx, 0, &cb->speaker_sul, speakers_tick,
		CB_SPEAKER_TICK_MS * LWS_US_PER_MS);
}

/* Every few seconds: guests who joined but whose WebSocket never came (the browser went
 * away) are let go, so joins alone cannot fill the callbridge. */
static void reap(lws_sorted_usec_list_t *sul)
{
	struct callbridge *cb = lws_container_of(sul, struct callbridge, reap_sul);
	time_t now = time(NULL);

again: /* a leave may free the leg and its call: start over after each */
	for (struct cb_call *c = cb->model.calls; c; c = c->next)
		for (struct cb_leg *l = c->legs; l; l = l->next)
			if (!l->session && now - l->started >= CB_JOIN_REAP_S) {
				struct cb_link *k = link_by_no(cb, l->link);
				if (k)
					link_send(k,
						json_pack("{s:s, s:s, s:s}", "type", "drop",
							"participant", l->id, "reason",
							"This session has ended. Join again."));
				leave_leg(cb, l, "no session within 60 s");
				goto again;
			}
	lws_sul_schedule(cb->ctx, 0, &cb->reap_sul, reap, 5 * LWS_US_PER_SEC);
}

static void leave_leg(struct callbridge *cb, struct cb_leg *leg, const char *why)
{
	struct cb_call *c = leg->call;
	bool last = c->n_legs == 1;

	cb_conf_leave(&cb->model, leg, why);
	if (!last)
		roster_later(cb, c);
}

/* One whole message from a web bridge. -EBADMSG: it is not JSON, so the link cannot be
 * trusted to be in step any more (close it). */
static int link_message(struct callbridge *cb, struct cb_link *l, const char *buf)
{
	json_t *m = json_loads(buf, 0, NULL);
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *p = json_string_value(json_object_get(m, "participant"));
	struct cb_leg *leg = p ? cb_conf_leg(&cb->model, p) : NULL;

	if (!json_is_object(m)) {
		json_decref(m);
		return -EBADMSG;
	}
	if (leg && leg->link != l->no)
		leg = NULL; /* another web bridge's guest */
	if (!type) {
		LOG_WARN("callbridge", "web bridge link %u: message without a type", l->no);
	} else if (!strcmp(type, "hello")) {
		const char *g = json_string_value(json_object_get(m, "guid"));
		snprintf(l->wb_guid, sizeof(l->wb_guid), "%s", g ? g : "");
		LOG_INFO_("callbridge", "Received guid %s from webbridge %s:%d", l->wb_guid,
			l->host, l->port);
	} else if (!strcmp(type, "join")) {
		guest_join(cb, l, m);
	} else if (!strcmp(type, "session") && leg) {
		const char *ua = json_string_value(json_object_get(m, "userAgent"));
		cb_conf_session(&cb->model, leg, ua);
		edge_log(LOG_INFO, "host:server",
			"INFO : call %d: setting up combined RTP session for "
			"DTLS (combined media and control)",
			leg->call_no);
		roster_later(cb, leg->call);
	} else if (!strcmp(type, "signal") && leg) {
		json_t *msg = json_object_get(m, "msg");
		if (json_is_object(msg))
			guest_signal(cb, l, leg, msg);
	} else if (!strcmp(type, "leave") && leg) {
		leave_leg(cb, leg, "session resource teardown");
	} else if ((!strcmp(type, "session") || !strcmp(type, "signal")) && p && !leg) {
		/* its leg is gone (left, removed, never came in time): the browser must know */
		link_send(l,
			json_pack("{s:s, s:s, s:s}", "type", "drop", "participant", p, "reason",
				"This session has ended. Join again."));
	}
	json_decref(m);
	return 0;
}

/* One fragment from a web bridge (@final: its message's last). A message over C2W_MAX_MSG
 * is dropped whole (counted) and the next one read; one that is not JSON closes the link.
 * Sans I/O past the link's queue: the fuzzer calls it. -1: close the connection. */
static int link_receive(struct callbridge *cb, struct cb_link *l, const void *in, size_t len,
	bool final)
{
	int rc = web_rx_msg(&l->rx, in, len, final, C2W_MAX_MSG);

	if (l->broken)
		return -1;
	if (rc == -EMSGSIZE || rc == -ENOMEM) {
		l->too_big_rx++;
		if (log_due(&l->logged_rx))
			LOG_WARN("callbridge",
				"web bridge link %u: a message over %d bytes "
				"dropped (%lu so far); reading the next",
				l->no, C2W_MAX_MSG, l->too_big_rx);
		return 0;
	}
	if (rc <= 0)
		return 0;
	rc = link_message(cb, l, l->rx.buf);
	web_rx_reset(&l->rx);
	if (rc < 0) {
		link_kill(l, "it sent a message that is not a JSON object");
		return -1;
	}
	return l->broken ? -1 : 0;
}

static void drop_on_link(struct cb_model *m, struct cb_leg *leg, void *arg)
{
	struct callbridge *cb = arg;
	(void)m;
	leave_leg(cb, leg, "web bridge connection loss");
}

/* The web bridge's certificate (its chain already checked against `callbridge trust c2w`)
 * must name the URL's host. Checked here, before the WebSocket is up: lws 4.1 sends its
 * verification callback to the context's first protocol, not to ours. */
static bool names_host(struct lws *wsi, struct cb_link *l)
{
	SSL *ssl = lws_get_ssl(wsi);
	X509 *x = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	struct in_addr a;

	if (!x)
		return false;
	if (inet_pton(AF_INET, l->host, &a) == 1)
		return X509_check_ip_asc(x, l->host, 0) == 1;
	return X509_check_host(x, l->host, 0, 0, NULL) == 1;
}

static bool own_reason(enum lws_callback_reasons reason)
{
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
	case LWS_CALLBACK_CLIENT_RECEIVE:
	case LWS_CALLBACK_CLIENT_WRITEABLE:
	case LWS_CALLBACK_CLIENT_CLOSED:
		return true;
	default:
		return false;
	}
}

static int cb_c2w_client(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	/* @user is the link only for a connection's own reasons: the TLS ones bring other things */
	struct cb_link *l = own_reason(reason) ? user : NULL;
	struct callbridge *cb = l ? l->cb : NULL;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		if (l && !names_host(wsi, l)) {
			snprintf(l->why, sizeof(l->why), "its certificate does not name %s",
				l->host);
			return -1;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		const char *e = in ? (const char *)in : "unknown error";
		if (!l)
			return 0;
		l->dialing = false;
		l->wsi = NULL;
		l->up = false;
		if (l->why[0] || strstr(e, "ssl") || strstr(e, "SSL") || strstr(e, "tls") ||
			strstr(e, "cert")) {
			l->status = "tlsFailure";
			LOG_WARN("callbridge", "TLS negotiation error towards the %s: %s", l->url,
				l->why[0] ? l->why : e);
		} else {
			bool dns = strstr(e, "dns") || strstr(e, "resolv") ||
				strstr(e, "getaddrinfo");
			l->status = dns ? "dnsFailure" : "connectionFailure";
			LOG_WARN("callbridge",
				"failed to establish connection to web bridge link %u "
				"(%s)",
				l->no, e);
		}
		l->why[0] = '\0';
		if (l->gone) {
			link_drop(cb, l);
		} else if (!cb->destroying) {
			schedule_dial(l);
		}
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		l->dialing = false;
		l->up = true;
		l->broken = false;
		l->status = "success";
		l->backoff_s = 0;
		l->why[0] = '\0';
		LOG_INFO_("callbridge", "C2W connection for webbridge %s:%d UP", l->host, l->port);
		link_send(l,
			json_pack("{s:s, s:s, s:s}", "type", "hello", "guid", cb->model.guid,
				"role", "callbridge"));
		link_send(l, media_ports(cb));
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return link_receive(cb, l, in, len, web_rx_final(wsi));
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return web_msgq_write(wsi, &l->q);
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!l)
			return 0;
		if (l->up)
			LOG_WARN("callbridge", "C2W connection for webbridge %s:%d DOWN", l->host,
				l->port);
		l->up = false;
		l->wsi = NULL;
		web_msgq_clear(&l->q);
		web_rx_reset(&l->rx);
		if (!cb->destroying)
			cb_conf_each_on_link(&cb->model, l->no, drop_on_link, cb);
		if (l->gone) {
			link_drop(cb, l);
		} else if (!cb->destroying) {
			l->status = "connectionFailure";
			schedule_dial(l);
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---- webadmin: the REST API and pages over HTTPS ---- */

struct cb_http {
	struct web_rx body;
	bool cross_site; /* a write whose Origin is not this server */
	char origin[128];
	char peer[64];
	char method[8];
	char path[512];
	char query[512];
	char user[64], pass[128];
	bool too_big;
};

/* HTTP Basic against the appliance's users: the user's role (what each may use is cb_api's
 * to decide, cb_api.h), or -EACCES. A password check costs a hash (milliseconds): an address
 * that keeps failing is refused without one. */
static int api_auth(void *ctx, const char *user, const char *password)
{
	struct callbridge *cb = ctx;
	int rc, i;

	if (!user || !password)
		return -EACCES;
	/* counted as a failure before the check, given back when the password was right */
	if (!web_limit_take(cb->login_fails, cb->peer, 0))
		return -EACCES;
	pthread_mutex_lock(&cb->auth_lock);
	rc = cfg_admin_check(cb->auth, user, password);
	if (!rc) {
		i = cfg_admin_find(cb->auth, user);
		rc = i < 0 ? -EACCES : (int)cb_api_role(cb->auth->admins[i].role);
	}
	pthread_mutex_unlock(&cb->auth_lock);
	if (rc != -EACCES)
		web_limit_refund(cb->login_fails, cb->peer, 0);
	else if (web_limit_over(cb->login_fails, cb->peer, 0) &&
		web_log_once(cb->log_once, cb->peer, CB_LOG_LOGINS))
		LOG_WARN("webadmin", "%s: %u failed logins in 60 s: refusing it for a while",
			cb->peer, CB_MAX_LOGIN_FAILS);
	return rc < 0 ? -EACCES : rc;
}

void cb_admins(struct callbridge *cb, const struct edge_cfg *cfg)
{
	pthread_mutex_lock(&cb->auth_lock);
	memcpy(cb->auth->admins, cfg->admins, sizeof(cfg->admins));
	cb->auth->n_admins = cfg->n_admins;
	pthread_mutex_unlock(&cb->auth_lock);
}

static int api_drop_leg(void *ctx, const char *id)
{
	struct callbridge *cb = ctx;
	struct cb_leg *leg = cb_conf_leg(&cb->model, id);
	struct cb_link *l;

	if (!leg)
		return -ENOENT;
	l = link_by_no(cb, leg->link);
	if (l)
		link_send(l,
			json_pack("{s:s, s:s, s:s}", "type", "drop", "participant", leg->id,
				"reason", "You were removed from the meeting."));
	leave_leg(cb, leg, "API request");
	return 0;
}

static int api_leg_media(void *ctx, const char *id, struct media_leg_stats *out)
{
	return media_leg_stats(((struct callbridge *)ctx)->media, id, out);
}

static int api_drop_call(void *ctx, const char *id)
{
	struct callbridge *cb = ctx;
	struct cb_call *c;

	for (c = cb->model.calls; c && strcmp(c->id, id); c = c->next)
		;
	if (!c)
		return -ENOENT;
	while (c) {
		struct cb_leg *leg = c->legs;
		bool last = c->n_legs == 1;
		struct cb_link *l = link_by_no(cb, leg->link);
		if (l)
			link_send(l,
				json_pack("{s:s, s:s, s:s}", "type", "drop", "participant", leg->id,
					"reason", "The meeting was ended."));
		cb_conf_leave(&cb->model, leg, "API request");
		if (last)
			break;
	}
	return 0;
}

static void api_changed(void *ctx, const char *object)
{
	struct callbridge *cb = ctx;

	if (!strcmp(object, "webBridges"))
		cb->resync = true; /* after this request: the links follow the store */
}

static const char *api_wb_status(void *ctx, const char *id)
{
	struct callbridge *cb = ctx;

	for (struct cb_link *l = cb->links; l; l = l->next)
		if (!l->gone && !strcmp(l->wb_id, id))
			return l->status;
	return "unused";
}

/* Decided on the headers alone, before lws reads any body: a write from another site, no or
 * wrong credentials, a role that may not (cb_api_check()), a body declared over the limit.
 * 0 = go on; else @rs holds the refusal, and lws discards the body of the refused request
 * unread (LRS_DISCARD_BODY), so a stranger never makes us buffer a byte of it. */
static int webadmin_refuse(struct callbridge *cb, struct cb_http *h, long body_len,
	struct cb_api_resp *rs)
{
	struct cb_api_req rq = {
		.method = h->method,
		.path = h->path,
		.query = h->query[0] ? h->query : NULL,
		.user = h->user[0] ? h->user : NULL,
		.password = h->user[0] ? h->pass : NULL,
	};
	int rc;

	memset(rs, 0, sizeof(*rs));
	if (h->cross_site) {
		/* a page elsewhere made this browser send it (CSRF): only our own pages may */
		LOG_WARN("webadmin", "%s: %s %s from another site (Origin %s) refused", h->peer,
			h->method, h->path, h->origin);
		rs->status = 403;
		rs->content_type = "text/plain";
		rs->body = strdup("cross-site request refused\n");
		rs->body_len = rs->body ? strlen(rs->body) : 0;
		return -EPERM;
	}
	snprintf(cb->peer, sizeof(cb->peer), "%s", h->peer);
	rc = cb_api_check(&cb->api, &rq, rs);
	if (rc == -EPERM)
		LOG_WARN("webadmin", "%s: user %s may not %s %s: its role does not allow it (403)",
			h->peer, h->user, h->method, h->path);
	else if (rc == -ENOMEM)
		rs->content_type = "text/plain";
	else if (!rc && body_len > CB_API_MAX_BODY) {
		rs->status = 413;
		rs->content_type = "text/xml";
		rc = -E2BIG;
	}
	return rc;
}

static int webadmin_send(struct lws *wsi, struct callbridge *cb, struct cb_http *h,
	struct cb_api_resp *rs)
{
	struct web_hdr hdrs[4];
	int nh = 0, rc;

	OPENSSL_cleanse(h->pass, sizeof(h->pass));
	if (rs->location[0])
		hdrs[nh++] = (struct web_hdr){ "location:", rs->location };
	if (rs->www_authenticate)
		hdrs[nh++] = (struct web_hdr){ "www-authenticate:", rs->www_authenticate };
	hdrs[nh++] = (struct web_hdr){ "cache-control:", "no-store" };
	hdrs[nh] = (struct web_hdr){ NULL, NULL };
	/* the request is done with: answering may end the transaction and free @h */
	web_rx_reset(&h->body);
	if (cb->resync) {
		cb->resync = false;
		sync_links(cb);
	}
	rc = web_respond(wsi, (unsigned int)rs->status,
		rs->content_type ? rs->content_type : "text/plain", hdrs, rs->body ? rs->body : "",
		rs->body ? rs->body_len : 0);
	cb_api_resp_free(rs);
	return rc;
}

/* A request webadmin_refuse() let through, with its body if it has one. */
static int webadmin_answer(struct lws *wsi, struct callbridge *cb, struct cb_http *h)
{
	struct cb_api_req rq = {
		.method = h->method,
		.path = h->path,
		.query = h->query[0] ? h->query : NULL,
		.body = h->body.buf,
		.body_len = h->body.len,
		.user = h->user[0] ? h->user : NULL,
		.password = h->user[0] ? h->pass : NULL,
		.checked = true,
	};
	struct cb_api_resp rs;

	memset(&rs, 0, sizeof(rs));
	if (h->too_big) {
		rs.status = 413;
		rs.content_type = "text/xml";
	} else {
		snprintf(cb->peer, sizeof(cb->peer), "%s", h->peer);
		if (cb_api_handle(&cb->api, &rq, &rs) < 0) {
			rs.status = 500;
			rs.content_type = "text/plain";
		}
	}
	return webadmin_send(wsi, cb, h, &rs);
}

/* The query string as the client sent it: lws hands its arguments over one by one and already
 * decoded, so each is encoded again for the API's own parser (a value may hold '&' or '='). */
static void query_of(struct lws *wsi, char *q, size_t len)
{
	char frag[512], enc[1024];
	size_t n = 0;

	q[0] = '\0';
	for (int i = 0;
		lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
		i++) {
		char *eq = strchr(frag, '=');
		if (eq)
			*eq = '\0';
		lws_urlencode(enc, frag, sizeof(enc));
		n += (size_t)snprintf(q + n, n < len ? len - n : 0, "%s%s", n ? "&" : "", enc);
		if (eq) {
			lws_urlencode(enc, eq + 1, sizeof(enc));
			n += (size_t)snprintf(q + n, n < len ? len - n : 0, "=%s", enc);
		}
		if (n >= len) { /* too long for us: nothing rather than a part */
			q[0] = '\0';
			return;
		}
	}
}

static int cb_webadmin(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	struct cb_http *h = user;
	struct callbridge *cb = lws_context_user(lws_get_context(wsi));
	struct cb_api_resp rs;
	long body_len = 0;
	char auth[400];
	static const struct {
		enum lws_token_indexes tok;
		const char *m;
	} methods[] = {
		{ WSI_TOKEN_GET_URI, "GET" },
		{ WSI_TOKEN_POST_URI, "POST" },
		{ WSI_TOKEN_PUT_URI, "PUT" },
		{ WSI_TOKEN_DELETE_URI, "DELETE" },
	};

	if (!h) /* after the transaction ended, lws may call us without our data */
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		web_rx_reset(&h->body);
		memset(h, 0, sizeof(*h));
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
				snprintf(h->method, sizeof(h->method), "%s", methods[i].m);
				lws_hdr_copy(wsi, h->path, sizeof(h->path), methods[i].tok);
			}
		if (!h->method[0])
			return web_respond(wsi, 405, "text/plain", NULL, "method not allowed\n",
				19);
		if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 0)
			web_basic_auth(auth, h->user, sizeof(h->user), h->pass, sizeof(h->pass));
		OPENSSL_cleanse(auth, sizeof(auth));
		web_peer(wsi, h->peer, sizeof(h->peer));
		if (strcmp(h->method, "GET") &&
			lws_hdr_copy(wsi, h->origin, sizeof(h->origin), WSI_TOKEN_ORIGIN) > 0) {
			/* browsers say where a write comes from; API clients send no Origin */
			char host[120], self[128];
			if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
				host[0] = '\0';
			snprintf(self, sizeof(self), "https://%s", host);
			h->cross_site = strcmp(h->origin, self) != 0;
		}
		query_of(wsi, h->query, sizeof(h->query));
		if (!strcmp(h->method, "POST") || !strcmp(h->method, "PUT")) {
			char cl[16];
			if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
				body_len = atol(cl);
		}
		if (webadmin_refuse(cb, h, body_len, &rs))
			return webadmin_send(wsi, cb, h, &rs);
		if (body_len > 0)
			return 0; /* the body follows */
		return webadmin_answer(wsi, cb, h);
	case LWS_CALLBACK_HTTP_BODY:
		if (!h->too_big && web_rx_add(&h->body, in, len, CB_API_MAX_BODY) < 0)
			h->too_big = true;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return webadmin_answer(wsi, cb, h);
	case LWS_CALLBACK_CLOSED_HTTP:
		web_rx_reset(&h->body);
		OPENSSL_cleanse(h->pass, sizeof(h->pass));
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* the webadmin's TLS listener: its certificate is replaced while it serves (web_svc_reload) */
#define CB_TLS_WEBADMIN 0

static int cert_paths(const struct web_svc *svc, int tag, const struct edge_cfg *cfg, char *key,
	char *cert, size_t len)
{
	const struct cfg_webadmin *wa = &cfg->webadmin;

	(void)svc;
	(void)tag;
	if (!wa->key[0] || !wa->cert[0] || pki_path(cfg->cert_dir, wa->key, key, len) < 0 ||
		pki_path(cfg->cert_dir, wa->cert, cert, len) < 0)
		return -ENOENT;
	return 0;
}

static int cb_webadmin_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS) {
		struct callbridge *cb = lws_vhost_user(in);

		if (cb)
			web_svc_tls_seen(&cb->svc, CB_TLS_WEBADMIN, user);
		return 0;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols webadmin_protocols[] = { { "http", cb_webadmin_http, 0, 0, 0,
								   NULL, 0 },
	{ "webadmin", cb_webadmin, sizeof(struct cb_http), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 } };

static const struct lws_protocols client_protocols[] = {
	{ "c2w", cb_c2w_client, 0, 16384, 0, NULL, 0 }, { NULL, NULL, 0, 0, 0, NULL, 0 }
};

static const struct lws_http_mount webadmin_mount = {
	.mountpoint = "/",
	.mountpoint_len = 1,
	.origin = "webadmin",
	.origin_protocol = LWSMPRO_CALLBACK,
};

/* ---- the context ---- */

/* every TLS endpoint of the appliance shares one policy (tls_policy.h) */
#define TLS_OPTS TLS_POLICY_OPTIONS
#define TLS12_CIPHERS TLS_POLICY_TLS12_CIPHERS

static int build_ctx(struct callbridge *cb)
{
	const struct edge_cfg *cfg = &cb->svc.cfg;
	struct lws_context_creation_info ci, vi;
	char err[1024], key[300], cert[300];
	int rc;

	if (cfg->role == EDGE_ROLE_EDGE)
		return SAY(0, "callbridge: not on this appliance (role edge)\n");
	rc = cb_db_open(cfg->cb.db_path, &cb->db, err, sizeof(err));
	if (rc < 0) {
		LOG_ERRX("callbridge", "database: %s", err);
		return SAY(rc, "callbridge: database: %s\n", err);
	}
	if (cb_db_notice(cb->db)[0])
		LOG_NOTE("callbridge", "%s", cb_db_notice(cb->db));
	cb->api = (struct cb_api){ .db = cb->db,
		.model = &cb->model,
		.env = { .ctx = cb,
			.auth = api_auth,
			.drop_leg = api_drop_leg,
			.drop_call = api_drop_call,
			.changed = api_changed,
			.webbridge_status = api_wb_status,
			.leg_media = api_leg_media } };
	memset(&ci, 0, sizeof(ci));
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.user = cb;
	ci.port = CONTEXT_PORT_NO_LISTEN;
	cb->ctx = lws_create_context(&ci);
	if (!cb->ctx)
		return SAY(-ENOMEM, "callbridge: cannot create its event loop\n");
	memset(&cb->reap_sul, 0, sizeof(cb->reap_sul));
	memset(&cb->roster_sul, 0, sizeof(cb->roster_sul));
	memset(&cb->media_sul, 0, sizeof(cb->media_sul));
	memset(&cb->speaker_sul, 0, sizeof(cb->speaker_sul));
	cb->roster_scheduled = false;
	lws_sul_schedule(cb->ctx, 0, &cb->reap_sul, reap, 5 * LWS_US_PER_SEC);
	lws_sul_schedule(cb->ctx, 0, &cb->media_sul, media_events, 250 * LWS_US_PER_MS);
	if (cb->media)
		lws_sul_schedule(cb->ctx, 0, &cb->speaker_sul, speakers_tick,
			CB_SPEAKER_TICK_MS * LWS_US_PER_MS);

	/* webadmin: the REST API and the pages */
	const struct cfg_webadmin *wa = &cfg->webadmin;
	int na = wa->enabled ? web_if_addrs(cfg, wa->ifi, cb->webadmin_addrs) : 0;
	if (!wa->enabled) {
		SAY(0, "webadmin: disabled\n");
	} else if (!na) {
		SAY(0, "webadmin: no listening interface ('webadmin listen <if> <port>')\n");
	} else if (!wa->key[0] || !wa->cert[0] ||
		pki_path(cfg->cert_dir, wa->key, key, sizeof(key)) < 0 ||
		pki_path(cfg->cert_dir, wa->cert, cert, sizeof(cert)) < 0) {
		SAY(0, "webadmin: no certificate ('webadmin certs <key> <crt>')\n");
	} else {
		for (int k = 0; k < na; k++) {
			const char *ip = cb->webadmin_addrs[k];
			char name[32];

			memset(&vi, 0, sizeof(vi));
			snprintf(name, sizeof(name), "webadmin-%d", k);
			vi.vhost_name = name;
			web_vhost_addr(&vi, ip); /* that address only */
			vi.port = wa->port;
			vi.protocols = webadmin_protocols;
			vi.mounts = &webadmin_mount;
			vi.user = cb;
			vi.ssl_cert_filepath = cert;
			vi.ssl_private_key_filepath = key;
			vi.ssl_options_set = TLS_OPTS;
			vi.ssl_cipher_list = TLS12_CIPHERS;
			vi.alpn = "http/1.1";
			vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
				LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
			if (!lws_create_vhost(cb->ctx, &vi)) {
				SAY(0, "webadmin: cannot listen on %s port %u (see the log)\n", ip,
					wa->port);
				continue;
			}
			cb->webadmin_up = true;
			SAY(0, "webadmin: HTTPS on %s %u (%s port %u)\n", cfg->ifs[wa->ifi].name,
				wa->port, ip, wa->port);
			if (!wa->http_redirect)
				continue;
			web_https_url(cb->redirect_urls[k], sizeof(cb->redirect_urls[k]), ip,
				wa->port);
			memset(&vi, 0, sizeof(vi));
			snprintf(name, sizeof(name), "webadmin-redirect-%d", k);
			vi.vhost_name = name;
			web_vhost_addr(&vi, ip);
			vi.port = 80;
			vi.protocols = web_redirect_protocols;
			vi.user = cb->redirect_urls[k];
			if (lws_create_vhost(cb->ctx, &vi))
				SAY(0, "webadmin: HTTP redirect on %s port 80\n", ip);
			else
				SAY(0, "webadmin: cannot listen on %s port 80 for the redirect\n",
					ip);
		}
	}

	/* C2W: our certificate and key, and whom we trust */
	if (!cfg->cb.enabled)
		return SAY(0, "callbridge: disabled\n");
	if (!cfg->cb.key[0] || !cfg->cb.cert[0] ||
		pki_path(cfg->cert_dir, cfg->cb.key, cb->key_path, sizeof(cb->key_path)) < 0 ||
		pki_path(cfg->cert_dir, cfg->cb.cert, cb->cert, sizeof(cb->cert)) < 0)
		return SAY(0, "callbridge: no certificate ('callbridge certs'): no C2W links\n");
	if (!cfg->cb.trust_c2w[0] ||
		pki_path(cfg->cert_dir, cfg->cb.trust_c2w, cb->trust, sizeof(cb->trust)) < 0)
		return SAY(0,
			"callbridge: no 'callbridge trust c2w': no C2W links (WebRTC "
			"fails without it)\n");
	rc = web_jwt_key_load(&cb->key, cb->key_path, err, sizeof(err));
	if (rc < 0)
		return SAY(0, "callbridge: %s: no C2W links\n", err);
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "c2w-client";
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = client_protocols;
	vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	vi.client_ssl_cert_filepath = cb->cert;
	vi.client_ssl_private_key_filepath = cb->key_path;
	vi.client_ssl_ca_filepath = cb->trust;
	vi.ssl_options_set = TLS_OPTS;
	vi.client_ssl_cipher_list = TLS12_CIPHERS;
	cb->client_vh = lws_create_vhost(cb->ctx, &vi);
	if (!cb->client_vh)
		return SAY(-EINVAL, "callbridge: cannot load its C2W certificate (see the log)\n");
	sync_links(cb);
	unsigned int n = 0;
	for (struct cb_link *l = cb->links; l; l = l->next)
		n++;
	SAY(0, "callbridge: %s, %u web bridge%s to connect to\n", cb->model.guid, n,
		n == 1 ? "" : "s");
	LOG_NOTE("callbridge", "started: GUID %s, %u web bridges", cb->model.guid, n);
	return 0;
}

static int build(struct web_svc *svc, struct lws_context **ctxp)
{
	struct callbridge *cb = (struct callbridge *)svc;
	int rc = build_ctx(cb);

	*ctxp = cb->ctx; /* webadmin may serve though C2W cannot start */
	return rc;
}

static void teardown(struct web_svc *svc, struct lws_context *ctx)
{
	struct callbridge *cb = (struct callbridge *)svc;

	/* the guests' legs end with the links */
	while (cb->model.calls)
		leave_leg(cb, cb->model.calls->legs, "callbridge restart");
	if (ctx) {
		cb->destroying = true;
		lws_context_destroy(ctx);
		cb->destroying = false;
	}
	pthread_mutex_lock(&cb->lock);
	cb->ctx = NULL;
	cb->client_vh = NULL;
	cb->webadmin_up = false;
	while (cb->links) {
		struct cb_link *l = cb->links;
		cb->links = l->next;
		resolve_put(l->res);
		web_msgq_clear(&l->q);
		web_rx_reset(&l->rx);
		free(l);
	}
	pthread_mutex_unlock(&cb->lock);
	web_jwt_key_free(&cb->key);
	if (cb->db) {
		cb_db_close(cb->db);
		cb->db = NULL;
	}
}

int cb_db_ready(const struct edge_cfg *cfg, char *err, size_t errlen)
{
	struct cb_db *db;
	int rc;

	if (cfg->role == EDGE_ROLE_EDGE)
		return 0;
	rc = cb_db_open(cfg->cb.db_path, &db, err, errlen);
	if (rc < 0)
		return rc;
	if (cb_db_notice(db)[0])
		LOG_NOTE("callbridge", "%s", cb_db_notice(db));
	cb_db_close(db);
	return 0;
}

struct callbridge *cb_start(const struct edge_cfg *cfg, struct media_server *media)
{
	struct callbridge *cb = calloc(1, sizeof(*cb));

	if (!cb)
		return NULL;
	pthread_mutex_init(&cb->lock, NULL);
	pthread_mutex_init(&cb->auth_lock, NULL);
	cb->auth = calloc(1, sizeof(*cb->auth));
	if (!cb->auth) {
		free(cb);
		return NULL;
	}
	cb_admins(cb, cfg);
	cb->login_fails = addr_limit_new(CB_LOGIN_KEYS, CB_MAX_LOGIN_FAILS, 60 * 1000);
	cb->log_once = web_log_once_new(60 * 1000);
	cb->speaker = cb_speaker_new(CB_MAX_LEGS, CB_MAX_LEGS);
	cb->levels = calloc(CB_MAX_LEGS, sizeof(*cb->levels));
	if (!cb->login_fails || !cb->log_once || !cb->speaker || !cb->levels)
		goto fail;
	cb_conf_init(&cb->model);
	cb->media = media;
	cb->media_io = (struct cb_media_io){ .ctx = cb, .to_guest = media_to_guest };
	cb->model.on_leave = media_on_leave;
	cb->model.on_leave_ctx = cb;
	cb->svc.name = "callbridge";
	cb->svc.build = build;
	cb->svc.teardown = teardown;
	cb->svc.cert_paths = cert_paths;
	if (web_svc_start(&cb->svc, cfg) < 0) {
		cb_conf_fini(&cb->model);
		goto fail;
	}
	return cb;
fail:
	addr_limit_free(cb->login_fails);
	addr_limit_free(cb->log_once);
	cb_speaker_free(cb->speaker);
	free(cb->levels);
	pthread_mutex_destroy(&cb->lock);
	pthread_mutex_destroy(&cb->auth_lock);
	free(cb->auth);
	free(cb);
	return NULL;
}

int cb_restart(struct callbridge *cb, const struct edge_cfg *cfg, FILE *out)
{
	return web_svc_restart(&cb->svc, cfg, out);
}

void cb_certs(struct callbridge *cb, const struct edge_cfg *cfg)
{
	web_svc_reload(&cb->svc, cfg);
}

void cb_stop(struct callbridge *cb)
{
	if (!cb)
		return;
	web_svc_stop(&cb->svc);
	cb_conf_fini(&cb->model);
	addr_limit_free(cb->login_fails);
	addr_limit_free(cb->log_once);
	cb_speaker_free(cb->speaker);
	free(cb->levels);
	pthread_mutex_destroy(&cb->lock);
	pthread_mutex_destroy(&cb->auth_lock);
	free(cb->auth);
	free(cb);
}

void cb_show_calls(struct callbridge *cb, FILE *out)
{
	time_t now = time(NULL);

	pthread_mutex_lock(&cb->model.lock);
	fprintf(out, "callbridge GUID %s: %u call%s\n", cb->model.guid, cb->model.n_calls,
		cb->model.n_calls == 1 ? "" : "s");
	fprintf(out, "%-36s  %-20s  %5s  %8s\n", "call", "name", "legs", "up (s)");
	for (struct cb_call *c = cb->model.calls; c; c = c->next)
		fprintf(out, "%-36s  %-20s  %5u  %8ld\n", c->id, c->name, c->n_legs,
			(long)(now - c->started));
	pthread_mutex_unlock(&cb->model.lock);
}

void cb_show_participants(struct callbridge *cb, FILE *out)
{
	time_t now = time(NULL);
	unsigned int n = 0;

	pthread_mutex_lock(&cb->model.lock);
	fprintf(out, "%-36s  %-16s  %-16s  %-10s  %-8s  %-5s  %-5s  %s\n", "participant (call leg)",
		"name", "guest", "space", "state", "audio", "video", "from");
	for (struct cb_call *c = cb->model.calls; c; c = c->next)
		for (struct cb_leg *l = c->legs; l; l = l->next, n++)
			fprintf(out,
				"%-36s  %-16s  %-16s  %-10s  %-8s  %-5s  %-5s  %s (%s, %lds)\n",
				l->id, l->name, l->guest, c->name,
				l->session ? "joined" : "joining", l->audio_muted ? "muted" : "on",
				l->video_muted ? "muted" : "on", l->remote,
				l->user_agent[0] ? l->user_agent : "-", (long)(now - l->started));
	fprintf(out, "%u participant%s\n", n, n == 1 ? "" : "s");
	pthread_mutex_unlock(&cb->model.lock);
}

void cb_figures(struct callbridge *cb, struct cb_figures *f)
{
	*f = (struct cb_figures){ 0 };
	pthread_mutex_lock(&cb->model.lock);
	f->calls = cb->model.n_calls;
	for (const struct cb_call *c = cb->model.calls; c; c = c->next)
		f->participants += c->n_legs;
	pthread_mutex_unlock(&cb->model.lock);
	pthread_mutex_lock(&cb->lock);
	for (const struct cb_link *l = cb->links; l; l = l->next)
		f->links += __atomic_load_n(&l->up, __ATOMIC_RELAXED) &&
			!__atomic_load_n(&l->broken, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&cb->lock);
	f->joins_ok = __atomic_load_n(&cb->joins_ok, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < CB_JOIN_FAIL_REASONS; i++)
		f->join_fails[i] = __atomic_load_n(&cb->join_fails[i], __ATOMIC_RELAXED);
}

bool cb_webadmin_running(struct callbridge *cb)
{
	bool up;

	pthread_mutex_lock(&cb->lock);
	up = cb->webadmin_up;
	pthread_mutex_unlock(&cb->lock);
	return up;
}

/* The callbridge's REST API (/api/v1/..., XML, as CMS answers it) and the webadmin's pages
 * (status, Configuration > General), as one request -> response function; no networking. */
#ifndef CB_API_H
#define CB_API_H

#include <stddef.h>

#include "cb_db.h"
#include "cb_model.h"

struct media_leg_stats;

#define CB_API_MAX_BODY (64 * 1024) /* larger bodies get 413 */

/* The webadmin users' roles (MMP `user add <name> <role>`, CMS-SPEC 1.8) and what each may
 * use, as the real product's MMP Command Line Reference has them (CMS 2.0, section 7 "MMP
 * User Account Commands", p.27; manualsbrain.com/zh/manuals/1613740/?page=27):
 *   admin     "permitted to do all tasks": the pages and the API, reading and writing;
 *   appadmin  "can perform application level configuration through the Web Admin
 *             Interface": the pages, and the API (inferred: the reference names none for
 *             it, and the Web Admin of CMS 2.9+ configures through an API page of its own);
 *   api       "can use the API": /api/... only, never a page;
 *   audit     "to send audit logs to a Syslog server": it configures nothing. Ours lets it
 *             read (GET, pages and API) and nothing else (the real one has no Web Admin);
 *   crypto    "crypto-related tasks" (the MMP's pki): nothing here, nor any other name. */
enum cb_api_role { CB_ROLE_ADMIN, CB_ROLE_APPADMIN, CB_ROLE_API, CB_ROLE_AUDIT, CB_ROLE_NONE };

/* The role a user's role name gives; CB_ROLE_NONE for crypto or an unknown name. */
enum cb_api_role cb_api_role(const char *name);
/* Whether @role may use @method on a page (is_api false) or on the API (/api/...). */
bool cb_api_role_may(enum cb_api_role role, const char *method, bool is_api);

/* What the callbridge lends the API. Called from the thread that calls cb_api_handle(). */
struct cb_api_env {
	void *ctx;
	/* These Basic credentials' user's role (enum cb_api_role, >= 0), or -EACCES for no or
	 * wrong credentials (user/password may be NULL). Without this callback every request
	 * is refused. */
	int (*auth)(void *ctx, const char *user, const char *password);
	/* DELETE /callLegs/<id> (and /participants/<id>): 0 or -ENOENT. Called without
	 * model->lock. NULL: 405 invalidOperation. */
	int (*drop_leg)(void *ctx, const char *leg_id);
	/* DELETE /calls/<id>: 0 or -ENOENT, without model->lock. NULL: 405 invalidOperation. */
	int (*drop_call)(void *ctx, const char *call_id);
	/* After a successful write to "webBridges", "turnServers" or "general". May be NULL. */
	void (*changed)(void *ctx, const char *object);
	/* The C2W link's state for a webBridge id: "unused", "success", "connectionFailure",
	 * "dnsFailure" or "tlsFailure". NULL (callback or answer) reads as "unused". */
	const char *(*webbridge_status)(void *ctx, const char *id);
	/* A leg's media figures for GET /callLegs/<id> (media_leg_stats(), include/media.h):
	 * 0, or -errno when it has none. Called without model->lock. May be NULL. */
	int (*leg_media)(void *ctx, const char *leg_id, struct media_leg_stats *out);
};

struct cb_api {
	struct cb_db *db;
	struct cb_model *model; /* may be NULL: no calls; locked while read */
	struct cb_api_env env;
};

/* A request as the HTTP server parsed it. */
struct cb_api_req {
	const char *method; /* "GET", "POST", "PUT", "DELETE" */
	const char *path;   /* "/api/v1/coSpaces/<id>"; a "?query" here is split off
					 * when query is NULL */
	const char *query;  /* "offset=0&limit=10&filter=x", or NULL */
	const char *body;   /* application/x-www-form-urlencoded, or NULL */
	size_t body_len;
	const char *user, *password; /* Basic credentials, decoded; NULL if none */
	bool checked;		     /* cb_api_check() passed it already: not again */
};

struct cb_api_resp {
	int status;		      /* 200, 303, 400, 401, 403, 404, 405, 413, 500 */
	const char *content_type;     /* static: "text/xml", "text/html; charset=utf-8" */
	char location[128];	      /* Location header's value, "" = none */
	const char *www_authenticate; /* static WWW-Authenticate value or NULL */
	char *body;		      /* malloc'd, NUL-terminated, may be NULL; caller frees */
	size_t body_len;
};

/* Decides on the request line and the credentials alone, so that the HTTP server can refuse
 * before it reads any body: 0 (it may go on; resp untouched), or fills resp with the refusal
 * and returns -EACCES (401: no or wrong credentials) or -EPERM (403: the user's role may not
 * use that page or method), or -ENOMEM (resp->status 500). req->body is not looked at. */
int cb_api_check(struct cb_api *api, const struct cb_api_req *req, struct cb_api_resp *resp);

/* Answers one request (cb_api_check() first, unless req->checked): fills resp and returns 0,
 * or returns -ENOMEM (resp->status 500, no body). */
int cb_api_handle(struct cb_api *api, const struct cb_api_req *req, struct cb_api_resp *resp);

/* free(resp->body) and forget it. */
void cb_api_resp_free(struct cb_api_resp *resp);

#endif

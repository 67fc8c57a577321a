/* The callbridge's REST API (/api/v1/..., XML, as CMS answers it) and the webadmin's pages
 * (status, Configuration > General), as one request -> response function; no networking. */
#ifndef CB_API_H
#define CB_API_H

#include <stddef.h>

#include "cb_db.h"
#include "cb_model.h"

#define CB_API_MAX_BODY (64 * 1024)	/* larger bodies get 413 */

/* What the callbridge lends the API. Called from the thread that calls cb_api_handle(). */
struct cb_api_env {
	void *ctx;
	/* 0 = these Basic credentials may use the API and the webadmin (user/password may be
	 * NULL). Without this callback every request is refused. */
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
};

struct cb_api {
	struct cb_db *db;
	struct cb_model *model;		/* may be NULL: no calls; locked while read */
	struct cb_api_env env;
};

/* A request as the HTTP server parsed it. */
struct cb_api_req {
	const char *method;		/* "GET", "POST", "PUT", "DELETE" */
	const char *path;		/* "/api/v1/coSpaces/<id>"; a "?query" here is split off
					 * when query is NULL */
	const char *query;		/* "offset=0&limit=10&filter=x", or NULL */
	const char *body;		/* application/x-www-form-urlencoded, or NULL */
	size_t body_len;
	const char *user, *password;	/* Basic credentials, decoded; NULL if none */
};

struct cb_api_resp {
	int status;			/* 200, 303, 400, 401, 404, 405, 413, 500 */
	const char *content_type;	/* static: "text/xml", "text/html; charset=utf-8" */
	char location[128];		/* Location header's value, "" = none */
	const char *www_authenticate;	/* static WWW-Authenticate value or NULL */
	char *body;			/* malloc'd, NUL-terminated, may be NULL; caller frees */
	size_t body_len;
};

/* Answers one request: fills resp and returns 0, or returns -ENOMEM (resp->status 500,
 * no body). */
int cb_api_handle(struct cb_api *api, const struct cb_api_req *req, struct cb_api_resp *resp);

/* free(resp->body) and forget it. */
void cb_api_resp_free(struct cb_api_resp *resp);

#endif

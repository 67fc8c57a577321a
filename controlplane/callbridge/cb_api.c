/* The callbridge's REST API in the style of CMS (/api/v1/..., form bodies in, XML out) over
 * the store (cb_db) and the live model (cb_model), and the webadmin's two small HTML pages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cb_api.h"
#include "media.h"

#define API_PAGE_MAX 20 /* the real API's largest page */
#define API_MAX_PARAMS 64
#define XML_HEAD "<?xml version=\"1.0\"?>"
#define CT_XML "text/xml"
#define CT_HTML "text/html; charset=utf-8"

/* --- a growing output buffer; an allocation failure sticks and is reported once --- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_addn(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->oom)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 1024;
		char *p;

		while (cap < sb->len + n + 1)
			cap *= 2;
		p = realloc(sb->p, cap);
		if (!p) {
			sb->oom = true;
			return;
		}
		sb->p = p;
		sb->cap = cap;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

static void sb_add(struct sbuf *sb, const char *s)
{
	sb_addn(sb, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_addn(sb, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Escaped for XML text, XML attributes and HTML alike. */
static void sb_esc(struct sbuf *sb, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *e;

		switch (*s) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			continue;
		}
		sb_addn(sb, run, (size_t)(s - run));
		sb_add(sb, e);
		run = s + 1;
	}
	sb_addn(sb, run, (size_t)(s - run));
}

/* <name>value</name>, escaped */
/* <name id="id"> */
static void sb_open(struct sbuf *sb, const char *name, const char *id)
{
	sb_printf(sb, "<%s id=\"", name);
	sb_esc(sb, id);
	sb_add(sb, "\">");
}

static void sb_elem(struct sbuf *sb, const char *name, const char *value)
{
	sb_printf(sb, "<%s>", name);
	sb_esc(sb, value);
	sb_printf(sb, "</%s>", name);
}

static void sb_elem_u(struct sbuf *sb, const char *name, unsigned long v)
{
	sb_printf(sb, "<%s>%lu</%s>", name, v, name);
}

static void sb_elem_b(struct sbuf *sb, const char *name, bool v)
{
	sb_printf(sb, "<%s>%s</%s>", name, v ? "true" : "false", name);
}

/* --- form and query strings --- */

struct param {
	char *key, *value;
};

struct params {
	struct param p[API_MAX_PARAMS];
	unsigned int n;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX and '+' decoded; a bad escape or a NUL is -EINVAL. */
static int pct_decode(const char *s, size_t len, char **out)
{
	char *d = malloc(len + 1), *o = d;

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(d);
				return -EINVAL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '\0') {
			free(d);
			return -EINVAL;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	*out = d;
	return 0;
}

static void params_free(struct params *ps)
{
	for (unsigned int i = 0; i < ps->n; i++) {
		free(ps->p[i].key);
		free(ps->p[i].value);
	}
	ps->n = 0;
}

/* key=value&... into ps. -EINVAL: malformed (*bad = the pair's key if it decoded, else NULL;
 * the caller frees it); -E2BIG: too many pairs; -ENOMEM. */
static int params_parse(const char *s, size_t len, struct params *ps, char **bad)
{
	const char *end = s + len;

	ps->n = 0;
	*bad = NULL;
	while (s && s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *pe = amp ? amp : end, *eq = memchr(s, '=', (size_t)(pe - s));
		const char *ke = eq ? eq : pe;
		char *k = NULL, *v = NULL;
		int rc;

		if (pe == s) { /* "&&" */
			s = pe + 1;
			continue;
		}
		if (ps->n == API_MAX_PARAMS)
			return -E2BIG;
		rc = pct_decode(s, (size_t)(ke - s), &k);
		if (rc)
			return rc;
		if (!*k) {
			free(k);
			return -EINVAL;
		}
		rc = pct_decode(eq ? eq + 1 : pe, eq ? (size_t)(pe - eq - 1) : 0, &v);
		if (rc) {
			*bad = k;
			return rc;
		}
		ps->p[ps->n].key = k;
		ps->p[ps->n].value = v;
		ps->n++;
		s = pe + 1;
	}
	return 0;
}

/* The last value given for key, or NULL. */
static const char *param_get(const struct params *ps, const char *key)
{
	for (unsigned int i = ps->n; i-- > 0;)
		if (!strcmp(ps->p[i].key, key))
			return ps->p[i].value;
	return NULL;
}

/* --- one request --- */

struct req {
	struct cb_api *api;
	const struct cb_api_req *in;
	struct cb_api_resp *resp;
	struct sbuf sb;
	const char *path, *query;
	char *seg[4]; /* /api/v1/<seg0>/<seg1>/<seg2> */
	unsigned int nseg;
};

static void env_changed(struct req *r, const char *object)
{
	if (r->api->env.changed)
		r->api->env.changed(r->api->env.ctx, object);
}

static void fail(struct req *r, int status, const char *reason)
{
	r->resp->status = status;
	r->resp->content_type = CT_XML;
	r->sb.len = 0;
	sb_printf(&r->sb, XML_HEAD "<failureDetails><%s /></failureDetails>", reason);
}

static void fail_missing(struct req *r, const char *singular)
{
	char reason[64];

	snprintf(reason, sizeof(reason), "%sDoesNotExist", singular);
	fail(r, 404, reason);
}

static void fail_param(struct req *r, const char *param, const char *error)
{
	r->resp->status = 400;
	r->resp->content_type = CT_XML;
	r->sb.len = 0;
	sb_add(&r->sb, XML_HEAD "<failureDetails><parameterError");
	if (param && *param && !cb_db_check_text(param) && strlen(param) <= 64) {
		sb_add(&r->sb, " parameter=\"");
		sb_esc(&r->sb, param);
		sb_add(&r->sb, "\"");
	}
	sb_printf(&r->sb, " error=\"%s\" /></failureDetails>", error);
}

/* Parses a form or query; on failure answers 400 and returns non-zero. */
static int parse_form(struct req *r, const char *s, size_t len, struct params *ps)
{
	char *bad = NULL;
	int rc = params_parse(s, len, ps, &bad);

	if (rc == -ENOMEM) {
		r->sb.oom = true;
	} else if (rc) {
		fail_param(r, bad, "invalidValue");
	}
	free(bad);
	if (rc)
		params_free(ps);
	return rc;
}

static void ok_xml(struct req *r)
{
	r->resp->status = 200;
	r->resp->content_type = CT_XML;
}

/* offset, limit and filter of a GET on a collection. */
struct page {
	unsigned int offset, limit;
	char filter[256];
};

static int parse_uint(const char *v, unsigned int *out)
{
	unsigned long n = 0;

	if (!*v || strlen(v) > 9)
		return -EINVAL;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	*out = (unsigned int)n;
	return 0;
}

/* Unknown query parameters are ignored, as the real API's other filters would be. */
static int parse_page(struct req *r, struct page *pg)
{
	struct params q;
	const char *v;
	int rc = 0;

	pg->offset = 0;
	pg->limit = API_PAGE_MAX;
	pg->filter[0] = '\0';
	if (!r->query)
		return 0;
	if (parse_form(r, r->query, strlen(r->query), &q))
		return -EINVAL;
	if ((v = param_get(&q, "offset")) && parse_uint(v, &pg->offset)) {
		fail_param(r, "offset", "invalidValue");
		rc = -EINVAL;
	} else if ((v = param_get(&q, "limit")) && parse_uint(v, &pg->limit)) {
		fail_param(r, "limit", "invalidValue");
		rc = -EINVAL;
	} else if ((v = param_get(&q, "filter"))) {
		if (strlen(v) >= sizeof(pg->filter)) {
			fail_param(r, "filter", "valueTooLong");
			rc = -EINVAL;
		} else if (cb_db_check_text(v)) {
			fail_param(r, "filter", "invalidValue");
			rc = -EINVAL;
		} else {
			snprintf(pg->filter, sizeof(pg->filter), "%s", v);
		}
	}
	if (pg->limit > API_PAGE_MAX)
		pg->limit = API_PAGE_MAX;
	params_free(&q);
	return rc;
}

/* --- the stored objects: coSpaces, webBridges, turnServers --- */

static const char *const changed_name[CB_DB_NKINDS] = {
	[CB_DB_WEBBRIDGE] = "webBridges",
	[CB_DB_TURNSERVER] = "turnServers",
};

static void render_obj(struct sbuf *sb, enum cb_db_kind kind, const void *obj, bool list)
{
	const struct cb_db_class *c = cb_db_class(kind);
	char buf[512];

	sb_open(sb, c->singular, obj);
	for (unsigned int i = 0; i < c->n_fields; i++) {
		const struct cb_db_field *f = &c->fields[i];

		if ((f->flags & (CB_DBF_HIDDEN | CB_DBF_PARENT)) ||
			(list && !(f->flags & CB_DBF_LIST)))
			continue;
		cb_db_field_get(f, obj, buf, sizeof(buf));
		if (*buf)
			sb_elem(sb, f->name, buf);
	}
	sb_printf(sb, "</%s>", c->singular);
}

struct list_ctx {
	struct sbuf *sb;
	enum cb_db_kind kind;
};

static int list_one(void *ctx, const void *obj)
{
	struct list_ctx *l = ctx;

	render_obj(l->sb, l->kind, obj, true);
	return 0;
}

/* A webBridgeProfile named by another object must exist ("" names none): 0, or answered
 * (400 webBridgeProfileDoesNotExist, or 503) and non-zero. */
static int profile_check(struct req *r, const char *id)
{
	union cb_db_any wp;
	int rc;

	if (!*id)
		return 0;
	rc = cb_db_obj_get(r->api->db, CB_DB_WBPROFILE, id, &wp);
	if (rc == -ENOENT)
		fail(r, 400, "webBridgeProfileDoesNotExist");
	else if (rc)
		fail(r, 503, "databaseNotReady");
	return rc;
}

/* An access method's space, from its path: 0, or answered (404 or 503) and non-zero. */
static int parent_check(struct req *r, const char *parent)
{
	union cb_db_any cs;
	int rc;

	if (!parent)
		return 0;
	rc = cb_db_obj_get(r->api->db, CB_DB_COSPACE, parent, &cs);
	if (rc == -ENOENT)
		fail_missing(r, "coSpace");
	else if (rc)
		fail(r, 503, "databaseNotReady");
	return rc;
}

/* Reads object id of kind, in parent's space for an access method: 0, or answered (404 when
 * it is not there, or is another space's) and non-zero. */
static int obj_read(struct req *r, enum cb_db_kind kind, const char *parent, const char *id,
	union cb_db_any *obj)
{
	int rc;

	if (parent_check(r, parent))
		return -ENOENT;
	rc = cb_db_obj_get(r->api->db, kind, id, obj);
	if (!rc && parent && strcmp(obj->am.cospace, parent))
		rc = -ENOENT;
	if (rc == -ENOENT)
		fail_missing(r, cb_db_class(kind)->singular);
	else if (rc)
		fail(r, 503, "databaseNotReady");
	return rc;
}

static void obj_list(struct req *r, enum cb_db_kind kind, const char *parent)
{
	const struct cb_db_class *c = cb_db_class(kind);
	struct sbuf items = { 0 };
	struct list_ctx l = { &items, kind };
	unsigned int total = 0;
	struct page pg;
	int rc;

	if (parse_page(r, &pg) || parent_check(r, parent))
		return;
	/* limit=0: the total alone */
	rc = cb_db_obj_list_in(r->api->db, kind, parent, pg.filter, pg.offset,
		pg.limit ? pg.limit : 1, pg.limit ? list_one : NULL, &l, &total);
	if (rc) {
		fail(r, 503, "databaseNotReady");
	} else {
		sb_printf(&r->sb, XML_HEAD "<%s total=\"%u\">", c->plural, total);
		if (items.len)
			sb_addn(&r->sb, items.p, items.len);
		sb_printf(&r->sb, "</%s>", c->plural);
		r->sb.oom |= items.oom;
		ok_xml(r);
	}
	free(items.p);
}

static void obj_get(struct req *r, enum cb_db_kind kind, const char *parent, const char *id)
{
	union cb_db_any obj;

	if (obj_read(r, kind, parent, id, &obj))
		return;
	sb_add(&r->sb, XML_HEAD);
	render_obj(&r->sb, kind, &obj, false);
	ok_xml(r);
}

/* Applies a form's parameters to obj; on failure answers 400 and returns non-zero. */
static int apply_params(struct req *r, enum cb_db_kind kind, void *obj, const struct params *ps)
{
	bool regenerate = false;

	for (unsigned int i = 0; i < ps->n; i++) {
		const char *k = ps->p[i].key, *v = ps->p[i].value;
		const struct cb_db_field *f;
		int rc;

		if ((kind == CB_DB_COSPACE || kind == CB_DB_ACCESSMETHOD) &&
			!strcmp(k, "regenerateSecret")) {
			if (!strcasecmp(v, "true")) {
				regenerate = true;
			} else if (strcasecmp(v, "false") && *v) {
				fail_param(r, k, "invalidValue");
				return -EINVAL;
			}
			continue;
		}
		f = cb_db_field(kind, k);
		if (!f || f->type == CB_FT_CONST || (f->flags & CB_DBF_PARENT)) {
			fail_param(r, k, "unrecognized");
			return -EINVAL;
		}
		rc = cb_db_field_set(f, obj, v);
		if (rc) {
			fail_param(r, k, rc == -E2BIG ? "valueTooLong" : "invalidValue");
			return rc;
		}
	}
	if (regenerate &&
		cb_db_secret(kind == CB_DB_COSPACE ? ((struct cb_cospace *)obj)->secret :
						     ((struct cb_accessmethod *)obj)->secret)) {
		fail(r, 503, "databaseNotReady");
		return -EIO;
	}
	return 0;
}

static void write_failed(struct req *r, enum cb_db_kind kind, int rc, const char *dup)
{
	if (rc == -EEXIST && (kind == CB_DB_COSPACE || kind == CB_DB_ACCESSMETHOD))
		fail(r, 400,
			!dup				 ? "duplicateCoSpaceUri" :
				!strcmp(dup, "callId")	 ? "duplicateCoSpaceId" :
				!strcmp(dup, "passcode") ? "duplicateCoSpaceIdPasscode" :
							   "duplicateCoSpaceUri");
	else if (rc == -ENOENT)
		fail_missing(r, cb_db_class(kind)->singular);
	else
		fail(r, 503, "databaseNotReady");
}

static void obj_write(struct req *r, enum cb_db_kind kind, const char *parent, const char *id)
{
	const struct cb_db_class *c = cb_db_class(kind);
	union cb_db_any obj;
	const char *dup = NULL;
	struct params ps;
	int rc;

	if (parse_form(r, r->in->body, r->in->body ? r->in->body_len : 0, &ps))
		return;
	if (id) {
		if (obj_read(r, kind, parent, id, &obj))
			goto out;
	} else {
		if (parent_check(r, parent))
			goto out;
		cb_db_obj_init(kind, &obj);
		if (parent)
			snprintf(obj.am.cospace, sizeof(obj.am.cospace), "%s", parent);
	}
	if (apply_params(r, kind, &obj, &ps) ||
		(kind == CB_DB_WEBBRIDGE && profile_check(r, obj.wb.web_bridge_profile)))
		goto out;
	rc = id ? cb_db_obj_update(r->api->db, kind, &obj, &dup) :
		  cb_db_obj_add(r->api->db, kind, &obj, &dup);
	if (rc) {
		write_failed(r, kind, rc, dup);
		goto out;
	}
	r->resp->status = 200;
	r->resp->content_type = CT_XML;
	if (!id && parent)
		snprintf(r->resp->location, sizeof(r->resp->location), "/api/v1/coSpaces/%s/%s/%s",
			parent, c->plural, obj.cs.id);
	else if (!id)
		snprintf(r->resp->location, sizeof(r->resp->location), "/api/v1/%s/%s", c->plural,
			obj.cs.id);
	if (changed_name[kind])
		env_changed(r, changed_name[kind]);
out:
	params_free(&ps);
}

static void obj_delete(struct req *r, enum cb_db_kind kind, const char *parent, const char *id)
{
	union cb_db_any obj;
	int rc;

	if (parent && obj_read(r, kind, parent, id, &obj))
		return;
	rc = cb_db_obj_delete(r->api->db, kind, id);
	if (rc) {
		write_failed(r, kind, rc, NULL);
		return;
	}
	r->resp->status = 200;
	r->resp->content_type = CT_XML;
	if (changed_name[kind])
		env_changed(r, changed_name[kind]);
}

static const char *wb_status(struct cb_api *api, const char *id)
{
	const char *s = api->env.webbridge_status ? api->env.webbridge_status(api->env.ctx, id) :
						    NULL;

	return s ? s : "unused";
}

static void webbridge_status(struct req *r, const char *id)
{
	struct cb_webbridge wb;
	int rc = cb_db_webbridge_get(r->api->db, id, &wb);

	if (rc == -ENOENT) {
		fail_missing(r, "webBridge");
		return;
	}
	if (rc) {
		fail(r, 503, "databaseNotReady");
		return;
	}
	sb_add(&r->sb, XML_HEAD);
	sb_open(&r->sb, "webBridge", wb.id);
	sb_elem(&r->sb, "status", wb_status(r->api, wb.id));
	sb_add(&r->sb, "</webBridge>");
	ok_xml(r);
}

static bool is(const char *method, const char *want)
{
	return !strcmp(method, want);
}

/* A collection (id NULL) or one object of kind, in parent's space for access methods. */
static void route_obj(struct req *r, enum cb_db_kind kind, const char *parent, const char *id)
{
	const char *m = r->in->method;

	if (!id && is(m, "GET"))
		obj_list(r, kind, parent);
	else if (!id && is(m, "POST"))
		obj_write(r, kind, parent, NULL);
	else if (id && is(m, "GET"))
		obj_get(r, kind, parent, id);
	else if (id && is(m, "PUT"))
		obj_write(r, kind, parent, id);
	else if (id && is(m, "DELETE"))
		obj_delete(r, kind, parent, id);
	else
		fail(r, 405, "invalidOperation");
}

static void route_stored(struct req *r, enum cb_db_kind kind)
{
	const char *m = r->in->method;
	bool am = kind == CB_DB_COSPACE && r->nseg >= 3 && !strcmp(r->seg[2], "accessMethods");

	if (r->nseg <= 2) {
		route_obj(r, kind, NULL, r->nseg == 2 ? r->seg[1] : NULL);
	} else if (am) {
		route_obj(r, CB_DB_ACCESSMETHOD, r->seg[1], r->nseg == 4 ? r->seg[3] : NULL);
	} else if (r->nseg == 3 && kind == CB_DB_WEBBRIDGE && !strcmp(r->seg[2], "status")) {
		if (is(m, "GET"))
			webbridge_status(r, r->seg[1]);
		else
			fail(r, 405, "invalidOperation");
	} else {
		fail(r, 404, "unrecognizedObject");
	}
}

/* /system/profiles: the profiles objects get when theirs names none (here, the web bridges'
 * webBridgeProfile). */
static void system_profiles(struct req *r)
{
	const char *m = r->in->method, *bad = NULL;
	struct cb_general g;
	struct params ps;
	int rc;

	if (!is(m, "GET") && !is(m, "PUT")) {
		fail(r, 405, "invalidOperation");
		return;
	}
	if (cb_db_general_get(r->api->db, &g)) {
		fail(r, 503, "databaseNotReady");
		return;
	}
	if (is(m, "GET")) {
		sb_add(&r->sb, XML_HEAD "<profiles>");
		if (g.web_bridge_profile[0])
			sb_elem(&r->sb, "webBridgeProfile", g.web_bridge_profile);
		sb_add(&r->sb, "</profiles>");
		ok_xml(r);
		return;
	}
	if (parse_form(r, r->in->body, r->in->body ? r->in->body_len : 0, &ps))
		return;
	for (unsigned int i = 0; i < ps.n; i++) {
		if (strcmp(ps.p[i].key, "webBridgeProfile")) {
			fail_param(r, ps.p[i].key, "unrecognized");
			goto out;
		}
		if (strlen(ps.p[i].value) >= sizeof(g.web_bridge_profile)) {
			fail_param(r, ps.p[i].key, "invalidValue");
			goto out;
		}
		snprintf(g.web_bridge_profile, sizeof(g.web_bridge_profile), "%s", ps.p[i].value);
	}
	/* a well-formed id (as a webBridge's webBridgeProfile is checked), of a profile that is */
	if (g.web_bridge_profile[0] &&
		cb_db_field(CB_DB_WEBBRIDGE, "webBridgeProfile")->check(g.web_bridge_profile)) {
		fail_param(r, "webBridgeProfile", "invalidValue");
		goto out;
	}
	if (profile_check(r, g.web_bridge_profile))
		goto out;
	rc = cb_db_general_set(r->api->db, &g, &bad);
	if (rc == -EINVAL || rc == -E2BIG)
		fail_param(r, bad ? bad : "webBridgeProfile", "invalidValue");
	else if (rc)
		fail(r, 503, "databaseNotReady");
	else
		ok_xml(r);
out:
	params_free(&ps);
}

/* --- the live objects: calls, callLegs, participants, read under model->lock --- */

enum live { LIVE_CALL, LIVE_LEG, LIVE_PARTICIPANT };

static unsigned long since(time_t t, time_t now)
{
	return now > t ? (unsigned long)(now - t) : 0;
}

static void render_call(struct sbuf *sb, const struct cb_call *c, bool full, time_t now)
{
	sb_open(sb, "call", c->id);
	sb_elem(sb, "name", c->name);
	sb_elem(sb, "coSpace", c->cospace);
	sb_elem(sb, "callCorrelator", c->correlator);
	if (full) {
		sb_elem(sb, "callType", "coSpace");
		sb_elem_u(sb, "durationSeconds", since(c->started, now));
		sb_elem_u(sb, "numCallLegs", c->n_legs);
		sb_elem_u(sb, "maxCallLegs", c->max_legs);
		sb_elem_u(sb, "numParticipantsLocal", c->n_legs);
		sb_elem_u(sb, "numParticipantsRemote", 0);
		sb_elem_u(sb, "numDistributedInstances", 0);
		sb_elem_b(sb, "locked", false);
		sb_elem_b(sb, "recording", false);
		sb_elem_b(sb, "streaming", false);
	}
	sb_add(sb, "</call>");
}

/* "VP8" -> "vp8", as CMS names codecs; "" stays "" */
static void codec_name(char *out, size_t n, const char *sdp_name)
{
	size_t i = 0;

	for (; sdp_name[i] && i + 1 < n; i++)
		out[i] = (char)(sdp_name[i] >= 'A' && sdp_name[i] <= 'Z' ? sdp_name[i] + 32 :
									   sdp_name[i]);
	out[i] = '\0';
}

/* What a leg's sources send it with: the codecs of the first source that has them. */
static void tx_codecs(const struct cb_leg *l, char *audio, char *video, size_t n)
{
	audio[0] = video[0] = '\0';
	for (unsigned int i = 0; l->call && i < CB_MAX_PAIRS; i++) {
		if (!l->pair_src[i][0])
			continue;
		for (const struct cb_leg *s = l->call->legs; s; s = s->next) {
			if (strcmp(s->id, l->pair_src[i]))
				continue;
			if (!audio[0] && s->audio_ssrc)
				snprintf(audio, n, "opus");
			if (!video[0] && s->video_ssrc)
				codec_name(video, n, s->video_codec);
		}
	}
}

/* <rxAudio>, <txVideo role="main">, ...: the codec when known, the bit rate, and for what
 * the leg sends, whether it muted it. No packetLossPercentage, jitter, width, height or
 * frameRate: the SFU neither reads RTCP reports nor decodes (docs/media.md). */
/* What CMS shows of a flow beyond its bit rate, where the SFU knows it (-1: not shown). */
struct flow_extra {
	int loss_permille, jitter_ms, rtt_ms;
	int width, height, fps;
};

static const struct flow_extra no_extra = { -1, -1, -1, -1, -1, -1 };

static void render_flow(struct sbuf *sb, const char *name, bool video, const char *codec,
	const struct media_flow_stats *f, int muted, const struct flow_extra *x)
{
	sb_printf(sb, video ? "<%s role=\"main\">" : "<%s>", name);
	if (codec && codec[0])
		sb_elem(sb, "codec", codec);
	if (x->width > 0 && x->height > 0) {
		sb_elem_u(sb, "width", (unsigned long)x->width);
		sb_elem_u(sb, "height", (unsigned long)x->height);
	}
	if (x->fps >= 0)
		sb_elem_u(sb, "frameRate", (unsigned long)x->fps);
	if (f)
		sb_elem_u(sb, "bitRate", (unsigned long)f->bit_rate);
	if (x->jitter_ms >= 0)
		sb_elem_u(sb, "jitter", (unsigned long)x->jitter_ms);
	if (x->rtt_ms > 0)
		sb_elem_u(sb, "roundTripTime", (unsigned long)x->rtt_ms);
	if (x->loss_permille >= 0)
		sb_printf(sb, "<packetLossPercentage>%d.%d</packetLossPercentage>",
			x->loss_permille / 10, x->loss_permille % 10);
	if (muted >= 0)
		sb_elem_b(sb, "muted", muted);
	sb_printf(sb, "</%s>", name);
}

/* A web app guest's leg: type acano, subtype webApp, as CMS shows a Web App participant.
 * @ms: its media figures, NULL when there are none (no media server, no media yet). */
static void render_leg(struct sbuf *sb, const struct cb_leg *l, bool full, time_t now,
	const struct media_leg_stats *ms)
{
	sb_open(sb, "callLeg", l->id);
	sb_elem(sb, "name", l->name);
	sb_elem(sb, "remoteParty", l->guest);
	sb_elem(sb, "originalRemoteParty", l->guest);
	sb_elem(sb, "call", l->call ? l->call->id : "");
	if (full) {
		sb_elem(sb, "type", "acano");
		sb_elem(sb, "subtype", "webApp");
		sb_elem(sb, "direction", "incoming");
		sb_elem_b(sb, "canMove", false);
		sb_add(sb, "<status>");
		sb_elem(sb, "state", l->session ? "connected" : "initial");
		sb_elem_u(sb, "durationSeconds", since(l->started, now));
		sb_elem_b(sb, "encryptedMedia", ms && ms->connected); /* DTLS-SRTP */
		if (ms) {
			char rx_video[16], tx_audio[16], tx_video[16];

			codec_name(rx_video, sizeof(rx_video), l->video_ssrc ? l->video_codec : "");
			tx_codecs(l, tx_audio, tx_video, sizeof(tx_audio));
			/* rx: loss by sequence number on its uplink (video: audio has no NACK);
			 * tx: its own receiver reports about what we send it */
			bool rr = ms->report_blocks > 0;
			struct flow_extra rxa = no_extra, txa = no_extra, rxv = no_extra,
					  txv = no_extra;

			if (l->video_ssrc) {
				rxv.loss_permille = (int)ms->rx_video_loss_permille;
				rxv.fps = (int)ms->rx_video_fps;
				rxv.width = (int)ms->rx_video_width;
				rxv.height = (int)ms->rx_video_height;
			}
			if (rr) {
				txa.loss_permille = (int)ms->tx_audio_loss_permille;
				txa.jitter_ms = (int)ms->tx_audio_jitter_ms;
				txv.loss_permille = (int)ms->tx_video_loss_permille;
				txv.jitter_ms = (int)ms->tx_video_jitter_ms;
				txa.rtt_ms = txv.rtt_ms = (int)ms->rtt_ms;
			}
			render_flow(sb, "rxAudio", false, l->audio_ssrc ? "opus" : "",
				&ms->rx_audio, l->audio_muted, &rxa);
			render_flow(sb, "txAudio", false, tx_audio, &ms->tx_audio, -1, &txa);
			render_flow(sb, "rxVideo", true, rx_video, &ms->rx_video, l->video_muted,
				&rxv);
			render_flow(sb, "txVideo", true, tx_video, &ms->tx_video, -1, &txv);
		} else {
			render_flow(sb, "rxAudio", false, NULL, NULL, l->audio_muted, &no_extra);
			render_flow(sb, "rxVideo", true, NULL, NULL, l->video_muted, &no_extra);
		}
		sb_add(sb, "</status>");
	}
	sb_add(sb, "</callLeg>");
}

static void render_participant(struct sbuf *sb, const struct cb_leg *l, bool full, time_t now)
{
	sb_open(sb, "participant", l->participant_id);
	sb_elem(sb, "name", l->name);
	sb_elem(sb, "call", l->call ? l->call->id : "");
	if (full) {
		sb_elem_u(sb, "numCallLegs", 1);
		sb_elem(sb, "uri", l->guest);
		sb_elem(sb, "userJid", l->guest);
		sb_elem_b(sb, "isActivator", true);
		sb_add(sb, "<status>");
		sb_elem(sb, "state", l->session ? "connected" : "initial");
		sb_elem_u(sb, "durationSeconds", since(l->started, now));
		sb_add(sb, "</status>");
	}
	sb_add(sb, "</participant>");
}

static struct cb_call *find_call(struct cb_model *m, const char *id)
{
	for (struct cb_call *c = m->calls; c; c = c->next)
		if (!strcmp(c->id, id))
			return c;
	return NULL;
}

static struct cb_leg *find_leg(struct cb_model *m, const char *id, bool by_participant)
{
	for (struct cb_call *c = m->calls; c; c = c->next)
		for (struct cb_leg *l = c->legs; l; l = l->next)
			if (!strcmp(by_participant ? l->participant_id : l->id, id))
				return l;
	return NULL;
}

/* A list of live objects: what, within (a call, a participant's leg, or everything). */
struct live_list {
	enum live what;
	const struct cb_call *in_call;
	const struct cb_leg *only_leg;
	struct page pg;
	unsigned int total, shown;
	time_t now;
};

static bool match(const char *name, const struct page *pg)
{
	return !pg->filter[0] || strcasestr(name, pg->filter);
}

static void live_item(struct sbuf *sb, struct live_list *ll, const char *name,
	const struct cb_call *c, const struct cb_leg *l)
{
	if (!match(name, &ll->pg))
		return;
	if (ll->total++ < ll->pg.offset || ll->shown >= ll->pg.limit)
		return;
	ll->shown++;
	if (ll->what == LIVE_CALL)
		render_call(sb, c, false, ll->now);
	else if (l && ll->what == LIVE_LEG)
		render_leg(sb, l, false, ll->now, NULL);
	else if (l)
		render_participant(sb, l, false, ll->now);
}

static void live_walk(struct sbuf *sb, struct cb_model *m, struct live_list *ll)
{
	if (ll->only_leg) {
		live_item(sb, ll, ll->only_leg->name, ll->only_leg->call, ll->only_leg);
		return;
	}
	for (const struct cb_call *c = m ? m->calls : NULL; c; c = c->next) {
		if (ll->in_call && c != ll->in_call)
			continue;
		if (ll->what == LIVE_CALL) {
			live_item(sb, ll, c->name, c, NULL);
			continue;
		}
		for (const struct cb_leg *l = c->legs; l; l = l->next)
			live_item(sb, ll, l->name, c, l);
	}
}

static const char *const live_plural[] = { "calls", "callLegs", "participants" };
static const char *const live_missing[] = { "call", "callLeg", "participant" };

static void live_list(struct req *r, enum live what, enum live parent, const char *parent_id)
{
	struct cb_model *m = r->api->model;
	struct live_list ll = { .what = what, .now = time(NULL) };
	struct sbuf items = { 0 };
	bool missing = false;

	if (parse_page(r, &ll.pg))
		return;
	if (m)
		pthread_mutex_lock(&m->lock);
	if (parent_id) {
		if (parent == LIVE_CALL)
			missing = !m || !(ll.in_call = find_call(m, parent_id));
		else
			missing = !m || !(ll.only_leg = find_leg(m, parent_id, true));
	}
	if (!missing)
		live_walk(&items, m, &ll);
	if (m)
		pthread_mutex_unlock(&m->lock);
	if (missing) {
		fail_missing(r, live_missing[parent]);
	} else {
		sb_printf(&r->sb, XML_HEAD "<%s total=\"%u\">", live_plural[what], ll.total);
		if (items.len)
			sb_addn(&r->sb, items.p, items.len);
		sb_printf(&r->sb, "</%s>", live_plural[what]);
		r->sb.oom |= items.oom;
		ok_xml(r);
	}
	free(items.p);
}

static void live_get(struct req *r, enum live what, const char *id)
{
	struct cb_model *m = r->api->model;
	struct cb_api_env *env = &r->api->env;
	time_t now = time(NULL);
	bool found = false;
	struct media_leg_stats ms;
	bool have_ms;

	/* before model->lock: the media server has its own */
	have_ms = what == LIVE_LEG && env->leg_media && env->leg_media(env->ctx, id, &ms) == 0;
	if (m)
		pthread_mutex_lock(&m->lock);
	if (m && what == LIVE_CALL) {
		struct cb_call *c = find_call(m, id);

		if ((found = c)) {
			sb_add(&r->sb, XML_HEAD);
			render_call(&r->sb, c, true, now);
		}
	} else if (m) {
		struct cb_leg *l = find_leg(m, id, what == LIVE_PARTICIPANT);

		if ((found = l)) {
			sb_add(&r->sb, XML_HEAD);
			if (what == LIVE_LEG)
				render_leg(&r->sb, l, true, now, have_ms ? &ms : NULL);
			else
				render_participant(&r->sb, l, true, now);
		}
	}
	if (m)
		pthread_mutex_unlock(&m->lock);
	if (found)
		ok_xml(r);
	else
		fail_missing(r, live_missing[what]);
}

/* DELETE: the callbridge drops it; the model is not locked while it does. */
static void live_delete(struct req *r, enum live what, const char *id)
{
	struct cb_api_env *env = &r->api->env;
	int (*drop)(void *ctx, const char *id) = what == LIVE_CALL ? env->drop_call : env->drop_leg;
	int rc = -ENOENT;

	if (!drop) {
		fail(r, 405, "invalidOperation");
		return;
	}
	if (what == LIVE_PARTICIPANT) {
		struct cb_model *m = r->api->model;
		char leg_id[CB_ID_LEN] = "";

		if (m) {
			struct cb_leg *l;

			pthread_mutex_lock(&m->lock);
			l = find_leg(m, id, true);
			if (l)
				snprintf(leg_id, sizeof(leg_id), "%s", l->id);
			pthread_mutex_unlock(&m->lock);
		}
		if (leg_id[0])
			rc = drop(env->ctx, leg_id);
	} else if (strlen(id) < CB_ID_LEN) {
		rc = drop(env->ctx, id);
	}
	if (rc == -ENOENT) {
		fail_missing(r, live_missing[what]);
	} else if (rc) {
		fail(r, 503, "databaseNotReady");
	} else {
		r->resp->status = 200;
		r->resp->content_type = CT_XML;
	}
}

static void route_live(struct req *r, enum live what)
{
	const char *m = r->in->method;

	if (r->nseg == 1) {
		if (is(m, "GET"))
			live_list(r, what, what, NULL);
		else
			fail(r, 405, "invalidOperation");
	} else if (r->nseg == 2) {
		if (is(m, "GET"))
			live_get(r, what, r->seg[1]);
		else if (is(m, "DELETE"))
			live_delete(r, what, r->seg[1]);
		else
			fail(r, 405, "invalidOperation");
	} else if (r->nseg == 3 && what == LIVE_CALL && !strcmp(r->seg[2], "callLegs")) {
		if (is(m, "GET"))
			live_list(r, LIVE_LEG, LIVE_CALL, r->seg[1]);
		else
			fail(r, 405, "invalidOperation");
	} else if (r->nseg == 3 && what == LIVE_CALL && !strcmp(r->seg[2], "participants")) {
		if (is(m, "GET"))
			live_list(r, LIVE_PARTICIPANT, LIVE_CALL, r->seg[1]);
		else
			fail(r, 405, "invalidOperation");
	} else if (r->nseg == 3 && what == LIVE_PARTICIPANT && !strcmp(r->seg[2], "callLegs")) {
		if (is(m, "GET"))
			live_list(r, LIVE_LEG, LIVE_PARTICIPANT, r->seg[1]);
		else
			fail(r, 405, "invalidOperation");
	} else {
		fail(r, 404, "unrecognizedObject");
	}
}

/* Splits what follows /api/v1/ into r->seg (in r's own copy of the path). */
static int split_api_path(struct req *r, char *rest)
{
	size_t len = strlen(rest);

	if (len && rest[len - 1] == '/')
		rest[--len] = '\0'; /* one trailing slash */
	r->nseg = 0;
	if (!len)
		return -ENOENT;
	for (char *s = rest;;) {
		char *slash = strchr(s, '/');

		if (r->nseg == 4)
			return -ENOENT;
		if (slash)
			*slash = '\0';
		if (!*s)
			return -ENOENT;
		r->seg[r->nseg++] = s;
		if (!slash)
			return 0;
		s = slash + 1;
	}
}

static void route_api(struct req *r, char *path)
{
	static const struct {
		const char *name;
		bool live;
		int kind;
	} objects[] = {
		{ "coSpaces", false, CB_DB_COSPACE },
		{ "webBridges", false, CB_DB_WEBBRIDGE },
		{ "turnServers", false, CB_DB_TURNSERVER },
		{ "webBridgeProfiles", false, CB_DB_WBPROFILE },
		{ "calls", true, LIVE_CALL },
		{ "callLegs", true, LIVE_LEG },
		{ "participants", true, LIVE_PARTICIPANT },
	};

	if (strncmp(path, "/api/v1/", 8) || split_api_path(r, path + 8)) {
		fail(r, 404, "unrecognizedObject");
		return;
	}
	if (r->nseg == 2 && !strcmp(r->seg[0], "system") && !strcmp(r->seg[1], "profiles")) {
		system_profiles(r);
		return;
	}
	for (unsigned int i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		if (strcmp(r->seg[0], objects[i].name))
			continue;
		if (objects[i].live)
			route_live(r, (enum live)objects[i].kind);
		else
			route_stored(r, (enum cb_db_kind)objects[i].kind);
		return;
	}
	fail(r, 404, "unrecognizedObject");
}

/* --- webadmin pages --- */

static void page_head(struct req *r, const char *title)
{
	sb_add(&r->sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	sb_esc(&r->sb, title);
	sb_add(&r->sb,
		"</title></head><body>\n<p><a href=\"/\">Status</a> | "
		"<a href=\"/general\">Configuration &gt; General</a></p>\n<h1>");
	sb_esc(&r->sb, title);
	sb_add(&r->sb, "</h1>\n");
}

static void page_tail(struct req *r)
{
	sb_add(&r->sb, "</body></html>\n");
	r->resp->content_type = CT_HTML;
}

static void page_error(struct req *r, int status, const char *title)
{
	r->resp->status = status;
	r->sb.len = 0;
	page_head(r, title);
	page_tail(r);
}

static void row(struct req *r, const char *th, const char *td)
{
	sb_add(&r->sb, "<tr><th>");
	sb_esc(&r->sb, th);
	sb_add(&r->sb, "</th><td>");
	sb_esc(&r->sb, td);
	sb_add(&r->sb, "</td></tr>\n");
}

static int status_webbridge(void *ctx, const void *obj)
{
	struct req *r = ctx;
	const struct cb_webbridge *wb = obj;

	sb_add(&r->sb, "<tr><td>");
	sb_esc(&r->sb, wb->url);
	sb_add(&r->sb, "</td><td>");
	sb_esc(&r->sb, wb_status(r->api, wb->id));
	sb_add(&r->sb, "</td></tr>\n");
	return 0;
}

static int status_turnserver(void *ctx, const void *obj)
{
	struct req *r = ctx;
	const struct cb_turnserver *ts = obj;

	sb_add(&r->sb, "<tr><td>");
	sb_esc(&r->sb, ts->server_address);
	sb_add(&r->sb, "</td><td>");
	sb_esc(&r->sb, ts->client_address);
	sb_add(&r->sb, "</td><td>");
	sb_esc(&r->sb, ts->type);
	sb_add(&r->sb, "</td></tr>\n");
	return 0;
}

static void page_status(struct req *r)
{
	struct cb_model *m = r->api->model;
	unsigned int calls = 0, legs = 0;
	char guid[CB_ID_LEN] = "", n[16];
	struct cb_general g;

	if (m) {
		pthread_mutex_lock(&m->lock);
		snprintf(guid, sizeof(guid), "%s", m->guid);
		for (struct cb_call *c = m->calls; c; c = c->next) {
			calls++;
			legs += c->n_legs;
		}
		pthread_mutex_unlock(&m->lock);
	}
	if (cb_db_general_get(r->api->db, &g))
		memset(&g, 0, sizeof(g));
	page_head(r, "Status");
	sb_add(&r->sb, "<table>\n");
	row(r, "Call bridge GUID", guid);
	snprintf(n, sizeof(n), "%u", calls);
	row(r, "Active calls", n);
	snprintf(n, sizeof(n), "%u", legs);
	row(r, "Participants", n);
	sb_add(&r->sb, "</table>\n<h2>TURN server settings</h2>\n<table>\n");
	row(r, "TURN Server address (Call Bridge)", g.turn_server_address);
	row(r, "TURN Server address (Web app)", g.turn_client_address);
	row(r, "Username", g.turn_username);
	row(r, "Password", g.turn_password[0] ? "set" : "not set");
	row(r, "Shared secret (guests)", g.turn_shared_secret[0] ? "set" : "not set");
	sb_add(&r->sb,
		"</table>\n<h2>TURN servers (API)</h2>\n<table>\n"
		"<tr><th>Server address</th><th>Client address</th><th>Type</th></tr>\n");
	cb_db_obj_list(r->api->db, CB_DB_TURNSERVER, NULL, 0, 0, status_turnserver, r, NULL);
	sb_add(&r->sb,
		"</table>\n<h2>Web bridges</h2>\n<table>\n"
		"<tr><th>URL</th><th>Status</th></tr>\n");
	cb_db_obj_list(r->api->db, CB_DB_WEBBRIDGE, NULL, 0, 0, status_webbridge, r, NULL);
	sb_add(&r->sb, "</table>\n");
	page_tail(r);
	r->resp->status = 200;
}

static void input(struct req *r, const char *label, const char *name, const char *type,
	const char *value)
{
	sb_add(&r->sb, "<tr><th><label for=\"");
	sb_add(&r->sb, name);
	sb_add(&r->sb, "\">");
	sb_esc(&r->sb, label);
	sb_printf(&r->sb, "</label></th><td><input type=\"%s\" id=\"%s\" name=\"%s\" value=\"",
		type, name, name);
	sb_esc(&r->sb, value);
	sb_add(&r->sb, "\"></td></tr>\n");
}

/* A secret's fields: never sent back (blank fields leave it as it is), typed twice, and a
 * box to clear it. */
static void secret_inputs(struct req *r, const char *label, const char *name, bool set)
{
	char l[80], n[64];

	snprintf(l, sizeof(l), "%s%s", label, set ? " (set; blank = unchanged)" : "");
	input(r, l, name, "password", "");
	snprintf(l, sizeof(l), "Confirm %s", label);
	snprintf(n, sizeof(n), "%sConfirm", name);
	input(r, l, n, "password", "");
	sb_printf(&r->sb,
		"<tr><th><label for=\"%sClear\">Clear %s</label></th>"
		"<td><input type=\"checkbox\" id=\"%sClear\" name=\"%sClear\" value=\"1\">"
		"</td></tr>\n",
		name, label, name, name);
}

static void page_general(struct req *r, const struct cb_general *g, const char *error)
{
	page_head(r, "General configuration");
	if (error) {
		sb_add(&r->sb, "<p class=\"error\">");
		sb_esc(&r->sb, error);
		sb_add(&r->sb, "</p>\n");
	}
	sb_add(&r->sb,
		"<form method=\"post\" action=\"/general\">\n"
		"<h2>TURN Server Settings</h2>\n<table>\n");
	input(r, "TURN Server address (Call Bridge)", "turnServerAddress", "text",
		g->turn_server_address);
	input(r, "TURN Server address (Web app)", "turnClientAddress", "text",
		g->turn_client_address);
	input(r, "Username", "turnUsername", "text", g->turn_username);
	secret_inputs(r, "Password", "turnPassword", g->turn_password[0]);
	/* ours: guests get credentials of their own made with it, never the password above */
	secret_inputs(r, "Shared secret (guests)", "turnSharedSecret", g->turn_shared_secret[0]);
	sb_add(&r->sb, "</table>\n<p><input type=\"submit\" value=\"Submit\"></p>\n</form>\n");
	page_tail(r);
}

/* Copies a form's field into dst if the form has it: 0, or -E2BIG. */
static int form_field(const struct params *ps, const char *key, char *dst, size_t size)
{
	const char *v = param_get(ps, key);

	if (!v)
		return 0;
	if (strlen(v) >= size)
		return -E2BIG;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* A secret from its fields (secret_inputs()): cleared, set when typed twice alike, or left
 * as it is. NULL, or what is wrong. */
static const char *secret_field(const struct params *ps, const char *name, const char *mismatch,
	char *dst, size_t size)
{
	char key[64];
	const char *v, *confirm, *clear;

	v = param_get(ps, name);
	snprintf(key, sizeof(key), "%sConfirm", name);
	confirm = param_get(ps, key);
	snprintf(key, sizeof(key), "%sClear", name);
	clear = param_get(ps, key);
	if (clear && !strcmp(clear, "1")) { /* the checkbox's value, nothing else */
		dst[0] = '\0';
	} else if ((v && *v) || (confirm && *confirm)) {
		if (!v || !confirm || strcmp(v, confirm))
			return mismatch;
		if (strlen(v) >= size)
			return "A value is too long";
		memcpy(dst, v, strlen(v) + 1);
	}
	return NULL;
}

static void general_post(struct req *r)
{
	static const char *const labels[][2] = {
		{ "turnServerAddress", "TURN Server address (Call Bridge)" },
		{ "turnClientAddress", "TURN Server address (Web app)" },
		{ "turnUsername", "Username" },
		{ "turnPassword", "Password" },
		{ "turnSharedSecret", "Shared secret" },
	};
	const char *bad = NULL, *error = NULL;
	char msg[160];
	struct cb_general g;
	struct params ps;
	char *badkey = NULL;
	int rc;

	if (cb_db_general_get(r->api->db, &g)) {
		page_error(r, 503, "The database is not ready");
		return;
	}
	rc = params_parse(r->in->body, r->in->body ? r->in->body_len : 0, &ps, &badkey);
	free(badkey);
	if (rc == -ENOMEM) {
		r->sb.oom = true;
		params_free(&ps);
		return;
	}
	if (rc) {
		params_free(&ps);
		page_error(r, 400, "Malformed form");
		return;
	}
	if (form_field(&ps, "turnServerAddress", g.turn_server_address,
		    sizeof(g.turn_server_address)) ||
		form_field(&ps, "turnClientAddress", g.turn_client_address,
			sizeof(g.turn_client_address)) ||
		form_field(&ps, "turnUsername", g.turn_username, sizeof(g.turn_username)))
		error = "A value is too long";
	if (!error)
		error = secret_field(&ps, "turnPassword", "The passwords do not match",
			g.turn_password, sizeof(g.turn_password));
	if (!error)
		error = secret_field(&ps, "turnSharedSecret", "The shared secrets do not match",
			g.turn_shared_secret, sizeof(g.turn_shared_secret));
	params_free(&ps);
	if (!error && (rc = cb_db_general_set(r->api->db, &g, &bad))) {
		error = "The database is not ready";
		for (unsigned int i = 0; bad && i < sizeof(labels) / sizeof(labels[0]); i++)
			if (!strcmp(bad, labels[i][0])) {
				snprintf(msg, sizeof(msg), "%s: %s", labels[i][1],
					rc == -E2BIG ? "too long" : "not a valid value");
				error = msg;
			}
	}
	if (error) {
		r->resp->status = 400;
		page_general(r, &g, error);
		return;
	}
	env_changed(r, "general");
	r->resp->status = 303;
	snprintf(r->resp->location, sizeof(r->resp->location), "/general");
	page_head(r, "See Other");
	sb_add(&r->sb, "<p><a href=\"/general\">/general</a></p>\n");
	page_tail(r);
}

static void route_page(struct req *r, const char *path)
{
	const char *m = r->in->method;

	if (!strcmp(path, "/")) {
		if (is(m, "GET"))
			page_status(r);
		else
			page_error(r, 405, "Method not allowed");
	} else if (!strcmp(path, "/general")) {
		struct cb_general g;

		if (is(m, "GET")) {
			if (cb_db_general_get(r->api->db, &g)) {
				page_error(r, 503, "The database is not ready");
				return;
			}
			r->resp->status = 200;
			page_general(r, &g, NULL);
		} else if (is(m, "POST")) {
			general_post(r);
		} else {
			page_error(r, 405, "Method not allowed");
		}
	} else {
		page_error(r, 404, "Not found");
	}
}

/* --- who may use what (cb_api.h has the roles and where they come from) --- */

enum cb_api_role cb_api_role(const char *name)
{
	static const char *const names[] = { [CB_ROLE_ADMIN] = "admin",
		[CB_ROLE_APPADMIN] = "appadmin",
		[CB_ROLE_API] = "api",
		[CB_ROLE_AUDIT] = "audit" };

	for (unsigned int i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return (enum cb_api_role)i;
	return CB_ROLE_NONE;
}

bool cb_api_role_may(enum cb_api_role role, const char *method, bool is_api)
{
	switch (role) {
	case CB_ROLE_ADMIN:
	case CB_ROLE_APPADMIN:
		return true;
	case CB_ROLE_API:
		return is_api;
	case CB_ROLE_AUDIT:
		return method && is(method, "GET");
	default:
		return false;
	}
}

static bool is_api_path(const char *path)
{
	return path && (!strncmp(path, "/api/", 5) || !strcmp(path, "/api"));
}

static int check(struct cb_api *api, const struct cb_api_req *in, struct req *r)
{
	bool is_api = is_api_path(in->path);
	int role = api->env.auth ? api->env.auth(api->env.ctx, in->user, in->password) : -EACCES;

	if (role < 0) {
		r->resp->status = 401;
		r->resp->www_authenticate = "Basic realm=\"webadmin\"";
		if (is_api) {
			r->resp->content_type = CT_XML;
			sb_add(&r->sb,
				XML_HEAD "<failureDetails><authenticationFailure />"
					 "</failureDetails>");
		} else {
			page_error(r, 401, "Authorization required");
		}
		return -EACCES;
	}
	if (!cb_api_role_may((enum cb_api_role)role, in->method, is_api)) {
		if (is_api) /* ours: the real API names no reason for a role's refusal */
			fail(r, 403, "insufficientPrivileges");
		else
			page_error(r, 403, "Forbidden: this user's role may not do that");
		return -EPERM;
	}
	return 0;
}

/* The answer's body into r->resp: 0, or -ENOMEM (r->resp is then a bare 500). */
static int finish(struct req *r)
{
	if (r->sb.oom) {
		free(r->sb.p);
		memset(r->resp, 0, sizeof(*r->resp));
		r->resp->status = 500;
		return -ENOMEM;
	}
	r->resp->body = r->sb.p;
	r->resp->body_len = r->sb.len;
	if (r->resp->body && !r->resp->body_len) {
		free(r->resp->body);
		r->resp->body = NULL;
	}
	return 0;
}

int cb_api_check(struct cb_api *api, const struct cb_api_req *in, struct cb_api_resp *resp)
{
	struct cb_api_resp rs;
	struct req r = { .api = api, .in = in, .resp = &rs };
	int rc;

	memset(&rs, 0, sizeof(rs));
	rc = check(api, in, &r);
	if (!rc)
		return 0;
	if (finish(&r))
		rc = -ENOMEM;
	*resp = rs;
	return rc;
}

/* --- the entry point --- */

static bool known_method(const char *m)
{
	return m && (is(m, "GET") || is(m, "POST") || is(m, "PUT") || is(m, "DELETE"));
}

int cb_api_handle(struct cb_api *api, const struct cb_api_req *in, struct cb_api_resp *resp)
{
	struct req r = { .api = api, .in = in, .resp = resp };
	const char *path = in->path ? in->path : "";
	bool is_api = is_api_path(path);
	char *copy, *q;

	memset(resp, 0, sizeof(*resp));
	copy = strdup(path);
	if (!copy)
		goto oom;
	r.query = in->query;
	q = strchr(copy, '?');
	if (q) {
		*q = '\0';
		if (!r.query)
			r.query = path + (q - copy) + 1;
	}
	r.path = copy;
	if (!in->checked && check(api, in, &r)) {
		/* refused: resp and r.sb hold the answer */
	} else if (in->body && in->body_len > CB_API_MAX_BODY) {
		if (is_api)
			fail(&r, 413, "parameterError");
		else
			page_error(&r, 413, "Request too large");
	} else if (!known_method(in->method)) {
		if (is_api)
			fail(&r, 405, "invalidOperation");
		else
			page_error(&r, 405, "Method not allowed");
	} else if (is_api) {
		route_api(&r, copy);
	} else {
		route_page(&r, copy);
	}
	free(copy);
	return finish(&r);
oom:
	r.sb.oom = true;
	return finish(&r);
}

void cb_api_resp_free(struct cb_api_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

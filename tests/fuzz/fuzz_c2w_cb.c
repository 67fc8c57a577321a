/* fuzz_api's C2W half, callbridge side: the callbridge's C2W receive path (cb.c's
 * link_receive: fragments, reassembly, the message handler with joins, sessions, signals,
 * leaves, rosters) on one link, without a socket. Compiled with cb.c itself so that its
 * static functions are reachable. What it checks: nothing the link sends is over
 * C2W_MAX_MSG, and a link that is still open reads the next whole message (a "hello" sent
 * after the input must be taken): never up and deaf. */
#include "../../controlplane/callbridge/cb.c"

#include <openssl/pem.h>

#include "fuzz_c2w.h"

static struct callbridge fcb;
static struct cb_link flink;
static bool closed;
static unsigned long resyncs;

void fuzz_c2w_cb_init(void)
{
	char path[] = "/tmp/fuzz_c2w_keyXXXXXX", err[160];
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!k || !f || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	fclose(f);
	EVP_PKEY_free(k);
	if (web_jwt_key_load(&fcb.key, path, err, sizeof(err)) < 0)
		abort();
	unlink(path);
	cb_conf_init(&fcb.model);
	/* as cb_start() wires it, with no media server: offers get the "no media port" answer */
	fcb.media_io = (struct cb_media_io){ .ctx = &fcb, .to_guest = media_to_guest };
	fcb.model.on_leave = media_on_leave;
	fcb.model.on_leave_ctx = &fcb;
	snprintf(fcb.model.guid, sizeof(fcb.model.guid), "320d02c3-7af5-4e4f-b51c-9a7a4dc0b8b9");
	fcb.svc.cfg.cb.jwt_expiry_hours = 1;
	fcb.log_once = web_log_once_new(60 * 1000);
	pthread_mutex_init(&fcb.lock, NULL);
	flink.cb = &fcb;
	flink.no = 1;
	snprintf(flink.url, sizeof(flink.url), "c2w://198.18.10.1:6000");
	flink.status = "success";
	fcb.links = &flink;
}

/* What the link queued (each message was measured by link_send) is taken at once. */
static void drain(void)
{
	if (flink.q.bytes > C2W_MAX_QUEUE)
		abort();
	web_msgq_clear(&flink.q);
}

void fuzz_c2w_cb_begin(struct cb_db *db)
{
	fcb.db = db;
	flink.up = true;
	flink.broken = false;
	closed = false;
}

/* "@p" in a fragment stands for a guest that joined (ids are random: a fuzzer would never
 * guess one), so that sessions, signals and leaves reach a leg. */
static char *with_leg(const void *data, size_t *len)
{
	const char *id = fcb.model.calls && fcb.model.calls->legs ? fcb.model.calls->legs->id : "";
	size_t idl = strlen(id), n = 0;
	const char *p = data, *end = p + *len;
	char *out;

	if (!memmem(data, *len, "@p", 2) || !(out = malloc(*len / 2 * idl + *len + 1)))
		return NULL;
	while (p < end) {
		if (end - p >= 2 && p[0] == '@' && p[1] == 'p') {
			memcpy(out + n, id, idl);
			n += idl;
			p += 2;
		} else {
			out[n++] = *p++;
		}
	}
	*len = n;
	return out;
}

void fuzz_c2w_cb_fragment(const void *data, size_t len, bool final)
{
	char *sub;

	if (closed)
		return;
	sub = with_leg(data, &len);
	if (sub)
		data = sub;
	int rc = link_receive(&fcb, &flink, data, len, final);
	free(sub);
	if (rc < 0) {
		if (!flink.broken)
			abort(); /* closing says why, in the log */
		closed = true;
	}
	rosters_due(&fcb.roster_sul); /* what the timer would do 100 ms later */
	drain();
}

void fuzz_c2w_cb_end(void)
{
	char hello[128], want[32];

	/* a message left half-way is ended first: whatever it was, the next is read */
	if (!closed && (flink.rx.discard || (flink.rx.buf && !flink.rx.done)))
		fuzz_c2w_cb_fragment("", 0, true);
	if (!closed) {
		snprintf(want, sizeof(want), "fuzz-%lu", ++resyncs);
		snprintf(hello, sizeof(hello),
			"{\"type\":\"hello\",\"guid\":\"%s\",\"role\":\"webbridge3\"}", want);
		fuzz_c2w_cb_fragment(hello, strlen(hello), true);
		if (!closed && strcmp(flink.wb_guid, want))
			abort(); /* up, and deaf */
	}
	/* the connection closes: its guests go, as CLIENT_CLOSED does */
	flink.up = false;
	cb_conf_each_on_link(&fcb.model, flink.no, drop_on_link, &fcb);
	rosters_due(&fcb.roster_sul);
	web_msgq_clear(&flink.q);
	web_rx_reset(&flink.rx);
	flink.wb_guid[0] = '\0';
}

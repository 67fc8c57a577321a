/* fuzz_api's C2W half, web bridge side: webbridge3's C2W receive path (wb3.c's
 * link_receive: fragments, reassembly, hello, media, joinResult, signal, drop) on one link
 * from a callbridge, without a socket and without guests (whose sockets it would touch).
 * Compiled with wb3.c itself so that its static functions are reachable. What it checks: a
 * link that is still open reads the next whole message (a "media" sent after the input must
 * be taken): never up and deaf. */
#include "../../controlplane/webbridge3/wb3.c"

#include "fuzz_c2w.h"

static struct wb3 fw;
static struct wb3_link wl;
static bool closed;

void fuzz_c2w_wb3_init(void)
{
	pthread_mutex_init(&fw.lock, NULL);
	web_uuid(fw.guid);
	fw.fails = addr_limit_new(WB3_FAIL_KEYS, WB3_MAX_FAILS, WB3_FAIL_WINDOW_S * 1000);
	fw.log_once = web_log_once_new(60 * 1000);
	if (!fw.fails || !fw.log_once)
		abort();
	snprintf(wl.peer, sizeof(wl.peer), "198.18.10.3");
	fw.links = &wl;
}

void fuzz_c2w_wb3_begin(void)
{
	closed = false;
}

void fuzz_c2w_wb3_fragment(const void *data, size_t len, bool final)
{
	if (closed)
		return;
	if (link_receive(&fw, &wl, data, len, final) < 0) {
		if (!wl.broken)
			abort(); /* closing says why, in the log */
		closed = true;
	}
	if (wl.q.bytes > C2W_MAX_QUEUE)
		abort();
	web_msgq_clear(&wl.q);
}

void fuzz_c2w_wb3_end(void)
{
	static const char hello[] =
		"{\"type\":\"hello\",\"guid\":"
		"\"320d02c3-7af5-4e4f-b51c-9a7a4dc0b8b9\",\"role\":\"callbridge\"}";
	static const char media[] = "{\"type\":\"media\",\"addresses\":[\"198.18.10.3:50000\"]}";

	if (!closed && (wl.rx.discard || (wl.rx.buf && !wl.rx.done)))
		fuzz_c2w_wb3_fragment("", 0, true);
	if (!closed && !wl.guid[0]) {
		fuzz_c2w_wb3_fragment(hello, strlen(hello), true);
		if (!closed && !wl.guid[0])
			abort(); /* up, and deaf */
	}
	if (!closed) {
		wl.n_media = 0;
		fuzz_c2w_wb3_fragment(media, strlen(media), true);
		if (!closed && wl.n_media != 1)
			abort(); /* up, and deaf */
	}
	web_msgq_clear(&wl.q);
	web_rx_reset(&wl.rx);
	wl.guid[0] = '\0';
	wl.n_media = 0;
	wl.broken = false;
}

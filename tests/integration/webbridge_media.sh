# Sourced by test_webbridge.sh (one appliance, and two with WEBBRIDGE_TWO=1): guests in 9999
# see and hear each other, judged by headless Chromium's own getStats() (frames decoded rising,
# a picture that is not blank, audio samples rising): directly to the media port, and relayed
# through our TURN server; three guests of whom one leaves; a guest killed without leaving is
# gone from the roster within 40 s (consent, RFC 7675).
MEDIA_CLIENT=$ROOT/tests/integration/clients/browser_media.py
media() {
	timeout 300 ip netns exec public /usr/bin/python3 "$MEDIA_CLIENT" --url "https://$PUB_IP:445/" \
		--ca "$CERTS/lab-ca.pem" --meeting 9999 --timeout 150 "$@"
}
# wait_log_from <file> <line> <regex> <seconds>: the log has it after line <line> (bounded)
wait_log_from() {
	local i
	for i in $(seq 1 $(($4 * 10))); do
		tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -q -- "$3" && return 0
		sleep 0.1
	done
	return 1
}
# media_run <label> <json file> <client args...>: one browser_media.py run, judged
media_run() {
	local label=$1 out=$2; shift 2
	if media "$@" > "$out" 2> "$out.err"; then
		ok "$label ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(", ".join("%s decoded %s frames" % (g["name"], sum(g["framesDecoded"].values())) for g in d["guests"]))' "$out" 2>/dev/null))"
		return 0
	fi
	bad "$label: $(tail -1 "$out.err")"
	return 1
}

# media_api_poll <out> <stop file>: GET /callLegs/<id> of every leg once a second (at most 120 s)
# until one's status shows a bit rate above 0 in each of rxAudio, txAudio, rxVideo and txVideo,
# the received video's size and the jitter, round trip and loss of the sent video;
# that answer goes to <out>, `callbridge media` to <out>.page (the last answer: <out>.last)
media_api_poll() {
	local out=$1 stop=$2 i id x t good
	for i in $(seq 1 120); do
		[ -e "$stop" ] && return 1
		for id in $(api GET /callLegs | grep -o '<callLeg id="[^"]*"' | cut -d'"' -f2); do
			x=$(api GET "/callLegs/$id")
			printf '%s\n' "$x" > "$out.last"
			good=1
			for t in rxAudio txAudio rxVideo txVideo; do
				grep -qE "<$t( role=\"main\")?>(<codec>[a-z0-9]+</codec>)?(<width>[0-9]+</width><height>[0-9]+</height>)?(<frameRate>[0-9]+</frameRate>)?<bitRate>[1-9][0-9]*</bitRate>" <<<"$x" || good=
			done
			# and what the SFU learns of the picture and from the guests' receiver reports
			grep -qE '<rxVideo role="main"><codec>[a-z0-9]+</codec><width>[1-9][0-9]*</width><height>[1-9][0-9]*</height><frameRate>' <<<"$x" &&
				grep -qE '<txVideo role="main">.*<jitter>[0-9]+</jitter><roundTripTime>[1-9][0-9]*</roundTripTime><packetLossPercentage>[0-9.]+</packetLossPercentage>' <<<"$x" || good=
			if [ -n "$good" ]; then
				printf '%s\n' "$x" > "$out"
				cctl callbridge media > "$out.page" 2>&1
				return 0
			fi
		done
		sleep 1
	done
	return 1
}
# media_panel <json> <transport>: every guest's statistics panel shows "Connection: <transport>"
# ("direct", "relayed (TURN over ") and a received video's size (W×H); prints what they show
media_panel() {
	python3 -c 'import json, re, sys
d = json.load(open(sys.argv[1]))
bad = []
for g in d["guests"]:
	p = g.get("statsPanel") or {}
	t = p.get("text") or ""
	if not p.get("shown") or ("Connection: " + sys.argv[2]) not in t or not re.search("from .* video.*[0-9]+\u00d7[0-9]+", t):
		bad.append("%s: %r" % (g["name"], t[:300]))
	else:
		bad or print("%s: %s, %s" % (g["name"], re.search("Connection: [^\n]*", t).group(0),
			re.search("from .* video.*[0-9]+\u00d7[0-9]+[^\n]*", t).group(0).replace("\t", " ")))
print("; ".join(bad))
sys.exit(1 if bad else 0)' "$@"
}

echo "== media: the callbridge's media port"
if [ -z "$TWO" ]; then
	# one appliance: guests reach it directly too, over IPv6 first when b has an IPv6
	# address (config/lab.conf), as Chromium prefers
	MEDIA_IF=b MEDIA_IP=$PUB_IP MEDIA_IP6=2001:db8:20::1
else
	MEDIA_IF=a MEDIA_IP=$CORE_IP MEDIA_IP6=	# the core: guests reach it through the edge's TURN
fi
M0=$(wc -l < "$CLOG") E0=$(wc -l < "$LOG")
cctl_ok callbridge media "$MEDIA_IF:10000" >/dev/null && cctl callbridge restart > "$W/media-restart.out" 2>&1
wait_log_from "$CLOG" "$M0" "C2W connection for webbridge $INT_IP:6000 UP" 15 &&
	wait_log_from "$LOG" "$E0" "has 1 media port" 15 &&
	ok "callbridge media $MEDIA_IF:10000: the web bridge heard of it over C2W" ||
	bad "media port: $(tail -5 "$CLOG")"
page=$(cctl callbridge media)
grep -qx "Media ports               : $MEDIA_IP:10000" <<<"$page" && grep -q "^DTLS fingerprint          : sha-256 [0-9A-F:]\{95\}$" <<<"$page" &&
	ok "callbridge media: the port and the DTLS certificate's fingerprint" || bad "callbridge media page: $page"

if [ -z "$TWO" ]; then
	M0=$(wc -l < "$CLOG")
	# while they talk, the API's callLegs/<id> is asked for the leg's media figures
	rm -f "$W/media-callleg.xml" "$W/media-callleg.stop"
	media_api_poll "$W/media-callleg.xml" "$W/media-callleg.stop" & poll_pid=$!
	media_run "two guests see and hear each other, directly to the media port" "$W/media-direct.json" --guests 2 --bwe-seconds 15 --stats-panel
	touch "$W/media-callleg.stop"
	wait "$poll_pid"
	if [ -s "$W/media-callleg.xml" ]; then
		ok "API callLegs/<id>: a guest's status shows rxAudio, txAudio, rxVideo and txVideo bit rates ($(grep -oE '<(rx|tx)(Audio|Video)[^>]*>(<codec>[a-z0-9]*</codec>)?<bitRate>[0-9]*' "$W/media-callleg.xml" | sed -E 's/<([a-zA-Z]*)[^>]*>(<codec>([a-z0-9]*)<\/codec>)?<bitRate>/\1 \3 /' | paste -sd, | sed 's/,/, /g') bit/s)"
		grep -q '<rxAudio><codec>opus</codec>' "$W/media-callleg.xml" && grep -qE '<rxVideo role="main"><codec>(vp8|h264)</codec>' "$W/media-callleg.xml" &&
			grep -q '<encryptedMedia>true</encryptedMedia>' "$W/media-callleg.xml" &&
			ok "API callLegs/<id>: codecs opus and $(grep -oE '<rxVideo role="main"><codec>[a-z0-9]*' "$W/media-callleg.xml" | sed 's/.*>//'), encryptedMedia true" ||
			bad "API callLegs/<id> codecs: $(grep -o '<status>.*</status>' "$W/media-callleg.xml")"
		ok "API callLegs/<id>: rxVideo's size and frame rate, txVideo's jitter, round trip and loss from the guest's reports ($(grep -oE '<(width|height|frameRate|jitter|roundTripTime|packetLossPercentage)>[^<]*' "$W/media-callleg.xml" | sed 's/<//; s/>/ /' | paste -sd, | sed 's/,/, /g'))"
		grep -qE '^  Bit rate received       : [1-9][0-9]* kbit/s \(audio [1-9]' "$W/media-callleg.xml.page" &&
			grep -qE '^  Bit rate sent           : [1-9][0-9]* kbit/s' "$W/media-callleg.xml.page" &&
			grep -qE '^  Received audio / video  : [1-9][0-9]* / [1-9]' "$W/media-callleg.xml.page" &&
			ok "callbridge media: per leg audio/video packets and bit rates ($(grep -m1 'Bit rate received' "$W/media-callleg.xml.page" | sed 's/.*: //'))" ||
			bad "callbridge media page: $(grep -E 'Received|Bit rate|Sent' "$W/media-callleg.xml.page" | head -6 | paste -sd'|')"
	else
		bad "API callLegs/<id>: no leg showed all four bit rates, its received picture size and its reports' jitter, round trip and loss during the run: $(grep -o '<status>.*</status>' "$W/media-callleg.xml.last" 2>/dev/null)"
	fi
	panel=$(media_panel "$W/media-direct.json" direct) && ok "web app statistics panel: direct, a received video's size ($(paste -sd';' <<<"$panel"))" ||
		bad "web app statistics panel (direct): $panel"
	# transport-cc feedback from the SFU: Chromium's send-side estimate ramps up on a clean link
	bwe=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for g in d["guests"]:
	s = g.get("bwe") or []
	print("%s: max %s kbps (%s)" % (g["name"], max([x[1] or 0 for x in s] or [0]) // 1000,
		" ".join("%ss %s/%s" % (x[0], (x[1] or 0) // 1000, (x[2] or 0) // 1000) for x in s)))' "$W/media-direct.json" 2>/dev/null)
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(max([x[1] or 0 for x in g.get("bwe") or []] or [0]) > 1000000 for g in d["guests"]) else 1)' "$W/media-direct.json" 2>/dev/null &&
		ok "direct: a sender's availableOutgoingBitrate rises above 1 Mbps within 15 s (kbps estimate/video: $bwe)" ||
		bad "direct: no sender's availableOutgoingBitrate above 1 Mbps within 15 s (kbps estimate/video: $bwe)"
	grep -q '"local": "host"' "$W/media-direct.json" && ok "direct: the browsers' selected candidate is a host candidate" ||
		bad "direct: candidates $(grep -o '"candidate": {[^}]*}' "$W/media-direct.json" | head -2)"
	tail -n +"$((M0 + 1))" "$CLOG" > "$W/media-direct.log"
	grep -q 'media: leg [0-9a-f-]* ICE connected from' "$W/media-direct.log" &&
		grep -q 'media: leg [0-9a-f-]* DTLS done (SRTP_AEAD_AES_128_GCM)' "$W/media-direct.log" &&
		grep -q 'call [0-9]*: media connected' "$W/media-direct.log" &&
		ok "log: ICE connected, DTLS done with SRTP_AEAD_AES_128_GCM, media connected" ||
		bad "media log: $(grep media "$W/media-direct.log" | tail -5)"

	# ---- loss (begin): with 5% random loss on the public side, both ways, video keeps decoding
	# and the losses are NACKed and retransmitted. The loss is nftables' (tests/integration/
	# loss.sh) in the guests' namespace; its counters prove it was made. `callbridge media` is
	# read every 2 s during the run: the legs end with it.
	. "$ROOT/tests/integration/loss.sh"
	# loss_page_poll <out> <stop file>: the last `callbridge media` page that shows a leg (<= 120 s)
	# loss_page_poll <file> <stop file> [<regex>]: every 2 s until the stop file, the last
	# `callbridge media` page with a line matching <regex> (a leg by default) kept in <file>;
	# one taken while the guests leave would lack what the run had
	loss_page_poll() {
		local i page
		for i in $(seq 1 60); do
			[ -e "$2" ] && return 0
			page=$(cctl callbridge media 2>&1)
			grep -q "${3:-^Leg }" <<<"$page" && printf '%s\n' "$page" > "$1"
			sleep 2
		done
	}
	rm -f "$W/media-loss.page" "$W/media-loss.stop"
	lran=
	# the loss starts with the 20 s window, once the guests see each other (browser_media.py
	# runs the command in namespace public); the EXIT trap removes it if we do not get to
	if ! command -v nft >/dev/null; then
		bad "loss: nft missing (Debian's nftables)"
	else
		loss_rules 5 "$PUB_IP" 10000 "$MEDIA_IP6" > "$W/media-loss.nft"
		loss_arm public
		loss_page_poll "$W/media-loss.page" "$W/media-loss.stop" & lpoll_pid=$!
		media_run "two guests, then 5% random loss both ways on the public side for 20 s" "$W/media-loss.json" --guests 2 \
			--loss-seconds 20 --loss-cmd "$(command -v nft) -f $W/media-loss.nft" && lran=1
		touch "$W/media-loss.stop"
		wait "$lpoll_pid"
		read -r l_sent l_sdrop l_recv l_rdrop <<<"$(loss_counters)"
		loss_off && ok "loss: the nftables table in namespace public is gone after the run" ||
			bad "loss: table $LOSS_TABLE still in namespace public"
		# dropped both ways, about 5% (1% to 10%: a random share of some thousand packets)
		if python3 -c 'import sys
s, sd, r, rd = (int(x or 0) for x in sys.argv[1:5])
sys.exit(0 if s > 500 and r > 500 and 0.01 < sd / s < 0.10 and 0.01 < rd / r < 0.10 else 1)' "$l_sent" "$l_sdrop" "$l_recv" "$l_rdrop" 2>/dev/null; then
			ok "loss: nftables dropped $l_sdrop of $l_sent packets to the media port and $l_rdrop of $l_recv from it"
		else
			bad "loss: nftables dropped '$l_sdrop' of '$l_sent' packets to the media port and '$l_rdrop' of '$l_recv' from it (want 1-10% each way)"
		fi
	fi
	if [ -n "${lran:-}" ]; then
		# per guest over the 20 s: video frames decoded (a clean run decodes ~20/s, 640x480), freezes,
		# NACKs sent (as receiver), packets retransmitted (as sender), the receiver's loss left
		loss=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for g in d["guests"]:
	L = g.get("loss") or {}
	i, o = (L.get("delta") or {}).get("inbound") or {}, (L.get("delta") or {}).get("outbound") or {}
	print("%s: %ss, framesDecoded %s, freezes %s (%ss), NACKs sent %s, PLIs sent %s, lost %s of %s (%s), NACKs received %s, retransmitted %s of %s sent" % (
		g["name"], L.get("seconds"), i.get("framesDecoded"), i.get("freezeCount"), i.get("totalFreezesDuration"),
		i.get("nackCount"), i.get("pliCount"), i.get("packetsLost"), i.get("packetsReceived"), L.get("lossRatio"),
		o.get("nackCount"), o.get("retransmittedPacketsSent"), o.get("packetsSent")))' "$W/media-loss.json" 2>/dev/null)
		# judge <what> <python condition on g's L, i (inbound delta), o (outbound delta)> [any]
		loss_judge() {
			python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
gs = [(g.get("loss") or {}) for g in d["guests"]]
ok = [eval(sys.argv[2], {}, {"L": L, "i": (L.get("delta") or {}).get("inbound") or {},
			 "o": (L.get("delta") or {}).get("outbound") or {}}) for L in gs]
sys.exit(0 if gs and (any(ok) if sys.argv[3:] == ["any"] else all(ok)) else 1)' "$W/media-loss.json" "$@" 2>/dev/null
		}
		# at least half of a clean run's ~400 frames
		loss_judge '(L.get("seconds") or 0) >= 15 and (i.get("framesDecoded") or 0) >= 200' &&
			ok "loss: every guest decoded >= 200 video frames in the 20 s ($(paste -sd';' <<<"$loss"))" ||
			bad "loss: a guest decoded < 200 video frames in the 20 s ($(paste -sd';' <<<"$loss"))"
		loss_judge 'i.get("freezeCount") is not None and i["freezeCount"] <= 3' &&
			ok "loss: at most 3 freezes per guest's received video" ||
			bad "loss: more than 3 freezes (or none counted) in a guest's received video"
		loss_judge '(i.get("nackCount") or 0) > 0' &&
			ok "loss: every receiver NACKed the packets it missed" || bad "loss: a receiver sent no NACK"
		# recovered: a sender resent (the SFU NACKed its uplink's losses), or every receiver lost
		# under half of what nftables dropped (its NACKs answered)
		half=$(python3 -c 'import sys; print("%.4f" % (int(sys.argv[2] or 0) / max(1, int(sys.argv[1] or 0)) / 2))' "$l_recv" "$l_rdrop" 2>/dev/null)
		{ loss_judge '(o.get("retransmittedPacketsSent") or 0) > 0' any ||
			loss_judge "L.get('lossRatio') is not None and L['lossRatio'] < ${half:-0}"; } &&
			ok "loss: the losses were retransmitted (a sender resent, or every receiver's video loss left under ${half:-?}, half of what was dropped)" ||
			bad "loss: no sender retransmitted and a receiver's video loss is at least ${half:-?}"
		# the SFU's own figures while the legs were up
		rtx=$(grep -iE 'retransmitted' "$W/media-loss.page" 2>/dev/null | sed -E 's/.*: *//' | paste -sd';')
		nacks=$(grep -iE 'NACKs sent' "$W/media-loss.page" 2>/dev/null | sed -E 's/.*: *//' | paste -sd';')
		# "NACKed / retransmitted : <asked> / <resent>": the figure after the last "/"
		awk -F: 'tolower($1) ~ /retransmitted/ { n = split($NF, p, "/"); if (p[n] + 0 > 0) f = 1 }
			END { exit !f }' "$W/media-loss.page" 2>/dev/null &&
			ok "callbridge media: the SFU retransmitted what receivers NACKed (NACKed / retransmitted per leg: $rtx; uplink lost / NACKs sent: $nacks)" ||
			bad "callbridge media: no leg retransmitted (NACKed / retransmitted: '${rtx}'; uplink lost / NACKs sent: '${nacks}'; legs on the page: $(grep -c '^Leg ' "$W/media-loss.page" 2>/dev/null))"
	fi
	# ---- loss (end)

	# ---- remb (begin): a guest whose offer has goog-remb and no transport-cc gets REMB
	# (draft-alvestrand-rmcat-remb) with our receiver reports. Chromium always offers
	# transport-cc, so the guest is Python aiortc (Debian's python3-aiortc; clients/
	# aiortc_guest.py), which records every REMB it receives and what its sender does with it
	# (aiortc 1.4.0 sets its video encoder's target_bitrate to the REMB value, clamped to the
	# codec's MIN_BITRATE..MAX_BITRATE). `callbridge media` is read every 2 s meanwhile.
	REMB_CLIENT=$ROOT/tests/integration/clients/aiortc_guest.py
	rm -f "$W/media-remb.page" "$W/media-remb.stop"
	loss_page_poll "$W/media-remb.page" "$W/media-remb.stop" & rpoll_pid=$!
	rran=
	if timeout 120 ip netns exec public /usr/bin/python3 "$REMB_CLIENT" --url "https://$PUB_IP:445" \
		--ca "$CERTS/lab-ca.pem" --meeting 9999 --name aiortc --seconds 15 > "$W/media-remb.json" 2> "$W/media-remb.err"; then
		rran=1
		ok "remb: an aiortc guest joined 9999, connected and sent for 15 s ($(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("aiortc %s, %s" % (d["aiortc"], ", ".join("%s ssrc %s %s packets" % (k, s["ssrc"], s.get("packetsSent")) for k, s in d["senders"].items())))' "$W/media-remb.json" 2>/dev/null))"
	else
		bad "remb: the aiortc guest failed: $(grep -v '^ *$' "$W/media-remb.err" | tail -1)"
	fi
	touch "$W/media-remb.stop"
	wait "$rpoll_pid"
	if [ -n "$rran" ]; then
		# remb_judge <check>: exits 1 when it fails; prints the figures it judged
		remb_judge() {
			python3 - "$W/media-remb.json" "$W/media-remb.page" "$1" <<-'PY'
			import json, re, sys
			d = json.load(open(sys.argv[1]))
			what = sys.argv[3]
			FB = 0x7C5F0001
			v, a = d["senders"]["video"], d["senders"]["audio"]
			ours = [r for r in d["rembs"] if r.get("sender") == FB and v["ssrc"] in (r.get("ssrcs") or [])]
			if what == "answer":
			    print("; ".join(l for l in d["answer"]["lines"] if "rtcp-fb" in l or "extmap" in l))
			    ok = d["offer"]["googRemb"] and not d["offer"]["transportCc"] and \
			        d["answer"]["googRemb"] and not d["answer"]["transportCc"]
			elif what == "rembs":
			    ok = len(ours) >= 3
			    R = d.get("rtcp") or {}
			    print("%d of %d REMBs from 0x%08x name video %s%s: %s%s" % (
			          len(ours), len(d["rembs"]), FB, v["ssrc"],
			          ", all also audio %s" % a["ssrc"] if ours and all(a["ssrc"] in r["ssrcs"] for r in ours) else "",
			          " ".join("%.1fs:%dk" % (r["t"], r["bitrate"] // 1000) for r in ours),
			          "" if ok else "; SRTCP in: %s compound packets, parts (type/count) %s, unprotect failed %s, parse failed %s %s" % (
			          R.get("compound"), R.get("parts"), R.get("unprotectFailed"), R.get("parseFailed"), R.get("why"))))
			elif what == "target":
			    # aiortc 1.4.0 (rtcrtpsender.py): REMB naming the sender -> encoder.target_bitrate,
			    # which the codec clamps (vpx.py 250k-1.5M, h264.py 500k-3M)
			    lo, hi = v.get("targetBounds") or [None, None]
			    last = ours[-1]["bitrate"] if ours else None
			    want = None if last is None or lo is None else max(lo, min(last, hi))
			    applied = [x for x in d["applied"] if x["kind"] == "video" and x["named"] and x["target"] is not None]
			    follows = all(x["target"] == max(lo, min(x["bitrate"], hi)) for x in applied) if lo is not None else False
			    print("%s target %s, last REMB %s, clamped to %s-%s: %s; %d REMBs applied, each followed: %s" % (
			          v.get("encoder"), v.get("targetBitrate"), last, lo, hi, want, len(applied), follows))
			    ok = want is not None and v.get("targetBitrate") == want and len(applied) >= 3 and follows
			elif what == "page":
			    try:
			        page = open(sys.argv[2]).read()
			    except OSError:
			        page = ""
			    leg = re.search(r'^Leg \S+ \("aiortc"\)\n((?:  .*\n?)*)', page, re.M)
			    line = re.search(r"^  Congestion feedback     : REMB (\d+) kbit/s with our reports \((\d+) cuts\)$",
			                     leg.group(1) if leg else "", re.M)
			    kb = sorted(r["bitrate"] // 1000 for r in ours)
			    print("%s; aiortc saw %s-%s kbit/s" % (line.group(0).strip() if line else
			          "no such line in leg 'aiortc' (%s)" % ("leg found" if leg else "no leg"), kb[0] if kb else "-", kb[-1] if kb else "-"))
			    # the page may be read a second after aiortc stopped counting: one more increase
			    # (8% plus 10 kbit/s, docs/media.md)
			    ok = bool(line) and bool(kb) and kb[0] - 1 <= int(line.group(1)) <= kb[-1] * 1.08 + 11
			sys.exit(0 if ok else 1)
			PY
		}
		x=$(remb_judge answer) && ok "remb: aiortc offered goog-remb and no transport-cc, the answer kept goog-remb and has no transport-cc ($x)" ||
			bad "remb: the offer or the answer is not goog-remb without transport-cc ($x)"
		x=$(remb_judge rembs) && ok "remb: aiortc received at least 3 REMBs from SSRC 0x7c5f0001 naming its video SSRC ($x)" ||
			bad "remb: aiortc received fewer than 3 REMBs from SSRC 0x7c5f0001 naming its video SSRC ($x)"
		x=$(remb_judge target) && ok "remb: aiortc's video encoder took the REMB values as its target bit rate ($x)" ||
			bad "remb: aiortc's video encoder target bit rate did not follow the REMBs ($x)"
		x=$(remb_judge page) && ok "callbridge media: the aiortc leg shows REMB within what aiortc received (or one increase more) ($x)" ||
			bad "callbridge media: the aiortc leg shows no REMB line, or one outside what aiortc received ($x)"
	fi
	# ---- remb (end)

	# ---- simulcast (begin): with `callbridge simulcast enable` each guest sends two or three
	# layers (the web app's sendEncodings; a 640x360 camera: full and quarter size) and the
	# SFU sends each receiver the best its estimated bandwidth and its tile allow: guest 3's
	# downlink limited to 300 kbit/s (a token bucket with a 400 ms queue,
	# tests/integration/shaping.sh) gets a lower layer of guest 1's video than guest 2, who keeps
	# the highest guest 1 sends. Judged by the browsers' getStats() over the last 10 s of 40;
	# the token bucket's counters prove it held the traffic back. `callbridge media` is read
	# every 2 s meanwhile (loss_page_poll).
	. "$ROOT/tests/integration/shaping.sh"
	# sc_restart: the callbridge restarted with its saved settings (simulcast applies then), and
	# the web bridge has heard of its media port again (bounded)
	sc_restart() {
		local c0 e0
		c0=$(wc -l < "$CLOG") e0=$(wc -l < "$LOG")
		cctl callbridge restart >> "$W/media-simulcast.restart" 2>&1 &&
			wait_log_from "$CLOG" "$c0" "C2W connection for webbridge $INT_IP:6000 UP" 15 &&
			wait_log_from "$LOG" "$e0" "has 1 media port" 15
	}
	sran=
	if ! out=$(cctl callbridge simulcast enable 2>&1); then
		bad "simulcast: 'callbridge simulcast enable' failed, not tested: $(head -1 <<<"$out")"
	elif ! sc_restart; then
		bad "simulcast: the callbridge did not come back after its restart: $(tail -3 "$CLOG" | paste -sd'|')"
	elif ! shape_on public pub0 300kbit 400ms; then
		bad "simulcast: no token bucket for a guest's downlink in namespace public (ifb, ingress, tbf)"
		shape_off
	else
		rm -f "$W/media-simulcast.page" "$W/media-simulcast.stop"
		loss_page_poll "$W/media-simulcast.page" "$W/media-simulcast.stop" '^  Simulcast from ' &
		spoll_pid=$!
		# the filter that sends guest 3's UDP through the bucket is added once the guests see
		# each other, with the port of guest 3's selected candidate pair. 60 s: the judgement
		# is over the last 10 s, and guest 3's estimate has once come down only after 30 s
		# (the bucket's 400 ms queue fills before the first cut)
		media_run "simulcast: three guests, guest 3's downlink limited to 300 kbit/s for 60 s" "$W/media-simulcast.json" \
			--guests 3 --capture-size 640x360 --limit-guest 3 --limit-seconds 60 --limit-cmd "$(shape_filter_cmd '{port}')"
		touch "$W/media-simulcast.stop"
		wait "$spoll_pid"
		read -r s_bytes s_pkts s_drop s_over s_redir <<<"$(shape_counters)"
		shape_off && ok "simulcast: the token bucket and its ifb device are gone from namespace public after the run" ||
			bad "simulcast: shaping left in namespace public: $(ip netns exec public tc qdisc show 2>&1 | paste -sd'|')"
		[ "${s_redir:-0}" -gt 0 ] && [ $((s_drop + s_over)) -gt 0 ] &&
			ok "simulcast: the token bucket took $s_redir packets for guest 3, passed $s_pkts ($((s_bytes / 1024)) KiB), dropped $s_drop, held back $s_over times" ||
			bad "simulcast: the token bucket took '$s_redir' packets for guest 3, passed '$s_pkts', dropped '$s_drop', held back '$s_over' times (want some dropped or held back)"
		grep -q '"limit": {"guest"' "$W/media-simulcast.json" 2>/dev/null && sran=1
	fi
	if [ -n "$sran" ]; then
		# per receiver, of guest 1's video over the last 10 s: rows (min-max), frames and
		# kbit/s; the receiver's whole kbit/s; and the layers guest 1 sent meanwhile
		# sc_judge <check>: exits 1 when it fails; prints the figures it judged
		sc_judge() {
			python3 - "$W/media-simulcast.json" "$1" <<-'PY'
			import json, sys
			d = json.load(open(sys.argv[1]))
			G = {g["name"]: g for g in d["guests"]}
			g1, g2, g3 = (G.get("Guest %d" % i) or {} for i in (1, 2, 3))
			p1 = g1.get("participant")
			def tail(g):
			    return ((g.get("limit") or {}).get("tail") or {})
			def of1(g):
			    return tail(g).get("peers", {}).get(p1) or {}
			# guest 1's layers sending in the tail: the encodings whose bytes rose
			S = (g1.get("limit") or {}).get("samples") or []
			t0 = tail(g1).get("from", 0)
			a = next((x for x in S if x["t"] >= t0), None)
			b = S[-1] if S else None
			lay = []
			if a and b:
			    before = {(e.get("rid"), e.get("ssrc")): e.get("bytesSent") or 0 for e in a["outbound"]}
			    for e in b["outbound"]:
			        if (e.get("bytesSent") or 0) > before.get((e.get("rid"), e.get("ssrc")), 0) and e.get("frameHeight"):
			            lay.append((e["frameHeight"], e.get("rid"), round(((e.get("bytesSent") or 0) - before.get((e.get("rid"), e.get("ssrc")), 0)) * 8 / max(0.001, (b["now"] - a["now"]) / 1000) / 1000)))
			lay.sort()
			high = lay[-1][0] if lay else None
			v2, v3 = of1(g2), of1(g3)
			k2, k3 = tail(g2).get("kbps"), tail(g3).get("kbps")
			def fig(v):
			    return "%s-%s rows, %s fps, %s kbit/s" % (v.get("frameHeightMin"), v.get("frameHeightMax"), v.get("fps"), v.get("kbps"))
			what = sys.argv[2]
			if what == "layers":
			    aob = ((b or {}).get("pair") or {}).get("availableOutgoingBitrate")
			    print("wb3.simulcast %s, capture %s, send estimate %s kbit/s; layers (rows rid kbit/s): %s" % (
			          (g1.get("limit") or {}).get("simulcast"), (g1.get("limit") or {}).get("capture"),
			          None if aob is None else int(aob) // 1000, ", ".join("%s %s %s" % x for x in lay) or "none"))
			    ok = len(lay) >= 2
			elif what == "rows":
			    print("guest 2: %s; guest 3: %s" % (fig(v2), fig(v3)))
			    ok = bool(v2.get("frameHeightMin") and v3.get("frameHeightMax") and v3["frameHeightMax"] < v2["frameHeightMin"] and (v3.get("fps") or 0) >= 5)
			elif what == "high":
			    print("guest 2: %s; guest 1's highest layer %s rows" % (fig(v2), high))
			    ok = bool(high and v2.get("frameHeightMin") == high and (v2.get("fps") or 0) >= 5)
			elif what == "rate":
			    print("guest 3 %s kbit/s (guest 2 %s kbit/s)" % (k3, k2))
			    ok = k3 is not None and 30 < k3 <= 330
			sys.exit(0 if ok else 1)
			PY
		}
		x=$(sc_judge layers) && ok "simulcast: guest 1 sends two or more layers ($x)" || bad "simulcast: guest 1 does not send two layers ($x)"
		x=$(sc_judge rows) && ok "simulcast: over the last 10 s guest 3 (limited) decodes guest 1's video in fewer rows than guest 2 ($x)" ||
			bad "simulcast: over the last 10 s guest 3 (limited) does not decode guest 1's video in fewer rows than guest 2, or not at 5 frames/s ($x)"
		x=$(sc_judge high) && ok "simulcast: guest 2 (not limited) decodes guest 1's highest layer ($x)" ||
			bad "simulcast: guest 2 (not limited) does not decode guest 1's highest layer ($x)"
		x=$(sc_judge rate) && ok "simulcast: guest 3 receives within its 300 kbit/s over the last 10 s ($x)" ||
			bad "simulcast: guest 3 does not receive within 30-330 kbit/s over the last 10 s ($x)"
		# the SFU's side: each source's layers as they arrive, and a limited receiver's layers
		# (one of guest 1's, the layer it is sent named) next to its estimate
		grep -qE '^  Simulcast layers *: [a-z]+ [0-9]+ kbit/s [0-9]+x[0-9]+, ' "$W/media-simulcast.page" 2>/dev/null &&
			grep -qE '^  Simulcast from .*: layer [a-z]+ \(wanted ' "$W/media-simulcast.page" &&
			ok "callbridge media: each source's layers, each receiver's ($(grep -E '^  (Simulcast layers|Estimate|Simulcast from)' "$W/media-simulcast.page" | sed 's/^ *//; s/  */ /g' | paste -sd';' | sed 's/;/; /g'))" ||
			bad "callbridge media: no simulcast layers or receivers' layers: $(grep -E '^  (Simulcast|Estimate)' "$W/media-simulcast.page" 2>/dev/null | head -4 | paste -sd'|')"
	fi
	if cctl callbridge simulcast disable >/dev/null 2>&1; then
		sc_restart || bad "simulcast: the callbridge did not come back after its restart (simulcast disabled): $(tail -3 "$CLOG" | paste -sd'|')"
	fi
	# ---- simulcast (end)
fi

M0=$(wc -l < "$CLOG")
# in two appliances three guests here: the core's media port behind the edge's relay
RELAYED=$([ -n "$TWO" ] && echo 3 || echo 2)
media_run "$RELAYED guests see and hear each other relayed through our TURN over UDP" "$W/media-relay.json" --guests "$RELAYED" --relay --stats-panel &&
	{ grep -q '"relayProtocol": "udp"' "$W/media-relay.json" && ok "relayed: the browsers' selected candidate is a relay candidate over UDP" ||
		bad "relay: candidates $(grep -o '"candidate": {[^}]*}' "$W/media-relay.json" | head -2)"
	# the protocol as each browser chose it when the panel was read (UDP, or TCP: Chromium may
	# select its TCP relay candidate even with UDP open)
	panel=$(media_panel "$W/media-relay.json" "relayed (TURN over ") && ok "web app statistics panel: relayed, a received video's size ($(paste -sd';' <<<"$panel"))" ||
		bad "web app statistics panel (relayed): $panel"; }

# TLS on 443: with TURN over UDP (3478, 443) and plain TCP (3478) closed by the edge's firewall,
# the browsers' only way is turns:...:443 (Chromium tries no TURN port below 1024 but 53, 80, 443)
{ ctl_ok firewall b deny 3478 && ctl_ok firewall b deny 443/udp && ctl_ok firewall b enable; } >/dev/null &&
	media_run "two guests see and hear each other relayed through our TURN over TLS on 443" "$W/media-tls.json" --guests 2 --relay &&
	{ grep -q '"relayProtocol": "tls"' "$W/media-tls.json" && ok "relayed: the selected candidate is a relay candidate over TLS" ||
		bad "TLS relay: candidates $(grep -o '"candidate": {[^}]*}' "$W/media-tls.json" | head -2)"; }
{ ctl_ok firewall b disable && ctl_ok firewall b delete deny 3478 && ctl_ok firewall b delete deny 443/udp; } >/dev/null

if [ -z "$TWO" ]; then
	media_run "three guests; one leaves: the others stop receiving it within 15 s" "$W/media-three.json" --guests 3 --leave-one
	media_run "the speaking guest is shown as the active speaker" "$W/media-speaker.json" --guests 3 --speaker-check
	media_run "a guest killed without leaving is gone from the others' roster within 40 s" "$W/media-kill.json" --guests 2 --kill-one --gone-timeout 40
	# a stopped browser keeps its WebSocket: only consent can tell it is gone
	M0=$(wc -l < "$CLOG")
	media_run "a guest whose browser freezes (SIGSTOP) is gone from the others' roster within 40 s" "$W/media-freeze.json" --guests 2 --freeze-one --gone-timeout 40
	wait_log_from "$CLOG" "$M0" "ended: consent expired" 5 && ok "log: its leg ended by consent (no ICE check for 30 s)" ||
		bad "no consent line: $(grep 'media:' "$CLOG" | tail -3)"
fi

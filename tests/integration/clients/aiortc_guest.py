#!/usr/bin/env python3
# A guest of webbridge3 that is not a browser: Python aiortc (Debian's python3-aiortc 1.4.0),
# whose offer has `a=rtcp-fb:<pt> goog-remb` and no transport-cc, so the SFU must send it REMB
# (draft-alvestrand-rmcat-remb) with its receiver reports. Joins like ws_guest.py (POST
# /api/join, the wb3-signalling WebSocket), sends one sendonly audio (silence) and one sendonly
# video (a synthetic moving pattern), answers "renegotiate" if one comes, and records for
# --seconds every REMB that reaches aiortc (sender SSRC, bit rate, SSRCs named) and what
# aiortc's RTCRtpSender did with it (1.4.0: the video encoder's target_bitrate, clamped by the
# codec: VP8 250k-1.5M, H.264 500k-3M). Prints one JSON object; on failure a line
# "error <what>" on stderr and exit 1. Everything is bounded in time.
#
#   aiortc_guest.py --url https://198.18.20.1:445 --ca FILE [--meeting 9999 --name Remb]
#                   [--seconds 15] [--connect-timeout 20]
import argparse, asyncio, json, logging, os, re, struct, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_guest  # noqa: E402

try:
    from av import VideoFrame
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
    from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter
    from aiortc.rtcrtpsender import RTCRtpSender
    from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, unpack_remb_fci
    from aiortc.sdp import candidate_from_sdp
    import aiortc.about
except ImportError as e:
    print("error aiortc missing (Debian's python3-aiortc): %s" % e, file=sys.stderr)
    sys.exit(1)

T0 = time.time()
REMBS = []      # every REMB that came in: {"t", "sender", "bitrate", "ssrcs"}
APPLIED = []    # per REMB handed to one of our senders: what its encoder holds after it


def fail(what):
    print("error", what, file=sys.stderr)
    sys.exit(1)


def now():
    return round(time.time() - T0, 3)


# every RTCP packet passes RtpRouter.route_rtcp (rtcdtlstransport.py) before a sender sees it
_route_rtcp = RtpRouter.route_rtcp


def route_rtcp(self, packet):
    if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
        try:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
            REMBS.append({"t": now(), "sender": packet.ssrc, "mediaSsrc": packet.media_ssrc,
                          "bitrate": bitrate, "ssrcs": list(ssrcs)})
        except ValueError as e:
            REMBS.append({"t": now(), "sender": packet.ssrc, "error": str(e)})
    return _route_rtcp(self, packet)


RtpRouter.route_rtcp = route_rtcp

# what SRTCP brought, before aiortc parses it: compound packets, their parts (type/count) and
# what aiortc could not unprotect or parse (its debug log "x SRTP unprotect failed", "x RTCP
# parsing failed")
RTCP = {"compound": 0, "parts": {}, "unprotectFailed": 0, "parseFailed": 0, "why": []}
_handle_rtcp_data = RTCDtlsTransport._handle_rtcp_data


async def handle_rtcp_data(self, data):
    RTCP["compound"] += 1
    pos = 0
    while pos + 4 <= len(data):
        b0, pt, length = struct.unpack("!BBH", data[pos:pos + 4])
        k = "%d/%d" % (pt, b0 & 0x1F)
        RTCP["parts"][k] = RTCP["parts"].get(k, 0) + 1
        pos += 4 + length * 4
    return await _handle_rtcp_data(self, data)


RTCDtlsTransport._handle_rtcp_data = handle_rtcp_data


class DtlsLog(logging.Handler):
    def emit(self, record):
        msg = record.getMessage()
        for word, key in (("unprotect failed", "unprotectFailed"), ("parsing failed", "parseFailed")):
            if word in msg:
                RTCP[key] += 1
                if len(RTCP["why"]) < 5:
                    RTCP["why"].append(msg[:200])


_dtls_log = logging.getLogger("aiortc.rtcdtlstransport")
_dtls_log.setLevel(logging.DEBUG)
_dtls_log.propagate = False
_dtls_log.addHandler(DtlsLog())

_handle = RTCRtpSender._handle_rtcp_packet


async def handle_rtcp_packet(self, packet):
    await _handle(self, packet)
    if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
        try:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
        except ValueError:
            return
        enc = getattr(self, "_RTCRtpSender__encoder", None)
        APPLIED.append({"t": now(), "kind": self.kind, "ssrc": self._ssrc, "bitrate": bitrate,
                        "named": self._ssrc in ssrcs,
                        "encoder": type(enc).__name__ if enc else None,
                        "target": getattr(enc, "target_bitrate", None)})


RTCRtpSender._handle_rtcp_packet = handle_rtcp_packet


class Pattern(VideoStreamTrack):
    """320x240 at 30 frames/s (yuv420p): a diagonal gradient and a bar that move every frame."""

    ROW = bytes(i % 256 for i in range(256 + 320))

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        n = pts // 3000
        c = (n * 4) % 304
        rows = []
        for y in range(240):
            o = (y + n * 3) % 256
            r = self.ROW[o:o + 320]
            rows.append(r[:c] + b"\xff" * 16 + r[c + 16:])
        frame = VideoFrame(320, 240, "yuv420p")
        frame.planes[0].update(b"".join(rows))
        frame.planes[1].update(bytes([(n * 2) % 256]) * (160 * 120))
        frame.planes[2].update(b"\x80" * (160 * 120))
        frame.pts, frame.time_base = pts, time_base
        return frame


def target_bounds(enc):
    """What aiortc's encoder clamps a REMB to (its module's MIN_BITRATE, MAX_BITRATE)."""
    if enc is None or not hasattr(enc, "target_bitrate"):
        return None
    mod = sys.modules.get(type(enc).__module__)
    lo, hi = getattr(mod, "MIN_BITRATE", None), getattr(mod, "MAX_BITRATE", None)
    return [lo, hi] if lo is not None and hi is not None else None


def lines_of_interest(sdp):
    return [ln for ln in sdp.splitlines()
            if re.match(r"a=(rtcp-fb|extmap|rtpmap|group|ssrc:\d+ cname|sendrecv|sendonly|recvonly|inactive)|m=", ln)]


class Guest:
    def __init__(self, a):
        self.a = a
        hostport = a.url.split("://", 1)[1].rstrip("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.pc = None
        self.offers = 0
        self.answers = []
        self.sources = 0
        self.in_flight = False
        self.wanted = False
        self.remote_candidates = 0
        self.messages = {}

    async def ws_recv(self, timeout):
        # only this coroutine reads or writes the socket (ws_guest.WS is blocking, not thread-safe)
        return await asyncio.get_running_loop().run_in_executor(None, self.ws.recv, timeout)

    async def offer(self):
        for _ in range(self.recv_pairs(), self.sources):
            self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.addTransceiver("video", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.ws.send(json.dumps({"type": "offer", "sdp": self.pc.localDescription.sdp}))
        self.offers += 1
        self.in_flight = True
        if self.offers == 1:
            self.offer_sdp = self.pc.localDescription.sdp
            # aiortc gathers before createOffer returns: the candidates are in the SDP; the
            # end of candidates as the web app sends it
            self.ws.send(json.dumps({"type": "candidate", "candidate": "", "sdpMid": "0",
                                     "sdpMLineIndex": 0}))

    def recv_pairs(self):
        return max(0, len(self.pc.getTransceivers()) - 2) // 2

    async def on_message(self, m):
        t = m.get("type")
        self.messages[t] = self.messages.get(t, 0) + 1
        if t == "answer":
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="answer"))
            self.answers.append(m["sdp"])
            self.in_flight = False
            if self.wanted:
                self.wanted = False
                await self.offer()
        elif t == "candidate" and m.get("candidate"):
            c = candidate_from_sdp(m["candidate"].split(":", 1)[1]
                                   if m["candidate"].startswith("candidate:") else m["candidate"])
            c.sdpMid, c.sdpMLineIndex = m.get("sdpMid"), m.get("sdpMLineIndex")
            await self.pc.addIceCandidate(c)
            self.remote_candidates += 1
        elif t == "renegotiate":
            self.sources = int(m.get("sources") or 0)
            if self.in_flight:
                self.wanted = True
            else:
                await self.offer()
        elif t in ("ended", "error") or (t == "media" and m.get("state") == "unavailable"):
            fail("server said %s" % json.dumps(m))

    async def pump(self, until):
        while time.time() < until:
            m = await self.ws_recv(min(0.3, max(0.05, until - time.time())))
            if m is not None:
                await self.on_message(m)
            elif self.ws.closed:
                fail("the WebSocket closed")

    async def run(self):
        a = self.a
        jwt = ws_guest.join(self.host, self.port, a.ca, a.meeting, a.name)
        self.ws = ws_guest.WS(self.host, self.port, a.ca)
        self.ws.send(json.dumps({"type": "auth", "jwt": jwt}))
        m = await self.ws_recv(10)
        while m is not None and m.get("type") not in ("authenticated", "error"):
            m = await self.ws_recv(10)
        if not m or m["type"] != "authenticated":
            fail("auth: %s" % m)
        self.participant = m.get("participant")

        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.audio = self.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        self.video = self.pc.addTransceiver(Pattern(), direction="sendonly")
        await asyncio.wait_for(self.offer(), 15)

        # the answer, then ICE and DTLS
        deadline = time.time() + a.connect_timeout
        while time.time() < deadline and not (self.answers and self.pc.connectionState == "connected"):
            await self.pump(min(deadline, time.time() + 0.5))
            if self.pc.connectionState == "failed":
                break
        if not self.answers:
            fail("no answer within %d s (messages %s)" % (a.connect_timeout, self.messages))
        if self.pc.connectionState != "connected":
            fail("media not connected within %d s: %s" % (a.connect_timeout, self.pc.connectionState))
        self.connected_at = now()

        await self.pump(time.time() + a.seconds)
        return await self.result()

    async def result(self):
        answer = self.answers[-1]
        senders = {}
        for kind, tr in (("audio", self.audio), ("video", self.video)):
            s = tr.sender
            enc = getattr(s, "_RTCRtpSender__encoder", None)
            st = {}
            try:
                for r in (await asyncio.wait_for(s.getStats(), 5)).values():
                    if r.type == "outbound-rtp":
                        st = {"packetsSent": r.packetsSent, "bytesSent": r.bytesSent}
            except Exception as e:  # noqa: BLE001 - the stats are a report's detail
                st = {"error": str(e)}
            senders[kind] = dict(st, ssrc=s._ssrc, rtxSsrc=s._rtx_ssrc,
                                 encoder=type(enc).__name__ if enc else None,
                                 targetBitrate=getattr(enc, "target_bitrate", None),
                                 targetBounds=target_bounds(enc))
        fb = [ln for ln in answer.splitlines() if ln.startswith("a=rtcp-fb:")]
        return {
            "aiortc": aiortc.about.__version__,
            "participant": self.participant,
            "offer": {"googRemb": "goog-remb" in self.offer_sdp,
                      "transportCc": "transport-cc" in self.offer_sdp,
                      "lines": lines_of_interest(self.offer_sdp)},
            "answer": {"googRemb": any("goog-remb" in ln for ln in fb),
                       "transportCc": "transport-cc" in answer,
                       "lines": lines_of_interest(answer)},
            "offers": self.offers, "answers": len(self.answers), "messages": self.messages,
            "remoteCandidates": self.remote_candidates,
            "connectedAt": self.connected_at, "seconds": self.a.seconds,
            "senders": senders,
            "rtcp": RTCP,
            "rembs": REMBS,
            "applied": APPLIED,
        }


async def amain(a):
    g = Guest(a)
    try:
        out = await asyncio.wait_for(g.run(), a.connect_timeout + a.seconds + 40)
    except asyncio.TimeoutError:
        fail("timed out")
    finally:
        if g.pc:
            try:
                await asyncio.wait_for(g.pc.close(), 5)
            except Exception:  # noqa: BLE001
                pass
    try:
        g.ws.send(json.dumps({"type": "leave"}))
        g.ws.wait(("left",), 3)
    except Exception:  # noqa: BLE001
        pass
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="https://198.18.20.1:445")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--meeting", default="9999")
    ap.add_argument("--name", default="Remb")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connect-timeout", type=int, default=20)
    a = ap.parse_args()
    out = asyncio.run(amain(a))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

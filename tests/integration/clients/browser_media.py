#!/usr/bin/python3
# K guests (2 or 3) join one meeting with webbridge3's web app in headless Chromium (fake camera
# and microphone) and the media between them is judged from the browsers' own getStats():
# every guest decodes every other guest's video (framesDecoded rising, frameWidth > 0, a
# picture that is not blank) and receives their audio; optionally through TURN only, after one
# guest leaves, or after one guest's Chromium is killed without leaving (issue 13).
#
# One chromedriver drives K sessions (lighter than K drivers on a small machine); each Chromium
# has its own profile, all trust the CA through one NSS database in a temporary HOME, as
# browser_join.py does (whose helpers this imports). Every wait is bounded by --timeout, every
# WebDriver call too; the cleanup ends only what we started, by PID.
#
# Prints ONE JSON line: {"ok", "guests": [{"name", "participant", "tiles", "framesDecoded",
# "frameWidth", "audio", "audioLevel", "variance", "candidate", "failures", "statsPanel"
# (--stats-panel: {"shown", "text", "stats"}), "loss" (--loss-seconds: see sample_loss),
# "activeSpeaker" (--speaker-check: the name its web app shows as speaking), "limit"
# (--limit-seconds: see sample_limit), ...}], "speaker" (--speaker-check: see speaker_check),
# "limit" (--limit-seconds: the guest limited, its port, the command run),
# "leave", "kill", "error"}, and exits 0 when every check passed, 1 with a one-line reason on stderr.
#
# usage: browser_media.py --url https://198.18.20.1:445/ --ca lab-ca.pem --meeting 9999
#        [--passcode X] [--guests 2|3] [--relay | --remote-host IP]
#        [--leave-one | --kill-one | --freeze-one]
#        [--gone-timeout 40] [--stats-panel] [--bwe-seconds S] [--loss-seconds S [--loss-cmd C]]
#        [--speaker-check] [--limit-seconds S --limit-cmd C [--limit-guest K] [--limit-tail T]]
#        [--capture-size WxH]
#        [--timeout 180] [--interval 3] [--min-variance 20] [--screenshot-dir DIR]
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser_join as bj  # noqa: E402  (re-executes under Debian's python3 if need be)
from browser_join import Failed, Abort, Deadline, Terminated  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.remote.remote_connection import RemoteConnection  # noqa: E402
import urllib3  # noqa: E402

# the page plays remote audio without waiting for a gesture, so audio is pulled (and counted
# in totalSamplesReceived) whatever the autoplay policy thinks of a WebDriver click
CHROMIUM_FLAGS = bj.CHROMIUM_FLAGS + ['--autoplay-policy=no-user-gesture-required',
                                      '--disable-renderer-backgrounding',
                                      '--disable-background-timer-throttling',
                                      '--disable-backgrounding-occluded-windows']
CLEANUP_CALL_TIMEOUT = 10

JS_STATE = 'return document.body ? document.body.dataset.state || null : null'

# what one guest sees: its id, tiles, roster, media state
JS_VIEW = r'''
const w = window.wb3 || {};
return {
  state: document.body.dataset.state || null,
  participant: w.participant || null,
  tiles: Array.isArray(w.remoteParticipants) ? w.remoteParticipants.slice() : [],
  domTiles: Array.from(document.querySelectorAll('#remote-grid .tile')).map((t) => t.dataset.id),
  roster: (Array.isArray(w.roster) ? w.roster : []).map((p) => p && p.id).filter(Boolean),
  mediaState: w.mediaState || null, renegotiations: w.renegotiations || 0,
  media: w.media || null, lastError: w.lastError || '',
  mediaText: (document.getElementById('media') || {}).textContent || '',
};
'''

# getStats(): per participant with a tile, its inbound audio and video (found through the
# tile's stream: its tracks' ids are the inbound-rtp trackIdentifiers), every inbound-rtp by
# SSRC, the selected candidate pair's local and remote candidate types and the send-side
# estimate (availableOutgoingBitrate), and the bytes sent as outbound video
JS_STATS = r'''
const done = arguments[arguments.length - 1];
(async () => {
  const pc = window.wb3 && window.wb3.pc;
  if (!pc) return { error: 'no peer connection (wb3.pc)' };
  const owner = {};
  for (const t of document.querySelectorAll('#remote-grid .tile')) {
    const v = t.querySelector('video');
    const s = v && v.srcObject;
    if (s) for (const k of s.getTracks()) owner[k.id] = t.dataset.id;
  }
  const report = await pc.getStats();
  const all = [];
  report.forEach((r) => all.push(r));
  const byId = {};
  for (const r of all) byId[r.id] = r;
  const peers = {}, ssrcs = {};
  for (const r of all) {
    if (r.type !== 'inbound-rtp') continue;
    const kind = r.kind || r.mediaType;
    ssrcs[String(r.ssrc)] = { kind: kind, bytesReceived: r.bytesReceived || 0,
                              packetsReceived: r.packetsReceived || 0,
                              framesDecoded: r.framesDecoded || 0,
                              totalSamplesReceived: r.totalSamplesReceived || 0 };
    const pid = owner[r.trackIdentifier];
    if (!pid) continue;
    const p = peers[pid] = peers[pid] || {};
    const prev = p[kind];
    // a reused m-line may still list an earlier SSRC: the one that received last is theirs
    if (prev && (prev.lastPacketReceivedTimestamp || 0) > (r.lastPacketReceivedTimestamp || 0))
      continue;
    p[kind] = {
      ssrc: r.ssrc, mid: r.mid === undefined ? null : r.mid,
      bytesReceived: r.bytesReceived || 0, packetsReceived: r.packetsReceived || 0,
      lastPacketReceivedTimestamp: r.lastPacketReceivedTimestamp || 0,
      framesDecoded: r.framesDecoded === undefined ? null : r.framesDecoded,
      frameWidth: r.frameWidth === undefined ? null : r.frameWidth,
      frameHeight: r.frameHeight === undefined ? null : r.frameHeight,
      totalSamplesReceived: r.totalSamplesReceived === undefined ? null : r.totalSamplesReceived,
      audioLevel: r.audioLevel === undefined ? null : r.audioLevel,
      totalAudioEnergy: r.totalAudioEnergy === undefined ? null : r.totalAudioEnergy,
    };
  }
  let pair = null;
  for (const r of all) {
    if (r.type === 'transport' && r.selectedCandidatePairId && byId[r.selectedCandidatePairId])
      pair = byId[r.selectedCandidatePairId];
  }
  if (!pair) {
    for (const r of all)
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r;
  }
  let candidate = null;
  if (pair) {
    const l = byId[pair.localCandidateId] || {}, m = byId[pair.remoteCandidateId] || {};
    candidate = { local: l.candidateType || null, remote: m.candidateType || null,
                  relayProtocol: l.relayProtocol || null, protocol: l.protocol || null,
                  remoteAddress: (m.address || m.ip || null) + ':' + (m.port || ''),
                  remoteIp: m.address || m.ip || null, remotePort: m.port || null,
                  localAddress: l.address || l.ip || null,
                  state: pair.state || null };
  }
  let videoBytesSent = 0;
  for (const r of all)
    if (r.type === 'outbound-rtp' && (r.kind || r.mediaType) === 'video')
      videoBytesSent += r.bytesSent || 0;
  return { peers: peers, ssrcs: ssrcs, candidate: candidate,
           connectionState: pc.connectionState,
           availableOutgoingBitrate: pair && pair.availableOutgoingBitrate !== undefined ?
             pair.availableOutgoingBitrate : null,
           videoBytesSent: videoBytesSent, now: performance.now() };
})().then(done, (e) => done({ error: String(e) }));
'''

# the figures of loss and its repair (--loss-seconds), per SSRC: inbound video (frames decoded,
# freezes, packets lost and received, NACKs and PLIs this receiver sent, jitter), outbound
# video (packets sent, of them retransmitted, NACKs and PLIs this sender received) and what
# the far end reported of ours (remote-inbound-rtp fractionLost)
JS_LOSS = r'''
const done = arguments[arguments.length - 1];
(async () => {
  const pc = window.wb3 && window.wb3.pc;
  if (!pc) return { error: 'no peer connection (wb3.pc)' };
  const report = await pc.getStats();
  const n = (x) => (x === undefined || x === null) ? null : x;
  const inb = {}, outb = {}, remote = {};
  report.forEach((r) => {
    const kind = r.kind || r.mediaType;
    if (r.type === 'inbound-rtp' && kind === 'video')
      inb[String(r.ssrc)] = {
        framesDecoded: n(r.framesDecoded), freezeCount: n(r.freezeCount),
        totalFreezesDuration: n(r.totalFreezesDuration), packetsLost: n(r.packetsLost),
        packetsReceived: n(r.packetsReceived), nackCount: n(r.nackCount),
        pliCount: n(r.pliCount), jitter: n(r.jitter) };
    else if (r.type === 'outbound-rtp' && kind === 'video')
      outb[String(r.ssrc)] = {
        packetsSent: n(r.packetsSent), retransmittedPacketsSent: n(r.retransmittedPacketsSent),
        nackCount: n(r.nackCount), pliCount: n(r.pliCount) };
    else if (r.type === 'remote-inbound-rtp')
      remote[String(r.ssrc)] = { kind: kind || null, fractionLost: n(r.fractionLost),
                                 packetsLost: n(r.packetsLost) };
  });
  return { inbound: inb, outbound: outb, remoteInbound: remote, now: performance.now() };
})().then(done, (e) => done({ error: String(e) }));
'''

# --limit-seconds: one sample of what a guest receives and sends. Per participant with a tile
# (its stream's id is the participant id, docs/media.md; the tile is found through the
# stream's tracks, whose ids are the inbound-rtp trackIdentifiers) the inbound video that
# received last: its picture size, frames decoded, bytes; the transport's bytes received; the
# selected candidate pair with its local and remote address and port; every outbound video
# encoding (one per simulcast layer: rid, size, bytes); the camera track's settings (the
# capture size) and what the web app says of simulcast (wb3.simulcast)
JS_LIMIT = r'''
const done = arguments[arguments.length - 1];
(async () => {
  const w = window.wb3 || {};
  const pc = w.pc;
  if (!pc) return { error: 'no peer connection (wb3.pc)' };
  const owner = {};
  for (const t of document.querySelectorAll('#remote-grid .tile')) {
    const v = t.querySelector('video');
    const s = v && v.srcObject;
    if (s) for (const k of s.getTracks()) owner[k.id] = t.dataset.id || s.id;
  }
  const report = await pc.getStats();
  const all = [];
  report.forEach((r) => all.push(r));
  const byId = {};
  for (const r of all) byId[r.id] = r;
  const n = (x) => (x === undefined || x === null) ? null : x;
  const peers = {}, outbound = [];
  let transportBytes = null, pair = null;
  for (const r of all) {
    const kind = r.kind || r.mediaType;
    if (r.type === 'inbound-rtp' && kind === 'video') {
      const pid = owner[r.trackIdentifier];
      if (!pid) continue;
      const prev = peers[pid];
      if (prev && prev.last > (r.lastPacketReceivedTimestamp || 0)) continue;
      peers[pid] = { ssrc: r.ssrc, last: r.lastPacketReceivedTimestamp || 0,
                     frameWidth: n(r.frameWidth), frameHeight: n(r.frameHeight),
                     framesDecoded: n(r.framesDecoded), framesPerSecond: n(r.framesPerSecond),
                     bytesReceived: n(r.bytesReceived), packetsReceived: n(r.packetsReceived),
                     packetsLost: n(r.packetsLost), freezeCount: n(r.freezeCount),
                     pliCount: n(r.pliCount), nackCount: n(r.nackCount) };
    } else if (r.type === 'outbound-rtp' && kind === 'video') {
      outbound.push({ rid: n(r.rid), ssrc: r.ssrc, active: n(r.active),
                      frameWidth: n(r.frameWidth), frameHeight: n(r.frameHeight),
                      framesEncoded: n(r.framesEncoded), bytesSent: n(r.bytesSent),
                      targetBitrate: n(r.targetBitrate), scalabilityMode: n(r.scalabilityMode),
                      qualityLimitationReason: n(r.qualityLimitationReason) });
    } else if (r.type === 'transport') {
      transportBytes = (transportBytes || 0) + (r.bytesReceived || 0);
      if (r.selectedCandidatePairId && byId[r.selectedCandidatePairId])
        pair = byId[r.selectedCandidatePairId];
    }
  }
  if (!pair)
    for (const r of all)
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r;
  let sel = null;
  if (pair) {
    const c = (x) => x ? { type: n(x.candidateType), protocol: n(x.protocol),
                           address: n(x.address || x.ip), port: n(x.port),
                           relayProtocol: n(x.relayProtocol) } : null;
    sel = { local: c(byId[pair.localCandidateId]), remote: c(byId[pair.remoteCandidateId]),
            bytesReceived: n(pair.bytesReceived), bytesSent: n(pair.bytesSent),
            currentRoundTripTime: n(pair.currentRoundTripTime),
            availableOutgoingBitrate: n(pair.availableOutgoingBitrate) };
  }
  let capture = null;
  for (const s of pc.getSenders())
    if (s.track && s.track.kind === 'video') {
      const st = s.track.getSettings();
      capture = { width: n(st.width), height: n(st.height), frameRate: n(st.frameRate) };
    }
  return { peers: peers, transportBytesReceived: transportBytes, pair: sel,
           outbound: outbound, capture: capture,
           simulcast: w.simulcast === undefined ? null : w.simulcast, now: performance.now() };
})().then(done, (e) => done({ error: String(e) }));
'''

# --capture-size: the web app's getUserMedia asks for this size (Chromium's fake camera is
# 640x480 unless asked otherwise; it scales and crops any smaller size from its own); what the
# app asked for is kept in window.__captureAsked
JS_CAPTURE = r'''
(() => {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const orig = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => {
    c = Object.assign({}, c || {});
    if (c.video) {
      window.__captureAsked = JSON.stringify(c.video);
      const v = typeof c.video === 'object' ? Object.assign({}, c.video) : {};
      v.width = { ideal: %(w)d, max: %(w)d };
      v.height = { ideal: %(h)d, max: %(h)d };
      c.video = v;
    }
    return orig(c);
  };
})();
'''

# the web app's statistics panel: its text as a person reads it, and what it shows (wb3.stats)
JS_PANEL = r'''
const p = document.getElementById('stats');
return { shown: !!p && !p.hidden, text: p ? p.innerText : null,
         stats: (window.wb3 && window.wb3.stats) || null };
'''

# "not blank": each tile's video drawn into a small canvas, the variance of its luma (a black
# or frozen-grey picture has about none; Chromium's fake camera draws a moving pattern)
JS_PIXELS = r'''
const out = {};
for (const t of document.querySelectorAll('#remote-grid .tile')) {
  const v = t.querySelector('video');
  if (!v || !v.videoWidth || !v.videoHeight) { out[t.dataset.id] = null; continue; }
  const w = 160, h = Math.max(1, Math.round(160 * v.videoHeight / v.videoWidth));
  const c = document.createElement('canvas');
  c.width = w; c.height = h;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(v, 0, 0, w, h);
  const d = ctx.getImageData(0, 0, w, h).data;
  let sum = 0, sq = 0;
  const n = w * h;
  for (let i = 0; i < d.length; i += 4) {
    const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    sum += y; sq += y * y;
  }
  const mean = sum / n;
  out[t.dataset.id] = { width: v.videoWidth, height: v.videoHeight, mean: mean,
                        variance: sq / n - mean * mean, paused: v.paused, muted: v.muted };
}
return out;
'''

# --speaker-check: the active speaker the page shows (webapp/app.js), and our microphone track
# enabled or not (a disabled track sends silence: RFC 6464 levels of -127 dBov)
JS_SPEAKER = 'return document.body ? document.body.dataset.activeSpeaker || "" : ""'
JS_SPEAKER_AT = 'return [Date.now(), (window.wb3 || {}).activeSpeakerAt || 0]'
JS_AUDIO_ENABLED = r'''
const pc = window.wb3 && window.wb3.pc;
let n = 0;
if (pc) for (const s of pc.getSenders())
  if (s.track && s.track.kind === 'audio') { s.track.enabled = arguments[0]; n++; }
return n;
'''


def speech_wav(path, seconds=10, rate=48000):
    """a voice-like sound for Chromium's fake microphone (--use-file-for-fake-audio-capture):
    its own beep is 20 ms every 500 ms, a mean level far below any speech floor, and a steady
    tone is what noise suppression learns to remove; so a buzz of harmonics whose pitch moves
    every 250 ms, like a voice's, at about -15 dBFS (RMS)"""
    import math, random, struct, wave
    rnd = random.Random(6464)
    seg = rate // 4
    frames = bytearray()
    for k in range(seconds * 4):
        f0 = rnd.uniform(120.0, 260.0)
        harm = [(h, 1.0 / h) for h in range(1, 9) if h * f0 < rate / 2]
        norm = sum(a for _, a in harm)
        for i in range(seg):
            t = (k * seg + i) / rate
            fade = min(1.0, i / (rate * 0.01), (seg - i) / (rate * 0.01))
            v = sum(a * math.sin(2 * math.pi * h * f0 * t) for h, a in harm) / norm
            frames += struct.pack('<h', int(0.6 * 32767 * fade * v))
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def parse_args():
    p = argparse.ArgumentParser(description='K guests judge each other\'s media from getStats()')
    p.add_argument('--url', required=True, help='the join page, e.g. https://198.18.20.1:445/')
    p.add_argument('--ca', required=True, help='PEM file of the CA the browsers are to trust')
    p.add_argument('--meeting', required=True, help='meeting ID (call ID or URI)')
    p.add_argument('--passcode', default='')
    p.add_argument('--guests', type=int, default=2, choices=(2, 3), help='K, how many guests')
    p.add_argument('--name', default='Guest', help='guests are named "<name> 1" ... "<name> K"')
    p.add_argument('--relay', action='store_true',
                   help='relay=1 on the page URL (TURN only); check the selected local '
                        'candidate is a relay one')
    p.add_argument('--remote-host', default='',
                   help='check the selected candidate pair\'s remote candidate is our host '
                        'candidate on this address (e.g. 2001:db8:20::1: media over IPv6 '
                        'straight to the media port, no TURN)')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--leave-one', action='store_true',
                   help='after the first check guest K clicks Leave: within 15 s the others '
                        'must have no tile for it and its streams must stop')
    g.add_argument('--kill-one', action='store_true',
                   help="after the first check guest K's Chromium is killed: the others' roster "
                        'must lose it within --gone-timeout')
    g.add_argument('--freeze-one', action='store_true',
                   help="after the first check guest K's Chromium is stopped (SIGSTOP): its "
                        'WebSocket stays open, its ICE checks stop, so only consent (RFC 7675) '
                        'can end it; the others\' roster must lose it within --gone-timeout')
    p.add_argument('--gone-timeout', type=float, default=40.0,
                   help='seconds a killed guest may stay in the others\' roster')
    p.add_argument('--bwe-seconds', type=float, default=0.0,
                   help='sample each guest\'s availableOutgoingBitrate and outbound video '
                        'bitrate once a second until this long after the peer connections '
                        'connected (0: not)')
    p.add_argument('--loss-seconds', type=float, default=0.0,
                   help='after the checks passed, stay this long in the call and sample each '
                        'guest\'s video loss, NACK, retransmission and freeze figures once a '
                        'second (r["loss"]; 0: not)')
    p.add_argument('--loss-cmd', default='',
                   help='with --loss-seconds: a shell command run (at most 10 s) as the window '
                        'starts, e.g. to start dropping packets; if it fails so does the run')
    p.add_argument('--stats-panel', action='store_true',
                   help='after the first check, open the web app\'s statistics panel on each '
                        'guest and report its text and figures (r["statsPanel"])')
    p.add_argument('--speaker-check', action='store_true',
                   help='after the checks, guest 1 talks (a speech-like WAV for the fake '
                        'microphone) and the others disable their audio track: within 10 s '
                        'every other guest must show guest 1 as the active speaker')
    p.add_argument('--limit-seconds', type=float, default=0.0,
                   help='after the checks passed, run --limit-cmd with guest K\'s port, stay '
                        'this long in the call and sample what every guest receives (picture '
                        'size, frames, bytes per participant) about once a second '
                        '(r["limit"]; 0: not)')
    p.add_argument('--limit-cmd', default='',
                   help='with --limit-seconds: a shell command run (at most 10 s) as the window '
                        'starts, "{port}" replaced by the local UDP port of guest K\'s selected '
                        'candidate pair (e.g. to shape its downlink); if it fails so does the run')
    p.add_argument('--limit-guest', type=int, default=0,
                   help='with --limit-seconds: K, the guest whose port --limit-cmd gets (the '
                        'last one unless told)')
    p.add_argument('--limit-tail', type=float, default=10.0,
                   help='with --limit-seconds: the summary (r["limit"]["tail"]) is over the last '
                        'this many seconds')
    p.add_argument('--capture-size', default='',
                   help='WxH: the camera (Chromium\'s fake one) is asked for this size whatever '
                        'the web app asks (it keeps its other constraints)')
    p.add_argument('--interval', type=float, default=3.0, help='seconds between the two samples')
    p.add_argument('--min-variance', type=float, default=20.0,
                   help='a picture whose luma variance is below this is "blank"')
    p.add_argument('--timeout', type=float, default=180.0, help='bound on the whole run, seconds')
    p.add_argument('--screenshot-dir', help='save guest-<i>.png there after the first check')
    a = p.parse_args()
    a.capture = None
    if a.capture_size:
        try:
            cw, ch = (int(x) for x in a.capture_size.lower().split('x'))
            assert 16 <= cw <= 3840 and 16 <= ch <= 2160
        except (ValueError, AssertionError):
            p.error(f'--capture-size {a.capture_size!r}: WxH, e.g. 640x360')
        a.capture = (cw, ch)
    if a.limit_seconds > 0 and not 0 <= a.limit_guest <= a.guests:
        p.error(f'--limit-guest {a.limit_guest}: 1..{a.guests}')
    return a


def same_ip(a, b):
    """whether the textual addresses a and b are the same address (either family)"""
    import ipaddress
    try:
        return a is not None and ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def page_url(url, relay):
    if not relay:
        return url
    u = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
    q = [(k, v) for k, v in q if k != 'relay'] + [('relay', '1')]
    return urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(q)))


class Guest:
    def __init__(self, i, profile, name):
        self.i = i                  # 1..K
        self.profile = profile
        self.name = name
        self.driver = None
        self.gone = False           # left or killed: out of the later checks
        self.killed = False         # its Chromium was killed: no WebDriver calls to it
        self.view = {}
        self.r = {'name': name, 'participant': None, 'state': None, 'tiles': [],
                  'roster': [], 'mediaState': None, 'renegotiations': 0,
                  'framesDecoded': {}, 'frameWidth': {}, 'audio': {}, 'audioLevel': {},
                  'variance': {}, 'candidate': None, 'failures': [], 'console': []}

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def state(self):
        return self.js(JS_STATE)

    def look(self):
        v = self.view = self.js(JS_VIEW)
        r = self.r
        r['state'] = v.get('state')
        r['participant'] = v.get('participant') or r['participant']
        r['tiles'] = v.get('tiles') or []
        r['roster'] = v.get('roster') or []
        r['mediaState'] = v.get('mediaState')
        r['renegotiations'] = v.get('renegotiations')
        if v.get('lastError'):
            r['lastError'] = v['lastError']
        return v

    def stats(self):
        s = self.driver.execute_async_script(JS_STATS)
        if not isinstance(s, dict) or s.get('error'):
            raise Failed(f'guest {self.i}: getStats failed: {(s or {}).get("error")}')
        return s

    def loss_stats(self):
        s = self.driver.execute_async_script(JS_LOSS)
        if not isinstance(s, dict) or s.get('error'):
            raise Failed(f'guest {self.i}: getStats (loss) failed: {(s or {}).get("error")}')
        return s

    def limit_stats(self):
        s = self.driver.execute_async_script(JS_LIMIT)
        if not isinstance(s, dict) or s.get('error'):
            raise Failed(f'guest {self.i}: getStats (limit) failed: {(s or {}).get("error")}')
        return s

    def browser_pids(self):
        """the Chromium of this guest: the processes whose command line names its profile"""
        return bj.pids_using(self.profile)


class Run:
    def __init__(self, args):
        self.a = args
        self.deadline = time.monotonic() + args.timeout
        self.tmp = tempfile.mkdtemp(prefix='browser-media-')
        self.service = None
        self.guests = []
        self.procs = {}
        self.wedged = False
        self.result = {'ok': False, 'guests': [], 'leave': None, 'kill': None, 'limit': None,
                       'error': None}

    # ------------------------------------------------------------ processes and waits

    def collect(self):
        roots = [p for p, t in self.procs.items() if bj.running(p, t)]
        proc = getattr(self.service, 'process', None) if self.service else None
        if proc is not None:
            roots.append(proc.pid)
        for p in roots + bj.descendants(*roots) + bj.pids_using(self.tmp):
            st = bj.proc_stat(p)
            if st and p not in self.procs:
                self.procs[p] = st[1]

    def left(self):
        return self.deadline - time.monotonic()

    def wait(self, what, cond, limit=None, poll=0.25):
        end = time.monotonic() + min(limit if limit is not None else 1e9, max(self.left(), 0))
        while True:
            v = cond()
            if v:
                return v
            if time.monotonic() >= end:
                raise Deadline(f'timed out waiting for {what}')
            time.sleep(poll)

    def sleep(self, seconds):
        if seconds > self.left():
            raise Deadline('the run timed out')
        time.sleep(seconds)

    def live(self):
        return [g for g in self.guests if not g.gone]

    # ------------------------------------------------------------ browsers

    def start_service(self):
        home = os.path.join(self.tmp, 'home')
        os.makedirs(home, mode=0o700)
        bj.make_nssdb(home, self.a.ca)
        env = dict(os.environ)
        env['HOME'] = home
        env.pop('XDG_CONFIG_HOME', None)
        env.pop('XDG_CACHE_HOME', None)
        for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy',
                  'ALL_PROXY'):
            env.pop(k, None)
            os.environ.pop(k, None)
        env['NO_PROXY'] = env['no_proxy'] = 'localhost,127.0.0.1'
        os.environ['NO_PROXY'] = os.environ['no_proxy'] = 'localhost,127.0.0.1'
        env['TMPDIR'] = os.path.join(self.tmp, 'tmp')
        os.makedirs(env['TMPDIR'], mode=0o700)
        self.service = Service(bj.CHROMEDRIVER, env=env,
                               service_args=['--log-level=WARNING', '--log-path=' +
                                             os.path.join(self.tmp, 'chromedriver.log')])
        try:
            self.service.start()
        finally:
            self.collect()

    def start_guest(self, i):
        profile = os.path.join(self.tmp, f'profile-{i}')
        os.makedirs(profile, mode=0o700)
        g = Guest(i, profile, f'{self.a.name} {i}')
        self.guests.append(g)
        opts = webdriver.ChromeOptions()
        opts.binary_location = bj.CHROMIUM
        for f in CHROMIUM_FLAGS:
            opts.add_argument(f)
        opts.add_argument('--user-data-dir=' + profile)
        opts.add_argument('--window-size=1024,768')
        if self.a.speaker_check:
            wav = os.path.join(self.tmp, 'speech.wav')
            if not os.path.exists(wav):
                speech_wav(wav)
            opts.add_argument('--use-file-for-fake-audio-capture=' + wav)
        opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        budget = max(5, int(self.left()))
        RemoteConnection.set_timeout(budget + 10)
        try:
            g.driver = webdriver.Remote(command_executor=self.service.service_url, options=opts)
        finally:
            self.collect()
        g.driver.set_page_load_timeout(budget)
        g.driver.set_script_timeout(budget)
        if self.a.capture:
            # chromedriver's CDP passthrough (webdriver.Remote does not name it)
            g.driver.command_executor._commands['executeCdpCommand'] = (
                'POST', '/session/$sessionId/goog/cdp/execute')
            g.driver.execute('executeCdpCommand', {
                'cmd': 'Page.addScriptToEvaluateOnNewDocument',
                'params': {'source': JS_CAPTURE % {'w': self.a.capture[0],
                                                   'h': self.a.capture[1]}}})
        return g

    def bound_client(self, g, seconds):
        """later WebDriver requests of g give up after seconds, without retries (see
        browser_join.py: Selenium 4.8 reads the timeout when it makes a pool)"""
        RemoteConnection.set_timeout(seconds)
        ce = g.driver.command_executor
        old = getattr(ce, '_conn', None)
        ce._conn = urllib3.PoolManager(timeout=urllib3.Timeout(connect=min(5, seconds),
                                                               read=seconds), retries=False)
        if old is not None:
            try:
                old.clear()
            except Exception:
                pass

    def join(self, g, url):
        try:
            g.driver.get(url)
        except WebDriverException as e:
            raise Failed(f'guest {g.i}: could not load {url}: {e.msg or e}'.splitlines()[0])
        try:
            self.wait(f'guest {g.i} join page', lambda: g.state() == 'join', 15)
        except Deadline:
            raise Failed(f'guest {g.i}: {url} did not show the join page (title '
                         f'{g.driver.title!r}; an untrusted certificate shows an interstitial)')
        for field, value in (('meetingId', self.a.meeting), ('passcode', self.a.passcode),
                             ('name', g.name)):
            box = g.driver.find_element(By.ID, field)
            box.clear()
            if value:
                box.send_keys(value)
        g.driver.find_element(By.ID, 'join-button').click()

    # ------------------------------------------------------------ checks

    def wait_in_call(self):
        def all_in():
            states = [g.state() for g in self.live()]
            for g, st in zip(self.live(), states):
                if st in ('error', 'ended', 'left'):
                    v = g.look()
                    raise Failed(f'guest {g.i}: the join failed (state {st}): {v.get("lastError")}')
            return all(st == 'in-call' for st in states)
        self.wait('every guest in the call', all_in, 45)
        for g in self.live():
            g.look()
            if not g.r['participant']:
                raise Failed(f'guest {g.i}: in the call without a participant id')

    def wait_tiles(self, guests, limit):
        """every guest of guests has a tile for every other one"""
        def complete():
            for g in guests:
                g.look()
            return all({o.r['participant'] for o in guests if o is not g} <= set(g.r['tiles'])
                       for g in guests)
        try:
            self.wait('every guest to show every other guest', complete, limit, poll=0.5)
        except Deadline:
            missing = {g.name: sorted({o.r['participant'] for o in guests if o is not g} -
                                      set(g.r['tiles'])) for g in guests}
            states = {g.name: g.r['mediaState'] for g in guests}
            raise Failed(f'tiles missing after {limit:g} s: {missing} (media {states})')

    def check_media(self, guests, tag):
        """two getStats() samples --interval apart on each guest of guests, judged per other
        guest; failures go to each guest's result and are returned"""
        first = {g.i: g.stats() for g in guests}
        self.sleep(self.a.interval)
        second = {g.i: g.stats() for g in guests}
        pixels = {g.i: g.js(JS_PIXELS) for g in guests}
        failures = []
        for g in guests:
            r, s1, s2 = g.r, first[g.i], second[g.i]
            r['candidate'] = s2.get('candidate')
            r['connectionState'] = s2.get('connectionState')
            fails = []
            for o in guests:
                if o is g:
                    continue
                pid = o.r['participant']
                a1 = (s1['peers'].get(pid) or {})
                a2 = (s2['peers'].get(pid) or {})
                v1, v2 = a1.get('video'), a2.get('video')
                au1, au2 = a1.get('audio'), a2.get('audio')
                # video: frames decoded rising, a size, a picture
                if not v2:
                    fails.append(f'no inbound video from {o.name}')
                else:
                    d = (v2.get('framesDecoded') or 0) - ((v1 or {}).get('framesDecoded') or 0)
                    r['framesDecoded'][pid] = d
                    r['frameWidth'][pid] = v2.get('frameWidth')
                    if d <= 0:
                        fails.append(f'framesDecoded from {o.name} not rising ({d})')
                    if not v2.get('frameWidth'):
                        fails.append(f'frameWidth from {o.name} is {v2.get("frameWidth")}')
                px = pixels.get(g.i, {}).get(pid)
                r['variance'][pid] = round(px['variance'], 1) if px else None
                if not px:
                    fails.append(f'the tile of {o.name} shows no picture')
                elif px['variance'] < self.a.min_variance:
                    fails.append(f'the picture of {o.name} is blank (variance '
                                 f'{px["variance"]:.1f}, mean {px["mean"]:.0f})')
                # audio: samples (or bytes) rising, some level
                if not au2:
                    fails.append(f'no inbound audio from {o.name}')
                else:
                    if au2.get('totalSamplesReceived') is not None:
                        d = au2['totalSamplesReceived'] - \
                            ((au1 or {}).get('totalSamplesReceived') or 0)
                        what = 'totalSamplesReceived'
                    else:
                        d = au2['bytesReceived'] - ((au1 or {}).get('bytesReceived') or 0)
                        what = 'bytesReceived'
                    r['audio'][pid] = {what: d}
                    if d <= 0:
                        fails.append(f'audio {what} from {o.name} not rising ({d})')
                    level = max(x for x in ((au1 or {}).get('audioLevel'), au2.get('audioLevel'),
                                            -1) if x is not None)
                    energy = None
                    if au2.get('totalAudioEnergy') is not None:
                        energy = au2['totalAudioEnergy'] - \
                            ((au1 or {}).get('totalAudioEnergy') or 0)
                    r['audioLevel'][pid] = {'audioLevel': None if level < 0 else level,
                                            'energy': energy}
                    # the fake microphone beeps: a sample may fall in a silence, the energy
                    # over the interval may not
                    if level == 0 and (energy is None or energy <= 0):
                        fails.append(f'the audio from {o.name} is silent')
            if self.a.relay and (len(guests) > 1):
                c = r['candidate'] or {}
                if c.get('local') != 'relay':
                    fails.append(f'the selected local candidate is {c.get("local")}, not relay')
            if self.a.remote_host and (len(guests) > 1):
                c = r['candidate'] or {}
                if not same_ip(c.get('remoteIp'), self.a.remote_host) or \
                        c.get('remote') != 'host' or c.get('local') == 'relay':
                    fails.append(f'the selected pair is {c.get("local")} -> {c.get("remote")} '
                                 f'{c.get("remoteAddress")}, not to our host candidate '
                                 f'{self.a.remote_host}')
            r['failures'] += [f'{tag}: {f}' for f in fails]
            failures += [f'{g.name}: {f}' for f in fails]
        return failures, second

    def sample_bwe(self, since, seconds):
        """each guest's send-side estimate and outbound video bitrate, once a second until
        @seconds after @since: r['bwe'] = [[s since connected, availableOutgoingBitrate (bps),
        outbound video (bps over the last second)], ...]"""
        prev = {}
        for g in self.guests:
            g.r['bwe'] = []
        while time.monotonic() - since < seconds and self.left() > 10:
            for g in self.guests:
                s = g.stats()
                t = round(time.monotonic() - since, 1)
                p = prev.get(g.i)
                rate = None
                if p and s['now'] > p['now']:
                    rate = int((s['videoBytesSent'] - p['videoBytesSent']) * 8000 /
                               (s['now'] - p['now']))
                prev[g.i] = s
                aob = s.get('availableOutgoingBitrate')
                g.r['bwe'].append([t, None if aob is None else int(aob), rate])
            self.sleep(1)

    LOSS_IN = ('framesDecoded', 'freezeCount', 'totalFreezesDuration', 'packetsLost',
               'packetsReceived', 'nackCount', 'pliCount')
    LOSS_OUT = ('packetsSent', 'retransmittedPacketsSent', 'nackCount', 'pliCount')

    @staticmethod
    def loss_delta(first, last, keys):
        """per SSRC of @last, each figure of @keys since @first (an SSRC that came later
        counts from 0; a figure Chromium does not give stays None), and their sum"""
        per, total = {}, {k: None for k in keys}
        for ssrc, b in last.items():
            a = first.get(ssrc) or {}
            d = {}
            for k in keys:
                if b.get(k) is None:
                    d[k] = None
                    continue
                d[k] = b[k] - (a.get(k) or 0)
                if isinstance(d[k], float):
                    d[k] = round(d[k], 3)
                total[k] = d[k] if total[k] is None else round(total[k] + d[k], 3)
            per[ssrc] = d
        return per, total

    def sample_loss(self, seconds):
        """--loss-cmd run, then each guest's loss figures (JS_LOSS) at once and once a second
        for @seconds: r["loss"] =
        {"seconds": the window sampled, "samples": [{"t", "inbound", "outbound",
        "remoteInbound"}, ...], "first", "last" (samples), "delta": {"inbound" (video, summed
        over SSRCs: framesDecoded, freezeCount, totalFreezesDuration, packetsLost,
        packetsReceived, nackCount (NACKs it sent), pliCount), "outbound" (video:
        packetsSent, retransmittedPacketsSent, nackCount (NACKs it received), pliCount),
        "inboundBySsrc", "outboundBySsrc"}, "jitterMax", "fractionLostMax" (remote-inbound
        video), "lossRatio" (inbound video packetsLost / (packetsLost + packetsReceived) over
        the window)}"""
        guests = self.live()
        if self.a.loss_cmd:
            self.run_cmd('--loss-cmd', self.a.loss_cmd)
        t0 = time.monotonic()
        for g in guests:
            g.r['loss'] = {'seconds': 0, 'samples': []}
        k = 0
        while True:
            for g in guests:
                s = g.loss_stats()
                s['t'] = round(time.monotonic() - t0, 1)
                s.pop('now', None)
                g.r['loss']['samples'].append(s)
            elapsed = time.monotonic() - t0
            if elapsed >= seconds - 0.05 or self.left() < 10:
                break
            k += 1
            self.sleep(max(0.0, min(t0 + k - time.monotonic(), self.left() - 10)))
        for g in guests:
            L = g.r['loss']
            first, last = L['samples'][0], L['samples'][-1]
            L['seconds'] = last['t']
            L['first'], L['last'] = first, last
            pin, tin = self.loss_delta(first['inbound'], last['inbound'], self.LOSS_IN)
            pout, tout = self.loss_delta(first['outbound'], last['outbound'], self.LOSS_OUT)
            L['delta'] = {'inbound': tin, 'outbound': tout, 'inboundBySsrc': pin,
                          'outboundBySsrc': pout}
            jit = [v['jitter'] for x in L['samples'] for v in x['inbound'].values()
                   if v.get('jitter') is not None]
            fl = [v['fractionLost'] for x in L['samples'] for v in x['remoteInbound'].values()
                  if v.get('kind') == 'video' and v.get('fractionLost') is not None]
            L['jitterMax'] = max(jit) if jit else None
            L['fractionLostMax'] = max(fl) if fl else None
            lost, got = tin['packetsLost'], tin['packetsReceived']
            L['lossRatio'] = round(lost / (lost + got), 4) \
                if lost is not None and got is not None and lost + got > 0 else None

    def run_cmd(self, opt, cmd):
        """a test's shell command (--loss-cmd, --limit-cmd), at most 10 s; Failed if it fails"""
        try:
            c = subprocess.run(cmd, shell=True, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=max(1, min(10, self.left() - 10)))
        except subprocess.TimeoutExpired:
            raise Failed(f'{opt} did not end within 10 s: {cmd}')
        if c.returncode != 0:
            raise Failed(f'{opt} exited {c.returncode}: {(c.stderr or c.stdout).strip()[:200]}')

    @staticmethod
    def limit_tail(samples, tail):
        """what a guest received over the last @tail s of its samples: per participant the
        picture's rows (last, min, max), columns (last), frames decoded per second, kbit/s
        received; and its transport's kbit/s"""
        if len(samples) < 2:
            return None
        end = samples[-1]
        start = next((x for x in samples if x['t'] >= end['t'] - tail), samples[0])
        if start is end:
            start = samples[-2]
        dt = max(0.001, (end['now'] - start['now']) / 1000.0)
        win = [x for x in samples if x['t'] >= start['t']]
        out = {'from': start['t'], 'to': end['t'], 'peers': {}, 'kbps': None}
        if end.get('transportBytesReceived') is not None:
            out['kbps'] = round(((end['transportBytesReceived'] or 0) -
                                 (start.get('transportBytesReceived') or 0)) * 8 / dt / 1000, 1)
        for pid, v in end['peers'].items():
            u = start['peers'].get(pid) or {}
            rows = [x['peers'][pid]['frameHeight'] for x in win
                    if (x['peers'].get(pid) or {}).get('frameHeight')]
            same = u.get('ssrc') == v.get('ssrc')
            out['peers'][pid] = {
                'frameHeight': v.get('frameHeight'), 'frameWidth': v.get('frameWidth'),
                'frameHeightMin': min(rows) if rows else None,
                'frameHeightMax': max(rows) if rows else None,
                'fps': round(((v.get('framesDecoded') or 0) -
                              ((u.get('framesDecoded') or 0) if same else 0)) / dt, 1),
                'kbps': round(((v.get('bytesReceived') or 0) -
                               ((u.get('bytesReceived') or 0) if same else 0)) * 8 / dt / 1000,
                              1)}
        return out

    def sample_limit(self, seconds):
        """guest K's selected candidate pair's local port into --limit-cmd, which is run; then
        each guest sampled (JS_LIMIT) at once and about once a second for @seconds:
        r["limit"] = {"limited" (this guest's port was given), "samples": [{"t" (s since the
        command), "peers": {participant: {"ssrc", "frameWidth", "frameHeight",
        "framesDecoded", "framesPerSecond", "bytesReceived", "packetsReceived",
        "packetsLost", "freezeCount", "pliCount", "nackCount"}}, "transportBytesReceived",
        "pair": {"local", "remote": {"type", "protocol", "address", "port"}, ...},
        "outbound": [{"rid", "frameWidth", "frameHeight", "bytesSent", ...} per encoding],
        "capture": {"width", "height", "frameRate"}, "simulcast" (wb3.simulcast)}, ...],
        "first", "last" (samples), "tail" (see limit_tail), "simulcast", "capture", "pair"
        (of the last sample)}; result["limit"] = {"guest", "participant", "port", "cmd",
        "seconds", "tailSeconds"}"""
        a, guests = self.a, self.live()
        k = a.limit_guest or len(self.guests)
        target = self.guests[k - 1]
        if target.gone:
            raise Failed(f'--limit-guest {k}: {target.name} is no longer in the call')
        pair = target.limit_stats().get('pair') or {}
        port = (pair.get('local') or {}).get('port')
        if not port:
            raise Failed(f'{target.name}: no selected candidate pair with a local port: {pair}')
        cmd = a.limit_cmd.replace('{port}', str(port))
        self.result['limit'] = {'guest': target.name, 'participant': target.r['participant'],
                                'port': port, 'local': pair.get('local'), 'cmd': cmd,
                                'seconds': None, 'tailSeconds': a.limit_tail}
        if cmd:
            self.run_cmd('--limit-cmd', cmd)
        t0 = time.monotonic()
        for g in guests:
            g.r['limit'] = {'limited': g is target, 'samples': []}
        n = 0
        while True:
            for g in guests:
                s = g.limit_stats()
                s['t'] = round(time.monotonic() - t0, 1)
                g.r['limit']['samples'].append(s)
            elapsed = time.monotonic() - t0
            if elapsed >= seconds - 0.05 or self.left() < 10:
                break
            n += 1
            self.sleep(max(0.0, min(t0 + n - time.monotonic(), self.left() - 10)))
        self.result['limit']['seconds'] = round(time.monotonic() - t0, 1)
        for g in guests:
            L = g.r['limit']
            S = L['samples']
            L['first'], L['last'] = S[0], S[-1]
            L['tail'] = self.limit_tail(S, a.limit_tail)
            L['simulcast'] = S[-1].get('simulcast')
            L['capture'] = S[-1].get('capture')
            L['pair'] = S[-1].get('pair')
            try:
                L['captureAsked'] = g.js('return window.__captureAsked || null')
            except WebDriverException:
                L['captureAsked'] = None

    def open_panels(self):
        """each guest clicks Statistics: the panel refreshes once a second from then on"""
        for g in self.live():
            g.driver.find_element(By.ID, 'stats-toggle').click()
        self.panels_opened = time.monotonic()

    def read_panels(self):
        """each guest's panel once it has refreshed twice (bit rates need two samples)"""
        self.sleep(max(0.0, 2.5 - (time.monotonic() - self.panels_opened)))
        for g in self.live():
            g.r['statsPanel'] = g.js(JS_PANEL)

    def screenshots(self, suffix=''):
        if not self.a.screenshot_dir:
            return
        os.makedirs(self.a.screenshot_dir, exist_ok=True)
        for g in self.live():
            try:
                g.driver.save_screenshot(os.path.join(self.a.screenshot_dir,
                                                      f'guest-{g.i}{suffix}.png'))
            except Exception as e:
                print(f'browser_media: guest {g.i}: no screenshot: {e}', file=sys.stderr)

    # ------------------------------------------------------------ the active speaker

    def speaker_check(self, limit=10.0):
        """the callbridge's active speaker follows the audio levels (RFC 6464): first guest 1
        disables its audio track while the others talk, until every page shows someone else
        (so what follows is a switch); then guest 1 enables it and the others disable theirs,
        and within @limit s every other guest's page must show guest 1 (body's
        data-active-speaker) and still do 2 s later. r['speaker'] = {"speaker", "away",
        "before", "after" (s until seen), "switchMs" (from the toggle until the last page
        learnt it), "stable", "failures"}, r['activeSpeaker'] per guest"""
        first, others = self.guests[0], self.guests[1:]
        res = {'speaker': first.name, 'away': None, 'before': {}, 'after': None,
               'stable': None, 'failures': []}
        self.result['speaker'] = res

        def shows():
            seen = {}
            for g in self.guests:
                seen[g.name] = g.r['activeSpeaker'] = g.js(JS_SPEAKER)
            return seen

        def audio(g, on):
            if not g.js(JS_AUDIO_ENABLED, on):
                what = 'enable' if on else 'disable'
                res['failures'].append(f'{g.name} has no audio track to {what}')

        audio(first, False)
        t0 = time.monotonic()
        try:
            self.wait('someone else than guest 1 shown speaking', lambda: all(
                v and v != first.name for v in shows().values()), limit)
            res['away'] = round(time.monotonic() - t0, 1)
        except Deadline:
            pass    # the switch below is then not proven, but still checked
        res['before'] = shows()
        toggled = first.js(JS_SPEAKER_AT)[0]    # the guests' Chromiums share the clock
        audio(first, True)
        for o in others:
            audio(o, False)
        t0 = time.monotonic()
        try:
            self.wait(f'{first.name} shown as the active speaker', lambda: all(
                shows()[o.name] == first.name for o in others), limit)
            res['after'] = round(time.monotonic() - t0, 1)
            # when the last page learnt it, from the toggle (WebDriver round trips left out)
            res['switchMs'] = max(o.js(JS_SPEAKER_AT)[1] for o in others) - toggled
            self.sleep(2)
            res['stable'] = all(v == first.name for k, v in shows().items()
                                if k != first.name)
            if not res['stable']:
                res['failures'].append(f'the active speaker left {first.name} within 2 s: '
                                       f'{shows()}')
        except Deadline:
            res['failures'].append(f'{limit:g} s after only {first.name} talks, the pages show '
                                   f'{shows()}')
        if res['away'] is None:
            res['failures'].append(f'while {first.name} was silent nobody else was shown '
                                   f'speaking within {limit:g} s: {res["before"]}')
        return [f'speaker: {f}' for f in res['failures']]

    # ------------------------------------------------------------ leaving, killed

    def leave_one(self, last, before):
        """last clicks Leave: within 15 s no other has a tile for it, and the SSRCs it sent
        them stop counting"""
        a, others = self.a, [g for g in self.live() if g is not last]
        pid = last.r['participant']
        t0 = time.monotonic()
        last.driver.find_element(By.ID, 'leave').click()
        res = {'participant': pid, 'tileGoneAfter': None, 'stopped': None, 'failures': []}
        self.result['leave'] = res
        try:
            self.wait(f'{last.name} to leave', lambda: last.state() == 'left', 10)
        except Deadline:
            res['failures'].append(f'{last.name} did not reach the left state')
        try:
            self.wait(f'the tiles of {last.name} to go', lambda: all(
                pid not in o.look()['tiles'] for o in others), 15)
            res['tileGoneAfter'] = round(time.monotonic() - t0, 1)
        except Deadline:
            res['failures'].append(f'a tile for {last.name} is still shown 15 s after it left')
        # its SSRCs (from the last sample) must stop increasing in the others' stats
        ssrcs = {o.i: [str(((before[o.i]['peers'].get(pid) or {}).get(k) or {}).get('ssrc'))
                       for k in ('audio', 'video')] for o in others}
        self.sleep(1)
        s1 = {o.i: o.stats() for o in others}
        self.sleep(a.interval)
        s2 = {o.i: o.stats() for o in others}
        stopped = True
        for o in others:
            for ss in ssrcs[o.i]:
                x1 = (s1[o.i]['ssrcs'].get(ss) or {}).get('bytesReceived', 0)
                x2 = (s2[o.i]['ssrcs'].get(ss) or {}).get('bytesReceived', 0)
                if ss != 'None' and x2 > x1:
                    stopped = False
                    res['failures'].append(f'{o.name} still receives SSRC {ss} of '
                                           f'{last.name} ({x2 - x1} bytes in {a.interval:g} s)')
        res['stopped'] = stopped
        last.gone = True    # out of the meeting: not checked again (its session is closed later)
        return [f'leave: {f}' for f in res['failures']]

    def kill_one(self, last, sig=signal.SIGKILL):
        """last's Chromium is killed (or stopped, SIGSTOP) by PID, without leaving: how long
        until no other roster has it"""
        others = [g for g in self.live() if g is not last]
        pid = last.r['participant']
        victims = {}
        for p in last.browser_pids():
            st = bj.proc_stat(p)
            if st:
                victims[p] = st[1]
        res = {'participant': pid, 'killedPids': sorted(victims), 'goneAfter': None,
               'tilesGone': None, 'failures': []}
        self.result['kill'] = res
        if not victims:
            res['failures'].append(f'no Chromium process found for {last.name}')
            return [f'kill: {f}' for f in res['failures']]
        for p, t in victims.items():
            if bj.running(p, t):
                try:
                    os.kill(p, sig)
                except (ProcessLookupError, PermissionError):
                    pass
        res['signal'] = signal.Signals(sig).name
        last.gone = last.killed = True
        t0 = time.monotonic()
        try:
            self.wait(f'{last.name} to leave the rosters', lambda: all(
                pid not in o.look()['roster'] for o in others), self.a.gone_timeout, poll=0.5)
            res['goneAfter'] = round(time.monotonic() - t0, 1)
            res['tilesGone'] = all(pid not in o.r['tiles'] for o in others)
        except Deadline:
            res['failures'].append(f'{last.name} is still in a roster {self.a.gone_timeout:g} s '
                                   'after its browser was killed')
        return [f'kill: {f}' for f in res['failures']]

    # ------------------------------------------------------------ the run

    def run(self):
        a = self.a
        self.start_service()
        url = page_url(a.url, a.relay)
        for i in range(1, a.guests + 1):
            self.start_guest(i)
        for g in self.guests:
            self.join(g, url)
        self.wait_in_call()
        self.wait_tiles(self.guests, max(10.0, min(60.0, self.left() - 20)))
        # the tiles exist: give the pictures a moment to start before the first sample
        try:
            self.wait('the peer connections to connect', lambda: all(
                g.look()['mediaState'] == 'connected' for g in self.guests), 20)
        except Deadline:
            pass
        connected = time.monotonic()
        self.sleep(1)
        failures, last_sample = self.check_media(self.guests, 'all')
        self.screenshots()
        if failures:
            raise Failed('; '.join(failures))
        if a.stats_panel:
            self.open_panels()
        if a.bwe_seconds > 0:
            self.sample_bwe(connected, a.bwe_seconds)
        if a.stats_panel:
            self.read_panels()
        if a.loss_seconds > 0:
            self.sample_loss(a.loss_seconds)
        if a.limit_seconds > 0:
            self.sample_limit(a.limit_seconds)
        if a.speaker_check:
            failures = self.speaker_check()
            if failures:
                raise Failed('; '.join(failures))
        last = self.guests[-1]
        if a.leave_one:
            failures = self.leave_one(last, last_sample)
        elif a.kill_one:
            failures = self.kill_one(last)
        elif a.freeze_one:
            failures = self.kill_one(last, signal.SIGSTOP)
        if (a.leave_one or a.kill_one or a.freeze_one):
            rest = self.live()
            if len(rest) > 1:
                f2, _ = self.check_media(rest, 'after')
                failures += f2
            if failures:
                raise Failed('; '.join(failures))
        self.result['ok'] = True

    def cleanup(self):
        """Bounded: per guest the last view, its console errors and its session closed (each
        WebDriver call at most CLEANUP_CALL_TIMEOUT s, none after one timed out, none to a
        killed guest), then whatever those did, everything we started ended by PID."""
        try:
            self.collect()
            for g in self.guests:
                if g.driver is None or g.killed or self.wedged:
                    continue
                try:
                    self.bound_client(g, CLEANUP_CALL_TIMEOUT)
                    if not g.gone:
                        g.look()
                    g.r['console'] = [e.get('message') for e in g.driver.get_log('browser')
                                      if e.get('level') == 'SEVERE']
                    # the session only: webdriver.Chrome.quit() would stop the service too
                    webdriver.Remote.quit(g.driver)
                except WebDriverException as e:
                    print(f'browser_media: guest {g.i}: cleanup: {str(e.msg or e)[:200]}',
                          file=sys.stderr)
                except Exception as e:  # no answer in time: no more WebDriver calls
                    self.wedged = True
                    print(f'browser_media: guest {g.i}: cleanup: {type(e).__name__}',
                          file=sys.stderr)
        except Exception as e:
            print(f'browser_media: cleanup: {type(e).__name__}: {e}', file=sys.stderr)
        finally:
            try:
                self.collect()
            except Exception:
                pass
            bj.kill_pids(self.procs)
            proc = getattr(self.service, 'process', None) if self.service else None
            if proc is not None:
                try:  # chromedriver is our child: reap it
                    proc.wait(timeout=2)
                except Exception:
                    pass
                self.service.process = None
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.result['guests'] = [g.r for g in self.guests]


def main():
    a = parse_args()
    if not os.path.isfile(a.ca):
        print(json.dumps({'ok': False, 'guests': [], 'error': f'no CA file {a.ca}'}))
        print(f'browser_media: no CA file {a.ca}', file=sys.stderr)
        return 1

    def on_alarm(signum, frame):
        raise Deadline(f'the run took longer than --timeout {a.timeout:g} s')
    signal.signal(signal.SIGALRM, on_alarm)

    def on_term(signum, frame):
        raise Terminated('terminated')
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(int(a.timeout) + 5)

    run = None
    reason = None
    try:
        try:
            bj.check_loopback()
            run = Run(a)
            run.run()
        except (Failed, Abort) as e:
            reason = str(e)
        except WebDriverException as e:
            reason = f'webdriver: {(e.msg or str(e)).strip().splitlines()[0]}'
        except Exception as e:  # never a traceback without the JSON line
            reason = f'{type(e).__name__}: {e}'
    except Abort as e:
        reason = reason or str(e)
    finally:
        while True:
            try:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGALRM, signal.SIG_IGN)
                signal.alarm(0)
                break
            except Abort as e:
                reason = reason or str(e)
        if run is not None:
            run.cleanup()
    result = run.result if run else {'ok': False, 'guests': [], 'error': None}
    if reason:
        result['ok'] = False
        result['error'] = result.get('error') or reason
    print(json.dumps(result), flush=True)
    if not result['ok']:
        print(f'browser_media: {reason or "failed"}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

// webbridge3's web app: the join page and the in-call view.
// The protocol (POST /api/join, the WebSocket /api/ws with subprotocol wb3-signalling) is in
// docs/webbridge3.md. Plain JavaScript, no build step, no external URLs.
//
// Media follows docs/webbridge3.md's media contract (issue 13): the page is always the offerer;
// mids 0/1 send our microphone and camera, then one recvonly audio+video pair per other
// participant the server says we can receive ("renegotiate"), never removed, reused when the
// server maps them to someone else. Each remote MediaStream's id is its participant's id.
//
// For tests: document.body.dataset.state is one of
//   "join" | "joining" | "in-call" | "left" | "ended" | "error"
// and window.wb3 holds what happened (participant, call, conference, candidatesSent,
// relayCandidatesSent, offerSent, lastError, remoteParticipants, mediaState, renegotiations,
// simulcast (the video layers our offer asked for, 0: one stream), and the non-enumerable pc,
// ...; wb3.stats is what the statistics panel shows, while it is open). `?relay=1` makes the
// page use TURN relays only.
// The active speaker (the server's choice, "activeSpeaker" messages and the roster's field):
// wb3.activeSpeaker is their participant id, document.body.dataset.activeSpeaker their name
// ("" = nobody), and their tile and roster entry have the class "active-speaker".
'use strict';

(function () {
  const JOIN_TIMEOUT_MS = 15000;   // POST /api/join, and the WebSocket until "authenticated"
  const LEAVE_TIMEOUT_MS = 3000;   // "leave" until "left" or the socket closes
  const STATS_INTERVAL_MS = 1000;  // the statistics panel's refresh
  const SUBPROTOCOL = 'wb3-signalling';

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $('join-form'), meetingId: $('meetingId'), passcode: $('passcode'), name: $('name'),
    joinButton: $('join-button'), join: $('join'), call: $('call'), title: $('title'),
    error: $('error'), status: $('status'), conference: $('conference'), media: $('media'),
    mediaNote: $('media-note'), roster: $('roster'), rosterCount: $('roster-count'),
    muteAudio: $('mute-audio'), muteVideo: $('mute-video'), leave: $('leave'),
    remoteGrid: $('remote-grid'), localVideo: $('local-video'),
    statsToggle: $('stats-toggle'), stats: $('stats'), statsRows: $('stats-rows'),
    statsTransport: $('stats-transport'),
  };
  // ?relay=1: only relayed candidates (tests force the path through our TURN server this way)
  const RELAY_ONLY = new URLSearchParams(location.search).get('relay') === '1';

  // What tests (and curious people in the console) can read
  const wb3 = window.wb3 = {
    state: 'join', participant: null, call: null, conference: null, name: null,
    candidatesSent: 0, relayCandidatesSent: 0, endOfCandidatesSent: false, offerSent: false,
    answerReceived: false, remoteCandidates: 0, localMedia: null, media: null,
    audioMuted: false, videoMuted: false, roster: [], lastError: '',
    remoteParticipants: [],  // ids of the participants that have a tile, in tile order
    mediaState: 'none',      // 'none' | 'negotiating' | 'connected' | 'failed'
    renegotiations: 0,       // offers sent, the first one included
    simulcast: 0,            // video layers our offer asked for (0: one stream)
    relayOnly: RELAY_ONLY,
    stats: null,             // the panel's last figures: { transport, relayProtocol, streams }
    activeSpeaker: null,     // the participant id the server says is speaking, null = nobody
    activeSpeakerAt: 0,      // when the page learnt it (Date.now())
    views: {},               // participant id -> the height we last said we show them at
  };
  // Not enumerable: JSON.stringify(wb3) and WebDriver's serialisation of wb3 leave them out
  Object.defineProperty(wb3, 'pc', {
    get: () => (session ? session.pc : null), enumerable: false,
  });

  // One join attempt's resources; replaced on every join
  let session = null;
  // a hidden page shows nobody: each tile's view goes to 0, and back when it shows again
  document.addEventListener('visibilitychange', () => {
    if (session) session.tiles.forEach((t, id) => sendView(session, id, t));
  });
  // The active speaker's name, kept from their "activeSpeaker" message or a roster
  let activeSpeakerName = '';

  function setState(state) {
    wb3.state = state;
    document.body.dataset.state = state;
  }

  function showError(text) {
    el.error.textContent = text;
    el.error.classList.add('visible');
  }

  function clearError() {
    el.error.textContent = '';
    el.error.classList.remove('visible');
  }

  function setStatus(text) {
    el.status.textContent = text || '';
    el.status.classList.toggle('visible', !!text);
  }

  // An error for a person (in #error) and for tests (wb3.lastError, "code: message")
  function fail(code, message) {
    wb3.lastError = code ? code + ': ' + message : message;
    showError(message);
  }

  function showJoinPage() {
    el.call.hidden = true;
    el.join.hidden = false;
    el.title.textContent = 'Join a meeting';
    el.joinButton.disabled = false;
    el.joinButton.textContent = 'Join';
    hideStats();
  }

  function showCallView() {
    el.join.hidden = true;
    el.call.hidden = false;
    el.title.textContent = 'In the meeting';
    el.conference.textContent = wb3.conference || '';
    el.leave.disabled = false;
    updateMuteButtons();
  }

  // ---------------------------------------------------------------- join page

  function prefill() {
    const p = new URLSearchParams(location.search);
    const id = p.get('id') || p.get('meetingId');
    if (id !== null) el.meetingId.value = id;
    if (p.get('name') !== null) el.name.value = p.get('name');
    // never ?passcode=: a passcode in the URL ends up in history, logs and Referer headers
  }

  async function onJoin(event) {
    event.preventDefault();
    if (session) return;  // a join is already under way
    clearError();
    setStatus('');
    const body = {
      meetingId: el.meetingId.value.trim(),
      passcode: el.passcode.value,
      name: el.name.value.trim(),
    };
    if (!body.meetingId) { fail('', 'Please enter the meeting ID'); el.meetingId.focus(); return; }
    if (!body.name) { fail('', 'Please enter your name'); el.name.focus(); return; }

    wb3.lastError = '';
    setState('joining');
    el.joinButton.disabled = true;
    el.joinButton.textContent = 'Joining\u2026';
    const s = session = newSession();

    let answer;
    try {
      answer = await postJoin(body);
    } catch (e) {
      if (session !== s) return;
      endSession(s);
      fail(e.code || '', e.message);
      setState('error');
      showJoinPage();
      return;
    }
    if (session !== s) return;
    wb3.participant = answer.participant;
    wb3.call = answer.call;
    wb3.conference = answer.conference;
    wb3.name = body.name;
    s.iceServers = Array.isArray(answer.iceServers) ? answer.iceServers : [];
    openSocket(s, answer);
  }

  class JoinError extends Error {
    constructor(code, message) { super(message); this.code = code; }
  }

  async function postJoin(body) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), JOIN_TIMEOUT_MS);
    let res, text;
    try {
      res = await fetch('/api/join', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: JSON.stringify(body),
        signal: ctrl.signal,
        cache: 'no-store',
        credentials: 'same-origin',
      });
      text = await res.text();
    } catch (e) {
      if (e && e.name === 'AbortError') throw new JoinError('timeout', 'The server did not answer');
      throw new JoinError('network', 'The server could not be reached');
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try { data = JSON.parse(text); } catch (e) { /* handled below */ }
    if (!res.ok) {
      if (data && typeof data.message === 'string')
        throw new JoinError(data.error || String(res.status), data.message);
      throw new JoinError(String(res.status), 'The server refused to join the meeting (HTTP ' +
                          res.status + ')');
    }
    if (!data || typeof data.jwt !== 'string' || typeof data.ws !== 'string')
      throw new JoinError('badAnswer', 'The server sent an answer the page does not understand');
    return data;
  }

  // ---------------------------------------------------------------- the session

  function newSession() {
    wb3.participant = wb3.call = wb3.conference = wb3.name = null;
    wb3.candidatesSent = 0;
    wb3.relayCandidatesSent = 0;
    wb3.endOfCandidatesSent = false;
    wb3.offerSent = false;
    wb3.answerReceived = false;
    wb3.remoteCandidates = 0;
    wb3.localMedia = null;
    wb3.media = null;
    wb3.audioMuted = wb3.videoMuted = false;
    wb3.roster = [];
    wb3.remoteParticipants = [];
    wb3.activeSpeaker = null;
    activeSpeakerName = '';
    wb3.mediaState = 'none';
    wb3.renegotiations = 0;
    wb3.simulcast = 0;
    wb3.stats = null;
    el.media.textContent = '';
    el.mediaNote.textContent = '';
    renderRoster([]);
    showActiveSpeaker();
    return {
      ws: null, pc: null, stream: null, iceServers: [], authenticated: false,
      closing: false,          // we are leaving (or were told the call ended): a close is expected
      authTimer: null, leaveTimer: null, onLeft: null,
      pendingCandidates: [],   // local candidates gathered before the offer went out
      remoteCandidates: [],    // remote candidates that came before the answer
      remoteDescriptionSet: false,
      offerInFlight: false,    // an offer went out and its answer is not applied yet
      offerWanted: false,      // another offer is due once the one in flight is answered
      sources: 0,              // the last "renegotiate" N: receive pairs we must have
      simulcast: false,        // "authenticated" said the server takes our video as layers
      tiles: new Map(),        // participant id -> { tile, video, label, stream }
      everInRoster: new Set(), // ids some roster named: a later roster without them = they left
      statsTimer: null,        // the statistics panel's next refresh
      statsPrev: new Map(),    // getStats() rtp id -> { bytes, timestamp } of the last refresh
    };
  }

  // Closes everything that belongs to s (idempotent)
  function endSession(s) {
    s.closing = true;
    clearTimeout(s.authTimer);
    clearTimeout(s.leaveTimer);
    if (s.ws) {
      try { s.ws.close(1000); } catch (e) { /* already closed */ }
    }
    if (s.pc) {
      try { s.pc.close(); } catch (e) { /* already closed */ }
    }
    if (s.stream) s.stream.getTracks().forEach((t) => t.stop());
    clearTimeout(s.statsTimer);
    s.statsTimer = null;
    for (const id of Array.from(s.tiles.keys())) removeTile(s, id);
    el.localVideo.srcObject = null;
    el.localVideo.hidden = true;
    if (session === s) {
      wb3.mediaState = 'none';
      session = null;
    }
  }

  function send(s, msg) {
    if (!s.ws || s.ws.readyState !== WebSocket.OPEN) return false;
    s.ws.send(JSON.stringify(msg));
    return true;
  }

  function openSocket(s, answer) {
    const scheme = location.protocol === 'http:' ? 'ws://' : 'wss://';
    const path = answer.ws.charAt(0) === '/' ? answer.ws : '/' + answer.ws;
    let ws;
    try {
      ws = s.ws = new WebSocket(scheme + location.host + path, SUBPROTOCOL);
    } catch (e) {
      lost(s, 'Could not connect to the meeting');
      return;
    }
    s.authTimer = setTimeout(() => {
      if (!s.authenticated) lost(s, 'The server did not answer', 'timeout');
    }, JOIN_TIMEOUT_MS);
    ws.onopen = () => send(s, { type: 'auth', jwt: answer.jwt });
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) {
        console.warn('wb3: a message that is not JSON', ev.data);
        return;
      }
      if (msg && typeof msg.type === 'string') onMessage(s, msg);
    };
    ws.onclose = (ev) => {
      if (s.onLeft) { s.onLeft(); return; }
      if (s.closing || session !== s) return;
      if (!s.authenticated) lost(s, 'Could not connect to the meeting', 'closed ' + ev.code);
      else lost(s, 'Connection to the meeting was lost', 'closed ' + ev.code);
    };
    ws.onerror = () => { /* onclose follows and says what it means */ };
  }

  // The session failed: back to the join page with an error
  function lost(s, message, code) {
    if (session !== s) return;
    endSession(s);
    fail(code || '', message);
    setState('error');
    showJoinPage();
  }

  function onMessage(s, msg) {
    if (session !== s) return;
    switch (msg.type) {
      case 'authenticated':
        if (s.authenticated) return;
        s.authenticated = true;
        clearTimeout(s.authTimer);
        if (msg.participant) wb3.participant = msg.participant;
        if (msg.conference) wb3.conference = msg.conference;
        if (msg.name) wb3.name = msg.name;
        s.simulcast = msg.simulcast === true;   // the server takes our video as layers
        setState('in-call');
        showCallView();
        startMedia(s);
        break;
      case 'roster':
        wb3.roster = Array.isArray(msg.participants) ? msg.participants : [];
        if ('activeSpeaker' in msg && (msg.activeSpeaker || null) !== wb3.activeSpeaker) {
          wb3.activeSpeaker = msg.activeSpeaker || null;
          activeSpeakerName = '';   // the roster names them
        }
        renderRoster(wb3.roster);
        rosterChanged(s);
        showActiveSpeaker();
        break;
      case 'activeSpeaker':
        wb3.activeSpeaker = msg.participant || null;
        activeSpeakerName = msg.name || '';
        showActiveSpeaker();
        break;
      case 'renegotiate':
        onRenegotiate(s, msg);
        break;
      case 'answer':
        onAnswer(s, msg);
        break;
      case 'candidate':
        onRemoteCandidate(s, msg);
        break;
      case 'media':
        wb3.media = msg.state || null;
        el.media.textContent = mediaText(msg);
        break;
      case 'left':
        if (s.onLeft) s.onLeft();
        break;
      case 'ended': {
        const reason = msg.reason || 'the call ended';
        endSession(s);
        setStatus('The meeting ended for you: ' + reason);
        setState('ended');
        showJoinPage();
        break;
      }
      case 'error':
        if (!s.authenticated) {
          // invalidToken/expiredToken: the server closes the socket next
          endSession(s);
          fail(msg.error || 'error', msg.message || 'The server refused the connection');
          setState('error');
          showJoinPage();
        } else {
          // a complaint about something we sent; the socket stays open
          wb3.lastError = (msg.error || 'error') + ': ' + (msg.message || '');
          console.warn('wb3: the server says', wb3.lastError);
          showError(msg.message || msg.error || 'The server reported an error');
        }
        break;
      default:
        console.debug('wb3: ignored a message of type', msg.type);
    }
  }

  function mediaText(msg) {
    const states = {
      unavailable: 'Audio and video are not available in this meeting yet',
      error: 'Audio and video failed',
      connecting: 'Connecting audio and video\u2026',
      connected: 'Audio and video connected',
    };
    const base = states[msg.state] || ('Media: ' + (msg.state || 'unknown'));
    return msg.message ? base + ' (' + msg.message + ')' : base;
  }

  // ---------------------------------------------------------------- roster

  function renderRoster(list) {
    el.roster.replaceChildren();
    for (const p of list) {
      if (!p || typeof p !== 'object') continue;
      const li = document.createElement('li');
      li.dataset.id = p.id || '';
      li.dataset.name = p.name || '';
      li.dataset.audioMuted = String(!!p.audioMuted);
      li.dataset.videoMuted = String(!!p.videoMuted);
      const self = p.id && p.id === wb3.participant;
      if (self) li.classList.add('self');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = (p.name || 'Guest') + (self ? ' (you)' : '');
      li.appendChild(name);
      const audio = document.createElement('span');
      audio.className = 'audio' + (p.audioMuted ? ' muted' : '');
      audio.textContent = p.audioMuted ? 'audio muted' : 'audio on';
      const video = document.createElement('span');
      video.className = 'video' + (p.videoMuted ? ' muted' : '');
      video.textContent = p.videoMuted ? 'video muted' : 'video on';
      li.append(' ', audio, ' ', video);
      el.roster.appendChild(li);
    }
    el.rosterCount.textContent = list.length ? '(' + list.length + ')' : '';
  }

  // The server's active speaker on the page: their roster entry and tile (or our own video)
  // get the class, the body their name. The name comes from the roster, else the message.
  function showActiveSpeaker() {
    const id = wb3.activeSpeaker;
    if ((id || '') !== (document.body.dataset.activeSpeakerId || ''))
      wb3.activeSpeakerAt = Date.now();
    const p = id ? wb3.roster.find((q) => q && q.id === id) : null;
    if (p && p.name) activeSpeakerName = p.name;
    document.body.dataset.activeSpeaker = id ? (activeSpeakerName || 'Guest') : '';
    document.body.dataset.activeSpeakerId = id || '';
    for (const li of el.roster.children)
      li.classList.toggle('active-speaker', !!id && li.dataset.id === id);
    for (const t of el.remoteGrid.children)
      t.classList.toggle('active-speaker', !!id && t.dataset.id === id);
    el.localVideo.classList.toggle('active-speaker', !!id && id === wb3.participant);
  }

  // ---------------------------------------------------------------- mute and leave

  function updateMuteButtons() {
    el.muteAudio.textContent = wb3.audioMuted ? 'Unmute audio' : 'Mute audio';
    el.muteAudio.setAttribute('aria-pressed', String(wb3.audioMuted));
    el.muteVideo.textContent = wb3.videoMuted ? 'Unmute video' : 'Mute video';
    el.muteVideo.setAttribute('aria-pressed', String(wb3.videoMuted));
  }

  function toggleMute(kind) {
    const s = session;
    if (!s || !s.authenticated) return;
    if (kind === 'audio') wb3.audioMuted = !wb3.audioMuted;
    else wb3.videoMuted = !wb3.videoMuted;
    if (s.stream) {
      s.stream.getAudioTracks().forEach((t) => { t.enabled = !wb3.audioMuted; });
      s.stream.getVideoTracks().forEach((t) => { t.enabled = !wb3.videoMuted; });
    }
    updateMuteButtons();
    send(s, { type: 'mute', audio: wb3.audioMuted, video: wb3.videoMuted });
  }

  function leave() {
    const s = session;
    if (!s || s.closing) return;
    s.closing = true;
    el.leave.disabled = true;
    const done = () => {
      if (s.onLeft === null) return;
      s.onLeft = null;
      endSession(s);
      el.leave.disabled = false;
      setStatus('You left the meeting');
      setState('left');
      showJoinPage();
    };
    s.onLeft = done;
    if (!send(s, { type: 'leave' })) { done(); return; }
    s.leaveTimer = setTimeout(done, LEAVE_TIMEOUT_MS);
  }

  // ---------------------------------------------------------------- media: the peer connection

  // Ends an async step quietly if its session is over (left, ended, replaced)
  function gone(s) {
    return session !== s || s.closing;
  }

  // Simulcast (when "authenticated" says the server takes it): our video as up to three
  // layers, highest first, each its own rid (RFC 8851/8853); the SFU forwards each receiver
  // one of them and orders them by their picture size, not by their names. As many as the
  // camera's height allows (Chromium's own limits): 540 rows and more 3 (full, half,
  // quarter), 360 and more 2 (full and quarter: the small one is for a receiver on a narrow
  // link, next to its other sources and their audio), fewer none.
  const SIMULCAST_H = { rid: 'h', maxBitrate: 1200000 };
  const SIMULCAST_M = { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 400000 };
  const SIMULCAST_L = { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 120000 };

  function simulcastEncodings(video) {
    const h = (video && video.getSettings && video.getSettings().height) || 0;
    const layers = h >= 540 ? [SIMULCAST_H, SIMULCAST_M, SIMULCAST_L]
      : h >= 360 ? [SIMULCAST_H, SIMULCAST_L] : [];
    return layers.map((e) => Object.assign({}, e));
  }

  // The first offer's m-lines: mid 0 audio, mid 1 video, both sendonly, with our tracks when
  // we have them (without a track the m-line still goes out and the server answers recvonly).
  // With simulcast the video goes as layers; wb3.simulcast is how many we asked for.
  function addSendTransceivers(pc, stream, simulcast) {
    const audio = stream ? stream.getAudioTracks()[0] : undefined;
    const video = stream ? stream.getVideoTracks()[0] : undefined;
    const init = { direction: 'sendonly', streams: video ? [stream] : [] };
    const layers = simulcast && video ? simulcastEncodings(video) : [];
    pc.addTransceiver(audio || 'audio', { direction: 'sendonly', streams: audio ? [stream] : [] });
    wb3.simulcast = 0;
    if (layers.length) {
      try {
        pc.addTransceiver(video, Object.assign({ sendEncodings: layers }, init));
        wb3.simulcast = layers.length;
        return;
      } catch (e) {
        // a browser without rid encodings: one stream, as without simulcast
        console.warn('wb3: no simulcast here:', e.message);
      }
    }
    pc.addTransceiver(video || 'video', init);
  }

  // Receive pairs are every transceiver after the first two, audio then video, so that their
  // mids are consecutive (2,3 then 4,5 ...). They are never stopped: one the server does not
  // use is answered 'inactive' and given to someone else later.
  function recvPairs(pc) {
    return Math.floor(Math.max(0, pc.getTransceivers().length - 2) / 2);
  }

  function ensureRecvPairs(pc, n) {
    for (let i = recvPairs(pc); i < n; i++) {
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
    }
  }

  function rtcConfig(iceServers) {
    const config = { iceServers: iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
    if (RELAY_ONLY) config.iceTransportPolicy = 'relay';
    return config;
  }

  async function startMedia(s) {
    let stream = null;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
        throw new Error('this browser cannot use a camera or microphone here');
      // with simulcast, a camera picture big enough for three layers when the camera has it
      const video = s.simulcast ? { width: { ideal: 1280 }, height: { ideal: 720 } } : true;
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: video });
    } catch (e) {
      const why = (e && (e.message || e.name)) || 'unknown reason';
      el.mediaNote.textContent = 'Your camera and microphone are not used (' + why +
        '): you can still see and hear the meeting.';
    }
    if (gone(s)) {
      if (stream) stream.getTracks().forEach((t) => t.stop());
      return;
    }
    s.stream = stream;
    wb3.localMedia = !!stream;
    if (stream) {
      el.localVideo.srcObject = stream;
      el.localVideo.hidden = false;
      stream.getAudioTracks().forEach((t) => { t.enabled = !wb3.audioMuted; });
      stream.getVideoTracks().forEach((t) => { t.enabled = !wb3.videoMuted; });
    }

    let pc;
    try {
      pc = s.pc = new RTCPeerConnection(rtcConfig(s.iceServers));
      addSendTransceivers(pc, stream, s.simulcast);
    } catch (e) {
      mediaFailed('The browser refused the media settings: ' + e.message);
      return;
    }
    pc.onicecandidate = (ev) => onLocalCandidate(s, ev.candidate);
    pc.ontrack = (ev) => onRemoteTrack(s, ev);
    pc.onconnectionstatechange = () => onConnectionState(s);
    wb3.mediaState = 'negotiating';
    await sendOffer(s, false);
  }

  // Sends an offer for pc as it is now; with recv, first adds the receive pairs the last
  // "renegotiate" asked for (the first offer has none). Only the page offers, and only one
  // offer is in flight at a time: no glare.
  async function sendOffer(s, recv) {
    const pc = s.pc;
    s.offerInFlight = true;
    try {
      if (recv) ensureRecvPairs(pc, s.sources);
      const offer = await pc.createOffer();
      if (gone(s)) return;
      await pc.setLocalDescription(offer);
      if (gone(s)) return;
      if (!send(s, { type: 'offer', sdp: pc.localDescription.sdp })) {
        s.offerInFlight = false;
        return;
      }
      wb3.renegotiations++;
      if (!wb3.offerSent) {
        wb3.offerSent = true;
        const queued = s.pendingCandidates;
        s.pendingCandidates = [];
        queued.forEach((m) => sendCandidate(s, m));
      }
    } catch (e) {
      s.offerInFlight = false;
      if (!gone(s)) mediaFailed('Could not prepare audio and video: ' + e.message);
    }
  }

  // {"type":"renegotiate","sources":N}: at least N receive pairs, then a new offer, even when
  // we had N already (the server may have mapped the pairs to other participants)
  function onRenegotiate(s, msg) {
    const n = Number(msg.sources);
    if (!Number.isInteger(n) || n < 0 || n > 1000) {
      console.warn('wb3: a renegotiate message with a bad "sources"', msg.sources);
      return;
    }
    s.sources = n;
    if (!s.pc || s.offerInFlight || !wb3.offerSent) {
      s.offerWanted = true;   // after the answer to the offer in flight (or to the first one)
      return;
    }
    sendOffer(s, true);
  }

  function onConnectionState(s) {
    if (session !== s || !s.pc) return;
    const st = s.pc.connectionState;
    if (st === 'connected') wb3.mediaState = 'connected';
    else if (st === 'failed') wb3.mediaState = 'failed';
    else if (st === 'closed') wb3.mediaState = 'none';
    else wb3.mediaState = 'negotiating';   // new, connecting, disconnected (which may recover)
    if (st === 'failed') el.media.textContent = 'Audio and video could not connect';
  }

  function mediaFailed(text) {
    wb3.lastError = 'media: ' + text;
    console.error('wb3:', text);
    el.mediaNote.textContent = text;
  }

  // ---------------------------------------------------------------- media: remote tiles

  function displayName(id) {
    const p = wb3.roster.find((q) => q && q.id === id);
    return (p && p.name) || 'Guest';
  }

  // The contract names the source participant as the track's stream (a=msid): its id is the
  // participant id, and that participant's audio and video share the stream
  function onRemoteTrack(s, ev) {
    if (gone(s)) return;
    const stream = ev.streams && ev.streams[0];
    if (!stream || !stream.id || stream.id === wb3.participant) return;
    const id = stream.id;
    // a track of someone a roster has already shown leaving: their tile must not come back
    if (s.everInRoster.has(id) && !wb3.roster.some((p) => p && p.id === id)) return;
    const t = s.tiles.get(id) || addTile(s, id);
    if (t.stream !== stream) {
      t.stream = stream;
      // the audio and video m-lines of one participant fire one event each: the stream's
      // later tracks reach the element by themselves; a participant moved to other m-lines
      // comes with another stream
      stream.addEventListener('removetrack', () => {
        if (stream.getTracks().length === 0 && t.stream === stream && s.tiles.get(id) === t)
          removeTile(s, id);
      });
      t.video.srcObject = stream;
      play(t);
    }
    ev.track.addEventListener('ended', () => {
      if (t.stream === stream && stream.getTracks().every((k) => k.readyState === 'ended') &&
          s.tiles.get(id) === t)
        removeTile(s, id);
    });
  }

  function addTile(s, id) {
    const tile = document.createElement('figure');
    tile.className = 'tile';
    tile.dataset.id = id;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = false;       // their audio plays through this element
    const label = document.createElement('figcaption');
    label.textContent = displayName(id);
    tile.append(video, label);
    el.remoteGrid.appendChild(tile);
    if (id === wb3.activeSpeaker) tile.classList.add('active-speaker');
    const t = { tile: tile, video: video, label: label, stream: null, viewSent: -1 };
    s.tiles.set(id, t);
    tilesChanged(s);
    // how high we show their video: the server sends a simulcast source's layer no higher
    if (typeof ResizeObserver === 'function') {
      t.resize = new ResizeObserver(() => sendView(s, id, t));
      t.resize.observe(video);
    }
    return t;
  }

  // {"type":"view","participant":id,"height":device pixels (0: not shown)}, when it changed
  // by a tenth or more (a window being dragged sends a few, not hundreds)
  function sendView(s, id, t) {
    if (gone(s) || s.tiles.get(id) !== t) return;
    const h = document.hidden ? 0
      : Math.round(t.video.clientHeight * (window.devicePixelRatio || 1));
    if (t.viewSent >= 0 && Math.abs(h - t.viewSent) * 10 < Math.max(t.viewSent, 1)) return;
    if (send(s, { type: 'view', participant: id, height: Math.min(h, 16383) })) {
      t.viewSent = h;
      wb3.views[id] = h;
    }
  }

  function removeTile(s, id) {
    const t = s.tiles.get(id);
    if (!t) return;
    s.tiles.delete(id);
    if (t.resize) t.resize.disconnect();
    delete wb3.views[id];
    t.video.srcObject = null;
    t.tile.remove();
    tilesChanged(s);
  }

  function tilesChanged(s) {
    if (session === s || session === null) wb3.remoteParticipants = Array.from(s.tiles.keys());
    el.remoteGrid.dataset.count = String(s.tiles.size);
  }

  // Autoplay with sound needs a user gesture; Join was one, but should the browser still
  // refuse, the picture plays muted and a click on the tile turns the sound on
  function play(t) {
    const p = t.video.play();
    if (!p || !p.catch) return;
    p.catch((e) => {
      if (!e || e.name !== 'NotAllowedError' || t.video.muted) return;
      t.video.muted = true;
      t.tile.classList.add('click-for-sound');
      t.tile.title = 'Click to hear ' + t.label.textContent;
      t.tile.addEventListener('click', () => {
        t.video.muted = false;
        t.tile.classList.remove('click-for-sound');
        t.tile.title = '';
        t.video.play().catch(() => { /* still refused: stays muted */ });
      }, { once: true });
      t.video.play().catch(() => { /* not even muted: nothing more to do */ });
    });
  }

  // A roster without someone an earlier roster had: they left, their tile goes. Someone whose
  // stream arrived before any roster named them keeps their tile until then.
  function rosterChanged(s) {
    const now = new Set();
    for (const p of wb3.roster) if (p && p.id) now.add(p.id);
    for (const id of now) s.everInRoster.add(id);
    for (const [id, t] of Array.from(s.tiles)) {
      if (!now.has(id) && s.everInRoster.has(id)) removeTile(s, id);
      else t.label.textContent = displayName(id);
    }
  }

  // ---------------------------------------------------------------- media: ICE and the answer

  function onLocalCandidate(s, c) {
    if (session !== s || s.closing) return;
    let msg;
    if (c && c.candidate) {
      msg = { type: 'candidate', candidate: c.candidate, sdpMid: c.sdpMid,
              sdpMLineIndex: c.sdpMLineIndex };
    } else if (!c) {
      // gathering is complete: the end-of-candidates message
      const first = s.pc.getTransceivers().find((t) => t.mid !== null);
      msg = { type: 'candidate', candidate: '', sdpMid: first ? first.mid : '0', sdpMLineIndex: 0 };
    } else {
      return;  // an empty candidate for one m-line; the null one follows
    }
    if (!wb3.offerSent) s.pendingCandidates.push(msg);
    else sendCandidate(s, msg);
  }

  function sendCandidate(s, msg) {
    if (!send(s, msg)) return;
    if (msg.candidate === '') {
      wb3.endOfCandidatesSent = true;
      return;
    }
    wb3.candidatesSent++;
    if (/ typ relay( |$)/.test(msg.candidate)) wb3.relayCandidatesSent++;
  }

  async function onAnswer(s, msg) {
    if (!s.pc || typeof msg.sdp !== 'string') return;
    try {
      await s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      wb3.answerReceived = true;
      s.remoteDescriptionSet = true;
    } catch (e) {
      if (!gone(s)) mediaFailed('The meeting\u2019s media answer was not accepted: ' + e.message);
    }
    if (gone(s)) return;
    const queued = s.remoteCandidates;
    s.remoteCandidates = [];
    for (const m of queued) await addRemoteCandidate(s, m);
    if (gone(s)) return;
    // answered (or refused): the next offer may go, if a "renegotiate" asked for one meanwhile
    s.offerInFlight = false;
    if (s.offerWanted) {
      s.offerWanted = false;
      sendOffer(s, true);
    }
  }

  function onRemoteCandidate(s, msg) {
    if (!s.pc || !s.remoteDescriptionSet) { s.remoteCandidates.push(msg); return; }
    addRemoteCandidate(s, msg);
  }

  async function addRemoteCandidate(s, msg) {
    try {
      await s.pc.addIceCandidate({
        candidate: msg.candidate || '',
        sdpMid: msg.sdpMid === undefined ? null : msg.sdpMid,
        sdpMLineIndex: msg.sdpMLineIndex === undefined ? null : msg.sdpMLineIndex,
      });
      wb3.remoteCandidates++;
    } catch (e) {
      console.warn('wb3: a remote candidate was not accepted', e.message);
    }
  }

  // ---------------------------------------------------------------- statistics

  // The panel shows the browser's own view of the call, from RTCPeerConnection.getStats():
  // each stream we send and receive (codec, bit rate over the last refresh, loss, jitter, and
  // for video the picture's size and frame rate) and whether the path to the meeting is
  // direct or relayed by a TURN server. It refreshes once a second while it is open.
  function toggleStats() {
    const show = el.stats.hidden;
    el.stats.hidden = !show;
    el.statsToggle.setAttribute('aria-pressed', String(show));
    const s = session;
    if (!s) return;
    clearTimeout(s.statsTimer);
    s.statsTimer = null;
    if (show) refreshStats(s);
  }

  function hideStats() {
    el.stats.hidden = true;
    el.statsToggle.setAttribute('aria-pressed', 'false');
    el.statsRows.replaceChildren();
    el.statsTransport.textContent = '';
  }

  async function refreshStats(s) {
    s.statsTimer = null;
    if (gone(s) || el.stats.hidden) return;
    if (s.pc) {
      try {
        showStats(s, await s.pc.getStats());
      } catch (e) {
        el.statsTransport.textContent = 'No statistics: ' + e.message;
      }
    } else {
      el.statsTransport.textContent = 'No audio or video yet';
    }
    if (!gone(s) && !el.stats.hidden && s.statsTimer === null)
      s.statsTimer = setTimeout(() => refreshStats(s), STATS_INTERVAL_MS);
  }

  // Whose a received track is: the tile showing it names the participant
  function trackOwner(s, trackId) {
    for (const [id, t] of s.tiles) {
      if (t.stream && t.stream.getTracks().some((k) => k.id === trackId)) return displayName(id);
    }
    return null;
  }

  function bitRateText(bps) {
    if (bps === null) return '\u2013';
    if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mbit/s';
    return Math.round(bps / 1000) + ' kbit/s';
  }

  // One stream's figures from its inbound-rtp or outbound-rtp (and, sent, the receivers'
  // reports about it: remote-inbound-rtp)
  function streamStats(s, report, r) {
    const inbound = r.type === 'inbound-rtp';
    const kind = r.kind || r.mediaType;
    const bytes = (inbound ? r.bytesReceived : r.bytesSent) || 0;
    const prev = s.statsPrev.get(r.id);
    let bitRate = null;
    if (prev && r.timestamp > prev.timestamp)
      bitRate = Math.round((bytes - prev.bytes) * 8000 / (r.timestamp - prev.timestamp));
    s.statsPrev.set(r.id, { bytes: bytes, timestamp: r.timestamp });
    const codec = r.codecId && report.get(r.codecId);
    const remote = !inbound && r.remoteId ? report.get(r.remoteId) : null;
    let lost = null, jitter = null;
    if (inbound) {
      const got = r.packetsReceived || 0, missed = Math.max(0, r.packetsLost || 0);
      if (got + missed > 0) lost = 100 * missed / (got + missed);
      if (r.jitter !== undefined) jitter = r.jitter * 1000;
    } else if (remote) {
      if (remote.fractionLost !== undefined) lost = 100 * remote.fractionLost;
      if (remote.jitter !== undefined) jitter = remote.jitter * 1000;
    }
    return {
      direction: inbound ? 'received' : 'sent',
      who: inbound ? (trackOwner(s, r.trackIdentifier) || 'someone') : 'you',
      kind: kind,
      codec: codec && codec.mimeType ? codec.mimeType : null,
      bitRate: bitRate,
      packetsLostPercent: lost === null ? null : Math.round(lost * 10) / 10,
      jitterMs: jitter === null ? null : Math.round(jitter * 10) / 10,
      width: r.frameWidth || null,
      height: r.frameHeight || null,
      framesPerSecond: r.framesPerSecond === undefined ? null : r.framesPerSecond,
      rid: !inbound && r.rid ? r.rid : null,   // a simulcast layer we send
    };
  }

  // The selected candidate pair: direct, or relayed (our local candidate is a TURN relay's)
  function transportStats(report) {
    let pair = null;
    report.forEach((r) => {
      if (r.type === 'transport' && r.selectedCandidatePairId)
        pair = report.get(r.selectedCandidatePairId) || pair;
    });
    if (!pair) {
      report.forEach((r) => {
        if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r;
      });
    }
    if (!pair) return { transport: null, relayProtocol: null, roundTripMs: null };
    const local = report.get(pair.localCandidateId) || {};
    const relayed = local.candidateType === 'relay';
    return {
      transport: relayed ? 'relayed' : 'direct',
      candidateType: local.candidateType || null,
      relayProtocol: relayed ? (local.relayProtocol || null) : null,
      roundTripMs: pair.currentRoundTripTime === undefined ? null :
        Math.round(pair.currentRoundTripTime * 1000),
    };
  }

  function showStats(s, report) {
    if (gone(s) || el.stats.hidden) return;
    const streams = [];
    report.forEach((r) => {
      if (r.type !== 'inbound-rtp' && r.type !== 'outbound-rtp') return;
      // an m-line that never carried anything (a receive pair not in use) says nothing
      if (r.type === 'inbound-rtp' && !r.packetsReceived) return;
      if (r.type === 'outbound-rtp' && !r.packetsSent) return;
      streams.push(streamStats(s, report, r));
    });
    streams.sort((a, b) => (a.direction === b.direction ? 0 : a.direction === 'sent' ? -1 : 1) ||
      a.who.localeCompare(b.who) || a.kind.localeCompare(b.kind) ||
      (b.height || 0) - (a.height || 0));
    const t = transportStats(report);
    wb3.stats = { transport: t.transport, relayProtocol: t.relayProtocol, streams: streams };

    let text = 'Connection: ';
    if (!t.transport) text += 'not established';
    else if (t.transport === 'relayed')
      text += 'relayed (TURN over ' + (t.relayProtocol || 'an unknown protocol') + ')';
    else text += 'direct (' + (t.candidateType || 'unknown') + ' candidate)';
    if (t.roundTripMs !== null) text += ', round trip ' + t.roundTripMs + ' ms';
    el.statsTransport.textContent = text;

    const rows = streams.map((x) => {
      const tr = document.createElement('tr');
      const video = x.kind === 'video' && x.width ?
        x.width + '\u00d7' + x.height + (x.framesPerSecond !== null ?
          ' @ ' + Math.round(x.framesPerSecond) + ' fps' : '') : '\u2013';
      const cells = [
        (x.direction === 'sent' ? '\u2191 sent ' : '\u2193 from ' + x.who + ' ') + x.kind +
          (x.rid ? ' (layer ' + x.rid + ')' : ''),
        x.codec || '\u2013',
        bitRateText(x.bitRate),
        x.packetsLostPercent === null ? '\u2013' : x.packetsLostPercent.toFixed(1) + ' %',
        x.jitterMs === null ? '\u2013' : x.jitterMs.toFixed(1) + ' ms',
        video,
      ];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      tr.dataset.kind = x.kind;
      tr.dataset.direction = x.direction;
      return tr;
    });
    el.statsRows.replaceChildren(...rows);
  }

  // ---------------------------------------------------------------- a hook for tests

  // wb3.offerSteps([2, 1, 3]): the m-lines ({mid, kind, direction}) of the offers this page
  // would send: the initial one, then one per "renegotiate" N listed, made on a peer
  // connection of its own (no socket, no server, no camera). Not enumerable, like wb3.pc.
  async function offerSteps(sources) {
    const steps = [0].concat(sources || []);
    const pc = new RTCPeerConnection(rtcConfig([]));
    const out = [];
    try {
      addSendTransceivers(pc, null);
      for (let i = 0; i < steps.length; i++) {
        if (i > 0) ensureRecvPairs(pc, steps[i]);
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);   // gives the new m-lines their mids
        out.push(pc.localDescription.sdp.split('\r\nm=').slice(1).map((m) => ({
          kind: m.split(' ')[0],
          mid: (m.match(/\r\na=mid:(\S+)/) || [])[1] || null,
          direction: (m.match(/\r\na=(sendrecv|sendonly|recvonly|inactive)\r\n/) || [])[1] || null,
        })));
      }
    } finally {
      pc.close();
    }
    return out;
  }
  Object.defineProperty(wb3, 'offerSteps', { value: offerSteps, enumerable: false });

  // ---------------------------------------------------------------- start

  el.form.addEventListener('submit', onJoin);
  el.muteAudio.addEventListener('click', () => toggleMute('audio'));
  el.muteVideo.addEventListener('click', () => toggleMute('video'));
  el.leave.addEventListener('click', leave);
  el.statsToggle.addEventListener('click', toggleStats);
  window.addEventListener('pagehide', () => {
    if (session) { send(session, { type: 'leave' }); endSession(session); }
  });
  prefill();
  setState('join');
})();

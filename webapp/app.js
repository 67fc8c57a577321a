// webbridge3's web app: the join page and the in-call view.
// The protocol (POST /api/join, the WebSocket /api/ws with subprotocol wb3-signalling) is in
// docs/webbridge3.md. Plain JavaScript, no build step, no external URLs.
//
// For tests: document.body.dataset.state is one of
//   "join" | "joining" | "in-call" | "left" | "ended" | "error"
// and window.wb3 holds what happened (participant, call, conference, candidatesSent,
// relayCandidatesSent, offerSent, lastError, ...).
'use strict';

(function () {
  const JOIN_TIMEOUT_MS = 15000;   // POST /api/join, and the WebSocket until "authenticated"
  const LEAVE_TIMEOUT_MS = 3000;   // "leave" until "left" or the socket closes
  const SUBPROTOCOL = 'wb3-signalling';

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $('join-form'), meetingId: $('meetingId'), passcode: $('passcode'), name: $('name'),
    joinButton: $('join-button'), join: $('join'), call: $('call'), title: $('title'),
    error: $('error'), status: $('status'), conference: $('conference'), media: $('media'),
    mediaNote: $('media-note'), roster: $('roster'), rosterCount: $('roster-count'),
    muteAudio: $('mute-audio'), muteVideo: $('mute-video'), leave: $('leave'),
    remoteVideo: $('remote-video'), localVideo: $('local-video'),
  };

  // What tests (and curious people in the console) can read
  const wb3 = window.wb3 = {
    state: 'join', participant: null, call: null, conference: null, name: null,
    candidatesSent: 0, relayCandidatesSent: 0, endOfCandidatesSent: false, offerSent: false,
    answerReceived: false, remoteCandidates: 0, localMedia: null, media: null,
    audioMuted: false, videoMuted: false, roster: [], lastError: '',
  };

  // One join attempt's resources; replaced on every join
  let session = null;

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
    el.media.textContent = '';
    el.mediaNote.textContent = '';
    renderRoster([]);
    return {
      ws: null, pc: null, stream: null, iceServers: [], authenticated: false,
      closing: false,          // we are leaving (or were told the call ended): a close is expected
      authTimer: null, leaveTimer: null, onLeft: null,
      pendingCandidates: [],   // local candidates gathered before the offer went out
      remoteCandidates: [],    // remote candidates that came before the answer
      remoteDescriptionSet: false,
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
    el.localVideo.srcObject = null;
    el.remoteVideo.srcObject = null;
    el.localVideo.hidden = el.remoteVideo.hidden = true;
    if (session === s) session = null;
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
        setState('in-call');
        showCallView();
        startMedia(s);
        break;
      case 'roster':
        wb3.roster = Array.isArray(msg.participants) ? msg.participants : [];
        renderRoster(wb3.roster);
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

  // ---------------------------------------------------------------- media (signalling)

  async function startMedia(s) {
    let stream = null;
    try {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
        throw new Error('this browser cannot use a camera or microphone here');
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch (e) {
      const why = (e && (e.message || e.name)) || 'unknown reason';
      el.mediaNote.textContent = 'Your camera and microphone are not used (' + why +
        '): you can still see and hear the meeting.';
    }
    if (session !== s || s.closing) {
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
      pc = s.pc = new RTCPeerConnection({ iceServers: s.iceServers });
    } catch (e) {
      mediaFailed('The browser refused the media settings: ' + e.message);
      return;
    }
    pc.onicecandidate = (ev) => onLocalCandidate(s, ev.candidate);
    pc.ontrack = (ev) => {
      if (ev.streams && ev.streams[0] && el.remoteVideo.srcObject !== ev.streams[0]) {
        el.remoteVideo.srcObject = ev.streams[0];
        el.remoteVideo.hidden = false;
      }
    };
    pc.onconnectionstatechange = () => {
      if (session === s && pc.connectionState === 'failed')
        el.media.textContent = 'Audio and video could not connect';
    };

    try {
      if (stream) {
        for (const t of stream.getTracks()) pc.addTrack(t, stream);
      } else {
        pc.addTransceiver('audio', { direction: 'recvonly' });
        pc.addTransceiver('video', { direction: 'recvonly' });
      }
      const offer = await pc.createOffer();
      if (session !== s || s.closing) return;
      await pc.setLocalDescription(offer);
      if (session !== s || s.closing) return;
      if (send(s, { type: 'offer', sdp: pc.localDescription.sdp })) {
        wb3.offerSent = true;
        const queued = s.pendingCandidates;
        s.pendingCandidates = [];
        queued.forEach((m) => sendCandidate(s, m));
      }
    } catch (e) {
      if (session === s && !s.closing) mediaFailed('Could not prepare audio and video: ' + e.message);
    }
  }

  function mediaFailed(text) {
    wb3.lastError = 'media: ' + text;
    console.error('wb3:', text);
    el.mediaNote.textContent = text;
  }

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
      const queued = s.remoteCandidates;
      s.remoteCandidates = [];
      for (const m of queued) await addRemoteCandidate(s, m);
    } catch (e) {
      mediaFailed('The meeting\u2019s media answer was not accepted: ' + e.message);
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

  // ---------------------------------------------------------------- start

  el.form.addEventListener('submit', onJoin);
  el.muteAudio.addEventListener('click', () => toggleMute('audio'));
  el.muteVideo.addEventListener('click', () => toggleMute('video'));
  el.leave.addEventListener('click', leave);
  window.addEventListener('pagehide', () => {
    if (session) { send(session, { type: 'leave' }); endSession(session); }
  });
  prefill();
  setState('join');
})();

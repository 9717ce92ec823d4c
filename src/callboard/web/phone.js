// The agent's softphone line (docs/voice.md, "The softphone in the page"): one RTCPeerConnection to the server
// with the microphone, opened once after login (non-trickle: the offer is posted after ICE gathering
// completed), reopened when it fails or the server forgot it, closed (DELETE) at logout. Before each opening
// the page reads GET .../phone/config: the STUN and TURN servers (with TURN credentials) its peer connection
// gathers candidates from, the same the server's side uses; never kept in a static file. The line's state is
// read from GET .../phone: at once after each action and reservation event, and every second meanwhile. The
// caller's audio plays through an <audio> element; a WebAudio analyser keeps what it hears in its
// data-level (RMS, 0..1) and data-peak-hz, so tests and support can see audio arrives.
import { useEffect, useState } from "preact/hooks";
import { api, wsPath } from "./api.js";

const POLL_MS = 1000;
const REOPEN_MS = 3000;
const GATHER_MS = 5000; // the longest wait for ICE gathering, as the server waits for its STUN and TURN servers
const METER_MS = 250;

let agentPhone = null; // the agent's softphone while the desktop shows (the screen pop's call buttons use it)

// The agent's open softphone, or null (a desk phone, or no line yet).
export function currentPhone() {
  return agentPhone && agentPhone.status === "open" ? agentPhone : null;
}

const lines = new Set(); // the open lines (the agent's softphone, the supervisor's monitor line), closed at logout

// A line to close before signing out (an object with `close()`); returns the function that forgets it.
export function keepLine(line) {
  lines.add(line);
  return () => lines.delete(line);
}

// Resolves once ICE gathering completed, or after `ms`: a STUN or TURN server that does not answer keeps
// gathering going for many seconds, and the candidates gathered by then (host ones at least, which are enough
// on a LAN, and those of the servers that answered) go in the offer.
export function gathered(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

// Starts a line: a peer connection sending `mic`, gathering from `iceServers` (RTCIceServer objects, as GET
// .../phone/config gives them; none: host candidates only), and its offer once ICE gathering completed
// (non-trickle: the caller posts it whole); `onTrack` gets the remote audio, `onFailed` the connection when it
// fails.
export async function negotiate(mic, { onTrack, onFailed, iceServers = [] }) {
  const pc = new RTCPeerConnection({ iceServers });
  for (const track of mic.getAudioTracks()) pc.addTransceiver(track, { direction: "sendrecv" });
  pc.ontrack = (event) => onTrack(new MediaStream([event.track]));
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "failed") onFailed(pc);
  };
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc, GATHER_MS);
  return { pc, offer: pc.localDescription.sdp };
}

// The remote audio of a line: an <audio> element (data-testid `testid`) and a WebAudio analyser that keeps
// what it hears in the element's data-level (RMS, 0..1) and data-peak-hz.
export class LineAudio {
  constructor(testid) {
    this.audio = document.createElement("audio");
    this.audio.autoplay = true;
    this.audio.dataset.testid = testid;
    this.audio.dataset.level = "0";
    document.body.append(this.audio);
    this.context = null;
    this.meter = null;
  }

  play(stream) {
    this.audio.srcObject = stream;
    this.audio.play().catch(() => {});
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!this.context) this.context = new Context();
      this.resume();
      const analyser = this.context.createAnalyser();
      analyser.fftSize = 2048;
      this.context.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const spectrum = new Float32Array(analyser.frequencyBinCount);
      clearInterval(this.meter);
      this.meter = setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        analyser.getFloatFrequencyData(spectrum);
        let peak = 0;
        for (let i = 1; i < spectrum.length; i++) if (spectrum[i] > spectrum[peak]) peak = i;
        this.audio.dataset.level = Math.sqrt(sum / samples.length).toFixed(4);
        this.audio.dataset.peakHz = String(Math.round((peak * this.context.sampleRate) / analyser.fftSize));
      }, METER_MS);
    } catch {
      // no WebAudio: the call still plays
    }
  }

  // Browsers start an AudioContext suspended until a click: each action resumes it.
  resume() {
    if (this.context && this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  close() {
    clearInterval(this.meter);
    if (this.context) this.context.close().catch(() => {});
    this.context = null;
    this.audio.remove();
  }
}

// What the page knows of an agent's line, whatever the device: the server's view of it (GET .../phone), the call
// on it (caller, since when), the digits sent, the consultation being called; and the call control actions.
class AgentLine {
  constructor(ws, workerSid) {
    this.path = wsPath(ws, `/workers/${workerSid}/phone`);
    this.status = "off"; // off | opening | open | failed
    this.line = null; // the server's view of the line
    this.error = null;
    this.since = null; // when the current call was answered (seconds since the epoch)
    this.reservationSid = null; // the reservation of the call ringing or answered here
    this.caller = null; // its caller and caller_name
    this.sent = ""; // the digits sent to the caller in this call
    this.consulting = null; // the target of a consultation being called (its POST waits until it answers)
    this.consultError = null; // why the last consultation step failed (an API error, with its id)
    this.listeners = new Set();
    this.stopped = true;
    this.timers = [];
  }

  // "sip" for a desk phone's line, "webrtc" for the softphone in the page.
  get device() {
    return (this.line && this.line.device) || "webrtc";
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this);
  }

  setLine(line) {
    const before = this.line ? this.line.state : null;
    if (line && line.ringing) {
      this.reservationSid = line.ringing.reservation_sid;
      this.caller = line.ringing;
    } else if (line && line.call && !(this.caller && this.caller.dialed)) {
      this.reservationSid = line.call.reservation_sid;
      this.caller = line.call;
    }
    const inCall = line && (line.state === "connecting" || line.state === "talking");
    if (inCall && before !== "connecting" && before !== "talking") this.since = Date.now() / 1000;
    if (!inCall && !(line && line.state === "ringing")) {
      this.since = null;
      if (line) {
        this.reservationSid = this.caller = null;
        this.sent = "";
        if (!this.consulting) this.consultError = null;
      }
    }
    this.line = line;
    this.changed();
  }

  resume() {}

  // A call control action (answer, reject, hangup, hold, resume, mute, unmute, dtmf, transfer).
  async act(action, body) {
    this.resume();
    if (action === "dtmf") {
      this.sent = (this.sent + body.digits).slice(-16);
      this.changed();
    }
    const answer = await api.post(`${this.path}/${action}`, body);
    if (answer && answer.state) this.setLine(answer);
    else this.refresh();
    return answer;
  }

  // Consultative transfer: `consult(target)` holds the caller and calls the target (the POST answers once it
  // picked up); `consultStep("complete" | "conference" | "cancel")` then. Errors are kept in consultError.
  async consult(target) {
    this.consulting = target;
    this.consultError = null;
    this.changed();
    try {
      return await this.act("consult", { target });
    } catch (exc) {
      this.consultError = exc;
      this.refresh();
      return null;
    } finally {
      this.consulting = null;
      this.changed();
    }
  }

  async consultStep(step) {
    this.consultError = null;
    try {
      return await this.act(step === "conference" ? "conference" : `consult/${step}`);
    } catch (exc) {
      this.consultError = exc;
      this.changed();
      this.refresh();
      return null;
    }
  }
}

// The line of an agent on a desk phone: nothing to open (the phone carries the audio); the page reads the call
// on the phone each second and steers it through the server (docs/phones.md, "Call control from the page").
export class DeskLine extends AgentLine {
  start() {
    this.stopped = false;
    this.status = "open";
    this.timers.push(setInterval(() => this.refresh(), POLL_MS));
    this.refresh();
  }

  async refresh() {
    if (this.stopped) return;
    try {
      this.setLine(await api.get(this.path));
      this.error = null;
    } catch (exc) {
      this.error = exc;
      this.changed();
    }
  }

  stop() {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
  }
}

export class Phone extends AgentLine {
  constructor(ws, workerSid) {
    super(ws, workerSid);
    this.pc = null;
    this.mic = null;
    this.sound = new LineAudio("phone-audio");
    this.audio = this.sound.audio;
  }

  resume() {
    this.sound.resume();
  }

  async start() {
    this.stopped = false;
    this.forget = keepLine(this);
    this.timers.push(setInterval(() => this.refresh(), POLL_MS));
    await this.open();
  }

  async open() {
    if (this.stopped) return;
    this.status = "opening";
    this.changed();
    this.drop();
    try {
      const config = await api.get(`${this.path}/config`);
      if (!this.mic) this.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      const { pc, offer } = await negotiate(this.mic, {
        onTrack: (stream) => this.sound.play(stream),
        onFailed: (failed) => failed === this.pc && this.reopenLater(),
        iceServers: config.ice_servers,
      });
      if (this.stopped) {
        pc.close();
        return;
      }
      this.pc = pc;
      const answer = await api.post(this.path, { type: "offer", sdp: offer });
      if (pc !== this.pc) return;
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      this.status = "open";
      this.error = null;
      this.setLine(answer.line);
    } catch (exc) {
      this.status = "failed";
      this.error = exc;
      this.changed();
      if (exc.status !== 401 && exc.status !== 403) this.reopenLater();
    }
  }

  reopenLater() {
    if (this.stopped || this.reopening) return;
    this.reopening = setTimeout(() => {
      this.reopening = null;
      this.open();
    }, REOPEN_MS);
  }

  async refresh() {
    if (this.stopped || this.status !== "open") return;
    try {
      const line = await api.get(this.path);
      if (line.state === "closed") this.reopenLater();
      else this.setLine(line);
    } catch (exc) {
      if (exc.id === "line_not_open") this.reopenLater(); // the server restarted or closed it
    }
  }

  // Click-to-call: a number (through the trunk) or a colleague's name. The line is `connecting`, then
  // `talking`; the call's task is the agent's at once (its offer never rings). Throws the API's error.
  async dial(number) {
    this.sound.resume();
    const answer = await api.post(`${this.path}/dial`, { number });
    this.caller = { caller: number, dialed: true };
    this.reservationSid = null;
    if (answer && answer.line && answer.line.state) this.setLine(answer.line);
    else this.refresh();
    return answer;
  }

  drop() {
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  // Logout: the server hangs up a call on the line and closes it.
  async close() {
    this.stop();
    try {
      await api.del(this.path);
    } catch {
      // closed already, or the session is gone: the server closes a line whose connection fails
    }
  }

  stop() {
    this.stopped = true;
    if (this.forget) this.forget();
    for (const timer of this.timers) clearInterval(timer);
    clearTimeout(this.reopening);
    this.drop();
    if (this.mic) for (const track of this.mic.getTracks()) track.stop();
    this.mic = null;
    this.sound.close();
  }
}

// Called by the shell before signing out: closes every open line.
export async function closeLine() {
  await Promise.all([...lines].map((line) => line.close()));
}

// The line of an agent on a desk phone while `workerSid` is known (null before), re-rendering on each change.
export function useDeskLine(ws, workerSid) {
  const [line, setLine] = useState(null);
  const [, setVersion] = useState(0);
  useEffect(() => {
    if (!ws || !workerSid) return undefined;
    const desk = new DeskLine(ws, workerSid);
    const off = desk.onChange(() => setVersion((v) => v + 1));
    setLine(desk);
    desk.start();
    return () => {
      off();
      desk.stop();
      setLine(null);
    };
  }, [ws, workerSid]);
  return line;
}

// The agent's line while the desktop shows (null for an agent on a desk phone), re-rendering on each change.
export function usePhone(ws, workerSid, enabled) {
  const [phone, setPhone] = useState(null);
  const [, setVersion] = useState(0);
  useEffect(() => {
    if (!enabled) return undefined;
    const line = new Phone(ws, workerSid);
    const off = line.onChange(() => setVersion((v) => v + 1));
    setPhone(line);
    agentPhone = line;
    line.start();
    return () => {
      if (agentPhone === line) agentPhone = null;
      off();
      line.stop();
      setPhone(null);
    };
  }, [ws, workerSid, enabled]);
  return phone;
}

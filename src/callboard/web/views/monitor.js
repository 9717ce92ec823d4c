// Listen, whisper and barge from the wallboard (docs/voice.md, "Supervisors on live calls"). The supervisor's
// own line (keyed by the user: POST .../monitor/line with the same non-trickle offer as the agent's softphone,
// phone.js) opens on first use with the microphone and stays open, joining one call at a time: POST
// .../calls/{sid}/monitor joins, PATCH switches the mode, DELETE leaves; the line closes when the wallboard
// goes away and at sign-out. What the line hears plays through an <audio> element (data-testid
// monitor-audio) with phone.js's analyser (data-level, data-peak-hz).
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { duration, typing } from "../format.js";
import { keepLine, LineAudio, negotiate } from "../phone.js";

const POLL_MS = 2000;
export const MODES = ["listen", "whisper", "barge"];

export class MonitorLine {
  constructor(ws) {
    this.ws = ws;
    this.path = wsPath(ws, "/monitor/line");
    this.status = "off"; // off | opening | open | failed
    this.callSid = null; // the call monitored now
    this.mode = null;
    this.busy = false;
    this.error = null;
    this.listeners = new Set();
    this.pc = null;
    this.mic = null;
    this.sound = null;
    this.opening = null;
    this.stopped = false;
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this);
  }

  // Opens the line once (concurrent callers wait for the same opening).
  open() {
    if (this.status === "open") return Promise.resolve();
    if (!this.opening) this.opening = this.connect().finally(() => (this.opening = null));
    return this.opening;
  }

  async connect() {
    this.status = "opening";
    this.changed();
    this.drop();
    try {
      if (!this.mic) this.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      if (!this.sound) this.sound = new LineAudio("monitor-audio");
      const config = await api.get(`${this.path}/config`); // the STUN and TURN servers, as an agent's line has
      const { pc, offer } = await negotiate(this.mic, {
        onTrack: (stream) => this.sound && this.sound.play(stream),
        onFailed: (failed) => failed === this.pc && this.lost(),
        iceServers: config.ice_servers,
      });
      if (this.stopped) {
        pc.close();
        return;
      }
      this.pc = pc;
      const answer = await api.post(this.path, { type: "offer", sdp: offer });
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      this.status = "open";
      this.error = null;
      if (!this.forget) this.forget = keepLine(this);
      if (!this.timer) this.timer = setInterval(() => this.refresh(), POLL_MS);
      this.changed();
    } catch (exc) {
      this.status = "failed";
      this.error = exc;
      this.changed();
      throw exc;
    }
  }

  // The connection failed or the server forgot the line: the next action opens a new one.
  lost() {
    this.status = "failed";
    this.callSid = this.mode = null;
    this.drop();
    this.changed();
  }

  // Joins `callSid` in `mode`, or switches the mode on the call monitored now (leaving another call first).
  async monitor(callSid, mode) {
    if (this.sound) this.sound.resume();
    this.busy = true;
    this.changed();
    try {
      await this.open();
      this.sound.resume();
      const calls = wsPath(this.ws, `/calls/${callSid}/monitor`);
      if (this.callSid === callSid) {
        await api.patch(calls, { mode });
      } else {
        if (this.callSid) await this.leave();
        await api.post(calls, { mode });
      }
      this.callSid = callSid;
      this.mode = mode;
      this.error = null;
    } catch (exc) {
      this.error = exc;
      if (exc.id === "line_not_open") this.lost();
      throw exc;
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  async leave() {
    const sid = this.callSid;
    if (!sid) return;
    this.callSid = this.mode = null;
    this.changed();
    try {
      await api.del(wsPath(this.ws, `/calls/${sid}/monitor`));
    } catch (exc) {
      if (exc.id !== "not_monitoring" && exc.id !== "line_not_open") throw exc;
    }
  }

  // The server's view: the monitoring ends with the call.
  async refresh() {
    if (this.stopped || this.status !== "open" || this.busy) return;
    try {
      const line = await api.get(this.path);
      if (this.busy) return;
      const watch = line.monitoring;
      if (line.state === "closed") this.lost();
      else if ((watch ? watch.call_sid : null) !== this.callSid || (watch ? watch.mode : null) !== this.mode) {
        this.callSid = watch ? watch.call_sid : null;
        this.mode = watch ? watch.mode : null;
        this.changed();
      }
    } catch (exc) {
      if (exc.id === "line_not_open") this.lost();
    }
  }

  drop() {
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  // The wallboard went away or the supervisor signs out: the server leaves the call and closes the line.
  async close() {
    const open = this.status !== "off";
    this.stop();
    if (!open) return;
    try {
      await api.del(this.path);
    } catch {
      // closed already, or the session is gone: the server closes a line whose connection fails
    }
  }

  stop() {
    this.stopped = true;
    if (this.forget) this.forget();
    clearInterval(this.timer);
    this.drop();
    if (this.mic) for (const track of this.mic.getTracks()) track.stop();
    this.mic = null;
    if (this.sound) this.sound.close();
    this.sound = null;
  }
}

// The supervisor's line while the wallboard of `ws` shows, re-rendering on each change.
export function useMonitorLine(ws) {
  const [line, setLine] = useState(null);
  const [, setVersion] = useState(0);
  useEffect(() => {
    if (!ws) return undefined;
    const monitor = new MonitorLine(ws);
    const off = monitor.onChange(() => setVersion((v) => v + 1));
    setLine(monitor);
    return () => {
      off();
      monitor.close();
      setLine(null);
    };
  }, [ws]);
  return line;
}

// The calls agents are on now: the tasks assigned (with their call) and the reservations accepted (whose agent).
export function liveCalls(tasks, reservations, workers) {
  const accepted = Object.fromEntries(reservations.map((r) => [r.task_sid, r]));
  const names = Object.fromEntries(workers.map((w) => [w.sid, w.friendly_name]));
  return tasks
    .filter((task) => task.attributes && task.attributes.call_sid && accepted[task.sid])
    .map((task) => {
      const reservation = accepted[task.sid];
      return {
        callSid: task.attributes.call_sid,
        taskSid: task.sid,
        workerSid: reservation.worker_sid,
        agent: names[reservation.worker_sid] || reservation.worker_sid,
        caller: task.attributes.caller || task.attributes.from || "",
        queue: task.task_queue_friendly_name || "",
        since: reservation.date_updated,
      };
    })
    .sort((a, b) => a.agent.localeCompare(b.agent));
}

// Alt+L listen, Alt+I whisper, Alt+G barge on the call monitored now (else the first call), Alt+Q leave.
const KEYS = { l: "listen", i: "whisper", g: "barge", q: "leave" };

export function LiveCalls({ line, calls, now, onError }) {
  const act = async (call, mode) => {
    try {
      if (mode === "leave") await line.leave();
      else await line.monitor(call.callSid, mode);
      onError(null);
    } catch (exc) {
      onError(exc);
    }
  };

  useEffect(() => {
    if (!line) return undefined;
    const onKey = (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey || typing(event)) return;
      const what = KEYS[event.key.toLowerCase()];
      if (!what) return;
      const call = calls.find((c) => c.callSid === line.callSid) || calls[0];
      if (!call && what !== "leave") return;
      event.preventDefault();
      act(call, what);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [line, calls]);

  if (!line) return null;
  const status = line.status;
  if (!calls.length && !line.callSid) {
    return html`<section class="card monitor monitor-empty" data-testid="live-calls" data-line=${status} data-mode="">
      <h2>${t("mon.title")}</h2>
      <span class="muted" data-testid="no-calls">${t("mon.noCalls")}</span>
    </section>`;
  }
  const monitored = line.callSid && !calls.some((c) => c.callSid === line.callSid) ? line.callSid : null;
  return html`<section class="card monitor" data-testid="live-calls" data-line=${status} data-mode=${line.mode || ""}>
    <div class="admin-head">
      <h2>${t("mon.title")}</h2>
      <span class="muted small" data-testid="monitor-status">
        ${line.mode
          ? html`<span class=${`badge badge-mon-${line.mode}`} data-testid="monitor-mode">${t(`mon.mode.${line.mode}`)}</span>`
          : t(`mon.line.${status}`)}
      </span>
    </div>
    ${calls.length
      ? html`<table class="table" data-testid="calls">
          <thead>
            <tr>
              <th>${t("wall.agent")}</th>
              <th>${t("mon.caller")}</th>
              <th>${t("wall.queue")}</th>
              <th class="num">${t("mon.duration")}</th>
              <th>${t("mon.actions")}</th>
            </tr>
          </thead>
          <tbody>
            ${calls.map((call) => {
              const on = line.callSid === call.callSid;
              return html`<tr data-testid="call-row" data-agent=${call.agent} data-call=${call.callSid}
                class=${on ? "monitored" : ""} data-mode=${on ? line.mode : ""}>
                <td>${call.agent}</td>
                <td>${call.caller}</td>
                <td>${call.queue}</td>
                <td class="num">${duration(Math.max(0, now - call.since))}</td>
                <td class="monitor-actions">
                  ${MODES.map(
                    (mode) => html`<button
                      class=${`btn btn-small ${on && line.mode === mode ? "btn-primary" : ""}`}
                      data-testid=${`monitor-${mode}`}
                      aria-pressed=${on && line.mode === mode ? "true" : "false"}
                      disabled=${line.busy}
                      title=${t(`mon.keys.${mode}`)}
                      onClick=${() => act(call, mode)}
                    >${t(`mon.${mode}`)}</button>`,
                  )}
                  ${on
                    ? html`<button class="btn btn-small btn-ghost" data-testid="monitor-leave" disabled=${line.busy}
                        title=${t("mon.keys.leave")} onClick=${() => act(call, "leave")}>${t("mon.leave")}</button>`
                    : null}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>`
      : html`<div class="empty" data-testid="no-calls">${t("mon.noCalls")}</div>`}
    ${monitored
      ? html`<p class="small">
          ${t("mon.stillOn")}
          <button class="btn btn-small btn-ghost" data-testid="monitor-leave" onClick=${() => act(null, "leave")}>${t("mon.leave")}</button>
        </p>`
      : null}
    <p class="muted small">${t("mon.hint")}</p>
  </section>`;
}

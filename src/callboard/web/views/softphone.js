// The softphone panel of the agent desktop: the line's state, the caller and the call timer, answer / reject
// while it rings, and in a call hang up, hold, mute, the keypad and a blind transfer; a consultation (the
// caller held while the agent talks to the target: complete the transfer, conference, cancel); when idle, a
// number field to call out (click-to-call). An agent on a desk phone gets the same panel for the call on the
// phone, with the buttons the server can do for it (no answer, reject, mute or dialing: those stay on the
// phone). The line itself is phone.js; the shortcuts are in views/agent.js.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../i18n.js";
import { duration, errorText } from "../format.js";
import { TransferDialog } from "./softphone-transfer.js";
import { startRingback } from "../ring.js";

export const KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

const BADGE = { idle: "ready", ringing: "offered", connecting: "busy", talking: "busy", closed: "away" };

// What the panel says the line is: the server's state once open, else opening / failed.
export function lineState(phone) {
  if (!phone) return "off";
  if (phone.status !== "open" || !phone.line) return phone.status;
  return phone.line.state;
}

// An API error as the softphone shows it: the text, and the error's id for support.
export function PhoneError({ error, testid }) {
  if (!error) return null;
  return html`<p class="phone-error" data-testid=${testid} data-error-id=${error.id || ""}>
    ${errorText(error)} ${error.id ? html`<code class="muted small">${error.id}</code>` : null}
  </p>`;
}

// The consultation in progress: whom, its state (calling, talking, conference) and its three ways out.
function Consultation({ phone }) {
  const consult = (phone.line && phone.line.consult) || null;
  const calling = phone.consulting;
  const [busy, setBusy] = useState(false);
  // A consultation the agent canceled while it rang ends its call request with consult_canceled: no error.
  const error = phone.consultError && phone.consultError.id !== "consult_canceled" ? phone.consultError : null;
  if (!consult && !calling && !error) return null;
  const state = consult ? consult.state : calling ? "dialing" : "failed";
  const target = consult ? consult.target : calling;
  const step = async (name) => {
    setBusy(true);
    await phone.consultStep(name);
    setBusy(false);
  };
  const live = consult && (consult.state === "talking" || consult.state === "conference");
  const ringing = !live && (state === "dialing");
  return html`<div class="consult" data-testid="consult" data-state=${state} role="status">
    ${target
      ? html`<div class="consult-head">
          <strong data-testid="consult-target">${t(consult && consult.state === "conference" ? "phone.conferenceWith" : "phone.consulting", { target })}</strong>
          <span class="chip" data-testid="consult-state">${t(`phone.consultState.${state}`)}</span>
        </div>`
      : null}
    <${PhoneError} error=${error} testid="consult-error" />
    ${ringing
      ? html`<div class="phone-actions consult-actions">
          <button class="btn btn-danger" data-testid="consult-cancel" disabled=${busy} onClick=${() => step("cancel")}
            title="Alt+Q">
            ${t("phone.consultCancel")} <kbd>Alt+Q</kbd>
          </button>
        </div>`
      : null}
    ${live
      ? html`<div class="phone-actions consult-actions">
          <button class="btn btn-primary" data-testid="consult-complete" disabled=${busy} onClick=${() => step("complete")}
            title="Alt+O">
            ${t("phone.consultComplete")} <kbd>Alt+O</kbd>
          </button>
          <button class="btn" data-testid="consult-conference" disabled=${busy || consult.state === "conference"}
            onClick=${() => step("conference")} title="Alt+J">
            ${t("phone.conference")} <kbd>Alt+J</kbd>
          </button>
          <button class="btn btn-danger" data-testid="consult-cancel" disabled=${busy} onClick=${() => step("cancel")}
            title="Alt+Q">
            ${t("phone.consultCancel")} <kbd>Alt+Q</kbd>
          </button>
        </div>`
      : null}
  </div>`;
}

// Click-to-call while the line is idle: a number (through the trunk) or a colleague's name.
function Dialer({ phone }) {
  const [number, setNumber] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const field = useRef(null);
  const call = async (event) => {
    event.preventDefault();
    const to = number.trim();
    if (!to || busy) return;
    setBusy(true);
    setError(null);
    try {
      await phone.dial(to);
      setNumber("");
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };
  const press = (digit) => {
    setNumber((n) => n + digit);
    if (field.current) field.current.focus();
  };
  return html`<form class="dialer" data-testid="dialer" onSubmit=${call}>
    <div class="dialer-row">
      <input ref=${field} name="number" data-testid="dial-number" value=${number} autocomplete="off" inputmode="tel"
        placeholder=${t("phone.dialPlaceholder")} aria-label=${t("phone.dialPlaceholder")}
        onInput=${(e) => setNumber(e.currentTarget.value)} />
      <button class="btn btn-ready" type="submit" data-testid="dial-go" disabled=${busy || !number.trim()} title="Alt+L">
        ${t("phone.call")} <kbd>Alt+L</kbd>
      </button>
    </div>
    <div class="keypad keypad-dial" role="group" aria-label=${t("phone.dialPad")}>
      ${KEYPAD.map((d) => html`<button type="button" class="btn key" data-digit=${d} onClick=${() => press(d)}>${d}</button>`)}
    </div>
    <${PhoneError} error=${error} testid="dial-error" />
  </form>`;
}

// The panel of an agent on a desk phone before its line is first read: the desktop (views/agent.js) then shows
// `Softphone` with the desk phone's line (phone.js `useDeskLine`), steered by the same buttons and shortcuts.
export function DeskIdle() {
  return html`<section class="card softphone" data-testid="softphone" data-mode="sip">
    <h2>${t("phone.title")}</h2>
    <p class="muted">${t("phone.desk")}</p>
  </section>`;
}

export function Softphone({ ws, me, phone, now, keypad, onKeypad, transferring, onTransfer, onAction, error }) {
  const state = lineState(phone);
  const line = phone.line || {};
  const desk = line.device === "sip";
  const inCall = state === "talking" || state === "connecting";
  const talking = state === "talking";
  const caller = phone.caller;
  const consulting = !!(phone.consulting || line.consult);
  const press = (digit) => onAction("dtmf", { digits: digit });
  const badge = BADGE[state] || "away";
  // A call the agent placed rings at the other end: ringback in the page, as a phone makes it (a desk phone
  // makes its own).
  const ringingOut = state === "connecting" && !desk && !!(caller && caller.dialed);
  useEffect(() => (ringingOut ? startRingback() : undefined), [ringingOut]);
  return html`<section class=${`card softphone softphone-${state}`} data-testid="softphone"
    data-mode=${desk ? "sip" : "webrtc"} data-state=${state}>
    <div class="softphone-head">
      <h2>${t("phone.title")}</h2>
      <span class=${`badge badge-${badge}`} data-testid="line-state" data-state=${state}>${t(`phone.state.${state}`)}</span>
    </div>
    ${desk ? html`<p class="muted small phone-desk-note" data-testid="desk-note">${t("phone.onDesk")}</p>` : null}
    <${PhoneError} error=${error} testid="phone-action-error" />
    ${state === "failed" && phone.error
      ? html`<p class="phone-error" data-testid="phone-error">${t("phone.failed")} ${errorText(phone.error)}</p>`
      : null}
    ${caller && (inCall || state === "ringing")
      ? html`<div class="phone-caller" data-testid="phone-caller">
          ${caller.dialed ? html`<span class="chip" data-testid="phone-outgoing">${t("phone.outgoing")}</span>` : null}
          <strong>${caller.caller_name || caller.caller || t("phone.unknown")}</strong>
          ${caller.caller_name && caller.caller ? html`<span class="muted">${caller.caller}</span>` : null}
        </div>`
      : null}
    ${inCall
      ? html`<div class="phone-status">
          <span class="phone-timer" data-testid="call-timer">${duration(now - phone.since)}</span>
          ${line.held ? html`<span class="chip" data-testid="held">${t("phone.held")}</span>` : null}
          ${line.muted ? html`<span class="chip" data-testid="muted">${t("phone.muted")}</span>` : null}
        </div>`
      : null}
    ${state === "ringing" && desk
      ? html`<p class="muted" data-testid="desk-ringing">${t("phone.deskRinging")}</p>`
      : null}
    ${state === "ringing" && !desk
      ? html`<div class="phone-actions">
          <button class="btn btn-ready" data-testid="phone-answer" onClick=${() => onAction("answer")} title="Alt+A">
            ${t("phone.answer")} <kbd>Alt+A</kbd>
          </button>
          <button class="btn btn-danger" data-testid="phone-reject" onClick=${() => onAction("reject")} title="Alt+X">
            ${t("phone.reject")}
          </button>
        </div>`
      : null}
    ${inCall
      ? html`<div class="phone-actions">
          <button class="btn btn-danger" data-testid="phone-hangup" onClick=${() => onAction("hangup")} title="Alt+W">
            ${t("phone.hangup")} <kbd>Alt+W</kbd>
          </button>
          <button class="btn" data-testid="phone-hold" disabled=${!talking || consulting} aria-pressed=${!!line.held}
            onClick=${() => onAction(line.held ? "resume" : "hold")} title="Alt+H">
            ${line.held ? t("phone.resume") : t("phone.hold")} <kbd>Alt+H</kbd>
          </button>
          ${desk
            ? null
            : html`<button class="btn" data-testid="phone-mute" disabled=${!talking} aria-pressed=${!!line.muted}
                onClick=${() => onAction(line.muted ? "unmute" : "mute")} title="Alt+M">
                ${line.muted ? t("phone.unmute") : t("phone.mute")} <kbd>Alt+M</kbd>
              </button>`}
          <button class="btn" data-testid="phone-keypad" disabled=${!talking} aria-pressed=${keypad}
            onClick=${() => onKeypad(!keypad)} title="Alt+K">
            ${t("phone.keypad")} <kbd>Alt+K</kbd>
          </button>
          <button class="btn" data-testid="phone-transfer" disabled=${!talking || consulting}
            onClick=${() => onTransfer(true)}
            title="Alt+B">
            ${t("phone.transfer")} <kbd>Alt+B</kbd>
          </button>
        </div>`
      : null}
    ${inCall && keypad
      ? html`<div class="keypad" data-testid="keypad" role="group" aria-label=${t("phone.keypad")}>
          ${KEYPAD.map(
            (d) => html`<button class="btn key" data-digit=${d} disabled=${!talking} onClick=${() => press(d)}>${d}</button>`,
          )}
          <div class="keypad-sent muted small" data-testid="dtmf-sent">${phone.sent || t("phone.keypadHint")}</div>
        </div>`
      : null}
    ${inCall ? html`<${Consultation} phone=${phone} />` : null}
    ${state === "idle" ? html`<p class="muted small">${t(desk ? "phone.desk" : "phone.idleHint")}</p>` : null}
    ${state === "idle" && !desk ? html`<${Dialer} phone=${phone} />` : null}
    ${transferring && inCall
      ? html`<${TransferDialog} ws=${ws} me=${me} onClose=${() => onTransfer(false)}
          onTransfer=${(target) => onAction("transfer", { target })}
          onConsult=${(target) => phone.consult(target)} />`
      : null}
  </section>`;
}

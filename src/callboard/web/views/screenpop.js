// The screen pop of an offer: who the customer is (number, name, VIP, personal manager, language, from the
// task's attributes and the CRM contact), what they did in the IVR (the flow's path and the digits pressed),
// the queue and how long they waited, and their earlier calls with the dispositions and notes agents left.
// Read with the agent's own rights: the contact, the call and the history of a task it holds.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { language, t } from "../i18n.js";
import { duration, errorText } from "../format.js";
import { currentPhone } from "../phone.js";

// Attributes the pop shows in its own places; the rest are listed as they are.
const SHOWN = new Set([
  "caller", "called", "call_sid", "flow", "contact", "customer", "caller_name", "name", "language", "vip",
  "known_worker", "manager", "number", "disposition", "notes", "transferred_from",
]);
const DIGIT = /^[0-9*#]+$/;

export function customerNumber(attributes) {
  // The agent's own call out (click-to-call) has the number it called.
  const dialed = attributes.manual_dial ? attributes.called : null;
  return attributes.caller || attributes.callback_number || attributes.from || dialed || null;
}

// A call button next to a number: click-to-call on the agent's softphone, when its line is idle.
export function CallButton({ number }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const phone = currentPhone();
  if (!phone || !number) return null;
  const idle = phone.line && phone.line.state === "idle";
  const call = async () => {
    setBusy(true);
    setError(null);
    try {
      await phone.dial(number);
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };
  return html`<button class="btn pop-call" data-testid="pop-call" data-number=${number} disabled=${busy || !idle}
      title=${t("phone.callNumber", { number })} onClick=${call}>${t("phone.call")}</button
    >${error
      ? html`<span class="phone-error small" data-testid="pop-call-error" data-error-id=${error.id || ""}
          >${errorText(error)} ${error.id ? html`<code>${error.id}</code>` : null}</span>`
      : null}`;
}

export function dispositionLabel(dispositions, code) {
  const found = dispositions.find((d) => d.code === code);
  if (!found) return code;
  return (found.labels && found.labels[language()]) || found.label || code;
}

function languageName(code) {
  try {
    const name = new Intl.DisplayNames([language()], { type: "language" }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

const when = (seconds) =>
  new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(seconds * 1000));

// The customer's CRM contact (null: unknown), their earlier calls, and the IVR run of this call.
function useCustomer(ws, task) {
  const [found, setFound] = useState({ contact: null, calls: null, flow: null });
  useEffect(() => {
    if (!task) return undefined;
    let live = true;
    const attributes = task.attributes || {};
    const number = customerNumber(attributes);
    const contact = number
      ? all(`${wsPath(ws, "/contacts")}?number=${encodeURIComponent(number)}`).then((items) => items[0] || null, () => null)
      : Promise.resolve(null);
    const history = api.get(wsPath(ws, `/tasks/${task.sid}/history`)).then((h) => h.calls, () => []);
    // A flow may put its run in the task's attributes; otherwise the call record has it.
    const flow =
      attributes.flow && typeof attributes.flow === "object"
        ? Promise.resolve(attributes.flow)
        : attributes.call_sid
          ? api.get(wsPath(ws, `/calls/${attributes.call_sid}`)).then((c) => (c.attributes || {}).flow || null, () => null)
          : Promise.resolve(null);
    Promise.all([contact, history, flow]).then(([c, calls, f]) => live && setFound({ contact: c, calls, flow: f }));
    return () => {
      live = false;
    };
  }, [ws, task && task.sid]);
  return found;
}

function Fact({ id, label, children }) {
  return html`<div class="pop-fact" data-testid=${id}><dt>${label}</dt><dd>${children}</dd></div>`;
}

function Path({ flow }) {
  const steps = (flow && flow.path) || [];
  if (!steps.length) return html`<span class="muted">${t("pop.noPath")}</span>`;
  return html`<ol class="path">
    ${steps.map(
      (s) => html`<li><span>${s.node}</span>${s.exit ? html`<span class=${DIGIT.test(s.exit) ? "path-digit" : "path-exit"}>${s.exit}</span>` : null}</li>`,
    )}
  </ol>`;
}

function History({ calls, dispositions }) {
  if (calls === null) return html`<div class="muted small">${t("common.loading")}</div>`;
  if (!calls.length) return html`<div class="muted small" data-testid="pop-history-empty">${t("pop.noHistory")}</div>`;
  return html`<ul class="history" data-testid="pop-history">
    ${calls.map(
      (c) => html`<li data-testid="history-item" data-sid=${c.sid}>
        <div class="history-head">
          <span>${when(c.started_at)}</span>
          <span class="chip">${c.outcome ? t(`outcome.${c.outcome}`) : t("outcome.live")}</span>
          ${c.talk_seconds ? html`<span class="muted small">${t("pop.talked", { time: duration(c.talk_seconds) })}</span>` : null}
          ${c.disposition ? html`<span class="badge badge-busy">${dispositionLabel(dispositions, c.disposition)}</span>` : null}
        </div>
        ${c.notes ? html`<div class="history-notes">${c.notes}</div>` : null}
      </li>`,
    )}
  </ul>`;
}

export function ScreenPop({ ws, reservation: r, task, now, dispositions }) {
  const { contact, calls, flow } = useCustomer(ws, task);
  if (!task) return html`<div class="muted small">${t("common.loading")}</div>`;
  const a = task.attributes || {};
  const number = customerNumber(a);
  const name =
    (contact && contact.name) || a.caller_name || a.customer || a.name || (typeof a.contact === "string" && a.contact) || null;
  const vip = (contact && contact.vip) || a.vip === true || a.vip === "true";
  const manager = (contact && contact.manager) || a.known_worker || a.manager || null;
  const lang = a.language || (contact && contact.language) || null;
  const answered = r.date_accepted || task.date_assigned;
  const waited = (r.reservation_status === "pending" || !answered ? now : answered) - task.date_created;
  const digits = ((flow && flow.path) || []).map((s) => s.exit).filter((e) => e && DIGIT.test(e));
  const others = Object.entries(a).filter(([k, v]) => !SHOWN.has(k) && v !== null && typeof v !== "object");
  return html`<section class="pop" data-testid="screen-pop">
    <div class="pop-who">
      <div class="pop-avatar" aria-hidden="true">${(name || "#").slice(0, 1).toUpperCase()}</div>
      <div>
        <div class="pop-name" data-testid="pop-name">${name || t("pop.unknown")}</div>
        <div class="pop-number-row">
          <span class="pop-number" data-testid="pop-number">${number || t("pop.withheld")}</span>
          ${a.manual_dial ? null : html`<${CallButton} number=${number} />`}
        </div>
      </div>
      ${vip ? html`<span class="badge badge-vip" data-testid="pop-vip">${t("pop.vip")}</span>` : null}
      ${contact ? html`<span class="badge" data-testid="pop-known">${t("pop.known")}</span>` : null}
    </div>
    <dl class="pop-facts">
      <${Fact} id="pop-queue" label=${t("pop.queue")}>${r.task_queue_friendly_name || "—"}<//>
      <${Fact} id="pop-wait" label=${t("pop.waited")}>${duration(waited)}<//>
      <${Fact} id="pop-language" label=${t("pop.language")}>${lang ? languageName(lang) : "—"}<//>
      <${Fact} id="pop-manager" label=${t("pop.manager")}>${manager || "—"}<//>
      <${Fact} id="pop-digits" label=${t("pop.digits")}>${digits.length ? digits.join(" ") : "—"}<//>
    </dl>
    <div class="pop-row" data-testid="pop-path">
      <span class="muted small">${t("pop.path")}${flow && flow.name ? ` · ${flow.name}` : ""}</span>
      <${Path} flow=${flow} />
    </div>
    ${others.length
      ? html`<dl class="attrs" data-testid="pop-attributes">
          ${others.map(([k, v]) => html`<div><dt>${k}</dt><dd>${String(v)}</dd></div>`)}
        </dl>`
      : null}
    <div class="pop-row">
      <span class="muted small">${t("pop.history")}</span>
      <${History} calls=${calls} dispositions=${dispositions} />
    </div>
  </section>`;
}

// Wrap-up of a task: the agent picks a disposition and writes notes (both saved with the task at once, so
// they stay if the time runs out), sees the time left and can ask for more, and says it is done. What
// happens next is the queue's: its post-work activity, or the agent's current state kept.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { duration, typing } from "../format.js";
import { dispositionLabel } from "./screenpop.js";

export const EXTEND_SECONDS = 30;

export function WrapUp({ ws, reservation: r, task, dispositions, worker, now, primary, onUpdate, onDone, fail }) {
  const attributes = (task && task.attributes) || {};
  const [code, setCode] = useState(attributes.disposition || "");
  const [notes, setNotes] = useState(attributes.notes || "");
  const [saved, setSaved] = useState(null); // the last {code, notes} the server has
  const [busy, setBusy] = useState(false);
  const path = (action) => wsPath(ws, `/reservations/${r.sid}/${action}`);

  const save = async (body) => {
    try {
      await api.post(path("disposition"), body);
      setSaved((s) => ({ ...s, ...body }));
    } catch (exc) {
      fail(exc);
    }
  };
  const pick = (value) => {
    setCode(value);
    if (value) save({ disposition: value });
  };
  const extend = async () => {
    try {
      onUpdate(await api.post(path("extend-wrapup"), { seconds: EXTEND_SECONDS }));
    } catch (exc) {
      fail(exc);
    }
  };
  const done = async () => {
    setBusy(true);
    try {
      const body = { notes };
      if (code) body.disposition = code;
      await api.post(path("complete"), body);
      onDone();
    } catch (exc) {
      fail(exc);
    } finally {
      setBusy(false);
    }
  };

  // Alt+T more time, Alt+C done: for the first task in wrap-up.
  const keys = useRef(null);
  keys.current = (event) => {
    if (!primary || !event.altKey || event.ctrlKey || event.metaKey) return;
    const action = { KeyT: extend, KeyC: done }[event.code];
    if (!action || (typing(event) && event.target.tagName !== "TEXTAREA")) return;
    event.preventDefault();
    action();
  };
  useEffect(() => {
    const onKey = (event) => keys.current(event);
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  const left = r.wrapup_deadline ? r.wrapup_deadline - now : null;
  const next = r.post_work_activity_name || (worker && worker.activity_name);
  return html`<section class="wrapup" data-testid="wrapup">
    <div class="wrapup-head">
      <h3>${t("wrap.title")}</h3>
      ${left === null
        ? html`<span class="muted small" data-testid="wrapup-countdown">${t("wrap.noLimit")}</span>`
        : html`<span class=${`wrapup-clock${left < 10 ? " wrapup-late" : ""}`} data-testid="wrapup-countdown"
            >${duration(left)}</span
          >`}
      ${left === null
        ? null
        : html`<button class="btn" data-testid="wrapup-extend" onClick=${extend} title="Alt+T">
            ${t("wrap.extend", { seconds: EXTEND_SECONDS })} <kbd>Alt+T</kbd>
          </button>`}
    </div>
    <div class="wrapup-body">
      ${dispositions.length
        ? html`<label class="field">
            <span>${t("wrap.disposition")}</span>
            <select data-testid="disposition" value=${code} onChange=${(e) => pick(e.target.value)}>
              <option value="">${t("wrap.pick")}</option>
              ${dispositions.map((d) => html`<option value=${d.code}>${dispositionLabel(dispositions, d.code)}</option>`)}
            </select>
          </label>`
        : null}
      <label class="field">
        <span>${t("wrap.notes")}</span>
        <textarea
          data-testid="notes"
          rows="3"
          maxlength="4000"
          value=${notes}
          onInput=${(e) => setNotes(e.target.value)}
          onBlur=${() => (saved && saved.notes === notes) || (!saved && !notes) || save({ notes })}
        ></textarea>
      </label>
    </div>
    <div class="wrapup-foot">
      <span class="muted small" data-testid="after-wrapup">
        ${left === null ? t("wrap.afterManual", { state: next || "—" }) : t("wrap.after", { state: next || "—" })}
      </span>
      <button class="btn btn-ready" data-testid="wrapup-done" disabled=${busy} onClick=${done} title="Alt+C">
        ${t("wrap.done")} <kbd>Alt+C</kbd>
      </button>
    </div>
  </section>`;
}

// The blind transfer dialog of the softphone: a queue, an agent or a number. It lists the workspace's directory
// (queue names, the other agents and whether they take calls now; any name or number can be typed too), and
// transfers at once: the caller leaves the agent, who goes to wrap-up. Consult instead holds the caller and calls
// the target first (the softphone then shows the consultation: complete the transfer, conference or cancel).
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox } from "./error.js";

async function targets(ws) {
  // The directory every member may read: queue names, and the other agents with whether they take calls now.
  const found = await api.get(wsPath(ws, "/directory")).catch(() => ({ queues: [], agents: [] }));
  return { queues: found.queues.map((q) => q.name), agents: found.agents };
}

export function TransferDialog({ ws, me, onTransfer, onConsult, onClose }) {
  const [list, setList] = useState({ queues: [], agents: [] });
  const [target, setTarget] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const field = useRef(null);
  useEffect(() => {
    targets(ws).then(setList);
    if (field.current) field.current.focus();
  }, [ws, me]);

  const send = async (name) => {
    const to = (name || "").trim();
    if (!to || busy) return;
    setBusy(true);
    try {
      await onTransfer(to);
      onClose();
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };

  // The consultation runs in the softphone (its call may ring for a while): the dialog closes at once.
  const consult = (name) => {
    const to = (name || "").trim();
    if (!to || busy || !onConsult) return;
    onConsult(to);
    onClose();
  };

  const pick = (name, extra, testid) => html`<li class="transfer-item">
    <button class="btn btn-block" data-testid=${testid} data-target=${name} disabled=${busy} onClick=${() => send(name)}>
      <span>${name}</span>${extra}
    </button>
    ${onConsult
      ? html`<button class="btn" data-testid="consult-pick" data-target=${name} disabled=${busy} title=${t("phone.consultHint")}
          onClick=${() => consult(name)}>${t("phone.consult")}</button>`
      : null}
  </li>`;

  return html`<div class="overlay" onClick=${(e) => e.target === e.currentTarget && onClose()}
    onKeyDown=${(e) => e.key === "Escape" && onClose()}>
    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="transfer-title" data-testid="transfer-dialog">
      <div class="dialog-head">
        <h2 id="transfer-title">${t("phone.transferTitle")}</h2>
        <button class="icon-btn" aria-label=${t("common.close")} onClick=${onClose}>×</button>
      </div>
      <${ErrorBox} error=${error} />
      <form class="transfer-form" onSubmit=${(e) => { e.preventDefault(); send(target); }}>
        <input ref=${field} name="target" data-testid="transfer-target" value=${target} autocomplete="off"
          placeholder=${t("phone.transferPlaceholder")} aria-label=${t("phone.transferPlaceholder")}
          onInput=${(e) => setTarget(e.currentTarget.value)} />
        <button class="btn btn-primary" type="submit" data-testid="transfer-go" disabled=${busy || !target.trim()}>
          ${t("phone.transferGo")}
        </button>
        ${onConsult
          ? html`<button class="btn" type="button" data-testid="consult-go" disabled=${busy || !target.trim()}
              title=${t("phone.consultHint")} onClick=${() => consult(target)}>${t("phone.consult")}</button>`
          : null}
      </form>
      ${list.queues.length
        ? html`<h3 class="transfer-group">${t("phone.queues")}</h3>
            <ul class="transfer-list">${list.queues.map((q) => pick(q, null, "transfer-queue"))}</ul>`
        : null}
      ${list.agents.length
        ? html`<h3 class="transfer-group">${t("phone.agents")}</h3>
            <ul class="transfer-list">
              ${list.agents.map((a) =>
                pick(a.name, html`<span class=${`badge badge-${a.available ? "ready" : "away"}`}
                  >${a.available ? t("phone.available") : t("phone.away")}</span>`, "transfer-agent"),
              )}
            </ul>`
        : null}
    </div>
  </div>`;
}

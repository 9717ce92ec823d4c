// Offers that went away unanswered, and why: the time to answer ran out (the engine then puts the agent in
// the workspace's missed activity, shown in the state bar), the customer hung up, or the offer was
// withdrawn (another agent took it). Read from the stream's reservation.timeout / .canceled / .rescinded.
import { html } from "../html.js";
import { t } from "../i18n.js";
import { clock } from "../i18n.js";

export const MISSED = { "reservation.timeout": "timeout", "reservation.canceled": "canceled", "reservation.rescinded": "rescinded" };

export function Missed({ items, worker, onDismiss }) {
  if (!items.length) return null;
  return html`<section class="card missed" data-testid="missed-list" aria-live="polite">
    ${items.map(
      (m) => html`<div class=${`missed-item missed-${m.kind}`} data-testid="missed" data-kind=${m.kind}>
        <div class="missed-body">
          <strong>${t(`missed.${m.kind}`)}</strong>
          <div class="muted small">
            ${clock(new Date(m.at * 1000))}${m.caller ? ` · ${m.caller}` : ""}${m.reason ? ` · ${m.reason}` : ""}
          </div>
          ${m.kind === "timeout" && worker && !worker.available
            ? html`<div class="small" data-testid="missed-state">${t("missed.state", { state: worker.activity_name })}</div>`
            : null}
        </div>
        <button class="icon-btn" aria-label=${t("common.close")} onClick=${() => onDismiss(m.key)}>×</button>
      </div>`,
    )}
  </section>`;
}

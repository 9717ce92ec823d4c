// An API error as the user sees it: our words, and the server's error id for support.
import { html } from "../html.js";
import { t } from "../i18n.js";
import { errorText } from "../format.js";

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="alert alert-error" role="alert" data-testid="error" data-error-id=${error.id}>
    <div class="alert-body">
      <strong>${errorText(error)}</strong>
      ${error.status ? html`<div class="muted small">${t("error.code", { id: error.id })} · HTTP ${error.status}</div>` : null}
    </div>
    ${onRetry ? html`<button class="btn" onClick=${onRetry}>${t("common.retry")}</button>` : null}
  </div>`;
}

// The center file: download the export, and bring a changed copy back — checked (problems at their
// lines), planned (what would change, as `callboard apply --dry-run` prints it) and applied after a
// confirmation.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { sendYaml } from "../raw.js";
import { t } from "../i18n.js";
import { FormError, Notice, PageHead, useConfirm } from "./admin_kit.js";
import { ErrorBox } from "./error.js";

const MARK = { create: "+", update: "~", delete: "-" };

function Plan({ plan }) {
  if (!plan.changes.length) return html`<div class="empty" data-testid="plan">${t("adm.center.noChanges")}</div>`;
  const blocked = new Set(plan.blocked.map((b) => b.change));
  return html`<ul class="plan" data-testid="plan">
    ${plan.changes.map(
      (c) => html`<li class=${`plan-${c.action}`} data-testid="plan-change" data-action=${c.action}>
        <code class="plan-line">${c.line || `${MARK[c.action]} ${c.kind} ${c.workspace ? `${c.workspace}/` : ""}${c.name}`}</code>
        ${blocked.has(c.line) ? html`<span class="badge badge-bad">${t("adm.center.blocked")}</span>` : null}
      </li>`,
    )}
  </ul>`;
}

export function CenterPage() {
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState("");
  const [check, setCheck] = useState(null);
  const [plan, setPlan] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [ask, dialog] = useConfirm();

  const reset = (next) => {
    setText(next);
    setCheck(null);
    setPlan(null);
    setError(null);
    setNotice(null);
  };
  const load = async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    setFileName(file.name);
    reset(await file.text());
  };
  const review = async () => {
    setBusy(true);
    setNotice(null);
    setError(null);
    setPlan(null);
    try {
      const checked = await sendYaml("POST", "/center/check", text);
      setCheck(checked);
      if (checked.valid) setPlan(await sendYaml("POST", "/center/plan", text));
    } catch (exc) {
      setError(exc);
    }
    setBusy(false);
  };
  const apply = () =>
    ask(
      t("adm.center.confirmApply", { count: plan.changes.length }),
      async () => {
        const answer = await sendYaml("PUT", "/center", text);
        setPlan(null);
        setCheck(null);
        setNotice(t("adm.center.applied", { count: answer.changes.length }));
      },
      t("adm.center.apply"),
    );

  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.center")} intro=${t("adm.center.intro")}>
      <a class="btn" href="/api/v1/center" download="center.yaml" data-testid="export">⇩ ${t("adm.center.export")}</a>
    </${PageHead}>
    <div class="alert alert-warn small">${t("adm.center.secret")}</div>
    <section class="card form">
      <h2>${t("adm.center.import")}</h2>
      <div class="row-inline">
        <input type="file" accept=".yaml,.yml,text/yaml,application/yaml" data-testid="center-file" onChange=${load} aria-label=${t("adm.center.file")} />
        ${fileName ? html`<span class="muted small">${fileName}</span>` : null}
      </div>
      <textarea class="json-text" rows="12" spellcheck="false" data-testid="center-text" value=${text} placeholder=${t("adm.center.paste")}
        onInput=${(e) => reset(e.target.value)} aria-label=${t("adm.center.import")}></textarea>
      <div class="form-actions">
        <button class="btn btn-primary" disabled=${!text.trim() || busy} data-testid="review" onClick=${review}>${t("adm.center.review")}</button>
      </div>
      <${ErrorBox} error=${error && error.id !== "config_invalid" ? error : null} />
      ${error && error.id === "config_invalid" ? html`<${FormError} error=${error} />` : null}
      ${check && !check.valid
        ? html`<ul class="problems" data-testid="center-problems">
            ${check.problems.map((p) => html`<li><code>${p.line}:${p.col}</code> ${p.message}</li>`)}
          </ul>`
        : null}
      <${Notice} text=${notice} />
    </section>
    ${plan
      ? html`<section class="card">
          <div class="admin-head">
            <h2>${t("adm.center.plan", { count: plan.changes.length })}</h2>
            <button class="btn btn-primary" data-testid="apply" disabled=${!plan.changes.length || plan.blocked.length > 0} onClick=${apply}>
              ${t("adm.center.apply")}
            </button>
          </div>
          ${plan.blocked.length
            ? html`<div class="alert alert-error">${plan.blocked.map((b) => html`<div>${b.change}: ${b.reason}</div>`)}</div>`
            : null}
          <${Plan} plan=${plan} />
        </section>`
      : null}
    ${dialog}
  </div>`;
}

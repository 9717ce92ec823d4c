// Numbers: the flow a call to each starts in, its site, language and hours, what callers hear when closed.
// A form per number (PUT /numbers/{number}) with the API's problems at their fields.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { Field, FormError, Loading, PageHead, RowActions, Table, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

const FIELDS = ["site", "flow", "language", "schedule", "closed_prompt", "holiday_prompt", "region"];
const LANGS = ["", "en", "es", "ru"];

function NumberForm({ ws, item, flows, schedules, onSaved, onCancel }) {
  const [value, setValue] = useState(() => ({ number: item ? item.number : "", ...Object.fromEntries(FIELDS.map((f) => [f, (item && item[f]) || ""])) }));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const problems = problemsOf(error);
  const set = (key) => (e) => setValue({ ...value, [key]: e.target.value });
  const save = async (event) => {
    event.preventDefault();
    setBusy(true);
    const body = {};
    for (const f of FIELDS) if (value[f]) body[f] = value[f];
    try {
      if (item && item.number !== value.number) {
        // a new number: add it first, then remove the old one
        await api.put(wsPath(ws, `/numbers/${encodeURIComponent(value.number)}`), body);
        await api.del(wsPath(ws, `/numbers/${encodeURIComponent(item.number)}`));
      } else {
        await api.put(wsPath(ws, `/numbers/${encodeURIComponent(value.number)}`), body);
      }
      onSaved();
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };
  const input = (key, extra = {}) => html`<input name=${key} value=${value[key]} onInput=${set(key)} ...${extra} />`;
  const select = (key, options) => html`<select name=${key} value=${value[key]} onChange=${set(key)}>
    <option value="">—</option>
    ${options.map((o) => html`<option value=${o}>${o}</option>`)}
  </select>`;
  const numberProblem = error && ["number_invalid", "number_taken", "name_mismatch"].includes(error.id) ? error.message : null;
  return html`<form class="card form" data-testid="number-form" onSubmit=${save}>
    <h2>${item ? t("adm.numbers.edit", { number: item.number }) : t("adm.numbers.add")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.numbers.number")} problem=${numberProblem} hint=${t("adm.numbers.numberHint")}>
        ${input("number", { required: true, placeholder: "+34 910 000 100" })}
      </${Field}>
      <${Field} label=${t("adm.numbers.flow")} problem=${problemAt(problems, "flow")}>${select("flow", flows)}</${Field}>
      <${Field} label=${t("adm.numbers.schedule")} problem=${problemAt(problems, "schedule")}>${select("schedule", schedules)}</${Field}>
      <${Field} label=${t("adm.numbers.site")} problem=${problemAt(problems, "site")}>${input("site")}</${Field}>
      <${Field} label=${t("adm.language")} problem=${problemAt(problems, "language")}>
        <select name="language" value=${value.language} onChange=${set("language")}>
          ${LANGS.map((l) => html`<option value=${l}>${l ? t(`adm.lang.${l}`) : "—"}</option>`)}
        </select>
      </${Field}>
      <${Field} label=${t("adm.numbers.region")} problem=${problemAt(problems, "region")} hint=${t("adm.numbers.regionHint")}>
        ${input("region", { placeholder: "ES", maxlength: 2 })}
      </${Field}>
      <${Field} label=${t("adm.numbers.closedPrompt")} problem=${problemAt(problems, "closed_prompt")}>${input("closed_prompt", { placeholder: "closed" })}</${Field}>
      <${Field} label=${t("adm.numbers.holidayPrompt")} problem=${problemAt(problems, "holiday_prompt")}>${input("holiday_prompt", { placeholder: "holiday" })}</${Field}>
    </div>
    <${FormError} error=${numberProblem ? null : error} shown=${FIELDS} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
      <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="save">${t("adm.save")}</button>
    </div>
  </form>`;
}

export function NumbersPage({ ws }) {
  const load = useLoad(async () => {
    const [numbers, flows, schedules, closures] = await Promise.all([
      all(wsPath(ws, "/numbers")),
      all(wsPath(ws, "/flows")),
      all(wsPath(ws, "/schedules")),
      all(wsPath(ws, "/emergency")),
    ]);
    return { numbers, flows: flows.map((f) => f.name), schedules: schedules.map((s) => s.name), closures };
  }, [ws]);
  const [editing, setEditing] = useState(null); // null, "new" or the number
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const { numbers, flows, schedules, closures } = load.data;
  const closed = (n) => closures.some((c) => (c.scope === "number" && c.target === n.number) || (c.scope === "site" && c.target === n.site));
  const saved = () => {
    setEditing(null);
    load.reload();
  };
  const remove = (n) =>
    ask(t("adm.numbers.confirmDelete", { number: n.number }), async () => {
      await api.del(wsPath(ws, `/numbers/${encodeURIComponent(n.number)}`));
      load.reload();
    });
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.numbers")} intro=${t("adm.numbers.intro")}>
      <button class="btn btn-primary" data-testid="add" onClick=${() => setEditing("new")}>${t("adm.numbers.add")}</button>
    </${PageHead}>
    ${editing
      ? html`<${NumberForm}
          ws=${ws}
          item=${editing === "new" ? null : editing}
          flows=${flows}
          schedules=${schedules}
          onSaved=${saved}
          onCancel=${() => setEditing(null)}
        />`
      : null}
    <section class="card">
      <${Table}
        testid="numbers"
        rows=${numbers}
        rowKey=${(n) => n.number}
        empty=${t("adm.numbers.none")}
        columns=${[
          { label: t("adm.numbers.number"), cell: (n) => html`<strong class="mono">${n.number}</strong>` },
          { label: t("adm.numbers.flow"), cell: (n) => n.flow || "—" },
          { label: t("adm.numbers.schedule"), cell: (n) => n.schedule || "—" },
          { label: t("adm.numbers.site"), cell: (n) => n.site || "—" },
          { label: t("adm.language"), cell: (n) => n.language || "—" },
          {
            label: t("adm.state"),
            cell: (n) => html`<span class=${`badge badge-${closed(n) ? "away" : "ready"}`}>${t(closed(n) ? "adm.numbers.closedNow" : "adm.numbers.inService")}</span>`,
          },
          { label: "", cell: (n) => html`<${RowActions} onEdit=${() => setEditing(n)} onDelete=${() => remove(n)} />` },
        ]}
      />
    </section>
    ${dialog}
  </div>`;
}

// Codes agents pick: activities (the not-available ones are the reason codes of "Not ready") and the
// disposition codes of wrap-up, with their labels per language.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { Field, FormError, Loading, Notice, PageHead, RowActions, Table, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

export function ActivitiesPage({ ws }) {
  const load = useLoad(() => all(wsPath(ws, "/activities")), [ws]);
  const [name, setName] = useState("");
  const [available, setAvailable] = useState(false);
  const [renaming, setRenaming] = useState(null);
  const [error, setError] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const problems = problemsOf(error);
  const add = async (event) => {
    event.preventDefault();
    try {
      await api.post(wsPath(ws, "/activities"), { friendly_name: name, available });
      setName("");
      setError(null);
      load.reload();
    } catch (exc) {
      setError(exc);
    }
  };
  const rename = async (a, friendly) => {
    try {
      await api.patch(wsPath(ws, `/activities/${a.sid}`), { friendly_name: friendly });
      setRenaming(null);
      setError(null);
      load.reload();
    } catch (exc) {
      setError(exc);
    }
  };
  const remove = (a) =>
    ask(t("adm.confirmDelete", { name: a.friendly_name }), async () => {
      await api.del(wsPath(ws, `/activities/${a.sid}`));
      load.reload();
    });
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.activities")} intro=${t("adm.activities.intro")} />
    <form class="card form row-form" data-testid="activity-form" onSubmit=${add}>
      <${Field} label=${t("adm.name")} problem=${problemAt(problems, "friendly_name")}>
        <input name="friendly_name" required value=${name} placeholder="Coaching" onInput=${(e) => setName(e.target.value)} />
      </${Field}>
      <label class="check"><input type="checkbox" name="available" checked=${available} onChange=${(e) => setAvailable(e.target.checked)} /> ${t("adm.activities.available")}</label>
      <button class="btn btn-primary" type="submit" data-testid="add">${t("adm.add")}</button>
    </form>
    <${FormError} error=${error} shown=${["friendly_name"]} />
    <section class="card">
      <${Table}
        testid="activities"
        rows=${load.data}
        rowKey=${(a) => a.friendly_name}
        columns=${[
          {
            label: t("adm.name"),
            cell: (a) =>
              renaming === a.sid
                ? html`<form class="row-inline" onSubmit=${(e) => { e.preventDefault(); rename(a, e.target.elements.friendly.value); }}>
                    <input name="friendly" value=${a.friendly_name} />
                    <button class="btn btn-small btn-primary" type="submit">${t("adm.save")}</button>
                  </form>`
                : html`<strong>${a.friendly_name}</strong>`,
          },
          {
            label: t("adm.activities.kind"),
            cell: (a) => html`<span class=${`badge badge-${a.available ? "ready" : "away"}`}>${t(a.available ? "adm.activities.takesWork" : "adm.activities.reason")}</span>`,
          },
          { label: "", cell: (a) => html`<${RowActions} onEdit=${() => setRenaming(a.sid)} onDelete=${() => remove(a)} />` },
        ]}
      />
    </section>
    ${dialog}
  </div>`;
}

const LABEL_LANGS = ["es", "ru"];

export function DispositionsPage({ ws }) {
  const load = useLoad(async () => (await api.get(wsPath(ws, "/dispositions"))).items, [ws]);
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const list = rows ?? load.data.map((d) => ({ code: d.code, label: d.label || "", labels: { ...(d.labels || {}) } }));
  const problems = problemsOf(error);
  const setRow = (i, patch) => setRows(list.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const save = async () => {
    const body = list.map((r) => {
      const labels = Object.fromEntries(Object.entries(r.labels).filter(([, v]) => v));
      return { code: r.code, ...(r.label ? { label: r.label } : {}), ...(Object.keys(labels).length ? { labels } : {}) };
    });
    try {
      await api.put(wsPath(ws, "/dispositions"), body);
      setError(null);
      setNotice(t("adm.saved"));
      setRows(null);
      load.reload();
    } catch (exc) {
      setError(exc);
      setNotice(null);
    }
  };
  const remove = (i) => ask(t("adm.confirmDelete", { name: list[i].code }), async () => setRows(list.filter((_, j) => j !== i)), t("adm.remove"));
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.dispositions")} intro=${t("adm.dispositions.intro")}>
      <button class="btn btn-primary" data-testid="save" disabled=${rows === null} onClick=${save}>${t("adm.save")}</button>
    </${PageHead}>
    <${Notice} text=${notice} />
    <${FormError} error=${error} shown=${list.map((_, i) => String(i))} />
    <section class="card">
      <table class="table" data-testid="dispositions">
        <thead><tr><th>${t("adm.dispositions.code")}</th><th>${t("adm.dispositions.label")}</th>${LABEL_LANGS.map((l) => html`<th>${t(`adm.lang.${l}`)}</th>`)}<th></th></tr></thead>
        <tbody>
          ${list.map(
            (r, i) => html`<tr data-testid="row">
              <td>
                <input class=${problemAt(problems, String(i)) ? "input-bad" : ""} value=${r.code} aria-label=${t("adm.dispositions.code")} onInput=${(e) => setRow(i, { code: e.target.value })} />
                ${problemAt(problems, String(i)) ? html`<div class="afield-error">${problemAt(problems, String(i))}</div>` : null}
              </td>
              <td><input value=${r.label} aria-label=${t("adm.dispositions.label")} onInput=${(e) => setRow(i, { label: e.target.value })} /></td>
              ${LABEL_LANGS.map((l) => html`<td><input value=${r.labels[l] || ""} aria-label=${t(`adm.lang.${l}`)} onInput=${(e) => setRow(i, { labels: { ...r.labels, [l]: e.target.value } })} /></td>`)}
              <td><button class="btn btn-small btn-danger" onClick=${() => remove(i)}>${t("adm.remove")}</button></td>
            </tr>`,
          )}
        </tbody>
      </table>
      <button class="btn btn-small" data-testid="add" onClick=${() => setRows([...list, { code: "", label: "", labels: {} }])}>+ ${t("adm.add")}</button>
    </section>
    ${dialog}
  </div>`;
}

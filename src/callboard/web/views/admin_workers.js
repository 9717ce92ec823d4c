// Agents (TaskRouter workers): the attributes queues match on — skills, levels, languages, site — the phone
// their calls ring (a SIP phone or the softphone in the page), any other attributes as JSON, and channels.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { Field, FormError, Loading, PageHead, RowActions, Table, joinList, parseJson, problemAt, problemsOf, splitList, useConfirm, useLoad } from "./admin_kit.js";

const KNOWN = ["skills", "levels", "languages", "site", "phone"];

// "sales:5, support:2" <-> {sales: 5, support: 2}
export const levelsText = (levels) =>
  Object.entries(levels || {})
    .map(([k, v]) => `${k}:${v}`)
    .join(", ");
export function parseLevels(text) {
  const levels = {};
  for (const part of splitList(text)) {
    const [skill, level] = part.split(":").map((s) => s.trim());
    if (!skill || level === undefined || Number.isNaN(Number(level))) return [null, part];
    levels[skill] = Number(level);
  }
  return [levels, null];
}

// The form's fields from a worker's attributes, and back (other attributes kept as they were).
export function attributeFields(attributes = {}) {
  const rest = Object.fromEntries(Object.entries(attributes).filter(([k]) => !KNOWN.includes(k)));
  return {
    skills: joinList(attributes.skills),
    levels: levelsText(attributes.levels),
    languages: joinList(attributes.languages),
    site: attributes.site || "",
    phone: attributes.phone || "",
    other: Object.keys(rest).length ? JSON.stringify(rest, null, 2) : "",
  };
}

export function attributesOf(fields) {
  const [other, otherProblem] = parseJson(fields.other);
  const [levels, levelProblem] = parseLevels(fields.levels);
  const attributes = { ...(other || {}) };
  const skills = splitList(fields.skills);
  const languages = splitList(fields.languages);
  if (skills.length) attributes.skills = skills;
  if (levels && Object.keys(levels).length) attributes.levels = levels;
  if (languages.length) attributes.languages = languages;
  if (fields.site) attributes.site = fields.site;
  if (fields.phone) attributes.phone = fields.phone;
  return [attributes, { other: otherProblem, levels: levelProblem ? t("adm.workers.levelsBad", { part: levelProblem }) : null }];
}

export function AttributeFields({ fields, onChange, problems = {} }) {
  const set = (key) => (e) => onChange({ ...fields, [key]: e.target.value });
  return html`
    <${Field} label=${t("adm.workers.skills")} hint=${t("adm.workers.listHint")}><input name="skills" value=${fields.skills} onInput=${set("skills")} /></${Field}>
    <${Field} label=${t("adm.workers.levels")} problem=${problems.levels} hint=${t("adm.workers.levelsHint")}><input name="levels" value=${fields.levels} onInput=${set("levels")} /></${Field}>
    <${Field} label=${t("adm.workers.languages")} hint=${t("adm.workers.listHint")}><input name="languages" value=${fields.languages} onInput=${set("languages")} /></${Field}>
    <${Field} label=${t("adm.workers.site")}><input name="site" value=${fields.site} onInput=${set("site")} /></${Field}>
    <${Field} label=${t("adm.workers.phone")}>
      <select name="phone" value=${fields.phone} onChange=${set("phone")}>
        <option value="">${t("adm.workers.phoneDefault")}</option>
        <option value="sip">${t("adm.workers.phoneSip")}</option>
        <option value="webrtc">${t("adm.workers.phoneWebrtc")}</option>
      </select>
    </${Field}>
    <${Field} label=${t("adm.workers.other")} problem=${problems.other} wide=${true} hint=${t("adm.workers.otherHint")}>
      <textarea class="json-text" rows="3" name="other" spellcheck="false" value=${fields.other} onInput=${set("other")}></textarea>
    </${Field}>`;
}

function WorkerForm({ ws, item, activities, onSaved, onCancel }) {
  const [name, setName] = useState(item ? item.friendly_name : "");
  const [activity, setActivity] = useState(item ? item.activity_sid : "");
  const [fields, setFields] = useState(() => attributeFields(item ? item.attributes : { skills: [], languages: ["en"] }));
  const [error, setError] = useState(null);
  const problems = problemsOf(error);
  const [attributes, local] = attributesOf(fields);
  const save = async (event) => {
    event.preventDefault();
    if (local.other || local.levels) return;
    const body = { friendly_name: name, attributes };
    if (activity) body.activity_sid = activity;
    try {
      if (item) await api.patch(wsPath(ws, `/workers/${item.sid}`), body);
      else await api.post(wsPath(ws, "/workers"), body);
      onSaved();
    } catch (exc) {
      setError(exc);
    }
  };
  return html`<form class="card form" data-testid="worker-form" onSubmit=${save}>
    <h2>${item ? t("adm.workers.edit", { name: item.friendly_name }) : t("adm.workers.add")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.name")} problem=${problemAt(problems, "friendly_name") || (error && error.id === "worker_exists" ? error.message : null)}>
        <input name="friendly_name" required value=${name} onInput=${(e) => setName(e.target.value)} />
      </${Field}>
      <${Field} label=${t("adm.state")}>
        <select name="activity" value=${activity} onChange=${(e) => setActivity(e.target.value)}>
          <option value="">${t("adm.workers.defaultActivity")}</option>
          ${activities.map((a) => html`<option value=${a.sid}>${a.friendly_name}</option>`)}
        </select>
      </${Field}>
      <${AttributeFields} fields=${fields} onChange=${setFields} problems=${local} />
    </div>
    <${FormError} error=${error && error.id === "worker_exists" ? null : error} shown=${["friendly_name"]} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
      <button type="submit" class="btn btn-primary" data-testid="save">${t("adm.save")}</button>
    </div>
  </form>`;
}

export function WorkersPage({ ws }) {
  const load = useLoad(async () => {
    const [workers, activities] = await Promise.all([all(wsPath(ws, "/workers")), all(wsPath(ws, "/activities"))]);
    return { workers, activities };
  }, [ws]);
  const [editing, setEditing] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const remove = (w) =>
    ask(t("adm.confirmDelete", { name: w.friendly_name }), async () => {
      await api.del(wsPath(ws, `/workers/${w.sid}`));
      load.reload();
    });
  const workers = [...load.data.workers].sort((a, b) => a.friendly_name.localeCompare(b.friendly_name));
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.agents")} intro=${t("adm.workers.intro")}>
      <button class="btn btn-primary" data-testid="add" onClick=${() => setEditing("new")}>${t("adm.workers.add")}</button>
    </${PageHead}>
    ${editing
      ? html`<${WorkerForm} key=${editing === "new" ? "new" : editing.sid} ws=${ws} item=${editing === "new" ? null : editing} activities=${load.data.activities}
          onSaved=${() => { setEditing(null); load.reload(); }} onCancel=${() => setEditing(null)} />`
      : null}
    <section class="card">
      <${Table}
        testid="workers"
        rows=${workers}
        rowKey=${(w) => w.friendly_name}
        columns=${[
          { label: t("adm.name"), cell: (w) => html`<strong>${w.friendly_name}</strong>` },
          { label: t("adm.state"), cell: (w) => html`<span class=${`badge badge-${w.available ? "ready" : "away"}`}>${w.activity_name}</span>` },
          { label: t("adm.workers.skills"), cell: (w) => (w.attributes.skills || []).map((s) => html`<span class="chip">${s}${w.attributes.levels && w.attributes.levels[s] != null ? ` ${w.attributes.levels[s]}` : ""}</span> `) },
          { label: t("adm.workers.languages"), cell: (w) => joinList(w.attributes.languages) || "—" },
          { label: t("adm.workers.phone"), cell: (w) => w.attributes.phone || "sip" },
          { label: "", cell: (w) => html`<${RowActions} onEdit=${() => setEditing(w)} onDelete=${() => remove(w)} />` },
        ]}
      />
    </section>
    ${dialog}
  </div>`;
}

// Queues: who a queue takes (its target expression), how it picks among them, wrap-up and the activities on
// the way, and what callers waiting in it hear (the waiting options, GET/PUT/DELETE .../waiting).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { Field, FormError, Loading, Notice, PageHead, RowActions, Table, parseJson, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

const STRATEGIES = ["longest_idle", "round_robin", "fewest_tasks", "least_talk_time", "ring_all", "linear", "random", "weighted_random", "best_skill_match"];
const ACTIVITY_FIELDS = ["reservation_activity_sid", "assignment_activity_sid", "post_work_activity_sid"];
const NUMBER_FIELDS = ["max_reserved_workers", "wrapup_seconds", "service_level_threshold"];

function QueueForm({ ws, item, activities, onSaved, onCancel }) {
  const [value, setValue] = useState(() => ({
    friendly_name: item ? item.friendly_name : "",
    target_workers: item ? item.target_workers : 'skills HAS "sales"',
    strategy: item ? item.strategy : "longest_idle",
    task_order: item ? item.task_order : "fifo",
    ...Object.fromEntries(NUMBER_FIELDS.map((f) => [f, item && item[f] != null ? String(item[f]) : f === "max_reserved_workers" ? "1" : ""])),
    ...Object.fromEntries(ACTIVITY_FIELDS.map((f) => [f, (item && item[f]) || ""])),
  }));
  const [error, setError] = useState(null);
  const problems = problemsOf(error);
  const set = (key) => (e) => setValue({ ...value, [key]: e.target.value });
  const save = async (event) => {
    event.preventDefault();
    const body = { friendly_name: value.friendly_name, target_workers: value.target_workers, strategy: value.strategy, task_order: value.task_order };
    for (const f of NUMBER_FIELDS) body[f] = value[f] === "" ? null : Number(value[f]);
    if (body.max_reserved_workers === null) delete body.max_reserved_workers;
    for (const f of ACTIVITY_FIELDS) body[f] = value[f] || null;
    try {
      if (item) await api.patch(wsPath(ws, `/task-queues/${item.sid}`), body);
      else await api.post(wsPath(ws, "/task-queues"), body);
      onSaved();
    } catch (exc) {
      setError(exc);
    }
  };
  const expressionProblem = error && error.id === "expression_syntax_error" ? error.message : problemAt(problems, "target_workers");
  const activity = (key) => html`<${Field} label=${t(`adm.queues.${key}`)} problem=${problemAt(problems, key)}>
    <select name=${key} value=${value[key]} onChange=${set(key)}>
      <option value="">—</option>
      ${activities.map((a) => html`<option value=${a.sid}>${a.friendly_name}</option>`)}
    </select>
  </${Field}>`;
  return html`<form class="card form" data-testid="queue-form" onSubmit=${save}>
    <h2>${item ? t("adm.queues.edit", { name: item.friendly_name }) : t("adm.queues.add")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.name")} problem=${problemAt(problems, "friendly_name")}><input name="friendly_name" required value=${value.friendly_name} onInput=${set("friendly_name")} /></${Field}>
      <${Field} label=${t("adm.queues.target")} problem=${expressionProblem} wide=${true} hint=${t("adm.queues.targetHint")}>
        <input name="target_workers" class="mono" value=${value.target_workers} onInput=${set("target_workers")} />
      </${Field}>
      <${Field} label=${t("adm.queues.strategy")} problem=${problemAt(problems, "strategy")}>
        <select name="strategy" value=${value.strategy} onChange=${set("strategy")}>${STRATEGIES.map((s) => html`<option value=${s}>${s}</option>`)}</select>
      </${Field}>
      <${Field} label=${t("adm.queues.order")}>
        <select name="task_order" value=${value.task_order} onChange=${set("task_order")}><option value="fifo">FIFO</option><option value="lifo">LIFO</option></select>
      </${Field}>
      ${NUMBER_FIELDS.map(
        (f) => html`<${Field} label=${t(`adm.queues.${f}`)} problem=${problemAt(problems, f)}>
          <input type="number" min="0" name=${f} value=${value[f]} onInput=${set(f)} placeholder=${t("adm.queues.inherit")} />
        </${Field}>`,
      )}
      ${ACTIVITY_FIELDS.map(activity)}
    </div>
    <${FormError} error=${expressionProblem ? null : error} shown=${["friendly_name", "target_workers", "strategy", ...NUMBER_FIELDS, ...ACTIVITY_FIELDS]} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
      <button type="submit" class="btn btn-primary" data-testid="save">${t("adm.save")}</button>
    </div>
  </form>`;
}

// The waiting options as JSON: the center file's `waiting:` block, checked by the server.
function WaitingForm({ ws, queue, onClose }) {
  const path = wsPath(ws, `/task-queues/${queue.sid}/waiting`);
  const load = useLoad(() => api.get(path), [path]);
  const [text, setText] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  if (!load.data) return html`<${Loading} load=${load} />`;
  const { configured, ...options } = load.data;
  const shown = text ?? JSON.stringify(options, null, 2);
  const [, jsonProblem] = parseJson(shown);
  const save = async () => {
    const [body] = parseJson(shown);
    try {
      await api.put(path, body);
      setNotice(t("adm.saved"));
      setError(null);
      load.reload();
    } catch (exc) {
      setError(exc);
    }
  };
  const reset = async () => {
    await api.del(path).catch(() => null);
    setText(null);
    setNotice(t("adm.queues.waitingDefaults"));
    load.reload();
  };
  return html`<div class="card form" data-testid="waiting-form">
    <h2>${t("adm.queues.waitingOf", { name: queue.friendly_name })}
      <span class="chip">${t(configured ? "adm.queues.configured" : "adm.queues.defaults")}</span></h2>
    <p class="muted small">${t("adm.queues.waitingHint")}</p>
    <textarea class=${`json-text ${jsonProblem ? "input-bad" : ""}`} rows="14" spellcheck="false" value=${shown} onInput=${(e) => setText(e.target.value)}
      aria-label=${t("adm.queues.waiting")}></textarea>
    ${jsonProblem ? html`<div class="afield-error">${jsonProblem}</div>` : null}
    <${FormError} error=${error} />
    <${Notice} text=${notice} />
    <div class="form-actions">
      <button class="btn" onClick=${onClose}>${t("adm.close")}</button>
      <button class="btn" onClick=${reset} disabled=${!configured}>${t("adm.queues.useDefaults")}</button>
      <button class="btn btn-primary" disabled=${!!jsonProblem} onClick=${save} data-testid="save-waiting">${t("adm.save")}</button>
    </div>
  </div>`;
}

export function QueuesPage({ ws }) {
  const load = useLoad(async () => {
    const [queues, activities] = await Promise.all([all(wsPath(ws, "/task-queues")), all(wsPath(ws, "/activities"))]);
    return { queues, activities };
  }, [ws]);
  const [editing, setEditing] = useState(null);
  const [waiting, setWaiting] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const { queues, activities } = load.data;
  const remove = (q) =>
    ask(t("adm.confirmDelete", { name: q.friendly_name }), async () => {
      await api.del(wsPath(ws, `/task-queues/${q.sid}`));
      load.reload();
    });
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.queues")} intro=${t("adm.queues.intro")}>
      <button class="btn btn-primary" data-testid="add" onClick=${() => setEditing("new")}>${t("adm.queues.add")}</button>
    </${PageHead}>
    ${editing
      ? html`<${QueueForm} ws=${ws} item=${editing === "new" ? null : editing} activities=${activities}
          onSaved=${() => { setEditing(null); load.reload(); }} onCancel=${() => setEditing(null)} />`
      : null}
    ${waiting ? html`<${WaitingForm} key=${waiting.sid} ws=${ws} queue=${waiting} onClose=${() => setWaiting(null)} />` : null}
    <section class="card">
      <${Table}
        testid="queues"
        rows=${queues}
        rowKey=${(q) => q.friendly_name}
        columns=${[
          { label: t("adm.name"), cell: (q) => html`<strong>${q.friendly_name}</strong>` },
          { label: t("adm.queues.target"), cell: (q) => html`<code>${q.target_workers}</code>` },
          { label: t("adm.queues.strategy"), cell: (q) => q.strategy },
          { label: t("adm.queues.wrapup_seconds"), num: true, cell: (q) => (q.wrapup_seconds == null ? "—" : q.wrapup_seconds) },
          {
            label: "",
            cell: (q) => html`<${RowActions} onEdit=${() => setEditing(q)} onDelete=${() => remove(q)}>
              <button class="btn btn-small" data-testid="waiting" onClick=${() => setWaiting(q)}>${t("adm.queues.waiting")}</button>
            </${RowActions}>`,
          },
        ]}
      />
    </section>
    ${dialog}
  </div>`;
}

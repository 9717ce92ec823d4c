// Workflows: TaskRouter's configuration (filters, targets, timeouts) edited as JSON, and the reservation
// timeout; the server checks the expressions and queues.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { Field, FormError, Loading, PageHead, RowActions, Table, parseJson, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

const EXAMPLE = { task_routing: { filters: [], default_filter: { queue: "" } } };

function WorkflowForm({ ws, item, queues, onSaved, onCancel }) {
  const [name, setName] = useState(item ? item.friendly_name : "");
  const [timeout, setTimeout_] = useState(item ? String(item.task_reservation_timeout) : "120");
  const [text, setText] = useState(() => JSON.stringify(item ? item.configuration : { task_routing: { ...EXAMPLE.task_routing, default_filter: { queue: (queues[0] || {}).friendly_name || "" } } }, null, 2));
  const [error, setError] = useState(null);
  const problems = problemsOf(error);
  const [, jsonProblem] = parseJson(text);
  const save = async (event) => {
    event.preventDefault();
    const [configuration] = parseJson(text);
    const body = { friendly_name: name, configuration, task_reservation_timeout: Number(timeout) };
    try {
      if (item) await api.patch(wsPath(ws, `/workflows/${item.sid}`), body);
      else await api.post(wsPath(ws, "/workflows"), body);
      onSaved();
    } catch (exc) {
      setError(exc);
    }
  };
  const configProblem = jsonProblem || problemAt(problems, "configuration") || (error && ["workflow_invalid", "expression_syntax_error"].includes(error.id) ? error.message : null);
  return html`<form class="card form" data-testid="workflow-form" onSubmit=${save}>
    <h2>${item ? t("adm.workflows.edit", { name: item.friendly_name }) : t("adm.workflows.add")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.name")} problem=${problemAt(problems, "friendly_name")}><input name="friendly_name" required value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
      <${Field} label=${t("adm.workflows.timeout")} problem=${problemAt(problems, "task_reservation_timeout")}>
        <input type="number" min="1" max="86400" name="timeout" value=${timeout} onInput=${(e) => setTimeout_(e.target.value)} />
      </${Field}>
      <${Field} label=${t("adm.workflows.configuration")} problem=${configProblem} wide=${true} hint=${t("adm.workflows.hint")}>
        <textarea class=${`json-text ${configProblem ? "input-bad" : ""}`} rows="16" spellcheck="false" name="configuration" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
      </${Field}>
    </div>
    <${FormError} error=${configProblem && !jsonProblem ? null : error} shown=${["friendly_name", "task_reservation_timeout", "configuration"]} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
      <button type="submit" class="btn btn-primary" disabled=${!!jsonProblem} data-testid="save">${t("adm.save")}</button>
    </div>
  </form>`;
}

export function WorkflowsPage({ ws }) {
  const load = useLoad(async () => {
    const [workflows, queues] = await Promise.all([all(wsPath(ws, "/workflows")), all(wsPath(ws, "/task-queues"))]);
    return { workflows, queues };
  }, [ws]);
  const [editing, setEditing] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const remove = (w) =>
    ask(t("adm.confirmDelete", { name: w.friendly_name }), async () => {
      await api.del(wsPath(ws, `/workflows/${w.sid}`));
      load.reload();
    });
  const filters = (w) => ((w.configuration.task_routing || {}).filters || []).length;
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.workflows")} intro=${t("adm.workflows.intro")}>
      <button class="btn btn-primary" data-testid="add" onClick=${() => setEditing("new")}>${t("adm.workflows.add")}</button>
    </${PageHead}>
    ${editing
      ? html`<${WorkflowForm} key=${editing === "new" ? "new" : editing.sid} ws=${ws} item=${editing === "new" ? null : editing} queues=${load.data.queues}
          onSaved=${() => { setEditing(null); load.reload(); }} onCancel=${() => setEditing(null)} />`
      : null}
    <section class="card">
      <${Table}
        testid="workflows"
        rows=${load.data.workflows}
        rowKey=${(w) => w.friendly_name}
        columns=${[
          { label: t("adm.name"), cell: (w) => html`<strong>${w.friendly_name}</strong>` },
          { label: t("adm.workflows.filters"), num: true, cell: filters },
          { label: t("adm.workflows.timeout"), num: true, cell: (w) => `${w.task_reservation_timeout} s` },
          { label: "", cell: (w) => html`<${RowActions} onEdit=${() => setEditing(w)} onDelete=${() => remove(w)} />` },
        ]}
      />
    </section>
    ${dialog}
  </div>`;
}

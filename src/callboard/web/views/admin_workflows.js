// Workflows: TaskRouter's configuration (filters, targets, timeouts) edited as JSON in a text editor with line
// numbers, and the reservation timeout. JSON mistakes are found in the page, the rest by the server (expressions,
// queues); both are shown at their line with their path, and a click puts the cursor there.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { CodeEditor } from "../code_editor.js";
import { Field, FormError, Loading, PageHead, RowActions, Table, jsonPositions, lineCol, positionOf, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

const EXAMPLE = { task_routing: { filters: [], default_filter: { queue: "" } } };

// The configuration's problem, if any, at its line: a JSON mistake in the text, or the server's
// `workflow_invalid` (details.path inside the configuration; details.column inside an expression).
export function configurationProblem(text, error) {
  const positions = jsonPositions(text);
  if (positions.stop !== null) {
    let message = t("adm.workflows.notJson");
    try {
      JSON.parse(text);
    } catch (exc) {
      message = String(exc.message || exc);
    }
    return { path: "", message, ...lineCol(text, positions.stop) };
  }
  if (!error) return null;
  let path = null;
  if (error.id === "workflow_invalid") path = (error.details.path || []).join(".");
  else if (error.id === "expression_syntax_error") path = "";
  else {
    const inner = Object.keys(problemsOf(error)).find((p) => p === "configuration" || p.startsWith("configuration."));
    if (inner === undefined) return null;
    path = inner.replace(/^configuration\.?/, "");
  }
  const where = positionOf(positions, text, path);
  let col = where.col;
  // an expression's column counts from its first character, one after the opening quote
  if (error.details && Number.isInteger(error.details.column) && text[where.offset] === '"') col += error.details.column;
  return { path, message: error.message, line: where.line, col };
}

function WorkflowForm({ ws, item, queues, onSaved, onCancel }) {
  const [name, setName] = useState(item ? item.friendly_name : "");
  const [timeout, setTimeout_] = useState(item ? String(item.task_reservation_timeout) : "120");
  const [text, setText] = useState(() => JSON.stringify(item ? item.configuration : { task_routing: { ...EXAMPLE.task_routing, default_filter: { queue: (queues[0] || {}).friendly_name || "" } } }, null, 2));
  const [error, setError] = useState(null);
  const [sentText, setSentText] = useState(null); // the text the error is about: edits make its line stale
  const [jump, setJump] = useState(null);
  const problems = problemsOf(error);
  const json = jsonPositions(text);
  // the server's answer about the configuration holds for the text it was given; an edit makes it stale
  const aboutConfig = error !== null && sentText !== null && configurationProblem(sentText, error) !== null;
  const problem = configurationProblem(text, aboutConfig && text !== sentText ? null : error);
  const jsonBad = json.stop !== null;
  const save = async (event) => {
    event.preventDefault();
    if (jsonBad) return;
    const body = { friendly_name: name, configuration: JSON.parse(text), task_reservation_timeout: Number(timeout) };
    try {
      if (item) await api.patch(wsPath(ws, `/workflows/${item.sid}`), body);
      else await api.post(wsPath(ws, "/workflows"), body);
      onSaved();
    } catch (exc) {
      setError(exc);
      setSentText(text);
    }
  };
  return html`<form class="card form" data-testid="workflow-form" onSubmit=${save}>
    <h2>${item ? t("adm.workflows.edit", { name: item.friendly_name }) : t("adm.workflows.add")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.name")} problem=${problemAt(problems, "friendly_name")}><input name="friendly_name" required value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
      <${Field} label=${t("adm.workflows.timeout")} problem=${problemAt(problems, "task_reservation_timeout")}>
        <input type="number" min="1" max="86400" name="timeout" value=${timeout} onInput=${(e) => setTimeout_(e.target.value)} />
      </${Field}>
      <div class=${`afield afield-wide ${problem ? "afield-bad" : ""}`}>
        <span class="afield-label">${t("adm.workflows.configuration")}</span>
        <${CodeEditor} value=${text} onInput=${setText} badLines=${new Set(problem ? [problem.line] : [])} jumpTo=${jump}
          label=${t("adm.workflows.configuration")} testid="workflow-json" />
        ${problem
          ? html`<ul class="problems" data-testid="config-problems">
              <li data-testid="config-problem" data-line=${problem.line} data-path=${problem.path}>
                <button type="button" class="link-btn" data-testid="problem-at" onClick=${() => setJump({ line: problem.line, col: problem.col, n: Date.now() })}>
                  <code>${problem.line}:${problem.col}</code>
                </button>
                ${problem.path ? html`<code class="muted">${problem.path}</code>` : null} <span>${problem.message}</span>
              </li>
            </ul>`
          : null}
        <span class="muted small">${t("adm.workflows.hint")} ${t("adm.workflows.queues", { names: queues.map((q) => q.friendly_name).join(", ") || "—" })}</span>
      </div>
    </div>
    <${FormError} error=${aboutConfig && text !== sentText ? null : error} shown=${["friendly_name", "task_reservation_timeout", "configuration"]} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
      <button type="submit" class="btn btn-primary" disabled=${jsonBad} data-testid="save">${t("adm.save")}</button>
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

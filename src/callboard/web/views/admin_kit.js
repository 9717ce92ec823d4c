// What every admin and supervisor page is built from: loading a list, fields that show the API's problems at
// their path next to the input, a confirmation before deleting, tables and page heads.
import { useCallback, useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../i18n.js";
import { errorText } from "../format.js";
import { ErrorBox } from "./error.js";

// Load `loader()` now and whenever `deps` change; `reload` reads again.
export function useLoad(loader, deps = []) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const reload = useCallback(async () => {
    try {
      setData(await loader());
      setError(null);
    } catch (exc) {
      setError(exc);
    }
  }, deps);
  useEffect(() => {
    setData(null);
    reload();
  }, [reload]);
  return { data, error, reload, setData };
}

// The problems of an ApiError by dotted path: `details.problems` ({path, message}) of the IVR and center
// checks, `details.errors` ({loc, message}) of request validation. A problem at no path is under "".
export function problemsOf(error) {
  const byPath = {};
  if (!error || !error.details) return byPath;
  for (const p of error.details.problems || []) {
    const path = p.path ?? "";
    byPath[path] = byPath[path] ? `${byPath[path]}; ${p.message}` : p.message;
  }
  for (const e of error.details.errors || []) {
    const path = (e.loc || []).filter((part) => part !== "body").join(".");
    byPath[path] = e.message;
  }
  return byPath;
}

// The problem for a field: at its path, or inside it (`weekly.mon.0` belongs to `weekly`).
export function problemAt(problems, path) {
  if (problems[path]) return problems[path];
  const inner = Object.keys(problems).find((p) => p.startsWith(`${path}.`));
  return inner ? `${inner.slice(path.length + 1)}: ${problems[inner]}` : null;
}

export function Field({ label, problem, hint, children, wide = false, testid }) {
  return html`<label class=${`afield ${wide ? "afield-wide" : ""} ${problem ? "afield-bad" : ""}`} data-testid=${testid}>
    <span class="afield-label">${label}</span>
    ${children}
    ${problem ? html`<span class="afield-error" data-testid="field-error">${problem}</span>` : null}
    ${hint && !problem ? html`<span class="muted small">${hint}</span>` : null}
  </label>`;
}

// An error with the problems no field shows listed under it.
export function FormError({ error, shown = [] }) {
  if (!error) return null;
  const problems = problemsOf(error);
  const rest = Object.entries(problems).filter(([path]) => !shown.some((s) => path === s || path.startsWith(`${s}.`)));
  return html`<div>
    <${ErrorBox} error=${error} />
    ${rest.length
      ? html`<ul class="problems" data-testid="problems">
          ${rest.map(([path, message]) => html`<li><code>${path || "—"}</code> ${message}</li>`)}
        </ul>`
      : null}
  </div>`;
}

export function Confirm({ message, action, danger = true, onConfirm, onCancel }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };
  return html`<div class="overlay" onClick=${(e) => e.target === e.currentTarget && onCancel()}>
    <div class="dialog" role="alertdialog" aria-modal="true" data-testid="confirm">
      <div class="dialog-head"><h2>${t("adm.confirm")}</h2></div>
      <p>${message}</p>
      <${ErrorBox} error=${error} />
      <div class="form-actions">
        <button class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
        <button class=${`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled=${busy} data-testid="confirm-yes" onClick=${go}>
          ${action || t("adm.delete")}
        </button>
      </div>
    </div>
  </div>`;
}

// The state for "ask before deleting": `ask(message, action)` opens the dialog, `dialog` renders it.
export function useConfirm() {
  const [pending, setPending] = useState(null);
  const ask = (message, onConfirm, action) => setPending({ message, onConfirm, action });
  const dialog = pending
    ? html`<${Confirm}
        message=${pending.message}
        action=${pending.action}
        onConfirm=${async () => {
          await pending.onConfirm();
          setPending(null);
        }}
        onCancel=${() => setPending(null)}
      />`
    : null;
  return [ask, dialog];
}

export function PageHead({ title, intro, children }) {
  return html`<div class="admin-head">
    <div>
      <h1>${title}</h1>
      ${intro ? html`<p class="muted small">${intro}</p>` : null}
    </div>
    <div class="admin-actions">${children}</div>
  </div>`;
}

export function Loading({ load }) {
  if (load.error) return html`<${ErrorBox} error=${load.error} onRetry=${load.reload} />`;
  return html`<div class="muted">${t("common.loading")}</div>`;
}

export function Table({ columns, rows, empty, testid, rowKey, rowTestid = "row" }) {
  if (!rows.length) return html`<div class="empty" data-testid=${testid}>${empty || t("adm.none")}</div>`;
  return html`<table class="table" data-testid=${testid}>
    <thead>
      <tr>${columns.map((c) => html`<th class=${c.num ? "num" : ""}>${c.label}</th>`)}</tr>
    </thead>
    <tbody>
      ${rows.map(
        (row) => html`<tr key=${rowKey ? rowKey(row) : undefined} data-testid=${rowTestid} data-name=${rowKey ? rowKey(row) : null}>
          ${columns.map((c) => html`<td class=${c.num ? "num" : ""}>${c.cell(row)}</td>`)}
        </tr>`,
      )}
    </tbody>
  </table>`;
}

// A row's edit and delete buttons.
export function RowActions({ onEdit, onDelete, children }) {
  return html`<div class="row-actions">
    ${children}
    ${onEdit ? html`<button class="btn btn-small" data-testid="edit" onClick=${onEdit}>${t("adm.edit")}</button>` : null}
    ${onDelete ? html`<button class="btn btn-small btn-danger" data-testid="delete" onClick=${onDelete}>${t("adm.delete")}</button>` : null}
  </div>`;
}

// A saved-or-failed note after an action.
export function Notice({ text }) {
  return text ? html`<div class="alert alert-ok" role="status" data-testid="notice">${text}</div>` : null;
}

export const splitList = (text) =>
  String(text || "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export const joinList = (items) => (Array.isArray(items) ? items.join(", ") : "");

// `{}` for an empty text, the parsed JSON otherwise; a JSON mistake becomes a problem the form shows.
export function parseJson(text) {
  if (!String(text || "").trim()) return [{}, null];
  try {
    return [JSON.parse(text), null];
  } catch (exc) {
    return [null, String(exc.message || exc)];
  }
}

export const messageOf = (exc) => errorText(exc);

// A checkbox with its label after it and the API's problem under it.
export function CheckField({ label, name, checked, onChange, problem, testid }) {
  return html`<div class=${`acheck ${problem ? "afield-bad" : ""}`} data-testid=${testid}>
    <label class="check"><input type="checkbox" name=${name} checked=${checked} onChange=${(e) => onChange(e.target.checked)} /> ${label}</label>
    ${problem ? html`<span class="afield-error" data-testid="field-error">${problem}</span>` : null}
  </div>`;
}

// A number input followed by its unit ("seconds"); an empty input is "", which callers read as "not set".
export function UnitInput({ name, value, onInput, unit, min, placeholder }) {
  return html`<span class="unit-input">
    <input type="number" inputmode="numeric" step="1" name=${name} min=${min} value=${value} placeholder=${placeholder} onInput=${(e) => onInput(e.target.value)} />
    <span class="unit">${unit}</span>
  </span>`;
}

// "" -> null, anything else as a number (the server says what is wrong with it).
export const numberOrNull = (text) => (String(text ?? "").trim() === "" ? null : Number(text));

// 1-based line and column of a character offset in a text.
export function lineCol(text, offset) {
  const before = text.slice(0, Math.max(0, offset)).split("\n");
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

// Where each value of a JSON text starts, by dotted path ("task_routing.filters.0.expression"; "" is the whole
// text), and the offset where the text stops being JSON (null when it is JSON), so problems found by the server
// at a path and JSON mistakes found in the page can both be shown at their line.
export function jsonPositions(text) {
  const at = {};
  let i = 0;
  const space = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const fail = () => {
    throw new SyntaxError("json");
  };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path) => {
    space();
    at[path.join(".")] = i;
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      space();
      if (text[i] === close) return void i++;
      for (let n = 0; ; n++) {
        space();
        let key = n;
        if (c === "{") {
          if (text[i] !== '"') fail();
          key = string();
          space();
          if (text[i] !== ":") fail();
          i++;
        }
        value([...path, key]);
        space();
        if (text[i] === ",") i++;
        else if (text[i] === close) return void i++;
        else fail();
      }
    }
    if (c === '"') return void string();
    const literal = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!literal) fail();
    i += literal[0].length;
  };
  let stop = null;
  try {
    value([]);
    space();
    if (i < text.length) stop = i;
  } catch {
    stop = Math.min(i, text.length);
  }
  return { at, stop };
}

// The position of a path in a JSON text read by jsonPositions, or of its nearest enclosing value there.
export function positionOf(positions, text, path) {
  const parts = path === "" ? [] : String(path).split(".");
  for (let n = parts.length; n >= 0; n--) {
    const offset = positions.at[parts.slice(0, n).join(".")];
    if (offset !== undefined) return { offset, ...lineCol(text, offset) };
  }
  return { offset: 0, line: 1, col: 1 };
}

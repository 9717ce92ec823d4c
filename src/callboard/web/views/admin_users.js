// Users: who signs in, with which role, in which workspace, and (agents) as which worker. Passwords are
// set, never shown; setting one also sets the user's SIP login.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { Field, FormError, Loading, PageHead, RowActions, Table, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

const ROLES = ["agent", "supervisor", "admin"];

function UserForm({ item, workspaces, onSaved, onCancel }) {
  const [value, setValue] = useState(() => ({
    username: item ? item.username : "",
    password: "",
    role: item ? item.role : "agent",
    workspace_sid: item ? item.workspace_sid || "" : (workspaces[0] || {}).sid || "",
    worker_sid: item ? item.worker_sid || "" : "",
    disabled: item ? !!item.disabled : false,
  }));
  const [error, setError] = useState(null);
  const workers = useLoad(() => (value.workspace_sid ? all(wsPath(value.workspace_sid, "/workers")) : Promise.resolve([])), [value.workspace_sid]);
  const problems = problemsOf(error);
  const set = (key) => (e) => setValue({ ...value, [key]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const save = async (event) => {
    event.preventDefault();
    const body = { role: value.role, workspace_sid: value.workspace_sid || null, worker_sid: value.role === "agent" ? value.worker_sid || null : null };
    if (value.password) body.password = value.password;
    try {
      if (item) await api.patch(`/users/${item.id}`, { ...body, disabled: value.disabled });
      else await api.post("/users", { ...body, username: value.username });
      onSaved();
    } catch (exc) {
      setError(exc);
    }
  };
  const linkProblem = error && !problems.worker_sid && error.status === 422 && !Object.keys(problems).length ? error.message : null;
  return html`<form class="card form" data-testid="user-form" onSubmit=${save}>
    <h2>${item ? t("adm.users.edit", { name: item.username }) : t("adm.users.add")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.users.username")} problem=${problemAt(problems, "username")}>
        <input name="username" required readonly=${!!item} autocomplete="off" value=${value.username} onInput=${set("username")} />
      </${Field}>
      <${Field} label=${t("adm.users.password")} problem=${problemAt(problems, "password")} hint=${t(item ? "adm.users.passwordKeep" : "adm.users.passwordHint")}>
        <input name="password" type="password" autocomplete="new-password" required=${!item} minlength="8" value=${value.password} onInput=${set("password")} />
      </${Field}>
      <${Field} label=${t("adm.users.role")} problem=${problemAt(problems, "role")}>
        <select name="role" value=${value.role} onChange=${set("role")}>${ROLES.map((r) => html`<option value=${r}>${t(`role.${r}`)}</option>`)}</select>
      </${Field}>
      <${Field} label=${t("wall.workspace")} problem=${problemAt(problems, "workspace_sid")}>
        <select name="workspace_sid" value=${value.workspace_sid} onChange=${set("workspace_sid")}>
          <option value="">—</option>
          ${workspaces.map((w) => html`<option value=${w.sid}>${w.friendly_name}</option>`)}
        </select>
      </${Field}>
      ${value.role === "agent"
        ? html`<${Field} label=${t("adm.users.worker")} problem=${problemAt(problems, "worker_sid") || linkProblem}>
            <select name="worker_sid" value=${value.worker_sid} onChange=${set("worker_sid")}>
              <option value="">—</option>
              ${(workers.data || []).map((w) => html`<option value=${w.sid}>${w.friendly_name}</option>`)}
            </select>
          </${Field}>`
        : null}
      ${item ? html`<label class="check"><input type="checkbox" name="disabled" checked=${value.disabled} onChange=${set("disabled")} /> ${t("adm.users.disabled")}</label>` : null}
    </div>
    <${FormError} error=${linkProblem ? null : error} shown=${["username", "password", "role", "workspace_sid", "worker_sid"]} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
      <button type="submit" class="btn btn-primary" data-testid="save">${t("adm.save")}</button>
    </div>
  </form>`;
}

export function UsersPage({ workspaces }) {
  const load = useLoad(async () => {
    const users = await all("/users");
    const workers = {};
    for (const w of workspaces) for (const k of await all(wsPath(w.sid, "/workers"))) workers[k.sid] = k.friendly_name;
    return { users, workers };
  }, []);
  const [editing, setEditing] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const wsName = Object.fromEntries(workspaces.map((w) => [w.sid, w.friendly_name]));
  const remove = (u) =>
    ask(t("adm.confirmDelete", { name: u.username }), async () => {
      await api.del(`/users/${u.id}`);
      load.reload();
    });
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.users")} intro=${t("adm.users.intro")}>
      <button class="btn btn-primary" data-testid="add" onClick=${() => setEditing("new")}>${t("adm.users.add")}</button>
    </${PageHead}>
    ${editing
      ? html`<${UserForm} key=${editing === "new" ? "new" : editing.id} item=${editing === "new" ? null : editing} workspaces=${workspaces}
          onSaved=${() => { setEditing(null); load.reload(); }} onCancel=${() => setEditing(null)} />`
      : null}
    <section class="card">
      <${Table}
        testid="users"
        rows=${load.data.users}
        rowKey=${(u) => u.username}
        columns=${[
          { label: t("adm.users.username"), cell: (u) => html`<strong>${u.username}</strong>` },
          { label: t("adm.users.role"), cell: (u) => t(`role.${u.role}`) },
          { label: t("wall.workspace"), cell: (u) => wsName[u.workspace_sid] || "—" },
          { label: t("adm.users.worker"), cell: (u) => load.data.workers[u.worker_sid] || "—" },
          { label: t("adm.state"), cell: (u) => html`<span class=${`badge badge-${u.disabled ? "away" : "ready"}`}>${t(u.disabled ? "adm.users.disabled" : "adm.users.active")}</span>` },
          { label: "", cell: (u) => html`<${RowActions} onEdit=${() => setEditing(u)} onDelete=${() => remove(u)} />` },
        ]}
      />
    </section>
    ${dialog}
  </div>`;
}

// The supervisor's actions (#/supervisor/<tab>): force an agent's state, change its skills and so its queues
// live, close a number or a site now and reopen it, and the call recordings. Reached from the wallboard.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { stream } from "../stream.js";
import { t } from "../i18n.js";
import { ErrorBox } from "./error.js";
import { Field, FormError, Loading, Notice, PageHead, Table, useConfirm, useLoad } from "./admin_kit.js";
import { AttributeFields, attributeFields, attributesOf } from "./admin_workers.js";
import { Recordings } from "./supervisor_recordings.js";

const TABS = [
  ["agents", "sup.tab.agents"],
  ["emergency", "sup.tab.emergency"],
  ["recordings", "sup.tab.recordings"],
];
const tabOf = () => location.hash.replace(/^#\/?/, "").split(/[/?]/)[1] || "agents";

// The agent's skills and other attributes, and the queues they put it in now.
function SkillsEditor({ ws, worker, onSaved, onClose }) {
  const [fields, setFields] = useState(() => attributeFields(worker.attributes));
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const queues = useLoad(() => all(wsPath(ws, `/task-queues?worker_sid=${worker.sid}`)), [worker.sid]);
  const [attributes, local] = attributesOf(fields);
  const save = async (event) => {
    event.preventDefault();
    if (local.other || local.levels) return;
    try {
      await api.patch(wsPath(ws, `/workers/${worker.sid}`), { attributes });
      setError(null);
      setNotice(t("sup.agents.moved", { name: worker.friendly_name }));
      queues.reload();
      onSaved();
    } catch (exc) {
      setError(exc);
    }
  };
  return html`<form class="card form" data-testid="skills-form" onSubmit=${save}>
    <div class="admin-head">
      <h2>${t("sup.agents.skillsOf", { name: worker.friendly_name })}</h2>
      <button type="button" class="btn btn-ghost" onClick=${onClose}>${t("adm.close")}</button>
    </div>
    <div class="form-grid"><${AttributeFields} fields=${fields} onChange=${setFields} problems=${local} /></div>
    <div class="member-of">
      <strong>${t("sup.agents.queues")}</strong>
      <span data-testid="member-queues">
        ${queues.data
          ? queues.data.length
            ? queues.data.map((q) => html`<span class="chip" data-queue=${q.friendly_name}>${q.friendly_name}</span> `)
            : html`<span class="muted">${t("sup.agents.noQueues")}</span>`
          : html`<span class="muted">${t("common.loading")}</span>`}
      </span>
    </div>
    <${FormError} error=${error} />
    <${Notice} text=${notice} />
    <div class="form-actions"><button class="btn btn-primary" type="submit" data-testid="save-skills">${t("sup.agents.apply")}</button></div>
  </form>`;
}

function AgentsTab({ ws }) {
  const load = useLoad(async () => {
    const [workers, activities, queues] = await Promise.all([all(wsPath(ws, "/workers")), all(wsPath(ws, "/activities")), all(wsPath(ws, "/task-queues"))]);
    return { workers, activities, queues };
  }, [ws]);
  const [editing, setEditing] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    stream.subscribe(ws, ["worker.*"]);
    const off = stream.onEvent((event) => event.workspace_sid === ws && event.event_type.startsWith("worker.") && load.reload());
    return () => {
      off();
      stream.unsubscribe(ws);
    };
  }, [ws]);
  if (!load.data) return html`<${Loading} load=${load} />`;
  const force = async (worker, activity) => {
    try {
      await api.patch(wsPath(ws, `/workers/${worker.sid}`), { activity_sid: activity });
      setError(null);
      load.reload();
    } catch (exc) {
      setError(exc);
    }
  };
  const workers = [...load.data.workers].sort((a, b) => a.friendly_name.localeCompare(b.friendly_name));
  return html`<div class="admin-body">
    <${PageHead} title=${t("sup.tab.agents")} intro=${t("sup.agents.intro")} />
    <${ErrorBox} error=${error} />
    <section class="card">
      <${Table}
        testid="sup-agents"
        rows=${workers}
        rowKey=${(w) => w.friendly_name}
        columns=${[
          { label: t("wall.agent"), cell: (w) => html`<strong>${w.friendly_name}</strong>` },
          { label: t("wall.state"), cell: (w) => html`<span class=${`badge badge-${w.available ? "ready" : "away"}`} data-testid="agent-state">${w.activity_name}</span>` },
          {
            label: t("sup.agents.force"),
            cell: (w) => html`<select data-testid="force-state" aria-label=${t("sup.agents.force")} value=${w.activity_sid} onChange=${(e) => force(w, e.target.value)}>
              ${load.data.activities.map((a) => html`<option value=${a.sid}>${a.friendly_name}</option>`)}
            </select>`,
          },
          { label: t("adm.workers.skills"), cell: (w) => (w.attributes.skills || []).map((s) => html`<span class="chip">${s}</span> `) },
          { label: "", cell: (w) => html`<button class="btn btn-small" data-testid="edit-skills" onClick=${() => setEditing(w)}>${t("sup.agents.skills")}</button>` },
        ]}
      />
    </section>
    ${editing ? html`<${SkillsEditor} key=${editing.sid} ws=${ws} worker=${editing} onSaved=${load.reload} onClose=${() => setEditing(null)} />` : null}
  </div>`;
}

function EmergencyTab({ ws }) {
  const load = useLoad(async () => {
    const [closures, numbers] = await Promise.all([all(wsPath(ws, "/emergency")), all(wsPath(ws, "/numbers"))]);
    return { closures, numbers };
  }, [ws]);
  const [scope, setScope] = useState("site");
  const [target, setTarget] = useState("");
  const [kind, setKind] = useState("text");
  const [message, setMessage] = useState("");
  const [error, setError] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const { closures, numbers } = load.data;
  const sites = [...new Set(numbers.map((n) => n.site).filter(Boolean))];
  const targets = scope === "site" ? sites : numbers.map((n) => n.number);
  const chosen = target || targets[0] || "";
  const path = (s, to) => wsPath(ws, `/${s === "site" ? "sites" : "numbers"}/${encodeURIComponent(to)}/emergency`);
  const close = (event) => {
    event.preventDefault();
    const body = kind === "text" ? { text: message } : { prompt: message };
    ask(
      t("sup.emergency.confirmClose", { target: chosen }),
      async () => {
        try {
          await api.put(path(scope, chosen), body);
          setError(null);
          load.reload();
        } catch (exc) {
          setError(exc);
        }
      },
      t("sup.emergency.closeNow"),
    );
  };
  const reopen = (c) =>
    ask(
      t("sup.emergency.confirmReopen", { target: c.target }),
      async () => {
        await api.del(path(c.scope, c.target));
        load.reload();
      },
      t("sup.emergency.reopen"),
    );
  return html`<div class="admin-body">
    <${PageHead} title=${t("sup.tab.emergency")} intro=${t("sup.emergency.intro")} />
    <section class="card">
      <h2>${t("sup.emergency.closedNow")}</h2>
      <${Table}
        testid="closures"
        rows=${closures}
        rowKey=${(c) => c.target}
        empty=${t("sup.emergency.allOpen")}
        columns=${[
          { label: t("sup.emergency.what"), cell: (c) => html`<span class="badge badge-bad">${t(`sup.emergency.${c.scope}`)}</span> <strong>${c.target}</strong>` },
          { label: t("sup.emergency.message"), cell: (c) => c.text || html`<code>${c.prompt}</code>` },
          { label: t("sup.emergency.since"), cell: (c) => new Date(c.closed_at * 1000).toLocaleString() },
          { label: "", cell: (c) => html`<button class="btn btn-small btn-ready" data-testid="reopen" onClick=${() => reopen(c)}>${t("sup.emergency.reopen")}</button>` },
        ]}
      />
    </section>
    <form class="card form" data-testid="close-form" onSubmit=${close}>
      <h2>${t("sup.emergency.close")}</h2>
      <div class="form-grid">
        <${Field} label=${t("sup.emergency.what")}>
          <select name="scope" value=${scope} onChange=${(e) => { setScope(e.target.value); setTarget(""); }}>
            <option value="site">${t("sup.emergency.site")}</option>
            <option value="number">${t("sup.emergency.number")}</option>
          </select>
        </${Field}>
        <${Field} label=${t(scope === "site" ? "sup.emergency.site" : "sup.emergency.number")}>
          <select name="target" value=${chosen} onChange=${(e) => setTarget(e.target.value)}>
            ${targets.map((x) => html`<option value=${x}>${x}</option>`)}
          </select>
        </${Field}>
        <${Field} label=${t("sup.emergency.say")}>
          <select name="kind" value=${kind} onChange=${(e) => setKind(e.target.value)}>
            <option value="text">${t("sup.emergency.text")}</option>
            <option value="prompt">${t("sup.emergency.prompt")}</option>
          </select>
        </${Field}>
        <${Field} label=${t("sup.emergency.message")} wide=${true}>
          <input name="message" required value=${message} placeholder=${kind === "text" ? t("sup.emergency.textExample") : "emergency-closed"} onInput=${(e) => setMessage(e.target.value)} />
        </${Field}>
      </div>
      <${FormError} error=${error} />
      <div class="form-actions"><button class="btn btn-danger" type="submit" disabled=${!chosen} data-testid="close-now">${t("sup.emergency.closeNow")}</button></div>
    </form>
    ${dialog}
  </div>`;
}

export function Supervisor({ user, onSignedOut }) {
  const [tab, setTab] = useState(tabOf());
  const [workspaces, setWorkspaces] = useState(null);
  const [ws, setWs] = useState(user.workspace_sid || null);
  const [error, setError] = useState(null);
  useEffect(() => {
    const changed = () => setTab(tabOf());
    addEventListener("hashchange", changed);
    const fail = (exc) => (exc.status === 401 ? onSignedOut() : setError(exc));
    all("/workspaces")
      .then(async (items) => {
        const sid = user.workspace_sid || (items[0] || {}).sid;
        if (sid) await api.get(wsPath(sid, "/emergency?page_size=1")); // staff only: others get the API's 403
        setWorkspaces(items);
        setWs(sid);
      })
      .catch(fail);
    return () => removeEventListener("hashchange", changed);
  }, []);
  if (error) return html`<main class="page"><${ErrorBox} error=${error} /></main>`;
  if (!workspaces) return html`<main class="page"><div class="splash">${t("common.loading")}</div></main>`;
  const current = TABS.find(([name]) => name === tab) || TABS[0];
  let body = html`<div class="empty">${t("adm.noWorkspace")}</div>`;
  if (ws && current[0] === "agents") body = html`<${AgentsTab} key=${ws} ws=${ws} />`;
  else if (ws && current[0] === "emergency") body = html`<${EmergencyTab} key=${ws} ws=${ws} />`;
  else if (ws) body = html`<${Recordings} key=${ws} ws=${ws} />`;
  return html`<main class="console" data-testid="supervisor">
    <nav class="side-nav" aria-label=${t("sup.title")}>
      ${!user.workspace_sid && workspaces.length > 1
        ? html`<label class="side-ws">
            <span class="muted small">${t("wall.workspace")}</span>
            <select value=${ws} onChange=${(e) => setWs(e.target.value)}>${workspaces.map((w) => html`<option value=${w.sid}>${w.friendly_name}</option>`)}</select>
          </label>`
        : null}
      <div class="side-group">
        <div class="side-title">${t("sup.title")}</div>
        ${TABS.map(
          ([name, label]) => html`<a href=${`#/supervisor/${name}`} class=${name === current[0] ? "active" : ""} aria-current=${name === current[0] ? "page" : null}
            data-testid=${`nav-${name}`}>${t(label)}</a>`,
        )}
        <a href="#/wallboard">${t("nav.wallboard")}</a>
      </div>
    </nav>
    <section class="console-main">${body}</section>
  </main>`;
}

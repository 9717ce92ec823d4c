// Flows: a YAML editor checked by the server as the admin types (POST /flows/check, debounced), its problems
// at line:col (click one to jump there), publishing (PUT), the versions, and a read-only diagram.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { sendYaml } from "../raw.js";
import { t } from "../i18n.js";
import { toYaml } from "../yaml.js";
import { CodeEditor } from "../code_editor.js";
import { FlowDiagram } from "../graph.js";
import { Loading, Notice, PageHead, useConfirm, useLoad } from "./admin_kit.js";
import { ErrorBox } from "./error.js";

const CHECK_MS = 400;
const TEMPLATE = `start: welcome
nodes:
  welcome:
    type: play
    say: [{text: "Thank you for calling."}]
    next: bye
  bye: {type: hangup}
`;
const flowPath = (ws, name, rest = "") => wsPath(ws, `/flows/${encodeURIComponent(name)}${rest}`);

function Editor({ ws, name: initialName, onPublished, onDeleted }) {
  const fresh = initialName === null;
  const [name, setName] = useState(initialName || "");
  const [text, setText] = useState(fresh ? TEMPLATE : "");
  const [check, setCheck] = useState(null); // the last answer of /flows/check
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [versions, setVersions] = useState([]);
  const [version, setVersion] = useState(null);
  const [graph, setGraph] = useState(null);
  const [jump, setJump] = useState(null);
  const [ask, dialog] = useConfirm();
  const timer = useRef(null);
  const latest = useRef(0);

  const loadVersion = async (n) => {
    const flow = await api.get(flowPath(ws, initialName, n ? `?version=${n}` : ""));
    setText(toYaml(flow.definition));
    setVersion(flow.version);
    setGraph(await api.get(flowPath(ws, initialName, `/graph?version=${flow.version}`)));
  };
  useEffect(() => {
    if (fresh) return;
    Promise.all([loadVersion(null), all(flowPath(ws, initialName, "/versions")).then(setVersions)]).catch(setError);
  }, []);

  const runCheck = async (body, flowName) => {
    const n = ++latest.current;
    setChecking(true);
    try {
      const answer = await sendYaml("POST", wsPath(ws, `/flows/check?name=${encodeURIComponent(flowName || "draft")}`), body);
      if (n !== latest.current) return null;
      setCheck(answer);
      setGraph(answer.graph);
      setError(null);
      return answer;
    } catch (exc) {
      if (n === latest.current) setError(exc);
      return null;
    } finally {
      if (n === latest.current) setChecking(false);
    }
  };

  // Check as the admin types, once typing pauses.
  useEffect(() => {
    if (!text) return undefined;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => runCheck(text, name), CHECK_MS);
    return () => clearTimeout(timer.current);
  }, [text, name]);

  const publish = async () => {
    setNotice(null);
    const answer = await runCheck(text, name);
    if (!answer) return;
    if (!answer.valid) {
      setError(null);
      return;
    }
    try {
      const flow = await api.put(flowPath(ws, name), answer.definition);
      setNotice(t("adm.flows.published", { name, version: flow.version }));
      setVersion(flow.version);
      setVersions(await all(flowPath(ws, name, "/versions")));
      setGraph(await api.get(flowPath(ws, name, `/graph?version=${flow.version}`)));
      onPublished(name);
    } catch (exc) {
      setError(exc);
    }
  };
  const remove = () =>
    ask(t("adm.confirmDelete", { name }), async () => {
      await api.del(flowPath(ws, name));
      onDeleted();
    });

  const problems = (check && check.problems) || [];
  const bad = new Set(problems.map((p) => p.line));
  let status;
  if (checking) status = html`<span class="muted small" data-testid="check-status">${t("adm.flows.checking")}</span>`;
  else if (check && check.valid) status = html`<span class="badge badge-ready" data-testid="check-status">${t("adm.flows.valid")}</span>`;
  else if (check) status = html`<span class="badge badge-bad" data-testid="check-status">${t("adm.flows.problems", { count: problems.length })}</span>`;
  return html`<div class="flow-editor">
    <div class="card form">
      <div class="flow-toolbar">
        ${fresh
          ? html`<label class="inline-field"><span>${t("adm.name")}</span>
              <input name="flow-name" data-testid="flow-name" required pattern="[A-Za-z0-9_.-]+" value=${name} onInput=${(e) => setName(e.target.value)} /></label>`
          : html`<h2 class="flow-title">${name} ${version ? html`<span class="chip" data-testid="flow-version">v${version}</span>` : null}</h2>`}
        ${status}
        <span class="grow"></span>
        ${versions.length > 1
          ? html`<label class="inline-field"><span>${t("adm.flows.versions")}</span>
              <select data-testid="versions" value=${version || ""} onChange=${(e) => loadVersion(Number(e.target.value)).catch(setError)}>
                ${[...versions].reverse().map((v) => html`<option value=${v.version}>v${v.version} · ${new Date(v.created_at * 1000).toLocaleString()}</option>`)}
              </select></label>`
          : null}
        ${fresh ? null : html`<button class="btn btn-danger" data-testid="delete" onClick=${remove}>${t("adm.delete")}</button>`}
        <button class="btn btn-primary" data-testid="publish" disabled=${!name || checking} onClick=${publish}>${t("adm.flows.publish")}</button>
      </div>
      <${Notice} text=${notice} />
      <${ErrorBox} error=${error} />
      <${CodeEditor} value=${text} onInput=${setText} badLines=${bad} jumpTo=${jump} label=${t("adm.flows.yaml")} testid="flow-yaml" />
      ${problems.length
        ? html`<ul class="problems" data-testid="problems">
            ${problems.map(
              (p) => html`<li>
                <button class="link-btn" data-testid="problem" data-line=${p.line} onClick=${() => setJump({ line: p.line, col: p.col, n: Date.now() })}>
                  <code>${p.line}:${p.col}</code>
                </button>
                ${p.path ? html`<code class="muted">${p.path}</code>` : null} ${p.message}
              </li>`,
            )}
          </ul>`
        : null}
      <p class="muted small">${t("adm.flows.hint")}</p>
    </div>
    <section class="card diagram-card">
      <h2>${t("adm.flows.diagram")}</h2>
      ${graph && graph.nodes.length ? html`<div class="diagram-scroll"><${FlowDiagram} graph=${graph} title=${t("adm.flows.diagram")} /></div>` : html`<div class="empty">${t("adm.flows.noDiagram")}</div>`}
    </section>
    ${dialog}
  </div>`;
}

export function FlowsPage({ ws }) {
  const load = useLoad(() => all(wsPath(ws, "/flows")), [ws]);
  const [open, setOpen] = useState(undefined); // undefined: none, null: a new flow, else its name
  const [n, setN] = useState(0); // a new key per opening: the editor starts afresh
  if (!load.data) return html`<${Loading} load=${load} />`;
  const pick = (name) => {
    setOpen(name);
    setN(n + 1);
  };
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.flows")} intro=${t("adm.flows.intro")}>
      <button class="btn btn-primary" data-testid="add" onClick=${() => pick(null)}>${t("adm.flows.add")}</button>
    </${PageHead}>
    <div class="flow-layout">
      <aside class="card flow-list">
        <ul class="plain" data-testid="flows">
          ${load.data.length ? null : html`<li class="muted small">${t("adm.flows.none")}</li>`}
          ${load.data.map(
            (f) => html`<li>
              <button class=${`list-btn ${open === f.name ? "active" : ""}`} data-testid="flow" data-name=${f.name} onClick=${() => pick(f.name)}>
                <strong>${f.name}</strong> <span class="muted small">v${f.version}</span>
              </button>
            </li>`,
          )}
        </ul>
      </aside>
      <div class="grow">
        ${open === undefined
          ? html`<div class="card empty">${t("adm.flows.pick")}</div>`
          : html`<${Editor}
              key=${n}
              ws=${ws}
              name=${open}
              onPublished=${(name) => {
                load.reload();
                if (open === null) setOpen(name);
              }}
              onDeleted=${() => {
                setOpen(undefined);
                load.reload();
              }}
            />`}
      </div>
    </div>
  </div>`;
}

// Queues: who a queue takes (its target expression), how it picks among them, wrap-up and the activities on
// the way, and what callers waiting in it hear (the waiting options, GET/PUT/DELETE .../waiting).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { CheckField, Field, FormError, Loading, Notice, PageHead, RowActions, Table, UnitInput, numberOrNull, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

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

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"];
const CALLBACK = { key: "1", after: 30, confirm: true, workflow: null, retries: 2, retry_every: 300 };
const text = (n) => (n == null ? "" : String(n));

// The form's state from the options the API answers (GET/PUT .../waiting), and the body to PUT back.
export function waitingFields(options) {
  const callback = { ...CALLBACK, ...(options.callback || {}) };
  return {
    music: options.music || "",
    announce_position: !!options.announce_position,
    announce_wait: !!options.announce_wait,
    announce_every: text(options.announce_every),
    announcements: (options.announcements || []).map((a) => ({ prompt: a.prompt, every: text(a.every) })),
    offer_callback: !!options.callback,
    callback: { ...callback, after: text(callback.after), retries: text(callback.retries), retry_every: text(callback.retry_every), workflow: callback.workflow || "" },
    max_wait: text(options.max_wait),
    join_when_empty: !!options.join_when_empty,
    leave_when_empty: !!options.leave_when_empty,
  };
}

export function waitingBody(f) {
  const c = f.callback;
  return {
    music: f.music || null,
    announce_position: f.announce_position,
    announce_wait: f.announce_wait,
    announce_every: numberOrNull(f.announce_every),
    announcements: f.announcements.map((a) => ({ prompt: a.prompt || null, every: numberOrNull(a.every) })),
    callback: f.offer_callback
      ? { key: c.key, after: numberOrNull(c.after), confirm: c.confirm, workflow: c.workflow || null, retries: numberOrNull(c.retries), retry_every: numberOrNull(c.retry_every) }
      : null,
    max_wait: numberOrNull(f.max_wait),
    join_when_empty: f.join_when_empty,
    leave_when_empty: f.leave_when_empty,
  };
}

// A select of prompt names: the workspace's own, then the shipped ones; `none` is the empty choice's text.
function PromptSelect({ name, value, prompts, none, onChange }) {
  const known = prompts.stored.includes(value) || prompts.system.includes(value);
  return html`<select name=${name} value=${value} onChange=${(e) => onChange(e.target.value)}>
    <option value="">${none}</option>
    ${value && !known ? html`<option value=${value}>${value}</option>` : null}
    ${prompts.stored.length ? html`<optgroup label=${t("adm.queues.promptsStored")}>${prompts.stored.map((p) => html`<option value=${p}>${p}</option>`)}</optgroup>` : null}
    <optgroup label=${t("adm.queues.promptsSystem")}>${prompts.system.map((p) => html`<option value=${p}>${p}</option>`)}</optgroup>
  </select>`;
}

// The waiting options as a form: the center file's `waiting:` block, checked by the server (problems at their
// fields), or back to the defaults (DELETE).
function WaitingForm({ ws, queue, onClose }) {
  const path = wsPath(ws, `/task-queues/${queue.sid}/waiting`);
  const load = useLoad(async () => {
    const [options, prompts, workflows] = await Promise.all([api.get(path), all(wsPath(ws, "/prompts")), all(wsPath(ws, "/workflows"))]);
    const names = (system) => [...new Set(prompts.filter((p) => !!p.system === system).map((p) => p.name))].sort();
    return { options, prompts: { stored: names(false), system: names(true) }, workflows: workflows.map((w) => w.friendly_name) };
  }, [path]);
  const [fields, setFields] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  if (!load.data) return html`<${Loading} load=${load} />`;
  const { options, prompts, workflows } = load.data;
  const f = fields ?? waitingFields(options);
  const problems = problemsOf(error);
  const at = (key) => problemAt(problems, key);
  const set = (key) => (value) => setFields({ ...f, [key]: value });
  const setCallback = (key) => (value) => setFields({ ...f, callback: { ...f.callback, [key]: value } });
  const setAnnouncement = (i, patch) => setFields({ ...f, announcements: f.announcements.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  const seconds = t("adm.unit.seconds");
  const save = async (event) => {
    event.preventDefault();
    try {
      const saved = await api.put(path, waitingBody(f));
      load.setData({ ...load.data, options: saved });
      setFields(null);
      setError(null);
      setNotice(t("adm.saved"));
    } catch (exc) {
      setError(exc);
      setNotice(null);
    }
  };
  const reset = async () => {
    try {
      await api.del(path);
      setFields(null);
      setError(null);
      setNotice(t("adm.queues.waitingDefaults"));
      load.reload();
    } catch (exc) {
      setError(exc);
    }
  };
  const field = (key, label, input, hint) => html`<${Field} label=${label} problem=${at(key)} hint=${hint} testid=${`waiting-${key}`}>${input}</${Field}>`;
  // a checkbox's own problem only: those inside the callback block show at their fields
  const check = (key, label, checked, onChange) => html`<${CheckField} label=${label} name=${key.replace(".", "_")} checked=${checked} onChange=${onChange} problem=${problems[key]} testid=${`waiting-${key}`} />`;
  return html`<form class="card form" data-testid="waiting-form" noValidate onSubmit=${save}>
    <h2>${t("adm.queues.waitingOf", { name: queue.friendly_name })}
      <span class="chip" data-testid="waiting-state">${t(options.configured ? "adm.queues.configured" : "adm.queues.defaults")}</span></h2>
    <p class="muted small">${t("adm.queues.waitingIntro")}</p>

    <fieldset class="afieldset">
      <legend>${t("adm.queues.announcing")}</legend>
      <div class="form-grid">
        ${field("music", t("adm.queues.music"), html`<${PromptSelect} name="music" value=${f.music} prompts=${prompts} none=${t("adm.queues.musicDefault")} onChange=${set("music")} />`)}
        ${field("announce_every", t("adm.queues.announceEvery"),
          html`<${UnitInput} name="announce_every" min="0" value=${f.announce_every} unit=${seconds} placeholder="60" onInput=${set("announce_every")} />`,
          t("adm.queues.announceEveryHint"))}
        ${check("announce_position", t("adm.queues.announcePosition"), f.announce_position, set("announce_position"))}
        ${check("announce_wait", t("adm.queues.announceWait"), f.announce_wait, set("announce_wait"))}
      </div>
      <h3>${t("adm.queues.announcements")}</h3>
      ${f.announcements.length ? null : html`<p class="muted small">${t("adm.queues.noAnnouncements")}</p>`}
      ${f.announcements.map(
        (a, i) => html`<div class="form-grid announcement" data-testid="announcement">
          ${field(`announcements.${i}.prompt`, t("adm.queues.announcementPrompt", { n: i + 1 }),
            html`<${PromptSelect} name=${`announcement-${i}-prompt`} value=${a.prompt} prompts=${prompts} none="—" onChange=${(v) => setAnnouncement(i, { prompt: v })} />`)}
          ${field(`announcements.${i}.every`, t("adm.queues.every"),
            html`<${UnitInput} name=${`announcement-${i}-every`} min="1" value=${a.every} unit=${seconds} placeholder="60" onInput=${(v) => setAnnouncement(i, { every: v })} />`)}
          <div class="afield-action">
            <button type="button" class="btn btn-small btn-danger" aria-label=${`${t("adm.remove")}: ${t("adm.queues.announcementPrompt", { n: i + 1 })}`}
              onClick=${() => setFields({ ...f, announcements: f.announcements.filter((_, j) => j !== i) })}>${t("adm.remove")}</button>
          </div>
        </div>`,
      )}
      ${problems.announcements ? html`<div class="afield-error" data-testid="field-error">${problems.announcements}</div>` : null}
      <button type="button" class="btn btn-small" data-testid="add-announcement"
        onClick=${() => setFields({ ...f, announcements: [...f.announcements, { prompt: "", every: "60" }] })}>+ ${t("adm.queues.addAnnouncement")}</button>
    </fieldset>

    <fieldset class="afieldset">
      <legend>${t("adm.queues.callback")}</legend>
      ${check("callback", t("adm.queues.offerCallback"), f.offer_callback, set("offer_callback"))}
      ${f.offer_callback
        ? html`<div class="form-grid">
            ${field("callback.key", t("adm.queues.callbackKey"), html`<select name="callback_key" value=${f.callback.key} onChange=${(e) => setCallback("key")(e.target.value)}>
              ${KEYS.map((k) => html`<option value=${k}>${k}</option>`)}
            </select>`)}
            ${field("callback.after", t("adm.queues.callbackAfter"), html`<${UnitInput} name="callback_after" min="0" value=${f.callback.after} unit=${seconds} placeholder="30" onInput=${setCallback("after")} />`)}
            ${field("callback.workflow", t("adm.queues.callbackWorkflow"), html`<select name="callback_workflow" value=${f.callback.workflow} onChange=${(e) => setCallback("workflow")(e.target.value)}>
              <option value="">${t("adm.queues.callbackSameWorkflow")}</option>
              ${workflows.map((w) => html`<option value=${w}>${w}</option>`)}
            </select>`)}
            ${field("callback.retries", t("adm.queues.callbackRetries"), html`<input type="number" inputmode="numeric" min="0" step="1" name="callback_retries" value=${f.callback.retries} placeholder="2" onInput=${(e) => setCallback("retries")(e.target.value)} />`)}
            ${field("callback.retry_every", t("adm.queues.callbackRetryEvery"), html`<${UnitInput} name="callback_retry_every" min="1" value=${f.callback.retry_every} unit=${seconds} placeholder="300" onInput=${setCallback("retry_every")} />`)}
            ${check("callback.confirm", t("adm.queues.callbackConfirm"), f.callback.confirm, setCallback("confirm"))}
          </div>
          <p class="muted small">${t("adm.queues.callbackHint")}</p>`
        : null}
    </fieldset>

    <fieldset class="afieldset">
      <legend>${t("adm.queues.limits")}</legend>
      <div class="form-grid">
        ${field("max_wait", t("adm.queues.maxWait"), html`<${UnitInput} name="max_wait" min="1" value=${f.max_wait} unit=${seconds} placeholder=${t("adm.queues.noLimit")} onInput=${set("max_wait")} />`, t("adm.queues.maxWaitHint"))}
        ${check("join_when_empty", t("adm.queues.joinWhenEmpty"), f.join_when_empty, set("join_when_empty"))}
        ${check("leave_when_empty", t("adm.queues.leaveWhenEmpty"), f.leave_when_empty, set("leave_when_empty"))}
      </div>
    </fieldset>

    <${FormError} error=${error} shown=${WAITING_FIELDS} />
    <${Notice} text=${notice} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onClose}>${t("adm.close")}</button>
      <button type="button" class="btn" data-testid="waiting-defaults" onClick=${reset} disabled=${!options.configured}>${t("adm.queues.useDefaults")}</button>
      <button type="submit" class="btn btn-primary" data-testid="save-waiting">${t("adm.save")}</button>
    </div>
  </form>`;
}

const WAITING_FIELDS = ["music", "announce_every", "announce_position", "announce_wait", "announcements", "callback", "max_wait", "join_when_empty", "leave_when_empty"];

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

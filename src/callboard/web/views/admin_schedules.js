// Schedules: a time zone, weekly hours with split shifts, public holidays by country and subdivision, dates
// of the center's own, overrides of single days, and a checker of the state at a given time.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { Field, FormError, Loading, PageHead, RowActions, Table, problemAt, problemsOf, useConfirm, useLoad } from "./admin_kit.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const splitHours = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

function blank() {
  return { name: "", time_zone: "Europe/Madrid", weekly: Object.fromEntries(DAYS.map((d) => [d, []])), country: "", subdivision: "", dates: [], overrides: [] };
}

function fromItem(item) {
  const value = blank();
  value.name = item.name;
  value.time_zone = item.time_zone || "";
  for (const d of DAYS) value.weekly[d] = [...((item.weekly || {})[d] || [])];
  value.country = (item.holidays && item.holidays.country) || "";
  value.subdivision = (item.holidays && item.holidays.subdivision) || "";
  value.dates = (item.dates || []).map((d) => ({ date: d.date, name: d.name || "" }));
  value.overrides = (item.overrides || []).map((o) => ({ date: o.date, closed: !!o.closed, hours: (o.hours || []).join(", ") }));
  return value;
}

function toBody(value) {
  const body = { time_zone: value.time_zone, weekly: {} };
  for (const d of DAYS) if (value.weekly[d].length) body.weekly[d] = value.weekly[d].filter(Boolean);
  if (value.country) body.holidays = value.subdivision ? { country: value.country, subdivision: value.subdivision } : { country: value.country };
  if (value.dates.length) body.dates = value.dates.map((d) => (d.name ? { date: d.date, name: d.name } : { date: d.date }));
  if (value.overrides.length) {
    body.overrides = value.overrides.map((o) => (o.closed ? { date: o.date, closed: true } : { date: o.date, hours: splitHours(o.hours) }));
  }
  return body;
}

function WeeklyHours({ weekly, onChange, problems }) {
  const setShift = (day, i, text) => onChange({ ...weekly, [day]: weekly[day].map((s, j) => (j === i ? text : s)) });
  const add = (day) => onChange({ ...weekly, [day]: [...weekly[day], weekly[day].length ? "16:00-19:00" : "09:00-14:00"] });
  const drop = (day, i) => onChange({ ...weekly, [day]: weekly[day].filter((_, j) => j !== i) });
  return html`<table class="table hours" data-testid="weekly">
    <tbody>
      ${DAYS.map(
        (day) => html`<tr data-day=${day}>
          <th scope="row">${t(`adm.day.${day}`)}</th>
          <td>
            <div class="shifts">
              ${weekly[day].length ? null : html`<span class="muted small">${t("adm.schedules.closedDay")}</span>`}
              ${weekly[day].map(
                (shift, i) => html`<span class="shift">
                  <input class=${`shift-input ${problems[`weekly.${day}.${i}`] ? "input-bad" : ""}`} value=${shift} aria-label=${`${day} ${i + 1}`}
                    onInput=${(e) => setShift(day, i, e.target.value)} />
                  <button type="button" class="icon-btn icon-small" title=${t("adm.remove")} aria-label=${t("adm.remove")} onClick=${() => drop(day, i)}>×</button>
                </span>`,
              )}
              <button type="button" class="btn btn-small" data-testid=${`add-shift-${day}`} onClick=${() => add(day)}>+ ${t("adm.schedules.shift")}</button>
            </div>
            ${problemAt(problems, `weekly.${day}`) ? html`<div class="afield-error">${problemAt(problems, `weekly.${day}`)}</div>` : null}
          </td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function ScheduleForm({ ws, item, onSaved, onCancel }) {
  const [value, setValue] = useState(() => (item ? fromItem(item) : blank()));
  const [error, setError] = useState(null);
  const problems = problemsOf(error);
  const set = (key) => (e) => setValue({ ...value, [key]: e.target.value });
  const setRow = (list, i, patch) => setValue({ ...value, [list]: value[list].map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const dropRow = (list, i) => setValue({ ...value, [list]: value[list].filter((_, j) => j !== i) });
  const save = async (event) => {
    event.preventDefault();
    try {
      await api.put(wsPath(ws, `/schedules/${encodeURIComponent(value.name)}`), toBody(value));
      onSaved();
    } catch (exc) {
      setError(exc);
    }
  };
  return html`<form class="card form" data-testid="schedule-form" onSubmit=${save}>
    <h2>${item ? t("adm.schedules.edit", { name: item.name }) : t("adm.schedules.add")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.name")}>
        <input name="name" required value=${value.name} readonly=${!!item} onInput=${set("name")} pattern="[A-Za-z0-9_.-]+" />
      </${Field}>
      <${Field} label=${t("adm.schedules.timeZone")} problem=${problemAt(problems, "time_zone")}>
        <input name="time_zone" value=${value.time_zone} onInput=${set("time_zone")} placeholder="Europe/Madrid" />
      </${Field}>
      <${Field} label=${t("adm.schedules.country")} problem=${problemAt(problems, "holidays.country") || problemAt(problems, "holidays")} hint=${t("adm.schedules.countryHint")}>
        <input name="country" value=${value.country} onInput=${set("country")} placeholder="ES" maxlength="3" />
      </${Field}>
      <${Field} label=${t("adm.schedules.subdivision")} problem=${problemAt(problems, "holidays.subdivision")}>
        <input name="subdivision" value=${value.subdivision} onInput=${set("subdivision")} placeholder="MD" />
      </${Field}>
    </div>
    <h3>${t("adm.schedules.weekly")}</h3>
    <p class="muted small">${t("adm.schedules.weeklyHint")}</p>
    <${WeeklyHours} weekly=${value.weekly} problems=${problems} onChange=${(weekly) => setValue({ ...value, weekly })} />
    <div class="two-cols">
      <div>
        <h3>${t("adm.schedules.dates")}</h3>
        ${value.dates.map(
          (d, i) => html`<div class="row-inline">
            <input type="date" value=${d.date} class=${problems[`dates.${i}.date`] ? "input-bad" : ""} onInput=${(e) => setRow("dates", i, { date: e.target.value })} />
            <input value=${d.name} placeholder=${t("adm.name")} onInput=${(e) => setRow("dates", i, { name: e.target.value })} />
            <button type="button" class="icon-btn icon-small" aria-label=${t("adm.remove")} onClick=${() => dropRow("dates", i)}>×</button>
          </div>`,
        )}
        ${problemAt(problems, "dates") ? html`<div class="afield-error">${problemAt(problems, "dates")}</div>` : null}
        <button type="button" class="btn btn-small" data-testid="add-date" onClick=${() => setValue({ ...value, dates: [...value.dates, { date: "", name: "" }] })}>
          + ${t("adm.schedules.addDate")}
        </button>
      </div>
      <div>
        <h3>${t("adm.schedules.overrides")}</h3>
        ${value.overrides.map(
          (o, i) => html`<div class="row-inline">
            <input type="date" value=${o.date} onInput=${(e) => setRow("overrides", i, { date: e.target.value })} />
            <label class="check"><input type="checkbox" checked=${o.closed} onChange=${(e) => setRow("overrides", i, { closed: e.target.checked })} /> ${t("adm.schedules.closed")}</label>
            ${o.closed ? null : html`<input value=${o.hours} placeholder="09:00-13:00" class=${problemAt(problems, `overrides.${i}`) ? "input-bad" : ""} onInput=${(e) => setRow("overrides", i, { hours: e.target.value })} />`}
            <button type="button" class="icon-btn icon-small" aria-label=${t("adm.remove")} onClick=${() => dropRow("overrides", i)}>×</button>
          </div>`,
        )}
        ${problemAt(problems, "overrides") ? html`<div class="afield-error">${problemAt(problems, "overrides")}</div>` : null}
        <button type="button" class="btn btn-small" data-testid="add-override" onClick=${() => setValue({ ...value, overrides: [...value.overrides, { date: "", closed: true, hours: "" }] })}>
          + ${t("adm.schedules.addOverride")}
        </button>
      </div>
    </div>
    <${FormError} error=${error} shown=${["time_zone", "holidays", "weekly", "dates", "overrides"]} />
    <div class="form-actions">
      <button type="button" class="btn" onClick=${onCancel}>${t("adm.cancel")}</button>
      <button type="submit" class="btn btn-primary" data-testid="save">${t("adm.save")}</button>
    </div>
  </form>`;
}

// When is the schedule open: its state at a moment (the schedule's local time), and until when.
function StateAt({ ws, names }) {
  const [name, setName] = useState(names[0] || "");
  const [at, setAt] = useState("");
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const check = async (event) => {
    event.preventDefault();
    try {
      const query = at ? `?at=${encodeURIComponent(at)}` : "";
      setAnswer(await api.get(wsPath(ws, `/schedules/${encodeURIComponent(name)}/state${query}`)));
      setError(null);
    } catch (exc) {
      setError(exc);
      setAnswer(null);
    }
  };
  const tone = answer && (answer.status === "open" ? "ready" : "away");
  return html`<form class="card form" data-testid="state-at" onSubmit=${check}>
    <h2>${t("adm.schedules.stateAt")}</h2>
    <div class="row-inline">
      <select value=${name} onChange=${(e) => setName(e.target.value)} aria-label=${t("adm.nav.schedules")}>
        ${names.map((n) => html`<option value=${n}>${n}</option>`)}
      </select>
      <input type="datetime-local" value=${at} onInput=${(e) => setAt(e.target.value)} aria-label=${t("adm.schedules.at")} />
      <button class="btn" type="submit" disabled=${!name} data-testid="check-state">${t("adm.check")}</button>
      ${answer
        ? html`<span data-testid="state-answer">
            <span class=${`badge badge-${tone}`}>${t(`adm.schedules.status.${answer.status}`)}</span>
            ${answer.holiday ? html` <strong>${answer.holiday}</strong>` : null}
            ${answer.until ? html` <span class="muted small">${t("adm.schedules.until", { time: new Date(answer.until * 1000).toLocaleString() })}</span>` : null}
          </span>`
        : null}
    </div>
    <${FormError} error=${error} />
  </form>`;
}

export function SchedulesPage({ ws }) {
  const load = useLoad(() => all(wsPath(ws, "/schedules")), [ws]);
  const [editing, setEditing] = useState(null);
  const [ask, dialog] = useConfirm();
  if (!load.data) return html`<${Loading} load=${load} />`;
  const remove = (s) =>
    ask(t("adm.confirmDelete", { name: s.name }), async () => {
      await api.del(wsPath(ws, `/schedules/${encodeURIComponent(s.name)}`));
      load.reload();
    });
  const hours = (s) =>
    DAYS.filter((d) => (s.weekly || {})[d] && s.weekly[d].length)
      .map((d) => `${t(`adm.day.${d}`)} ${s.weekly[d].join(", ")}`)
      .join(" · ");
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.schedules")} intro=${t("adm.schedules.intro")}>
      <button class="btn btn-primary" data-testid="add" onClick=${() => setEditing("new")}>${t("adm.schedules.add")}</button>
    </${PageHead}>
    ${editing
      ? html`<${ScheduleForm} ws=${ws} item=${editing === "new" ? null : editing}
          onSaved=${() => { setEditing(null); load.reload(); }} onCancel=${() => setEditing(null)} />`
      : null}
    <section class="card">
      <${Table}
        testid="schedules"
        rows=${load.data}
        rowKey=${(s) => s.name}
        columns=${[
          { label: t("adm.name"), cell: (s) => html`<strong>${s.name}</strong>` },
          { label: t("adm.schedules.timeZone"), cell: (s) => s.time_zone || "—" },
          { label: t("adm.schedules.weekly"), cell: (s) => html`<span class="small">${hours(s) || "—"}</span>` },
          { label: t("adm.schedules.holidays"), cell: (s) => (s.holidays ? [s.holidays.country, s.holidays.subdivision].filter(Boolean).join("-") : "—") },
          { label: "", cell: (s) => html`<${RowActions} onEdit=${() => setEditing(s)} onDelete=${() => remove(s)} />` },
        ]}
      />
    </section>
    ${load.data.length ? html`<${StateAt} ws=${ws} names=${load.data.map((s) => s.name)} />` : null}
    ${dialog}
  </div>`;
}

// Call recordings for supervisors: search the calls that have one by date, agent, queue and number, page
// back through them, and play one in the page (the API answers Range requests, so the player can seek).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { duration } from "../format.js";
import { Field, FormError, Loading, PageHead, Table, useLoad } from "./admin_kit.js";

const PAGE = 25;

export function Recordings({ ws }) {
  const people = useLoad(async () => {
    const [workers, queues] = await Promise.all([all(wsPath(ws, "/workers")), all(wsPath(ws, "/task-queues"))]);
    return { workers, queues };
  }, [ws]);
  const [filters, setFilters] = useState({ from: "", to: "", worker: "", queue: "", number: "" });
  const [pages, setPages] = useState([]); // the cursors of the pages shown so far: [{before, before_sid}]
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [playing, setPlaying] = useState(null);
  if (!people.data) return html`<${Loading} load=${people} />`;
  const names = Object.fromEntries(people.data.workers.map((w) => [w.sid, w.friendly_name]));
  const queueNames = Object.fromEntries(people.data.queues.map((q) => [q.sid, q.friendly_name]));
  const set = (key) => (e) => setFilters({ ...filters, [key]: e.target.value });

  const search = async (cursor, stack) => {
    const query = new URLSearchParams({ has_recording: "true", limit: String(PAGE) });
    if (filters.from) query.set("start_date", new Date(`${filters.from}T00:00:00`).toISOString());
    if (filters.to) query.set("end_date", new Date(new Date(`${filters.to}T00:00:00`).getTime() + 86400000).toISOString());
    if (filters.worker) query.set("worker_sid", filters.worker);
    if (filters.queue) query.set("queue_sid", filters.queue);
    if (filters.number) query.set("number", filters.number);
    if (cursor && cursor.before) {
      query.set("before", String(cursor.before));
      query.set("before_sid", cursor.before_sid);
    }
    try {
      setResult(await api.get(wsPath(ws, `/calls?${query}`)));
      setPages(stack);
      setError(null);
    } catch (exc) {
      setError(exc);
    }
  };
  const submit = (event) => {
    event.preventDefault();
    search(null, [null]);
  };
  const older = () => search({ before: result.meta.next_before, before_sid: result.meta.next_before_sid }, [...pages, { before: result.meta.next_before, before_sid: result.meta.next_before_sid }]);
  const newer = () => {
    const stack = pages.slice(0, -1);
    search(stack[stack.length - 1], stack);
  };
  return html`<div class="admin-body">
    <${PageHead} title=${t("sup.tab.recordings")} intro=${t("sup.rec.intro")} />
    <form class="card form" data-testid="recording-search" onSubmit=${submit}>
      <div class="form-grid form-grid-5">
        <${Field} label=${t("sup.rec.from")}><input type="date" name="from" value=${filters.from} onInput=${set("from")} /></${Field}>
        <${Field} label=${t("sup.rec.to")}><input type="date" name="to" value=${filters.to} onInput=${set("to")} /></${Field}>
        <${Field} label=${t("wall.agent")}>
          <select name="worker" value=${filters.worker} onChange=${set("worker")}>
            <option value="">${t("sup.rec.any")}</option>
            ${people.data.workers.map((w) => html`<option value=${w.sid}>${w.friendly_name}</option>`)}
          </select>
        </${Field}>
        <${Field} label=${t("wall.queue")}>
          <select name="queue" value=${filters.queue} onChange=${set("queue")}>
            <option value="">${t("sup.rec.any")}</option>
            ${people.data.queues.map((q) => html`<option value=${q.sid}>${q.friendly_name}</option>`)}
          </select>
        </${Field}>
        <${Field} label=${t("sup.rec.number")}><input name="number" value=${filters.number} placeholder="600 111 222" onInput=${set("number")} /></${Field}>
      </div>
      <${FormError} error=${error} />
      <div class="form-actions"><button class="btn btn-primary" type="submit" data-testid="search">${t("sup.rec.search")}</button></div>
    </form>
    ${playing
      ? html`<div class="card player" data-testid="recording-player">
          <strong>${playing.caller || t("pop.withheld")}</strong>
          <span class="muted small">${new Date(playing.started_at * 1000).toLocaleString()} · ${names[playing.worker_sid] || "—"}</span>
          <audio controls autoplay preload="auto" src=${playing.recording_url} data-testid="recording-audio"></audio>
        </div>`
      : null}
    ${result
      ? html`<section class="card">
          <${Table}
            testid="recordings"
            rows=${result.items}
            rowKey=${(c) => c.sid}
            empty=${t("sup.rec.none")}
            columns=${[
              { label: t("sup.rec.started"), cell: (c) => new Date(c.started_at * 1000).toLocaleString() },
              { label: t("sup.rec.caller"), cell: (c) => html`<span class="mono">${c.caller || "—"}</span>` },
              { label: t("sup.rec.called"), cell: (c) => html`<span class="mono">${c.called || "—"}</span>` },
              { label: t("wall.agent"), cell: (c) => names[c.worker_sid] || "—" },
              { label: t("wall.queue"), cell: (c) => queueNames[c.queue_sid] || "—" },
              { label: t("sup.rec.talk"), num: true, cell: (c) => duration(c.talk_seconds) },
              { label: t("sup.rec.outcome"), cell: (c) => (c.outcome ? t(`outcome.${c.outcome}`) : t("outcome.live")) },
              {
                label: "",
                cell: (c) => (c.recording_url ? html`<button class="btn btn-small" data-testid="play" onClick=${() => setPlaying(c)}>▶ ${t("adm.prompts.play")}</button>` : null),
              },
            ]}
          />
          <div class="pager">
            <button class="btn btn-small" disabled=${pages.length < 2} onClick=${newer} data-testid="newer">← ${t("sup.rec.newer")}</button>
            <button class="btn btn-small" disabled=${!result.meta.next_before} onClick=${older} data-testid="older">${t("sup.rec.older")} →</button>
          </div>
        </section>`
      : null}
  </div>`;
}

// The supervisor's wallboard, first part: per queue the tasks waiting, longest wait, service level and
// abandoned; the day's calls and service level per half hour (wallboard_charts.js); agents by state; each
// agent's state and time in state, the tasks it holds, and its handled tasks and AHT today. Read from the
// statistics API, patched from the stream at once, and read again shortly after any change. Second part: the
// calls agents are on now, to listen, whisper or barge (monitor.js).
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { stream } from "../stream.js";
import { clock, number, t } from "../i18n.js";
import { channelName, duration, useNow } from "../format.js";
import { ErrorBox } from "./error.js";
import { LiveCalls, liveCalls, useMonitorLine } from "./monitor.js";
import { CallsChart, LevelChart } from "./wallboard_charts.js";

const SETTLE_MS = 150; // a burst of events (a task offered, accepted, assigned) becomes one refresh
const REFRESH_MS = 15000; // cumulative figures move without events about a queue's own tasks
const INTERVAL = 1800; // the charts' intervals, in seconds

// A service level over no answered or late-abandoned task is not 100 %: there is nothing to tell yet.
const percent = (sl) => (sl.tasks_measured ? `${number(sl.percentage, { maximumFractionDigits: 0 })} %` : "—");

const waiting = (rt) => (rt.tasks_by_status.pending || 0) + (rt.tasks_by_status.reserved || 0);

function levelTone(percentage, measured) {
  if (!measured) return "";
  if (percentage >= 80) return "good";
  return percentage >= 60 ? "warn" : "bad";
}

// The tasks an agent holds: queue, caller (or channel) and how long: since the offer while it rings, since it was
// accepted after that (wrap-up included).
function HeldTasks({ tasks, now }) {
  if (!tasks.length) return html`<span class="muted">—</span>`;
  return tasks.map(
    (task) => html`<div class="held-task" data-testid="agent-task" data-status=${task.reservation_status}>
      <span>${task.task_queue_friendly_name || channelName(task.task_channel)}</span>
      <span class="muted"> · ${task.caller || channelName(task.task_channel)} · </span>
      <span class="num">${duration(now - (task.date_accepted ?? task.date_created))}</span>
      ${task.reservation_status === "accepted"
        ? null
        : html` <span class=${`badge badge-${task.reservation_status === "pending" ? "offered" : "away"}`}
            >${t(`agent.status.${task.reservation_status}`)}</span
          >`}
    </div>`,
  );
}

function Tile({ label, value, tone = "", testid }) {
  return html`<div class=${`tile ${tone ? `tile-${tone}` : ""}`} data-testid=${testid}>
    <div class="tile-value">${value}</div>
    <div class="tile-label">${label}</div>
  </div>`;
}

export function Wallboard({ user, onSignedOut }) {
  const [workspaces, setWorkspaces] = useState(user.workspace_sid ? [] : null);
  const [ws, setWs] = useState(user.workspace_sid || null);
  const [data, setData] = useState(null);
  const [workers, setWorkers] = useState([]);
  const [error, setError] = useState(null);
  const [calls, setCalls] = useState([]);
  const [monitorError, setMonitorError] = useState(null);
  const line = useMonitorLine(ws);
  const now = useNow();
  const timer = useRef(null);

  const fail = useCallback((exc) => (exc.status === 401 ? onSignedOut() : setError(exc)), [onSignedOut]);

  // Admins have no workspace of their own: they pick one.
  useEffect(() => {
    if (ws) return;
    all("/workspaces").then((items) => {
      setWorkspaces(items);
      if (items.length) setWs(items[0].sid);
    }, fail);
  }, []);

  const load = useCallback(async () => {
    if (!ws) return;
    try {
      const [queues, totals, people, activities, tasks, reservations, figures, intervals] = await Promise.all([
        all(wsPath(ws, "/task-queues/statistics")),
        api.get(wsPath(ws, "/statistics")),
        all(wsPath(ws, "/workers")),
        all(wsPath(ws, "/activities")),
        all(wsPath(ws, "/tasks?assignment_status=assigned")),
        all(wsPath(ws, "/reservations?reservation_status=accepted")),
        all(wsPath(ws, "/workers/statistics")),
        api.get(wsPath(ws, `/statistics/intervals?interval=${INTERVAL}`)),
      ]);
      const perWorker = Object.fromEntries(figures.map((f) => [f.worker_sid, f]));
      setData({ queues, totals, activities, perWorker, intervals: intervals.items, at: Date.now() / 1000 });
      setWorkers(people);
      setCalls(liveCalls(tasks, reservations, people));
      setError(null);
    } catch (exc) {
      fail(exc);
    }
  }, [ws, fail]);

  useEffect(() => {
    if (!ws) return undefined;
    load();
    const soon = () => {
      clearTimeout(timer.current);
      timer.current = setTimeout(load, SETTLE_MS);
    };
    stream.subscribe(ws, ["*"]);
    const offEvent = stream.onEvent((event) => {
      if (event.workspace_sid !== ws) return;
      if (event.event_type === "worker.activity.update") {
        const d = event.data;
        setWorkers((list) =>
          list.map((w) =>
            w.sid === event.resource_sid
              ? { ...w, activity_sid: d.activity_sid, activity_name: d.activity_name, available: d.available, date_status_changed: event.timestamp }
              : w,
          ),
        );
      }
      soon();
    });
    const offStatus = stream.onStatus((status) => status === "open" && soon());
    const every = setInterval(load, REFRESH_MS);
    return () => {
      offEvent();
      offStatus();
      clearInterval(every);
      clearTimeout(timer.current);
      stream.unsubscribe(ws);
    };
  }, [ws]);

  const picker =
    workspaces && workspaces.length > 1
      ? html`<label class="inline-field">
          <span>${t("wall.workspace")}</span>
          <select value=${ws} onChange=${(e) => setWs(e.target.value)}>
            ${workspaces.map((w) => html`<option value=${w.sid}>${w.friendly_name}</option>`)}
          </select>
        </label>`
      : null;

  if (!data) {
    return html`<main class="page">
      ${error ? html`<${ErrorBox} error=${error} onRetry=${load} />` : html`<div class="splash">${t("common.loading")}</div>`}
    </main>`;
  }

  const since = now - data.at; // ages grow between reads
  const age = (rt) => (waiting(rt) ? rt.longest_task_waiting_age + since : 0);
  const totalWaiting = data.queues.reduce((n, q) => n + waiting(q.realtime), 0);
  const longest = Math.max(0, ...data.queues.map((q) => age(q.realtime)));
  const level = data.totals.cumulative.service_level;
  const activities = data.activities;
  const byActivity = Object.fromEntries(activities.map((a) => [a.sid, 0]));
  for (const w of workers) byActivity[w.activity_sid] = (byActivity[w.activity_sid] || 0) + 1;
  const available = workers.filter((w) => w.available).length;
  const sorted = [...workers].sort((a, b) => a.friendly_name.localeCompare(b.friendly_name));

  return html`<main class="page wallboard">
    <div class="page-head">
      <h1>${t("wall.title")}</h1>
      ${picker}
      <span class="head-links">
        <a class="btn btn-small" href="#/supervisor/agents" data-testid="link-agents">${t("sup.tab.agents")}</a>
        <a class="btn btn-small" href="#/supervisor/emergency" data-testid="link-emergency">${t("sup.tab.emergency")}</a>
        <a class="btn btn-small" href="#/supervisor/recordings" data-testid="link-recordings">${t("sup.tab.recordings")}</a>
      </span>
      <span class="muted small" data-testid="updated">${t("wall.updated", { time: clock(new Date(data.at * 1000)) })}</span>
    </div>
    <${ErrorBox} error=${error} onRetry=${load} />
    <div class="tiles">
      <${Tile} label=${t("wall.waiting")} value=${totalWaiting} tone=${totalWaiting ? "warn" : ""} testid="tile-waiting" />
      <${Tile} label=${t("wall.longest")} value=${duration(longest)} testid="tile-longest" />
      <${Tile}
        label=${t("wall.serviceLevel")}
        value=${percent(level)}
        tone=${levelTone(level.percentage, level.tasks_measured)}
        testid="tile-service-level"
      />
      <${Tile} label=${t("wall.abandoned")} value=${data.totals.cumulative.tasks_canceled} testid="tile-abandoned" />
      <${Tile} label=${t("wall.available")} value=${`${available} / ${workers.length}`} tone="good" testid="tile-available" />
    </div>
    <section class="card">
      <h2>${t("wall.queues")}</h2>
      ${data.queues.length
        ? html`<table class="table" data-testid="queues">
            <thead>
              <tr>
                <th>${t("wall.queue")}</th>
                <th class="num">${t("wall.waiting")}</th>
                <th class="num">${t("wall.longest")}</th>
                <th class="num">${t("wall.serviceLevel")}</th>
                <th class="num">${t("wall.abandoned")}</th>
                <th class="num">${t("wall.answered")}</th>
                <th class="num">${t("wall.available")}</th>
              </tr>
            </thead>
            <tbody>
              ${data.queues.map((q) => {
                const rt = q.realtime;
                const sl = q.cumulative.service_level;
                return html`<tr data-testid="queue-row" data-queue=${q.friendly_name}>
                  <td>${q.friendly_name}</td>
                  <td class="num" data-testid="queue-waiting">${waiting(rt)}</td>
                  <td class="num">${duration(age(rt))}</td>
                  <td class="num"><span class=${`level level-${levelTone(sl.percentage, sl.tasks_measured)}`}
                    >${percent(sl)}</span></td>
                  <td class="num">${q.cumulative.tasks_canceled}</td>
                  <td class="num">${q.cumulative.reservations_accepted}</td>
                  <td class="num">${rt.total_available_workers} / ${rt.total_eligible_workers}</td>
                </tr>`;
              })}
            </tbody>
          </table>`
        : html`<div class="empty">${t("wall.noQueues")}</div>`}
      <p class="muted small">${t("wall.today")}</p>
    </section>
    <div class="charts">
      <section class="card">
        <h2>${t("wall.callsChart")}</h2>
        <${CallsChart} items=${data.intervals} />
      </section>
      <section class="card">
        <h2>${t("wall.levelChart")}</h2>
        <${LevelChart} items=${data.intervals} />
      </section>
    </div>
    <p class="muted small charts-note">${t("wall.chartsNote")}</p>
    <${ErrorBox} error=${monitorError} />
    <${LiveCalls} line=${line} calls=${calls} now=${now} onError=${setMonitorError} />
    <div class="columns">
      <section class="card side">
        <h2>${t("wall.agentsByState")}</h2>
        <ul class="by-state" data-testid="by-state">
          ${activities.map(
            (a) => html`<li>
              <span class=${`badge badge-${a.available ? "ready" : "away"}`}>${a.friendly_name}</span>
              <strong>${byActivity[a.sid] || 0}</strong>
            </li>`,
          )}
        </ul>
      </section>
      <section class="card grow">
        <h2>${t("wall.agents")}</h2>
        ${sorted.length
          ? html`<table class="table" data-testid="agents">
              <thead>
                <tr>
                  <th>${t("wall.agent")}</th>
                  <th>${t("wall.state")}</th>
                  <th class="num">${t("wall.timeInState")}</th>
                  <th class="num">${t("wall.tasks")}</th>
                  <th>${t("wall.currentTask")}</th>
                  <th class="num">${t("wall.handled")}</th>
                  <th class="num" title=${t("wall.ahtHint")}>${t("wall.aht")}</th>
                </tr>
              </thead>
              <tbody>
                ${sorted.map((w) => {
                  const stats = data.perWorker[w.sid];
                  const day = stats ? stats.cumulative : null;
                  return html`<tr data-testid="agent-row" data-agent=${w.friendly_name}>
                    <td>${w.friendly_name}</td>
                    <td><span class=${`badge badge-${w.available ? "ready" : "away"}`} data-testid="agent-state"
                      >${w.activity_name}</span></td>
                    <td class="num">${duration(now - w.date_status_changed)}</td>
                    <td class="num">${w.channels.reduce((n, c) => n + c.used, 0)}</td>
                    <td data-testid="agent-current"><${HeldTasks} tasks=${stats ? stats.realtime.tasks : []} now=${now} /></td>
                    <td class="num" data-testid="agent-handled">${day ? day.tasks_handled : "—"}</td>
                    <td class="num" data-testid="agent-aht" data-value=${day && day.tasks_handled ? Math.round(day.aht) : ""}
                      >${day && day.tasks_handled ? duration(day.aht) : "—"}</td>
                  </tr>`;
                })}
              </tbody>
            </table>`
          : html`<div class="empty">${t("wall.noAgents")}</div>`}
      </section>
    </div>
  </main>`;
}

// The agent desktop: the state bar (Ready / Not ready with a reason, time in state), the offers (reservations)
// with their screen pop, accept and reject, wrap-up with dispositions, and the offers missed and why. Kept
// live by the stream; keyboard shortcuts are listed in views/help.js. An agent whose worker has `phone: webrtc`
// answers calls in the page (the softphone, phone.js), the others on their desk phone, whose call the page steers
// with the same panel and shortcuts (answering and muting stay on the phone).
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { stream } from "../stream.js";
import { t } from "../i18n.js";
import { duration, typing, useNow } from "../format.js";
import { ErrorBox } from "./error.js";
import { Offer } from "./offer.js";
import { MISSED, Missed } from "./missed.js";
import { customerNumber } from "./screenpop.js";
import { useDeskLine, usePhone } from "../phone.js";
import { DeskIdle, KEYPAD, Softphone, lineState } from "./softphone.js";

const LIVE = "pending,accepted,wrapping";
const MISSED_SHOWN = 5;

// The offer rings a call on the agent's desk phone (offer.js says so on its card): it is answered there.
const deskCall = (reservation) =>
  !!document.querySelector(`[data-testid=offer][data-sid="${reservation.sid}"][data-desk-call=true]`);

export function AgentDesktop({ user, onSignedOut }) {
  const ws = user.workspace_sid;
  const me = user.worker_sid;
  const [worker, setWorker] = useState(null);
  const [activities, setActivities] = useState([]);
  const [reservations, setReservations] = useState([]);
  const [dispositions, setDispositions] = useState([]);
  const [missed, setMissed] = useState([]);
  const [error, setError] = useState(null);
  const [menu, setMenu] = useState(false);
  const [busy, setBusy] = useState(false);
  const [keypad, setKeypad] = useState(false);
  const [transferring, setTransferring] = useState(false);
  const now = useNow();
  const webrtc = !!(worker && worker.attributes && worker.attributes.phone === "webrtc");
  const phone = usePhone(ws, me, webrtc);
  const desk = useDeskLine(worker && !webrtc ? ws : null, me);
  // The line the panel and the shortcuts steer: the browser line, else the desk phone's call once read.
  const active = phone || (desk && desk.line ? desk : null);
  const onDesk = !phone && !!active;
  const phoneRef = useRef(null);
  phoneRef.current = phone || desk;

  const fail = useCallback(
    (exc) => {
      if (exc.status === 401) onSignedOut();
      else setError(exc);
    },
    [onSignedOut],
  );

  const loadReservations = useCallback(async () => {
    try {
      setReservations(await all(`${wsPath(ws, `/workers/${me}/reservations`)}?reservation_status=${LIVE}`));
    } catch (exc) {
      fail(exc);
    }
  }, [ws, me, fail]);

  const load = useCallback(async () => {
    setError(null);
    try {
      const [w, acts, codes] = await Promise.all([
        api.get(wsPath(ws, `/workers/${me}`)),
        all(wsPath(ws, "/activities")),
        api.get(wsPath(ws, "/dispositions")),
      ]);
      setWorker(w);
      setActivities(acts);
      setDispositions(codes.items);
    } catch (exc) {
      fail(exc);
    }
    loadReservations();
  }, [ws, me, fail, loadReservations]);

  useEffect(() => {
    if (!ws || !me) return undefined;
    load();
    stream.subscribe(ws, ["worker.*", "reservation.*"]);
    const offEvent = stream.onEvent((event) => {
      if (event.resource_type === "worker" && event.resource_sid === me && event.event_type === "worker.activity.update") {
        const d = event.data;
        setWorker((w) =>
          w && {
            ...w,
            activity_sid: d.activity_sid,
            activity_name: d.activity_name,
            available: d.available,
            date_status_changed: event.timestamp,
          },
        );
      } else if (event.event_type.startsWith("reservation.")) {
        const kind = MISSED[event.event_type];
        if (kind && event.data.worker_sid === me) noteMissed(kind, event);
        loadReservations();
        if (phoneRef.current) phoneRef.current.refresh(); // the line rings or stops ringing with the offer
        api.get(wsPath(ws, `/workers/${me}`)).then(setWorker, fail); // its channels' use changed
      }
    });
    // After a reconnect, events may have been missed: read the state again.
    let seen = stream.status;
    const offStatus = stream.onStatus((status) => {
      if (status === "open" && seen !== "open") {
        load();
        if (phoneRef.current) phoneRef.current.refresh(); // reopened if the server no longer has it
      }
      seen = status;
    });
    return () => {
      offEvent();
      offStatus();
      stream.unsubscribe(ws);
    };
  }, [ws, me]);

  // An offer that went away unanswered: say why, with the customer's number when the task tells it.
  const noteMissed = (kind, event) => {
    const item = { key: event.resource_sid, kind, reason: event.data.reason, at: event.timestamp, caller: null };
    setMissed((list) => [item, ...list.filter((m) => m.key !== item.key)].slice(0, MISSED_SHOWN));
    api.get(wsPath(ws, `/tasks/${event.data.task_sid}`)).then(
      (task) => {
        const caller = customerNumber(task.attributes || {});
        setMissed((list) => list.map((m) => (m.key === item.key ? { ...m, caller } : m)));
      },
      () => {},
    );
  };

  const ready = activities.find((a) => a.available);
  const reasons = activities.filter((a) => !a.available);

  const setActivity = async (activity) => {
    setMenu(false);
    if (!activity || !worker || worker.activity_sid === activity.sid) return;
    setBusy(true);
    try {
      setWorker(await api.patch(wsPath(ws, `/workers/${me}`), { activity_sid: activity.sid }));
      setError(null);
    } catch (exc) {
      fail(exc);
    } finally {
      setBusy(false);
    }
  };

  // A call control action on the line; the transfer dialog shows its own errors.
  const phoneAction = async (action, body) => {
    if (action === "hangup" || action === "transfer") setKeypad(false);
    try {
      await active.act(action, body);
      setError(null);
    } catch (exc) {
      if (action === "transfer") throw exc;
      fail(exc);
    }
    if (action === "answer" || action === "reject" || action === "transfer" || action === "hangup") loadReservations();
  };

  // A call offered to the softphone is answered on the line (which accepts the reservation), and ended there.
  const viaPhone = (reservation, action) => {
    if (!phone || phone.status !== "open" || reservation.task_channel !== "voice") return null;
    const state = lineState(phone);
    if (action === "wrapup") return state === "talking" || state === "connecting" ? "hangup" : null;
    return { accept: "answer", reject: "reject" }[action] || null;
  };

  const answer = async (reservation, action) => {
    const onLine = viaPhone(reservation, action);
    if (onLine) return phoneAction(onLine);
    try {
      await api.post(wsPath(ws, `/reservations/${reservation.sid}/${action}`));
      setError(null);
    } catch (exc) {
      fail(exc);
    }
    loadReservations();
  };

  // A reservation the API answered with (wrap-up extended): shown at once, before the list is read again.
  const updated = (reservation) => {
    setReservations((list) => list.map((r) => (r.sid === reservation.sid ? { ...r, ...reservation } : r)));
    setError(null);
  };

  // Shortcuts: the latest handlers through a ref, so the listener is added once.
  const keys = useRef(null);
  keys.current = (event) => {
    if (typing(event)) return;
    const pending = reservations.find((r) => r.reservation_status === "pending");
    const talking = reservations.find((r) => r.reservation_status === "accepted");
    const line = lineState(active);
    const onCall = line === "talking";
    if (menu && /^[1-9]$/.test(event.key)) {
      event.preventDefault();
      setActivity(reasons[Number(event.key) - 1]);
    } else if (event.key === "Escape") {
      setMenu(false);
      setTransferring(false);
    } else if (onCall && !transferring && !event.altKey && !event.ctrlKey && KEYPAD.includes(event.key)) {
      event.preventDefault();
      phoneAction("dtmf", { digits: event.key });
    } else if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const action = {
        KeyR: "ready", KeyN: "notReady", KeyA: "accept", KeyX: "reject", KeyW: "wrapup",
        KeyH: "hold", KeyM: "mute", KeyK: "keypad", KeyB: "transfer",
        KeyO: "consultComplete", KeyJ: "conference", KeyQ: "consultCancel", KeyL: "call",
      }[event.code]; // not Alt+D, E, F: the browser keeps them
      if (!action) return;
      event.preventDefault();
      const held = active && active.line && active.line.held;
      const muted = active && active.line && active.line.muted;
      const consult = active && active.line && active.line.consult;
      const consultLive = consult && (consult.state === "talking" || consult.state === "conference");
      const consulting = !!(consult || (active && active.consulting));
      if (action === "consultComplete") consultLive && active.consultStep("complete");
      else if (action === "conference") consultLive && active.consultStep("conference");
      else if (action === "consultCancel") consulting && active.consultStep("cancel"); // ringing, too
      else if (action === "call") {
        // The softphone's number field: called when it has a number, else focused.
        const field = line === "idle" && document.querySelector("[data-testid=dial-number]");
        if (field && field.value.trim()) document.querySelector("[data-testid=dial-go]").click();
        else if (field) field.focus();
      } else if (action === "ready") setActivity(ready);
      else if (action === "hold") onCall && !consulting && phoneAction(held ? "resume" : "hold");
      else if (action === "mute") onCall && !onDesk && phoneAction(muted ? "unmute" : "mute");
      else if (action === "keypad") onCall && setKeypad(!keypad);
      else if (action === "transfer") onCall && !consulting && setTransferring(true);
      else if (line === "ringing" && (action === "accept" || action === "reject")) {
        if (!onDesk) phoneAction(action === "accept" ? "answer" : "reject"); // a desk phone answers on the phone
      }
      else if (action === "wrapup" && (line === "talking" || line === "connecting")) phoneAction("hangup");
      else if (action === "notReady") setMenu(true);
      else if (action === "wrapup") talking && answer(talking, action);
      else if (pending && !(action === "accept" && deskCall(pending))) answer(pending, action);
    }
  };
  useEffect(() => {
    const onKey = (event) => keys.current(event);
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  if (!ws || !me) {
    return html`<main class="page"><div class="card empty">${t("agent.noWorker")}</div></main>`;
  }
  if (!worker) {
    return html`<main class="page">
      ${error ? html`<${ErrorBox} error=${error} onRetry=${load} />` : html`<div class="splash">${t("common.loading")}</div>`}
    </main>`;
  }

  const isReady = worker.available;
  const firstWrapping = (reservations.find((r) => r.reservation_status === "wrapping") || {}).sid;
  const tone = isReady ? "ready" : "away";
  return html`<main class="page agent">
    <section class=${`card statebar statebar-${tone}`} data-testid="state-bar">
      <div class="state-now">
        <span class="muted small">${t("agent.state")}</span>
        <div class="state-line">
          <span class=${`badge badge-lg badge-${tone}`} data-testid="my-state">${worker.activity_name}</span>
          <span class="state-timer" data-testid="time-in-state">${duration(now - worker.date_status_changed)}</span>
          <span class="muted">${t("agent.timeInState")}</span>
        </div>
      </div>
      <div class="state-actions">
        <button
          class="btn btn-ready"
          data-testid="go-ready"
          aria-pressed=${isReady}
          disabled=${busy || isReady || !ready}
          onClick=${() => setActivity(ready)}
          title="Alt+R"
        >
          ${t("agent.ready")} <kbd>Alt+R</kbd>
        </button>
        <div class="menu-anchor">
          <button
            class="btn btn-away"
            data-testid="go-not-ready"
            aria-haspopup="menu"
            aria-expanded=${menu}
            disabled=${busy}
            onClick=${() => setMenu(!menu)}
            title="Alt+N"
          >
            ${t("agent.notReady")} ▾ <kbd>Alt+N</kbd>
          </button>
          ${menu
            ? html`<div class="menu" role="menu" aria-label=${t("agent.reasons")} data-testid="reasons">
                <div class="menu-title">${t("agent.reasons")}</div>
                ${reasons.map(
                  (a, i) => html`<button
                    role="menuitem"
                    class=${a.sid === worker.activity_sid ? "current" : ""}
                    onClick=${() => setActivity(a)}
                  >
                    <span>${a.friendly_name}</span>${i < 9 ? html`<kbd>${i + 1}</kbd>` : null}
                  </button>`,
                )}
              </div>`
            : null}
        </div>
      </div>
    </section>
    <${ErrorBox} error=${error} />
    <${Missed} items=${missed} worker=${worker} onDismiss=${(key) => setMissed((l) => l.filter((m) => m.key !== key))} />
    <div class="columns">
      <section class="card grow">
        <h2>${t("agent.offers")}</h2>
        ${reservations.length
          ? html`<ul class="offers" data-testid="offers">
              ${reservations.map(
                (r) => html`<${Offer}
                  key=${r.sid}
                  ws=${ws}
                  reservation=${r}
                  now=${now}
                  worker=${worker}
                  dispositions=${dispositions}
                  primary=${r.sid === firstWrapping}
                  onAnswer=${answer}
                  onPhone=${viaPhone(r, "accept") !== null}
                  desk=${!!worker && !webrtc}
                  onUpdate=${updated}
                  onDone=${loadReservations}
                  fail=${fail}
                />`,
              )}
            </ul>`
          : html`<div class="empty" data-testid="no-offers">
              <div>${t("agent.noOffers")}</div>
              ${isReady ? null : html`<div class="muted small">${t("agent.noOffersHint")}</div>`}
            </div>`}
      </section>
      <aside class="side side-stack">
        ${active
          ? html`<${Softphone}
              ws=${ws}
              me=${me}
              phone=${active}
              now=${now}
              keypad=${keypad}
              onKeypad=${setKeypad}
              transferring=${transferring}
              onTransfer=${setTransferring}
              onAction=${phoneAction}
            />`
          : webrtc
            ? null
            : html`<${DeskIdle} />`}
        <section class="card">
        <h2>${t("agent.today")}</h2>
        <dl class="facts">
          <dt>${t("agent.tasksAssigned")}</dt>
          <dd>${worker.tasks_assigned}</dd>
          <dt>${t("agent.talkTime")}</dt>
          <dd>${duration(worker.talk_seconds)}</dd>
          <dt>${t("agent.channels")}</dt>
          <dd>${worker.channels.map((c) => `${c.task_channel} ${c.used}/${c.capacity}`).join(" · ")}</dd>
        </dl>
        </section>
      </aside>
    </div>
  </main>`;
}

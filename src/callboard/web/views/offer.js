// One reservation on the agent desktop: the offer (ringing, with the time left to answer, accept / reject),
// the screen pop of its customer while it lasts, and the wrap-up once the conversation has ended.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { api, wsPath } from "../api.js";
import { t } from "../i18n.js";
import { channelName, duration } from "../format.js";
import { startRinging } from "../ring.js";
import { ScreenPop } from "./screenpop.js";
import { WrapUp } from "./wrapup.js";

export function Offer(props) {
  // onPhone: it rings the softphone; desk: the agent takes calls on a desk phone
  const { ws, reservation: r, now, onAnswer, onPhone, desk } = props;
  const [task, setTask] = useState(null);
  useEffect(() => {
    api.get(wsPath(ws, `/tasks/${r.task_sid}`)).then(setTask, () => setTask(null));
  }, [ws, r.task_sid]);

  const status = r.reservation_status;
  const pending = status === "pending";
  // The agent's own call out (click-to-call) is given to it accepted at once: it never rings.
  const own = !!(task && task.attributes && task.attributes.manual_dial);
  useEffect(() => (pending && !own ? startRinging() : undefined), [pending, own]);
  // A call ringing the agent's desk phone is answered there: accepting it here would take the task without
  // the call. Rejecting it stops the phone ringing.
  const deskCall = !!(desk && task && task.attributes && task.attributes.call_sid);

  return html`<li class=${`offer offer-${status}`} data-testid="offer" data-sid=${r.sid} data-status=${status}
    data-ringing=${pending ? "true" : "false"} data-desk-call=${deskCall ? "true" : "false"}>
    <div class="offer-head">
      <span class="chip">${channelName(r.task_channel)}</span>
      <span class=${`badge badge-${pending ? "offered" : "busy"}`} data-testid="offer-status"
        >${t(`agent.status.${status}`)}</span
      >
      ${task ? html`<span class="muted small">${t("agent.priority", { priority: task.priority })}</span>` : null}
      ${task && pending ? html`<span class="muted small">${t("agent.waited", { time: duration(now - task.date_created) })}</span>` : null}
      <div class="offer-actions">
        ${pending && r.timeout_at
          ? html`<span class="countdown">${t("agent.expiresIn", { time: duration(r.timeout_at - now) })}</span>`
          : null}
        ${pending && deskCall ? html`<span class="muted small" data-testid="answer-on-desk">${t("agent.answerOnDesk")}</span>` : null}
        ${pending
          ? html`${deskCall
                ? null
                : html`<button class="btn btn-ready" data-testid="accept" onClick=${() => onAnswer(r, "accept")} title="Alt+A">
                    ${onPhone ? t("phone.answer") : t("agent.accept")}
                  </button>`}
              <button class="btn btn-danger" data-testid="reject" onClick=${() => onAnswer(r, "reject")} title="Alt+X">
                ${t("agent.reject")}
              </button>`
          : null}
        ${status === "accepted"
          ? html`<button class="btn btn-away" data-testid="wrap" onClick=${() => onAnswer(r, "wrapup")} title="Alt+W">
              ${t("agent.wrap")} <kbd>Alt+W</kbd>
            </button>`
          : null}
      </div>
    </div>
    <${ScreenPop} ws=${ws} reservation=${r} task=${task} now=${now} dispositions=${props.dispositions} />
    ${status === "wrapping" && task ? html`<${WrapUp} ...${props} task=${task} />` : null}
  </li>`;
}

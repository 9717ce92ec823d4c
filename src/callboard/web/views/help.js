// The keyboard help, opened with "?" or the header's button. The call keys steer the browser line or the desk
// phone's call alike; those marked `browser` do nothing for a desk phone (muting and dialing stay on the phone).
import { useEffect, useRef } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../i18n.js";

export const SHORTCUTS = [
  [["Alt", "R"], "help.ready"],
  [["Alt", "N"], "help.notReady"],
  [["1", "…", "9"], "help.reason"],
  [["Alt", "A"], "help.accept"],
  [["Alt", "X"], "help.reject"],
  [["Alt", "W"], "help.wrap"],
  [["Alt", "T"], "help.extend"],
  [["Alt", "C"], "help.done"],
  [["Alt", "H"], "help.hold"],
  [["Alt", "M"], "help.mute", "browser"],
  [["Alt", "K"], "help.keypad"],
  [["Alt", "B"], "help.transfer"],
  [["Alt", "O"], "help.consultComplete"],
  [["Alt", "J"], "help.conference"],
  [["Alt", "Q"], "help.consultCancel"],
  [["Alt", "L"], "help.call", "browser"],
  [["0", "…", "9"], "help.digits"],
  [["?"], "help.help"],
  [["Esc"], "help.close"],
];

// ["Alt", "R"] -> Alt + R; ["1", "…", "9"] -> 1 … 9.
const keyLabel = (keys) =>
  keys.map(
    (k, i) => html`${i ? (keys.includes("…") ? " " : " + ") : ""}${k === "…" ? "…" : html`<kbd>${k}</kbd>`}`,
  );

export function Help({ onClose }) {
  const closer = useRef(null);
  useEffect(() => closer.current && closer.current.focus(), []);
  return html`<div class="overlay" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title" data-testid="help">
      <div class="dialog-head">
        <h2 id="help-title">${t("help.title")}</h2>
        <button class="icon-btn" ref=${closer} aria-label=${t("common.close")} onClick=${onClose}>×</button>
      </div>
      <table class="shortcuts">
        <tbody>
          ${SHORTCUTS.map(
            ([keys, label, only]) => html`<tr>
              <td class="keys">${keyLabel(keys)}</td>
              <td>
                ${t(label)}
                ${only ? html` <span class="muted small" data-only=${only}>(${t("help.browserOnly")})</span>` : null}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </div>`;
}

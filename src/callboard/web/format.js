// Small helpers shared by the views: durations, a ticking clock, error texts.
import { useEffect, useState } from "preact/hooks";
import { has, t } from "./i18n.js";

// 75 -> "1:15", 3725 -> "1:02:05"; negative or missing -> "0:00".
export function duration(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// Seconds since the epoch, re-rendering the caller every `ms`.
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now() / 1000);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now() / 1000), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

// What to tell the user about an ApiError: our text for ids we know, else the server's message.
export function errorText(error) {
  if (error.id === "rate_limited") return t("error.rate_limited", { seconds: error.retryAfter || 60 });
  return has(`error.${error.id}`) ? t(`error.${error.id}`) : error.message;
}

export const channelName = (channel) => (has(`channel.${channel}`) ? t(`channel.${channel}`) : channel);

// Whether a key event comes from a field the user types in (shortcuts must not fire there).
export function typing(event) {
  const el = event.target;
  return el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

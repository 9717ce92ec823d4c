// The bar on top of every screen: product, the screens the role may open, the stream's state, the user,
// language, theme, help and sign-out.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { LANGUAGES, t } from "../i18n.js";
import { stream } from "../stream.js";
import { theme, toggleTheme } from "../theme.js";

const LINKS = {
  agent: [["agent", "nav.desktop"]],
  supervisor: [
    ["wallboard", "nav.wallboard"],
    ["supervisor", "nav.supervisor"],
  ],
  admin: [
    ["admin", "nav.admin"],
    ["wallboard", "nav.wallboard"],
    ["supervisor", "nav.supervisor"],
  ],
};

function StreamStatus() {
  const [status, setStatus] = useState(stream.status);
  useEffect(() => stream.onStatus(setStatus), []);
  return html`<span class="live live-${status}" data-testid="stream-status" title=${t(`stream.${status}`)}>
    <span class="dot"></span>${t(`stream.${status}`)}
  </span>`;
}

export function Header({ user, route, lang, onLanguage, onLogout, onHelp }) {
  const [mode, setMode] = useState(theme());
  return html`<header class="topbar">
    <a class="brand" href="#/">
      <img src="/ui/icon.svg" alt="" width="24" height="24" />
      <span>Callboard</span>
      <span class="brand-tag">${t("app.tagline")}</span>
    </a>
    <nav class="nav">
      ${user
        ? (LINKS[user.role] || []).map(
            ([to, label]) =>
              html`<a href=${`#/${to}`} class=${route === to ? "active" : ""} aria-current=${route === to ? "page" : null}
                >${t(label)}</a
              >`,
          )
        : null}
    </nav>
    <div class="tools">
      ${user ? html`<${StreamStatus} />` : null}
      <select
        class="select-compact"
        aria-label=${t("header.language")}
        title=${t("header.language")}
        data-testid="language"
        value=${lang}
        onChange=${(e) => onLanguage(e.target.value)}
      >
        ${Object.entries(LANGUAGES).map(([code, name]) => html`<option value=${code}>${name}</option>`)}
      </select>
      <button
        class="icon-btn"
        data-testid="theme-toggle"
        title=${t(mode === "dark" ? "header.theme.toLight" : "header.theme.toDark")}
        aria-label=${t(mode === "dark" ? "header.theme.toLight" : "header.theme.toDark")}
        onClick=${() => setMode(toggleTheme())}
      >
        ${mode === "dark" ? "☀" : "☾"}
      </button>
      ${user
        ? html`<button class="icon-btn" title=${t("header.help")} aria-label=${t("header.help")} onClick=${onHelp}>?</button>
            <div class="user" data-testid="user">
              <span class="avatar">${user.username.slice(0, 1).toUpperCase()}</span>
              <span class="user-text">
                <span class="user-name">${user.username}</span>
                <span class="user-role">${t(`role.${user.role}`)}</span>
              </span>
            </div>
            <button class="btn btn-ghost" data-testid="logout" onClick=${onLogout}>${t("header.logout")}</button>`
        : null}
    </div>
  </header>`;
}

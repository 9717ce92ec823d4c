// The app shell: who is logged in, the hash route (#/login, #/agent, #/wallboard, #/admin), the header and
// the keyboard help. Each role lands on its own screen.
import { render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { logout, me } from "./api.js";
import { closeLine } from "./phone.js";
import { stream } from "./stream.js";
import { language, setLanguage, t } from "./i18n.js";
import { typing } from "./format.js";
import "./theme.js";
import { Header } from "./views/header.js";
import { Help } from "./views/help.js";
import { Login } from "./views/login.js";
import { AgentDesktop } from "./views/agent.js";
import { Wallboard } from "./views/wallboard.js";
import { Admin } from "./views/admin.js";
import { Supervisor } from "./views/supervisor.js";

const HOME = { agent: "agent", supervisor: "wallboard", admin: "admin" };
const VIEWS = { agent: AgentDesktop, wallboard: Wallboard, admin: Admin, supervisor: Supervisor };

const routeOf = () => location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];

function go(route) {
  if (routeOf() !== route) history.replaceState(null, "", `#/${route}`);
}

function App() {
  const [user, setUser] = useState(undefined); // undefined while asking the server, null when logged out
  const [route, setRoute] = useState(routeOf());
  const [lang, setLang] = useState(language());
  const [help, setHelp] = useState(false);

  useEffect(() => {
    const changed = () => setRoute(routeOf());
    addEventListener("hashchange", changed);
    me().then(setUser, () => setUser(null));
    return () => removeEventListener("hashchange", changed);
  }, []);

  useEffect(() => {
    if (user) stream.start();
    else if (user === null) stream.stop();
  }, [user]);

  useEffect(() => {
    const onKey = (event) => {
      if (event.key === "?" && !typing(event)) setHelp((shown) => !shown);
      else if (event.key === "Escape") setHelp(false);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  const signedOut = useCallback(() => {
    stream.stop();
    setUser(null);
  }, []);

  const onLogout = async () => {
    await closeLine(); // the softphone's line, while the session still lets it
    try {
      await logout();
    } catch {
      // the session is gone either way
    }
    signedOut();
  };

  const onLanguage = (next) => {
    setLanguage(next);
    setLang(next);
  };

  let current = route;
  if (user === null) current = "login";
  else if (user && (!current || current === "login")) current = HOME[user.role] || "admin";
  useEffect(() => {
    if (user !== undefined) go(current);
  }, [user, current]);

  if (user === undefined) return html`<div class="splash">${t("common.loading")}</div>`;

  const View = VIEWS[current];
  let body;
  if (current === "login") {
    body = html`<${Login} onLogin=${(u) => setUser(u)} />`;
  } else if (View) {
    body = html`<${View} user=${user} lang=${lang} onSignedOut=${signedOut} />`;
  } else {
    body = html`<main class="page"><div class="card empty">${t("notFound")}</div></main>`;
  }
  return html`
    <div class="shell">
      <${Header}
        user=${user}
        route=${current}
        lang=${lang}
        onLanguage=${onLanguage}
        onLogout=${onLogout}
        onHelp=${() => setHelp(true)}
      />
      ${body}
      ${help ? html`<${Help} onClose=${() => setHelp(false)} />` : null}
    </div>
  `;
}

render(html`<${App} />`, document.getElementById("app"));

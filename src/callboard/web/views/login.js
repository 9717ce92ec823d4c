// The sign-in form; bad credentials, a locked-out username and an unreachable server are told apart.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { login } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox } from "./error.js";

export function Login({ onLogin }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(username.trim(), password));
    } catch (exc) {
      setError(exc);
      setPassword("");
    } finally {
      setBusy(false);
    }
  };

  return html`<main class="login-page">
    <form class="card login-card" onSubmit=${submit} data-testid="login-form">
      <h1>${t("login.title")}</h1>
      <p class="muted">${t("login.intro")}</p>
      <${ErrorBox} error=${error} />
      <label class="field">
        <span>${t("login.username")}</span>
        <input
          name="username"
          autocomplete="username"
          required
          autofocus
          value=${username}
          onInput=${(e) => setUsername(e.target.value)}
        />
      </label>
      <label class="field">
        <span>${t("login.password")}</span>
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value=${password}
          onInput=${(e) => setPassword(e.target.value)}
        />
      </label>
      <button class="btn btn-primary btn-block" type="submit" disabled=${busy}>
        ${busy ? t("login.busy") : t("login.submit")}
      </button>
    </form>
  </main>`;
}

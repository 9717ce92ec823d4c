// Prompts: the workspace's stored recordings and text-to-speech, and the shipped system prompts; upload a
// file, say a text with espeak-ng, and listen to any of them in the page (GET .../audio).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { all, api, wsPath } from "../api.js";
import { send } from "../raw.js";
import { t } from "../i18n.js";
import { duration } from "../format.js";
import { Field, FormError, Loading, PageHead, Table, useConfirm, useLoad } from "./admin_kit.js";

const LANGS = ["en", "es", "ru"];
const audioPath = (ws, p) => `/api/v1${wsPath(ws, `/prompts/${encodeURIComponent(p.name)}/${p.language}/audio`)}`;

function UploadForm({ ws, onSaved }) {
  const [name, setName] = useState("");
  const [lang, setLang] = useState("en");
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const upload = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await send("PUT", wsPath(ws, `/prompts/${encodeURIComponent(name)}/${lang}`), file, file.type || "application/octet-stream");
      setError(null);
      onSaved({ name, language: lang });
    } catch (exc) {
      setError(exc);
    }
    setBusy(false);
  };
  return html`<form class="card form" data-testid="prompt-upload" onSubmit=${upload}>
    <h2>${t("adm.prompts.upload")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.name")}><input name="name" required pattern="[A-Za-z0-9_.-]+" value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
      <${Field} label=${t("adm.language")}>
        <select name="language" value=${lang} onChange=${(e) => setLang(e.target.value)}>${LANGS.map((l) => html`<option value=${l}>${t(`adm.lang.${l}`)}</option>`)}</select>
      </${Field}>
      <${Field} label=${t("adm.prompts.file")} wide=${true} hint=${t("adm.prompts.fileHint")}>
        <input type="file" name="file" required accept="audio/*" onChange=${(e) => setFile(e.target.files[0] || null)} />
      </${Field}>
    </div>
    <${FormError} error=${error} />
    <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${busy || !file} data-testid="upload">${t("adm.prompts.uploadButton")}</button></div>
  </form>`;
}

function SpeakForm({ ws, onSaved }) {
  const [name, setName] = useState("");
  const [lang, setLang] = useState("en");
  const [text, setText] = useState("");
  const [voice, setVoice] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const speak = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await api.post(wsPath(ws, `/prompts/${encodeURIComponent(name)}/${lang}/tts`), { text, voice: voice || null });
      setError(null);
      onSaved({ name, language: lang });
    } catch (exc) {
      setError(exc);
    }
    setBusy(false);
  };
  return html`<form class="card form" data-testid="prompt-tts" onSubmit=${speak}>
    <h2>${t("adm.prompts.tts")}</h2>
    <div class="form-grid">
      <${Field} label=${t("adm.name")}><input name="name" required pattern="[A-Za-z0-9_.-]+" value=${name} onInput=${(e) => setName(e.target.value)} /></${Field}>
      <${Field} label=${t("adm.language")}>
        <select name="language" value=${lang} onChange=${(e) => setLang(e.target.value)}>${LANGS.map((l) => html`<option value=${l}>${t(`adm.lang.${l}`)}</option>`)}</select>
      </${Field}>
      <${Field} label=${t("adm.prompts.text")} wide=${true}><textarea name="text" rows="2" required value=${text} onInput=${(e) => setText(e.target.value)}></textarea></${Field}>
      <${Field} label=${t("adm.prompts.voice")} hint=${t("adm.prompts.voiceHint")}><input name="voice" value=${voice} onInput=${(e) => setVoice(e.target.value)} /></${Field}>
    </div>
    <${FormError} error=${error} />
    <div class="form-actions"><button class="btn btn-primary" type="submit" disabled=${busy} data-testid="speak">${t("adm.prompts.speak")}</button></div>
  </form>`;
}

export function PromptsPage({ ws }) {
  const [system, setSystem] = useState(false);
  const load = useLoad(() => all(wsPath(ws, `/prompts${system ? "" : "?system=false"}`)), [ws, system]);
  const [playing, setPlaying] = useState(null);
  const [ask, dialog] = useConfirm();
  const play = (p) => setPlaying({ ...p, src: `${audioPath(ws, p)}?v=${Date.now()}` });
  const saved = (p) => {
    load.reload();
    play(p);
  };
  const remove = (p) =>
    ask(t("adm.prompts.confirmDelete", { name: p.name, language: p.language }), async () => {
      await api.del(wsPath(ws, `/prompts/${encodeURIComponent(p.name)}/${p.language}`));
      load.reload();
    });
  return html`<div class="admin-body">
    <${PageHead} title=${t("adm.nav.prompts")} intro=${t("adm.prompts.intro")}>
      <label class="check"><input type="checkbox" data-testid="show-system" checked=${system} onChange=${(e) => setSystem(e.target.checked)} /> ${t("adm.prompts.showSystem")}</label>
    </${PageHead}>
    ${playing
      ? html`<div class="card player" data-testid="prompt-player">
          <strong>${playing.name}</strong> <span class="chip">${playing.language}</span>
          <audio controls autoplay src=${playing.src} data-testid="prompt-audio"></audio>
        </div>`
      : null}
    <section class="card">
      ${load.data
        ? html`<${Table}
            testid="prompts"
            rows=${load.data}
            rowKey=${(p) => `${p.name}/${p.language}`}
            empty=${t("adm.prompts.none")}
            columns=${[
              { label: t("adm.name"), cell: (p) => html`<strong>${p.name}</strong>` },
              { label: t("adm.language"), cell: (p) => html`<span class="chip">${p.language}</span>` },
              { label: t("adm.prompts.source"), cell: (p) => html`<span class=${`badge ${p.system ? "" : "badge-ready"}`}>${t(`adm.prompts.${p.system ? "system" : "stored"}`)}</span> <span class="muted small">${p.source === "system" ? "" : p.source || ""}</span>` },
              { label: t("adm.prompts.text"), cell: (p) => html`<span class="small">${p.text || "—"}</span>` },
              { label: t("adm.prompts.length"), num: true, cell: (p) => (p.seconds ? duration(p.seconds) : "—") },
              {
                label: "",
                cell: (p) => html`<div class="row-actions">
                  <button class="btn btn-small" data-testid="play" onClick=${() => play(p)}>▶ ${t("adm.prompts.play")}</button>
                  ${p.system ? null : html`<button class="btn btn-small btn-danger" data-testid="delete" onClick=${() => remove(p)}>${t("adm.delete")}</button>`}
                </div>`,
              },
            ]}
          />`
        : html`<${Loading} load=${load} />`}
    </section>
    <div class="two-cols">
      <${UploadForm} ws=${ws} onSaved=${saved} />
      <${SpeakForm} ws=${ws} onSaved=${saved} />
    </div>
    ${dialog}
  </div>`;
}

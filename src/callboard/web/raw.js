// Requests whose body is text or a file rather than JSON (YAML for the center file and the flow editor, audio
// for prompts), and answers that may be text: the same session, CSRF token and ApiError as api.js.
import { ApiError, csrfHeaders } from "./api.js";

const BASE = "/api/v1";

export async function send(method, path, body, contentType) {
  const headers = { Accept: "application/json", ...csrfHeaders() };
  if (contentType) headers["Content-Type"] = contentType;
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, credentials: "same-origin", body });
  } catch (exc) {
    throw new ApiError(0, "network_error", String(exc.message || exc));
  }
  if (response.status === 204) return null;
  const text = await response.text();
  const json = (response.headers.get("Content-Type") || "").includes("json");
  let data = text;
  if (json) {
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (json && data && data.error) || {};
    throw new ApiError(response.status, error.id || `http_${response.status}`, error.message || response.statusText, error.details || {});
  }
  return data;
}

export const sendYaml = (method, path, text) => send(method, path, text, "application/yaml");

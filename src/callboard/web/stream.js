// The event stream (WebSocket /api/v1/stream): subscribes once open, again after every reconnect, and
// reconnects with a growing delay. Listeners get each event; status listeners get "connecting" | "open" | "closed".

const MAX_DELAY_MS = 10000;
const PING_MS = 25000;

export class Stream {
  constructor() {
    this.subscriptions = new Map(); // workspace_sid -> event_types
    this.listeners = new Set();
    this.statusListeners = new Set();
    this.status = "closed";
    this.delay = 500;
    this.socket = null;
    this.stopped = true;
    this.timer = null;
    this.pinger = null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    this.setStatus("closed");
  }

  subscribe(workspaceSid, eventTypes) {
    this.subscriptions.set(workspaceSid, eventTypes);
    this.send({ action: "subscribe", workspace_sid: workspaceSid, event_types: eventTypes });
  }

  unsubscribe(workspaceSid) {
    this.subscriptions.delete(workspaceSid);
    this.send({ action: "unsubscribe", workspace_sid: workspaceSid });
  }

  onEvent(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener) {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  setStatus(status) {
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/stream`);
    this.socket = socket;
    this.setStatus("connecting");
    socket.onopen = () => {
      this.delay = 500;
      this.setStatus("open");
      for (const [sid, types] of this.subscriptions) {
        this.send({ action: "subscribe", workspace_sid: sid, event_types: types });
      }
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ action: "ping" }), PING_MS);
    };
    socket.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data.type === "event") {
        for (const listener of this.listeners) listener(data.event);
      } else if (data.type === "error") {
        console.warn("stream:", data.error);
      }
    };
    socket.onclose = (close) => {
      clearInterval(this.pinger);
      if (this.socket !== socket) return;
      this.socket = null;
      // 4401/4403: the session is gone or not allowed; retrying will not help until the user logs in again.
      if (this.stopped || close.code === 4401 || close.code === 4403) {
        this.setStatus("closed");
        return;
      }
      this.setStatus("connecting");
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    };
  }
}

export const stream = new Stream();

// The ring of an incoming offer: a short two-tone burst made with WebAudio (no audio file), repeated while the
// offer waits. Each burst counts in <body data-rings>, so tests (and support) can see it rang even where the
// browser keeps audio muted until the user has interacted with the page.
let context = null;

function audio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!context) context = new Context();
  if (context.state === "suspended") context.resume().catch(() => {});
  return context;
}

// One burst: 440 Hz + 480 Hz, as a phone rings, for 0.4 s, twice.
function burst() {
  const ctx = audio();
  if (!ctx) return;
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  const start = ctx.currentTime + 0.01;
  for (const at of [start, start + 0.6]) {
    gain.gain.setValueAtTime(0.08, at);
    gain.gain.setValueAtTime(0, at + 0.4);
  }
  for (const frequency of [440, 480]) {
    const tone = ctx.createOscillator();
    tone.frequency.value = frequency;
    tone.connect(gain);
    tone.start(start);
    tone.stop(start + 1.0);
  }
}

export function ringOnce() {
  document.body.dataset.rings = String(Number(document.body.dataset.rings || 0) + 1);
  try {
    burst();
  } catch {
    // no audio device: the offer still shows
  }
}

// Ring now and every `everyMs` until the returned function is called.
export function startRinging(everyMs = 3000) {
  ringOnce();
  const timer = setInterval(ringOnce, everyMs);
  return () => clearInterval(timer);
}

// Ringback while a call the agent placed rings at the other end (the line is "connecting"), as a phone makes it
// on 180 Ringing: 425 Hz, one second on and four off (ETSI ES 201 970). Each cadence counts in
// <body data-ringbacks>.
function ringbackOnce() {
  document.body.dataset.ringbacks = String(Number(document.body.dataset.ringbacks || 0) + 1);
  const ctx = audio();
  if (!ctx) return;
  const gain = ctx.createGain();
  gain.gain.value = 0.08;
  gain.connect(ctx.destination);
  const tone = ctx.createOscillator();
  tone.frequency.value = 425;
  tone.connect(gain);
  const start = ctx.currentTime + 0.01;
  tone.start(start);
  tone.stop(start + 1.0);
}

// Ringback now and every five seconds until the returned function is called.
export function startRingback() {
  const once = () => {
    try {
      ringbackOnce();
    } catch {
      // no audio device: the line state still shows
    }
  };
  once();
  const timer = setInterval(once, 5000);
  return () => clearInterval(timer);
}

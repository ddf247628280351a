// Demo: a file or the microphone through PercepNetNode, with a live before/after
// spectrogram. Serve the repository root (e.g. `npx http-server .` or
// `python3 -m http.server`) after `npm run build`, and open /examples/browser/.

const $ = (id) => document.getElementById(id);
const status = (s) => ($("status").textContent = s);

// The bundle lives two folders up, in dist/. Imported dynamically so that a
// server rooted at examples/browser/ (where ../../dist cannot be reached), a
// file:// page or a missing build says what to do instead of hanging on "Loading".
const BUNDLE = "../../dist/bundle/percepnet-node.js";
const { PercepNetNode } = await import(BUNDLE).catch((e) => {
  status(`Cannot load ${new URL(BUNDLE, location.href).pathname} (${e.message}). ` +
    "Serve the package root, not examples/browser: in the package folder run `npm run build` (in a git checkout), " +
    "then `npx http-server .` and open http://localhost:8080/examples/browser/");
  for (const id of ["file", "mic"]) $(id).disabled = true;
  return {};
});
// The network runs at 48 kHz; asking the context for it avoids any resampling.
const ctx = new AudioContext({ sampleRate: 48000, latencyHint: "interactive" });
let node, nodePromise, source, stream;

function ensureNode() {
  nodePromise ??= createNode();
  return nodePromise;
}

async function createNode() {
  // The default model (weights/default.pnm) lives at the package root; without it, unity gains.
  const model = await fetch("../../weights/default.pnm").then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null);
  node = await PercepNetNode.create(ctx, { model, vadInterval: 5 });
  node.onvad = (vad) => ($("vad").firstElementChild.style.width = `${Math.round(vad[0] * 100)}%`);
  node.connect(ctx.destination);
  window.percepnetReady = true;
  status(`ready: ${model ? "model loaded" : "no model found: unity gains"}; delay ${(node.delay / 48).toFixed(1)} ms`);
  return node;
}

// Two analysers: one on the input, one on the output.
const before = ctx.createAnalyser(), after = ctx.createAnalyser();
for (const a of [before, after]) { a.fftSize = 1024; a.smoothingTimeConstant = 0; a.minDecibels = -110; a.maxDecibels = -20; }

async function play(src) {
  stop();
  const n = await ensureNode();
  source = src;
  source.connect(before);
  source.connect(n);
  n.connect(after);
  await ctx.resume();
  $("stop").disabled = false;
}

function stop() {
  if (source) { source.disconnect(); if (source.stop) source.stop(); source = undefined; }
  if (stream) { for (const t of stream.getTracks()) t.stop(); stream = undefined; }
  $("stop").disabled = true;
}

$("file").onchange = async (e) => {
  const f = e.target.files[0];
  if (!f) return;
  const buf = await ctx.decodeAudioData(await f.arrayBuffer()); // resampled to 48 kHz by the browser
  const s = ctx.createBufferSource();
  s.buffer = buf;
  s.loop = true;
  await play(s);
  s.start();
  status(`playing ${f.name}`);
};
$("mic").onclick = async () => {
  // The browser's own noise suppression would hide what PercepNet does.
  stream = await navigator.mediaDevices.getUserMedia({ audio: { noiseSuppression: false, echoCancellation: false, autoGainControl: false } });
  await play(ctx.createMediaStreamSource(stream));
  status("microphone");
};
$("stop").onclick = stop;
$("bypass").onchange = (e) => { if (node) node.bypass = e.target.checked; };
$("limit").oninput = (e) => {
  const v = Number(e.target.value);
  $("limitv").textContent = v >= 60 ? "none" : `${v} dB`;
  node?.setOptions({ attenuationLimitDb: v >= 60 ? Infinity : v });
};

// Scrolling spectrograms: one column per animation frame, log-magnitude in grey levels.
function drawer(analyser, canvas) {
  const g = canvas.getContext("2d");
  const bins = new Uint8Array(analyser.frequencyBinCount);
  return () => {
    const { width: w, height: h } = canvas;
    g.drawImage(canvas, -1, 0);
    analyser.getByteFrequencyData(bins);
    for (let y = 0; y < h; y++) {
      const v = bins[Math.floor(((h - 1 - y) / h) * bins.length)];
      g.fillStyle = `rgb(${v},${v},${Math.min(255, v * 1.4)})`;
      g.fillRect(w - 1, y, 1, 1);
    }
  };
}
const draws = [drawer(before, $("before")), drawer(after, $("after"))];
(function loop() { for (const d of draws) d(); requestAnimationFrame(loop); })();
if (PercepNetNode) ensureNode().catch((e) => status(`error: ${e.message}`));

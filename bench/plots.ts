/** PNG figures for the evaluation report, drawn with @napi-rs/canvas. */
import { writeFileSync } from "node:fs";
import { createCanvas, type SKRSContext2D } from "@napi-rs/canvas";
import { fft } from "../lab/fft.js";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** Perceptually ordered dark-blue -> yellow ramp (piecewise-linear approximation of viridis). */
function colour(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]))) as [number, number, number];
}

/** Log-power spectrogram in dB: [frame][bin], Hann window. */
export function spectrogramDb(x: Float32Array, nfft = 1024, hop = 256): { db: Float32Array[]; bins: number } {
  const bins = nfft / 2 + 1;
  const win = new Float64Array(nfft);
  for (let i = 0; i < nfft; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nfft);
  const re = new Float64Array(nfft), im = new Float64Array(nfft);
  const db: Float32Array[] = [];
  for (let s = 0; s + nfft <= x.length; s += hop) {
    for (let i = 0; i < nfft; i++) { re[i] = x[s + i] * win[i]; im[i] = 0; }
    fft(re, im);
    const row = new Float32Array(bins);
    for (let k = 0; k < bins; k++) row[k] = 10 * Math.log10(re[k] * re[k] + im[k] * im[k] + 1e-12);
    db.push(row);
  }
  return { db, bins };
}

/** Stacked spectrograms (one panel per named signal, shared dB scale) written to `path`. */
export function plotSpectrograms(path: string, title: string, signals: { name: string; x: Float32Array }[], fs = 48000): void {
  const panelW = 900, panelH = 180, left = 60, top = 56, gap = 28;
  const H = top + signals.length * (panelH + gap) + 10;
  const canvas = createCanvas(left + panelW + 20, H);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "black"; ctx.font = "16px sans-serif"; ctx.fillText(title, left, 24);
  const specs = signals.map((s) => spectrogramDb(s.x));
  let maxDb = -Infinity;
  for (const s of specs) for (const row of s.db) for (const v of row) if (v > maxDb) maxDb = v;
  const range = 80;
  signals.forEach((sig, p) => {
    const { db, bins } = specs[p];
    const y0 = top + p * (panelH + gap);
    const img = ctx.createImageData(panelW, panelH);
    for (let px = 0; px < panelW; px++) {
      const row = db[Math.min(db.length - 1, Math.floor((px * db.length) / panelW))];
      for (let py = 0; py < panelH; py++) {
        const k = Math.floor(((panelH - 1 - py) * (bins - 1)) / (panelH - 1));
        const [r, g, b] = colour(row ? (row[k] - (maxDb - range)) / range : 0);
        const o = (py * panelW + px) * 4;
        img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, left, y0);
    ctx.fillStyle = "black"; ctx.font = "13px sans-serif";
    ctx.fillText(sig.name, left + 4, y0 - 5);
    for (const khz of [0, 8, 16, 24]) {
      if (khz * 1000 > fs / 2) continue;
      const y = y0 + panelH - (khz * 1000 / (fs / 2)) * panelH;
      ctx.fillText(`${khz}k`, left - 34, Math.max(y0 + 10, Math.min(y0 + panelH, y + 4)));
    }
  });
  const seconds = signals[0].x.length / fs;
  ctx.fillText(`${seconds.toFixed(1)} s, 1024-pt Hann STFT, ${range} dB range`, left + panelW - 300, H - 4);
  writeFileSync(path, canvas.toBuffer("image/png"));
}

/** One line per system: metric value against SNR group. */
export interface Curve { system: string; points: { x: number; y: number }[] }

function drawAxes(ctx: SKRSContext2D, x0: number, y0: number, w: number, h: number, xs: number[], yMin: number, yMax: number, label: string): (x: number, y: number) => [number, number] {
  const xMin = Math.min(...xs), xMax = Math.max(...xs);
  const sx = (x: number) => x0 + (xMax === xMin ? w / 2 : ((x - xMin) / (xMax - xMin)) * w);
  const sy = (y: number) => y0 + h - ((y - yMin) / (yMax - yMin || 1)) * h;
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.strokeRect(x0, y0, w, h);
  ctx.fillStyle = "black"; ctx.font = "12px sans-serif";
  // Label every x when there are few (SNR groups), else about six round values.
  let ticks = xs;
  if (xs.length > 8) {
    const step = niceStep((xMax - xMin) / 5);
    ticks = [];
    for (let t = Math.ceil(xMin / step) * step; t <= xMax; t += step) ticks.push(t);
  }
  for (const x of ticks) ctx.fillText(String(x), sx(x) - 6, y0 + h + 14);
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    ctx.fillText(v.toFixed(Math.abs(yMax - yMin) < 5 ? 2 : 1), x0 - 40, sy(v) + 4);
  }
  ctx.font = "14px sans-serif"; ctx.fillText(label, x0, y0 - 6);
  return (x, y) => [sx(x), sy(y)];
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** A grid of metric-vs-SNR plots (one per metric), shared legend, to `path`. */
export function plotCurves(path: string, metrics: { label: string; curves: Curve[] }[], xLabel = "input SNR (dB)"): void {
  const cols = Math.min(3, metrics.length), rows = Math.ceil(metrics.length / cols);
  const cw = 360, ch = 240;
  const perRow = Math.max(1, Math.floor((cols * cw - 40) / 200));
  const legendH = 24 * Math.ceil((metrics[0]?.curves.length ?? 0) / perRow) + 20;
  const canvas = createCanvas(cols * cw + 20, rows * ch + legendH + 30);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  metrics.forEach((m, i) => {
    const x0 = 60 + (i % cols) * cw, y0 = 30 + Math.floor(i / cols) * ch;
    const xs = [...new Set(m.curves.flatMap((c) => c.points.map((p) => p.x)))].sort((a, b) => a - b);
    const ys = m.curves.flatMap((c) => c.points.map((p) => p.y)).filter(Number.isFinite);
    let lo = Math.min(...ys), hi = Math.max(...ys);
    const pad = (hi - lo) * 0.05 || 0.5;
    lo -= pad; hi += pad;
    const map = drawAxes(ctx, x0, y0, cw - 90, ch - 60, xs, lo, hi, `${m.label} vs ${xLabel}`);
    m.curves.forEach((c, j) => {
      ctx.strokeStyle = PALETTE[j % PALETTE.length]; ctx.fillStyle = ctx.strokeStyle; ctx.lineWidth = 2;
      ctx.beginPath();
      c.points.filter((p) => Number.isFinite(p.y)).forEach((p, k) => {
        const [px, py] = map(p.x, p.y);
        if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
        ctx.fillRect(px - 2, py - 2, 4, 4);
      });
      ctx.stroke();
    });
  });
  const names = metrics[0]?.curves.map((c) => c.system) ?? [];
  ctx.font = "13px sans-serif";
  names.forEach((n, j) => {
    const x = 60 + (j % perRow) * 200, y = rows * ch + 30 + Math.floor(j / perRow) * 24;
    ctx.fillStyle = PALETTE[j % PALETTE.length]; ctx.fillRect(x, y - 10, 14, 10);
    ctx.fillStyle = "black"; ctx.fillText(n, x + 20, y);
  });
  writeFileSync(path, canvas.toBuffer("image/png"));
}

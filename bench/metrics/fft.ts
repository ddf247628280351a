/**
 * Radix-2 complex FFT for the evaluation code (STOI spectra, spectrograms,
 * cross-correlation). Plain float64 JS: the metrics are offline, and float64
 * keeps them independent of the float32 precision of the system under test.
 */

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

function tables(n: number) {
  let t = twiddleCache.get(n);
  if (t) return t;
  if (n < 2 || (n & (n - 1)) !== 0) throw new Error(`FFT size must be a power of two >= 2 (got ${n})`);
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((2 * Math.PI * i) / n);
    sin[i] = -Math.sin((2 * Math.PI * i) / n);
  }
  const bits = Math.log2(n);
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  t = { cos, sin, rev };
  twiddleCache.set(n, t);
  return t;
}

/**
 * In-place forward DFT X[k] = sum x[n] e^{-2 pi i k n / N} (inverse=false),
 * or the unscaled inverse (inverse=true; divide by N yourself).
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  const { cos, sin, rev } = tables(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  const sgn = inverse ? -1 : 1;
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sgn * sin[k * step];
        const a = start + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

/** Smallest power of two >= n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/**
 * |X[k]|^2 for k = 0..nfft/2 of a real frame zero-padded to nfft.
 * `out` receives nfft/2+1 values.
 */
export function powerSpectrum(frame: ArrayLike<number>, nfft: number, out: Float64Array,
  re = new Float64Array(nfft), im = new Float64Array(nfft)): void {
  re.fill(0); im.fill(0);
  const m = Math.min(frame.length, nfft);
  for (let i = 0; i < m; i++) re[i] = frame[i];
  fft(re, im);
  for (let k = 0; k <= nfft / 2; k++) out[k] = re[k] * re[k] + im[k] * im[k];
}

/** Hann window of the kind Matlab's hanning(n) returns: no zero end points. */
export function hanningNoZeros(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 1)) / (n + 1));
  return w;
}

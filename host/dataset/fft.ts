/**
 * Power-of-two complex FFT (iterative radix-2, split real/imaginary arrays,
 * cached twiddles) and FFT convolution for long signals such as speech with
 * a room response. Only the dataset builder uses it; the runtime's 960-point
 * FFT lives in assembly/.
 */

const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

function plan(n: number) {
  let t = twiddleCache.get(n);
  if (t) return t;
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
    for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[i] = r;
  }
  t = { cos, sin, rev };
  twiddleCache.set(n, t);
  return t;
}

/** Smallest power of two >= n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * In-place forward (inverse = false) or unscaled inverse complex FFT.
 * The length must be a power of two.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if ((n & (n - 1)) !== 0) throw new Error("fft: length must be a power of two");
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sgn = inverse ? -1 : 1;
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0, tw = 0; k < half; k++, tw += step) {
        const wr = cos[tw];
        const wi = sgn * sin[tw];
        const a = start + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/**
 * Convolves one real signal with two real filters at once (one FFT of the
 * signal, one of the filter pair packed as h1 + j h2, one inverse), which is
 * what a reverberant input plus an early-reflection target needs.
 * Returns the first x.length samples of x*h1 and x*h2.
 */
export function convolve2(x: Float32Array, h1: Float32Array, h2: Float32Array): [Float32Array, Float32Array] {
  const hl = Math.max(h1.length, h2.length);
  const n = nextPow2(x.length + hl - 1);
  const xr = new Float64Array(n);
  const xi = new Float64Array(n);
  for (let i = 0; i < x.length; i++) xr[i] = x[i];
  const hr = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < h1.length; i++) hr[i] = h1[i];
  for (let i = 0; i < h2.length; i++) hi[i] = h2[i];
  fft(xr, xi);
  fft(hr, hi);
  // X (H1 + j H2) = X H1 + j X H2; both products are spectra of real signals,
  // so after the inverse the real part is x*h1 and the imaginary part x*h2.
  for (let k = 0; k < n; k++) {
    const r = xr[k] * hr[k] - xi[k] * hi[k];
    const i = xr[k] * hi[k] + xi[k] * hr[k];
    xr[k] = r;
    xi[k] = i;
  }
  fft(xr, xi, true);
  const y1 = new Float32Array(x.length);
  const y2 = new Float32Array(x.length);
  const s = 1 / n;
  for (let i = 0; i < x.length; i++) {
    y1[i] = xr[i] * s;
    y2[i] = xi[i] * s;
  }
  return [y1, y2];
}

/** Linear convolution truncated to x.length samples. */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  return convolve2(x, h, new Float32Array(0))[0];
}

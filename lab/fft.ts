/**
 * The lab's one FFT: power-of-two complex FFT (iterative radix-2, split
 * real/imaginary arrays, cached twiddles), FFT convolution for long signals
 * such as speech with a room response, and the spectra the metrics need.
 * Plain float64 JS: the dataset builder and the metrics run offline, and
 * float64 keeps the metrics independent of the float32 precision of the
 * system under test. The runtime's 960-point FFT lives in assembly/.
 */

interface Plan {
  /** Twiddles stage by stage: stage with half-size h occupies [h, 2h). */
  wr: Float64Array;
  wi: Float64Array;
  rev: Uint32Array;
}

const plans = new Map<number, Plan>();

function plan(n: number): Plan {
  let p = plans.get(n);
  if (p) return p;
  // Stage-contiguous layout keeps the butterfly loop's twiddle reads sequential.
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let h = 1; h < n; h *= 2) {
    for (let k = 0; k < h; k++) {
      wr[h + k] = Math.cos((Math.PI * k) / h);
      wi[h + k] = -Math.sin((Math.PI * k) / h);
    }
  }
  const bits = Math.log2(n);
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[i] = r;
  }
  p = { wr, wi, rev };
  plans.set(n, p);
  return p;
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
  const { wr, wi, rev } = plan(n);
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
  // The inverse is the forward transform with conjugated twiddles.
  const sgn = inverse ? -1 : 1;
  // First stage: twiddle 1, no multiplies.
  for (let a = 0; a < n; a += 2) {
    const xr = re[a + 1];
    const xi = im[a + 1];
    re[a + 1] = re[a] - xr;
    im[a + 1] = im[a] - xi;
    re[a] += xr;
    im[a] += xi;
  }
  for (let half = 2; half < n; half *= 2) {
    const size = 2 * half;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const cr = wr[half + k];
        const ci = sgn * wi[half + k];
        const a = start + k;
        const b = a + half;
        const br = re[b];
        const bi = im[b];
        const xr = br * cr - bi * ci;
        const xi = br * ci + bi * cr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/**
 * Convolves one real signal with two real filters at once and returns
 * samples [offset, offset + x.length) of x*h1 and x*h2 (an offset removes a
 * response's bulk delay).
 *
 * Uniformly partitioned overlap-add: the filters are cut into P-sample
 * partitions so every transform is 2P points and stays in cache, which is
 * about twice as fast as one transform of the whole clip. The two filters
 * travel as one complex filter h1 + j h2: X (H1 + j H2) = X H1 + j X H2, and
 * both products are spectra of real signals, so the real part of the inverse
 * is x*h1 and the imaginary part x*h2.
 */
export function convolve2(
  x: Float32Array,
  h1: Float32Array,
  h2: Float32Array,
  offset = 0,
): [Float32Array, Float32Array] {
  const hl = Math.max(h1.length, h2.length, 1);
  if (offset < 0 || offset >= hl) offset = 0;
  const P = Math.min(16384, Math.max(1024, nextPow2(hl)));
  const N = 2 * P;
  const K = Math.ceil(hl / P);
  const nOut = offset + x.length;
  const nb = Math.ceil(Math.min(x.length, nOut) / P);
  const Hr: Float64Array[] = [];
  const Hi: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const r = new Float64Array(N);
    const i = new Float64Array(N);
    for (let t = 0; t < P; t++) {
      const j = k * P + t;
      if (j < h1.length) r[t] = h1[j];
      if (j < h2.length) i[t] = h2[j];
    }
    fft(r, i);
    Hr.push(r);
    Hi.push(i);
  }
  const Xr: Float64Array[] = [];
  const Xi: Float64Array[] = [];
  for (let b = 0; b < nb; b++) {
    const r = new Float64Array(N);
    const i = new Float64Array(N);
    const end = Math.min(x.length, (b + 1) * P);
    for (let j = b * P; j < end; j++) r[j - b * P] = x[j];
    fft(r, i);
    Xr.push(r);
    Xi.push(i);
  }
  const y1 = new Float32Array(x.length);
  const y2 = new Float32Array(x.length);
  const ar = new Float64Array(N);
  const ai = new Float64Array(N);
  const s = 1 / N;
  const nOutBlocks = Math.ceil(nOut / P);
  for (let o = 0; o < nOutBlocks; o++) {
    ar.fill(0);
    ai.fill(0);
    let any = false;
    for (let k = 0; k < K; k++) {
      const b = o - k;
      if (b < 0 || b >= nb) continue;
      any = true;
      const xr = Xr[b], xi = Xi[b], hr = Hr[k], hi = Hi[k];
      for (let f = 0; f < N; f++) {
        ar[f] += xr[f] * hr[f] - xi[f] * hi[f];
        ai[f] += xr[f] * hi[f] + xi[f] * hr[f];
      }
    }
    if (!any) continue;
    fft(ar, ai, true);
    // Block o's result covers output samples o*P .. o*P + N - 1.
    for (let t = 0; t < N; t++) {
      const j = o * P + t - offset;
      if (j < 0) continue;
      if (j >= x.length) break;
      y1[j] += ar[t] * s;
      y2[j] += ai[t] * s;
    }
  }
  return [y1, y2];
}

/** Linear convolution truncated to x.length samples. */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  return convolve2(x, h, new Float32Array(0))[0];
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

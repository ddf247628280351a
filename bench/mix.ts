/** clean + noise scaled so that the mixture has the given SNR (whole-signal powers; noise looped to length). */
export function mix(clean: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  let ps = 0, pn = 0;
  for (let i = 0; i < clean.length; i++) { ps += clean[i] ** 2; const v = noise[i % noise.length]; pn += v * v; }
  const g = Math.sqrt(ps / (pn * 10 ** (snrDb / 10)));
  return clean.map((v, i) => v + g * noise[i % noise.length]);
}

// The envelope postfilter (reference section 6): warping each gain by
// sin(pi g / 2) deepens the attenuation of noisy bands, and a global gain G
// (at most about +5.5 dB with beta = 0.02) gives back the loudness lost.
import { NB_BANDS } from "./bands";

const BETA: f32 = 0.02;

/** Band target energies: (G g_w)^2 E_y with the postfilter, g^2 E_y without. */
export function targetEnergies(g: StaticArray<f32>, Ey: StaticArray<f32>, enabled: bool, out: StaticArray<f32>): void {
  if (!enabled) {
    for (let b = 0; b < NB_BANDS; b++) unchecked(out[b] = unchecked(g[b]) * unchecked(g[b]) * unchecked(Ey[b]));
    return;
  }
  let e0: f32 = 0, e1: f32 = 0;
  for (let b = 0; b < NB_BANDS; b++) {
    const gb = unchecked(g[b]);
    const gw = gb * Mathf.sin(<f32>(Math.PI * 0.5) * gb);
    unchecked(out[b] = gw);
    e0 += gb * gb * unchecked(Ey[b]);
    e1 += gw * gw * unchecked(Ey[b]);
  }
  let G: f32 = 1;
  if (e1 > 1e-9 * (e0 + 1e-30)) {
    const ratio = e0 / e1;
    G = Mathf.sqrt((1 + BETA) * ratio / (1 + BETA * ratio * ratio));
  }
  for (let b = 0; b < NB_BANDS; b++) {
    const v = G * unchecked(out[b]);
    unchecked(out[b] = v * v * unchecked(Ey[b]));
  }
}

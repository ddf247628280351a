/**
 * Checks the dfn3 peer against the DNSMOS figures DeepFilterNet publishes
 * for its own sample, assets/noisy_snr0.wav of github.com/Rikorose/DeepFilterNet:
 *
 *   node dist/tools/dfn3-sample.js NOISY_SNR0.wav [--dfn3-dir DIR] [--dnsmos-model PATH]
 *
 * DeepFilterNet's CI (.github/workflows/test_df.yml) scores
 * `deepFilter --no-delay-compensation` output with DNS-Challenge DNSMOS
 * (sig_bak_ovr.onnx, non-personalised maps, as bench/metrics/dnsmos.ts), so
 * the output is scored both time-aligned (as the eval uses it) and delayed
 * by fft - hop = 480 samples, which is the file their figure is of. With a
 * clip of ~10.6 s DNSMOS has only two 9.01 s windows, and a 10 ms shift
 * moves the score by about 0.1.
 */
import { Dnsmos, DEFAULT_DNSMOS_MODEL, type DnsmosScore } from "../bench/metrics/dnsmos.js";
import { createDeepFilterNet3 } from "../bench/enhancers/deepfilternet.js";
import { readWav } from "../bench/wav.js";

/** SIG, BAK, OVRL from DeepFilterNet's test_df.yml (commit d375b2d). */
const PUBLISHED = {
  noisy: [3.604316132288559, 2.682694789493083, 2.58449544791776],
  dfn3: [3.4399468223627174, 4.144957235621709, 3.2074756563112996],
};

const USAGE = "usage: dfn3-sample NOISY_SNR0.wav [--dfn3-dir DIR] [--dnsmos-model PATH]";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let file: string | undefined, dir: string | undefined, model = DEFAULT_DNSMOS_MODEL;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--dfn3-dir") dir = argv[++i];
    else if (k === "--dnsmos-model") model = argv[++i];
    else if (k === "-h" || k === "--help") { console.log(USAGE); return; }
    else if (k.startsWith("-") || file) throw new Error(`unexpected ${k}\n${USAGE}`);
    else file = k;
  }
  if (!file) throw new Error(USAGE);
  const { samples, sampleRate } = readWav(file);
  if (sampleRate !== 48000) throw new Error(`${file}: ${sampleRate} Hz, expected DeepFilterNet's 48 kHz sample`);
  const dnsmos = await Dnsmos.load(model);
  const dfn3 = await createDeepFilterNet3({ dir });
  const y = await dfn3.run(samples);
  dfn3.dispose?.();
  const delayed = new Float32Array(y.length);
  delayed.set(y.subarray(0, y.length - 480), 480);
  const row = (name: string, s: DnsmosScore, pub?: number[]) => {
    const got = [s.sig, s.bak, s.ovrl];
    const cells = got.map((v, i) => (pub ? `${v.toFixed(3)} (${pub[i].toFixed(3)}, ${v - pub[i] >= 0 ? "+" : ""}${(v - pub[i]).toFixed(3)})` : v.toFixed(3)));
    return `| ${name} | ${cells.join(" | ")} |`;
  };
  console.log("| signal | SIG (published, diff) | BAK | OVRL |\n|---|---|---|---|");
  console.log(row("noisy", await dnsmos.score(samples, 48000), PUBLISHED.noisy));
  console.log(row("dfn3, delayed 480 (as DeepFilterNet scores it)", await dnsmos.score(delayed, 48000), PUBLISHED.dfn3));
  console.log(row("dfn3, time-aligned (as the eval scores it)", await dnsmos.score(y, 48000)));
}

main().catch((e) => {
  console.error(`dfn3-sample: ${(e as Error).message}`);
  process.exit(1);
});

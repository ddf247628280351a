/**
 * The oracle table (signal-model check): real speech + real noise from
 * ../shared/data/samples mixed at 0, 5 and 10 dB, enhanced with ideal gains
 * (gains only, + comb filter, + postfilter, both) and by RNNoise on the same
 * mixtures. An oracle that does not clearly beat a trained small network
 * points to a bug in the signal model.
 *
 *   node dist/bench/oracle-table.js [--samples DIR]
 */
import { join } from "node:path";
import { enhanceOracle } from "../host/offline.js";
import { readWav } from "./wav.js";
import { siSdr } from "./metrics/sisdr.js";
import { intelligibility } from "./metrics/stoi.js";
import { createRnnoise, RNNOISE_VARIANTS } from "./enhancers/rnnoise.js";
import { advance, estimateDelay } from "./align.js";
import { segSnr } from "./metrics/segsnr.js";
import { mix } from "./mix.js";

const FS = 48000;

async function main(): Promise<void> {
  const i = process.argv.indexOf("--samples");
  const dir = i > 0 ? process.argv[i + 1] : new URL("../../../shared/data/samples", import.meta.url).pathname;
  const clean = readWav(join(dir, "speech_clean_freesound_33711.wav")).samples;
  const noise = readWav(join(dir, "noise_freesound_573577.wav")).samples;
  const rn = await createRnnoise(RNNOISE_VARIANTS.find((v) => v.name === "rnnoise-jitsi-sync")!);
  const rows: string[] = ["| SNR | system | SI-SDR (dB) | segSNR (dB) | STOI | ESTOI |", "|---|---|---|---|---|---|"];
  for (const snr of [0, 5, 10]) {
    const noisy = mix(clean, noise, snr);
    const systems: [string, Float32Array][] = [["noisy", noisy]];
    for (const [name, o] of [["oracle: gains only", { comb: false, postfilter: false }], ["oracle: gains + comb", { postfilter: false }],
      ["oracle: gains + postfilter", { comb: false }], ["oracle: full (comb + postfilter)", {}]] as const) {
      systems.push([name, await enhanceOracle(clean, noisy, o)]);
    }
    const padded = new Float32Array(noisy.length + 9600); padded.set(noisy);
    const y = await rn.run(padded);
    systems.push(["RNNoise (jitsi sync)", advance(y, rn.delay ?? estimateDelay(clean, y, 9600)).subarray(0, clean.length)]);
    for (const [name, y2] of systems) {
      const { stoi, estoi } = intelligibility(clean, y2, FS);
      rows.push(`| ${snr} dB | ${name} | ${siSdr(clean, y2).toFixed(2)} | ${segSnr(clean, y2).toFixed(2)} | ${stoi.toFixed(3)} | ${estoi.toFixed(3)} |`);
    }
  }
  console.log(rows.join("\n"));
}

main().catch((e) => { console.error(`oracle-table: ${(e as Error).message}`); process.exit(1); });

/**
 * A copy of an evaluation set at another level, for measuring how the
 * denoiser does with quiet or loud input (docs/RESULTS.md, "Quiet input"):
 *
 *   node dist/tools/scale-set.js --set DIR --out OUT --db=-35
 *
 * Every WAV of DIR/noisy and DIR/clean is scaled by the same gain and written
 * as float32 (no rounding to 16 bits, no clipping) under OUT/noisy and
 * OUT/clean, names kept, so `bench/eval.js --clean OUT/clean --noisy
 * OUT/noisy` scores it like the original. OUT must not exist yet: nothing is
 * ever overwritten.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { decodeWav, encodeWav } from "../host/wav.js";

const USAGE = "usage: scale-set --set DIR --out OUT --db=GAIN_DB   (DIR holds noisy/ and clean/; OUT must not exist; a negative gain needs the =)";

/** Scale every WAV of set/noisy and set/clean by `db` into out (made through a temp folder renamed at the end). */
export function scaleSet(set: string, out: string, db: number): number {
  if (!Number.isFinite(db) || Math.abs(db) > 120) throw new RangeError(`--db must be a number of dB within +-120, got ${db}`);
  for (const sub of ["noisy", "clean"]) if (!existsSync(join(set, sub))) throw new Error(`${set} has no ${sub}/ folder`);
  if (existsSync(out)) throw new Error(`${out} exists; scale-set never overwrites: remove it or name another folder`);
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const g = Math.pow(10, db / 20);
  let n = 0;
  try {
    for (const sub of ["noisy", "clean"]) {
      mkdirSync(join(tmp, sub), { recursive: true });
      for (const f of readdirSync(join(set, sub)).filter((x) => x.toLowerCase().endsWith(".wav")).sort()) {
        const w = decodeWav(readFileSync(join(set, sub, f)));
        const ch = w.channels.map((c) => c.map((v) => v * g));
        writeFileSync(join(tmp, sub, f), encodeWav(ch, { sampleRate: w.info.sampleRate, format: "float32" }).bytes);
        n++;
      }
    }
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return n;
}

function main(): void {
  const { values } = parseArgs({ options: { set: { type: "string" }, out: { type: "string" }, db: { type: "string" } }, strict: true });
  if (!values.set || !values.out || values.db === undefined) throw new Error(USAGE);
  const n = scaleSet(values.set, values.out, Number(values.db));
  console.log(`wrote ${n} files to ${values.out} (${values.db} dB)`);
}

if (process.argv[1]?.endsWith("scale-set.js")) {
  try { main(); } catch (e) { console.error(`scale-set: ${(e as Error).message}`); process.exit(2); }
}

// tools/scale-set.ts: a set copied at another level, every file scaled by the
// same gain and written as float32; bad arguments and an existing output
// folder are refused without writing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scaleSet } from "../tools/scale-set.js";
import { decodeWav, encodeWav } from "../host/wav.js";

test("scale-set scales noisy and clean alike, as float32, and never overwrites", () => {
  const dir = mkdtempSync(join(tmpdir(), "scale-set-"));
  try {
    const set = join(dir, "set");
    const x = Float32Array.from({ length: 4800 }, (_, i) => 0.5 * Math.sin(i / 7));
    for (const sub of ["noisy", "clean"]) {
      mkdirSync(join(set, sub), { recursive: true });
      writeFileSync(join(set, sub, "a.wav"), encodeWav([x], { sampleRate: 48000, format: "pcm16" }).bytes);
    }
    const out = join(dir, "quiet");
    assert.equal(scaleSet(set, out, -40), 2);
    for (const sub of ["noisy", "clean"]) {
      const src = decodeWav(readFileSync(join(set, sub, "a.wav"))).channels[0];
      const w = decodeWav(readFileSync(join(out, sub, "a.wav")));
      assert.equal(w.info.format, "float32");
      w.channels[0].forEach((v, i) => assert.ok(Math.abs(v - src[i] / 100) <= 1e-7, `${sub} sample ${i}`));
    }
    assert.throws(() => scaleSet(set, out, -20), /exists; scale-set never overwrites/);
    assert.throws(() => scaleSet(set, join(dir, "x"), NaN), /--db must be a number/);
    assert.throws(() => scaleSet(join(dir, "nope"), join(dir, "y"), -20), /has no noisy\/ folder/);
    assert.ok(!existsSync(join(dir, "x")) && !existsSync(join(dir, "y")));
    assert.deepEqual(readdirSync(dir).sort(), ["quiet", "set"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

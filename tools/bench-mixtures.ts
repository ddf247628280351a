/**
 * Times the mixture synthesiser: `node dist/tools/bench-mixtures.js [N] [seed]`.
 * A first pass decodes and caches the files the N mixtures use; the second
 * pass regenerates the same mixtures from the warm cache and reports
 * per-mixture wall and CPU time (the cost during training, where the cache
 * is warm).
 */

import { Corpus, splitCorpus } from "../lab/dataset/corpus.js";
import { mixtureAt } from "../lab/dataset/mixture.js";

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20);
  const seed = Number(process.argv[3] ?? 7);
  const corpus = Corpus.open();
  const { train } = splitCorpus(corpus.entries);
  for (const pass of ["cold", "warm"]) {
    const wall: number[] = [];
    let cpu = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await mixtureAt(corpus, train, seed, i);
      const cu = process.cpuUsage(c0);
      wall.push(performance.now() - t0);
      cpu += (cu.user + cu.system) / 1000;
    }
    wall.sort((a, b) => a - b);
    const mean = wall.reduce((a, b) => a + b, 0) / n;
    console.log(
      `${pass}: ${n} x 10 s mixtures, wall mean ${mean.toFixed(0)} ms, median ${wall[n >> 1].toFixed(0)} ms, ` +
        `max ${wall[n - 1].toFixed(0)} ms; CPU mean ${(cpu / n).toFixed(0)} ms`,
    );
  }
  corpus.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled TypeScript (npm run build:ts).
let cli;
try {
  cli = await import("../dist/host/cli.js");
} catch (e) {
  if (e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
  process.stderr.write(`percepnet: the compiled CLI is missing (${e.message}); run \`npm run build:ts\` first\n`);
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));

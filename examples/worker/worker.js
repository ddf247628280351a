// Cloudflare Worker (module syntax): POST a WAV, get the denoised WAV back.
// workerd forbids compiling wasm at run time, so the wasm is imported as a
// precompiled WebAssembly.Module and the model as raw bytes (see wrangler.toml).
// Both builds are imported; pickWasmModule takes the relaxed-SIMD one where
// WebAssembly.validate says this runtime has relaxed SIMD (same output bits,
// faster on a 7-bit model).
import { Denoiser, denoiseChannels, decodeWav, encodeWav, outputFormatFor, pickWasmModule } from "percepnet-wasm";
import simdModule from "./percepnet.wasm";
import relaxedModule from "./percepnet-relaxed.wasm";
import modelBytes from "./default.pnm";

const wasmModule = pickWasmModule(simdModule, relaxedModule);
const wasmBuild = wasmModule === relaxedModule ? "relaxed" : "simd";

export default {
  async fetch(request) {
    if (request.method !== "POST") return new Response("POST a WAV file (8-48 kHz, any channels)\n", { status: 405, headers: { allow: "POST" } });
    let audio;
    try {
      audio = decodeWav(new Uint8Array(await request.arrayBuffer()));
    } catch (e) {
      return new Response(`bad WAV: ${e.message}\n`, { status: 400 });
    }
    const { info, channels } = audio;
    try {
      const out = await denoiseChannels(channels, { wasm: wasmModule, model: new Uint8Array(modelBytes), sampleRate: info.sampleRate });
      const { bytes } = encodeWav(out, { sampleRate: info.sampleRate, format: outputFormatFor(info) });
      return new Response(bytes, { headers: { "content-type": "audio/wav", "x-percepnet-delay-compensated": "1", "x-percepnet-wasm": wasmBuild } });
    } catch (e) {
      return new Response(`cannot denoise: ${e.message}\n`, { status: 422 });
    }
  },
};
// Keep Denoiser reachable for callers who stream instead (see docs/DEPLOY.md).
export { Denoiser };

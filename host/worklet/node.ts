/**
 * Main-thread side of the AudioWorklet: loads the processor bundle, compiles
 * the wasm here (the worklet scope cannot fetch), and hands the Module and
 * the model bytes to the processor.
 *
 * ```js
 * const ctx = new AudioContext({ sampleRate: 48000 });
 * const node = await PercepNetNode.create(ctx, { processorUrl: "/percepnet-worklet.js", wasmUrl: "/percepnet.wasm",
 *   relaxedWasmUrl: "/percepnet-relaxed.wasm", modelUrl: "/default.pnm" });
 * source.connect(node).connect(ctx.destination);
 * node.bypass = true;
 * ```
 */
import type { PercepNetControlMessage, PercepNetReport } from "./processor.js";
import type { LiveOptions } from "../denoiser.js";
import { LIVE_OPTION_KEYS, checkOptionKeys, describe } from "../options.js";
import { chooseWasmBuild, WASM_FILES } from "../wasm-select.js";

/** Keys of {@link PercepNetNodeOptions}. */
const NODE_OPTION_KEYS = ["processorUrl", "wasmUrl", "relaxedWasmUrl", "wasm", "modelUrl", "model", "channels", "vadInterval", "comb", "postfilter", "attenuationLimitDb", "levelNormalize", "bypass"] as const;
const NODE_HINTS: Record<string, string> = {
  sampleRate: "the node runs at its AudioContext's rate, which must be 48000: new AudioContext({ sampleRate: 48000 })",
  mode: "the node runs the network when a model is given, unity gains without one (modelUrl: null)",
};

/** Options of {@link PercepNetNode.create}. */
export interface PercepNetNodeOptions {
  /** URL of the worklet bundle (dist/bundle/percepnet-worklet.js); default: beside this module. */
  processorUrl?: string | URL;
  /** URL of percepnet.wasm, the plain-SIMD build (default: "percepnet.wasm" beside this module). */
  wasmUrl?: string | URL;
  /**
   * URL of percepnet-relaxed.wasm, fetched instead where the browser has
   * relaxed SIMD (chooseWasmBuild). Default: "percepnet-relaxed.wasm" beside
   * this module when `wasmUrl` is not given either (falling back to the plain
   * build if it cannot be fetched); with only `wasmUrl` given, that build
   * alone; null: never the relaxed build.
   */
  relaxedWasmUrl?: string | URL | null;
  /** A compiled module: used as is (the caller picks the build; see pickWasmModule). */
  wasm?: WebAssembly.Module;
  /** URL of the .pnm model, or its bytes; null: no network (default: "default.pnm" beside this module). */
  modelUrl?: string | URL | null;
  model?: ArrayBuffer | Uint8Array | null;
  /** Channels, each denoised on its own (default 1). */
  channels?: number;
  /** VAD report period in 10 ms frames; 0 disables (default 10). */
  vadInterval?: number;
  comb?: boolean;
  postfilter?: boolean;
  attenuationLimitDb?: number;
  /** Let the network hear the input at the level it works best at (see DenoiserOptions.levelNormalize). */
  levelNormalize?: boolean;
  bypass?: boolean;
}

const loadedContexts = new WeakMap<BaseAudioContext, Map<string, Promise<void>>>();

async function fetchBytes(url: string | URL, what: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`percepnet: cannot fetch ${what} ${String(url)}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** Fetch once; compile streaming, or from the bytes where the server's content type is not application/wasm. */
async function compileUrl(url: URL): Promise<WebAssembly.Module> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`percepnet: cannot fetch wasm ${String(url)}: HTTP ${res.status}`);
  return WebAssembly.compileStreaming(res.clone()).catch(async () => WebAssembly.compile(await res.arrayBuffer()));
}

/** The build this browser should run, from the node options (see {@link PercepNetNodeOptions.relaxedWasmUrl}). */
async function compileWasmUrl(opts: PercepNetNodeOptions, here: string): Promise<WebAssembly.Module> {
  const plain = new URL(opts.wasmUrl ?? WASM_FILES.simd, here);
  const implicit = opts.relaxedWasmUrl === undefined;
  const relaxed = opts.relaxedWasmUrl === null || (implicit && opts.wasmUrl !== undefined) ? null
    : new URL(opts.relaxedWasmUrl ?? WASM_FILES.relaxed, here);
  if (relaxed && chooseWasmBuild() === "relaxed") {
    try {
      return await compileUrl(relaxed);
    } catch (e) {
      if (!implicit) throw e;
      // The default relaxed build is missing beside the bundle (a deployment that copied percepnet.wasm alone): run the plain one.
    }
  }
  return compileUrl(plain);
}

/** An AudioWorkletNode running PercepNet; `bypass`, `setOptions` and `onvad` talk to the processor. */
export class PercepNetNode extends AudioWorkletNode {
  /** Delay of the output vs the input in samples (wet and bypassed alike), known once ready. */
  delay = 0;
  /** Latest VAD per channel (updated every `vadInterval` frames). */
  vad: number[] = [];
  /** Called with each VAD report. */
  onvad?: (vad: number[], frames: number) => void;
  private _bypass = false;

  /** Load the worklet (once per context), compile the wasm, fetch the model, create the node; resolves once the processor is ready. */
  static async create(context: BaseAudioContext, opts: PercepNetNodeOptions = {}): Promise<PercepNetNode> {
    if (typeof BaseAudioContext === "function" && !(context instanceof BaseAudioContext)) {
      throw new TypeError(`percepnet: PercepNetNode.create() takes an AudioContext first, got ${describe(context)}`);
    }
    checkOptionKeys("PercepNetNode.create()", opts, NODE_OPTION_KEYS, NODE_HINTS);
    if (context.sampleRate !== 48000) {
      throw new Error(`percepnet: the AudioContext runs at ${context.sampleRate} Hz; create it with new AudioContext({ sampleRate: 48000 })`);
    }
    const here = import.meta.url;
    const processorUrl = String(new URL(opts.processorUrl ?? "percepnet-worklet.js", here));
    let perCtx = loadedContexts.get(context);
    if (!perCtx) loadedContexts.set(context, (perCtx = new Map()));
    let loading = perCtx.get(processorUrl);
    if (!loading) perCtx.set(processorUrl, (loading = context.audioWorklet.addModule(processorUrl)));
    const module = opts.wasm ?? await compileWasmUrl(opts, here);
    const model = opts.model !== undefined ? opts.model
      : opts.modelUrl === null ? null
      : await fetchBytes(new URL(opts.modelUrl ?? "default.pnm", here), "model");
    await loading;
    const channels = opts.channels ?? 1;
    const node = new PercepNetNode(context, "percepnet", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [channels],
      channelCount: channels,
      channelCountMode: "explicit",
      processorOptions: {
        module, model, channels,
        vadInterval: opts.vadInterval, comb: opts.comb, postfilter: opts.postfilter,
        attenuationLimitDb: opts.attenuationLimitDb, levelNormalize: opts.levelNormalize, bypass: opts.bypass,
      },
    });
    node._bypass = opts.bypass ?? false;
    await new Promise<void>((resolve, reject) => {
      node.port.onmessage = (ev: MessageEvent) => {
        const m = ev.data as PercepNetReport;
        if (m.type === "ready") { node.delay = m.delay; resolve(); }
        else if (m.type === "error") reject(new Error(m.message));
        else if (m.type === "vad") { node.vad = m.vad; node.onvad?.(m.vad, m.frames); }
      };
    });
    return node;
  }

  /** Dry signal (delay-matched, cross-faded over 10 ms) instead of the denoised one. */
  get bypass(): boolean { return this._bypass; }
  set bypass(v: boolean) {
    this._bypass = v;
    this.port.postMessage({ type: "bypass", value: v } satisfies PercepNetControlMessage);
  }

  /** Change comb / postfilter / attenuation limit / level normaliser live. */
  setOptions(o: LiveOptions): void {
    // Checked here too: the processor's own check can only answer asynchronously.
    checkOptionKeys("PercepNetNode.setOptions()", o, LIVE_OPTION_KEYS);
    this.port.postMessage({ type: "options", ...o } satisfies PercepNetControlMessage);
  }
}

/**
 * Argument and option checks shared by every public entry point, so that a
 * misspelt option or a guessed call signature fails loudly with the name of
 * the function and the problem instead of being ignored (an unknown key
 * silently falling back to a default is the worst case: the output is
 * plausible and wrong).
 *
 * Kept free of Node and DOM names: it is bundled into the AudioWorklet.
 */

/**
 * The options that may change while a denoiser runs (`setOptions` of the
 * Denoiser, the streams and the worklet node, and the worklet's "options"
 * message). Here, not in denoiser.ts, so the worklet node checks the same
 * list without bundling the denoiser.
 */
export const LIVE_OPTION_KEYS = ["comb", "postfilter", "attenuationLimitDb", "levelNormalize"] as const;

/** A short description of a value for error messages: "null", "a Float32Array(480)", "a number (3)". */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}(${(v as unknown as ArrayLike<number>).length ?? v.byteLength})`;
  if (typeof v === "object") {
    const name = (v as object).constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  if (typeof v === "number") return `a number (${v})`;
  if (typeof v === "string") return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
  return `a ${typeof v}`;
}

/**
 * An options bag: a plain object (any realm), not an array, typed array,
 * Map or module, whose index keys would otherwise read as unknown options.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.prototype.toString.call(v) === "[object Object]";
}

/**
 * Edit distance counting a swap of neighbours as one edit (optimal string
 * alignment), since "modle" for "model" is the typical slip. Option names
 * are short, so the full table is nothing.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The valid name closest to `key`, when it is close enough to be a likely typo. */
export function nearest(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity, bestLen = Infinity;
  for (const v of valid) {
    // Case-insensitive: "samplerate" for "sampleRate" is distance 0 here.
    const d = editDistance(key.toLowerCase(), v.toLowerCase());
    // Ties go to the name of the same length: "modle" is "model" swapped, not "mode" plus a letter.
    const len = Math.abs(v.length - key.length);
    if (d < bestD || (d === bestD && len < bestLen)) { bestD = d; bestLen = len; best = v; }
  }
  // Allow about one edit per three letters, at least two: "modle" -> "model", not "x" -> "mode".
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Check that `opts` is undefined or a plain object whose own keys are all in
 * `valid`. `hints` gives a specific explanation for keys that are valid
 * elsewhere (e.g. `sampleRate` on the 48 kHz-only Denoiser).
 * @throws TypeError naming `fn`, the key, and the nearest valid key.
 */
export function checkOptionKeys(fn: string, opts: unknown, valid: readonly string[], hints: Readonly<Record<string, string>> = {}): void {
  if (opts === undefined) return;
  if (!isPlainObject(opts)) {
    throw new TypeError(`percepnet: ${fn}: options must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (valid.includes(key)) continue;
    if (Object.prototype.hasOwnProperty.call(hints, key)) {
      throw new TypeError(`percepnet: unknown option "${key}" for ${fn}: ${hints[key]}`);
    }
    const near = nearest(key, valid);
    const guess = near ? `; did you mean "${near}"?` : "";
    throw new TypeError(`percepnet: unknown option "${key}"${guess} (${fn} takes: ${valid.join(", ")})`);
  }
}

/** @throws TypeError unless `v` is a Float32Array; `what` names the argument ("denoiseBuffer(): samples"). */
export function needFloat32(what: string, v: unknown): asserts v is Float32Array {
  if (!(v instanceof Float32Array)) throw new TypeError(`percepnet: ${what} must be a Float32Array, got ${describe(v)}`);
}

/** @throws TypeError unless `v` is a non-empty array of Float32Array of one length. */
export function needChannels(what: string, v: unknown): asserts v is Float32Array[] {
  if (!Array.isArray(v)) {
    const hint = v instanceof Float32Array ? " (wrap a mono signal as [samples])" : "";
    throw new TypeError(`percepnet: ${what} must be an array of Float32Array channels, got ${describe(v)}${hint}`);
  }
  if (v.length === 0) throw new RangeError(`percepnet: ${what} has no channels`);
  for (let c = 0; c < v.length; c++) {
    if (!(v[c] instanceof Float32Array)) throw new TypeError(`percepnet: ${what}[${c}] must be a Float32Array, got ${describe(v[c])}`);
    if (v[c].length !== v[0].length) throw new RangeError(`percepnet: ${what}[${c}] has ${v[c].length} samples, channel 0 has ${v[0].length}`);
  }
}

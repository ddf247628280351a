/**
 * Where a CLI result goes, decided and opened before any processing.
 *
 * A regular file (new or, with --force, existing) is written to a hidden
 * temp file beside it and renamed into place only once complete, so a
 * failure or a kill never leaves a partial file nor damages the old one.
 * A FIFO or a character device (/dev/null, a terminal, a pipe's
 * /dev/fd/N) cannot be replaced by a rename without destroying it: it is
 * opened and written directly, streaming. A symbolic link is followed, so
 * its target is the file that gets (atomically) replaced and the link
 * stays. Directories, block devices and sockets are refused.
 */
import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { CliError, UsageError, fsMessage } from "./cli-shared.js";

export interface OutputOptions {
  /** Replace an existing regular file. */
  force: boolean;
  /** Files the output must never be (compared by device and inode, so any spelling or link is caught). */
  inputs?: string[];
  /**
   * Called with the temp file's path just before it is created, so a
   * caller's signal handler knows it from the first moment it can exist
   * (registering after `open` returns leaves a window where Ctrl-C strands it).
   */
  beforeCreate?: (tempPath: string) => void;
}

/** Links followed before giving up, as the kernel does (ELOOP). */
const MAX_LINKS = 40;

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Follow `p` through symbolic links, dangling ones included: the path a write really lands on, and what is there. */
async function followLinks(p: string, arg: string): Promise<{ target: string; st: Stats | null }> {
  let target = p;
  for (let i = 0; ; i++) {
    let st: Stats | null;
    try {
      st = await lstatOrNull(target);
    } catch (e) {
      throw new CliError(fsMessage("cannot write", arg, e));
    }
    if (!st?.isSymbolicLink()) return { target, st };
    if (i === MAX_LINKS) throw new CliError(`cannot write ${arg}: too many levels of symbolic links`);
    target = path.resolve(path.dirname(target), await fs.readlink(target));
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

export class OutputFile {
  private done = false;

  private constructor(
    /** The path written in the end (a symlink's target). */
    readonly target: string,
    private readonly handle: fs.FileHandle,
    /** The temp file being written, or undefined when writing straight to a FIFO/device. */
    readonly tempPath: string | undefined,
    private readonly force: boolean,
    private readonly arg: string,
  ) {}

  /** True when the output is a FIFO or character device, written as the data comes. */
  get streaming(): boolean { return this.tempPath === undefined; }

  /**
   * Check `arg` and open it for writing (its temp file, or the FIFO/device
   * itself). Usage errors (existing file without --force, the input, a
   * directory) throw {@link UsageError}; unwritable places {@link CliError}.
   */
  static async open(arg: string, opts: OutputOptions): Promise<OutputFile> {
    const abs = path.resolve(arg);
    // What a write would reach, links followed by the kernel: this sees
    // through /proc's magic links too (/dev/stdout -> pipe:[N]), which no
    // readlink walk can.
    const reached = await fs.stat(abs).catch(() => null);
    if (reached && (reached.isFIFO() || reached.isCharacterDevice())) {
      let handle;
      try {
        handle = await fs.open(abs, "w");
      } catch (e) {
        throw new CliError(fsMessage("cannot write", arg, e));
      }
      return new OutputFile(abs, handle, undefined, opts.force, arg);
    }
    // A socket (say /dev/stdout of a process started with socketpair stdio) can't be opened by path.
    if (reached?.isSocket()) throw new UsageError(`output ${arg} is a socket; write to a file, a FIFO or a pipe instead`);
    const { target, st } = await followLinks(abs, arg);
    if (st) {
      for (const inp of opts.inputs ?? []) {
        const ist = await fs.stat(path.resolve(inp)).catch(() => null);
        if (ist && ist.dev === st.dev && ist.ino === st.ino) {
          throw new UsageError(`refusing to write over the input: ${arg} is the same file as ${inp}`);
        }
      }
      if (!st.isFile()) throw new UsageError(`output ${arg} is ${kindOf(st)}`);
      if (!opts.force) throw new UsageError(`output ${arg} already exists (use --force to overwrite it)`);
    }
    const dir = path.dirname(target);
    const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    opts.beforeCreate?.(tmp);
    try {
      return new OutputFile(target, await fs.open(tmp, "wx"), tmp, opts.force, arg);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        // ENOENT on create means a missing directory, or one that allows no new files (/proc, /sys).
        const dst = await fs.stat(dir).catch(() => null);
        if (dst?.isDirectory()) throw new CliError(`cannot write ${arg}: ${dir} does not allow creating files`);
        throw new CliError(`cannot write ${arg}: directory ${dir} does not exist`);
      }
      throw new CliError(fsMessage("cannot write", arg, e));
    }
  }

  /** Append bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
    } catch (e) {
      throw new CliError(fsMessage("cannot write", this.arg, e));
    }
  }

  /** Finish: flush to disk and move the temp file into place (without --force, never over a file that appeared meanwhile). */
  async commit(): Promise<void> {
    try {
      if (this.tempPath) await this.handle.sync();
      await this.handle.close();
    } catch (e) {
      throw new CliError(fsMessage("cannot write", this.arg, e));
    }
    if (this.tempPath) await this.moveIntoPlace(this.tempPath);
    this.done = true;
  }

  private async moveIntoPlace(tmp: string): Promise<void> {
    const taken = () => new CliError(`${this.arg} was created by someone else while processing; not overwritten`);
    try {
      if (this.force) {
        await fs.rename(tmp, this.target);
        return;
      }
      try {
        // link() fails if the target exists, closing the race between the early check and now.
        await fs.link(tmp, this.target);
        await fs.unlink(tmp);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") throw taken();
        // File systems without hard links: fall back to check-then-rename.
        if (await lstatOrNull(this.target)) throw taken();
        await fs.rename(tmp, this.target);
      }
    } catch (e) {
      await fs.unlink(tmp).catch(() => {});
      if (e instanceof CliError) throw e;
      throw new CliError(fsMessage("cannot write", this.arg, e));
    }
  }

  /** Give up: close, and remove the temp file (a FIFO or device just stops receiving). */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => {});
    if (this.tempPath) await fs.unlink(this.tempPath).catch(() => {});
  }
}

/**
 * Write `bytes` to `output` as {@link OutputFile} does: atomically for a
 * file, directly for a FIFO or device; refusing an existing file without
 * `force` and never touching `inputs`.
 */
export async function writeOutput(output: string, bytes: Uint8Array, force: boolean, inputs: string[] = []): Promise<void> {
  const out = await OutputFile.open(output, { force, inputs });
  try {
    await out.write(bytes);
    await out.commit();
  } finally {
    await out.abort();
  }
}

/**
 * What every `percepnet` subcommand shares: exit codes, the two error kinds,
 * the I/O seam tests replace, and fs error messages fit for a user. Kept
 * apart from cli.ts so subcommands import it without importing each other.
 */

export const EXIT_OK = 0;
/** Processing failed: unreadable input, bad file, I/O error. */
export const EXIT_FAILURE = 1;
/** The command line itself is wrong or asks for something refused. */
export const EXIT_USAGE = 2;

/** Wrong command line: reported with a pointer to --help, exit code 2. */
export class UsageError extends Error {}
/** Processing failure with a message fit for the user, exit code 1. */
export class CliError extends Error {}

/** Where the CLI writes; `isTTY` on stderr enables the progress bar. */
export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

const WHY: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EISDIR: "is a directory",
  ENOTDIR: "a component of the path is not a directory",
  ENOSPC: "no space left on device",
  EEXIST: "already exists",
  ELOOP: "too many levels of symbolic links",
  ENXIO: "no reader on the other end",
  EPIPE: "the reader went away",
};

/** Turn a failed fs call into a sentence naming the path and the cause. */
export function fsMessage(what: string, file: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return `${what} ${file}: ${(err.code && WHY[err.code]) ?? err.message}`;
}

/** Seconds of audio per second of work, with enough digits to mean something for short and long files alike. */
export function speedText(audioSeconds: number, tookSeconds: number): string {
  if (!(tookSeconds > 0)) return "instant";
  const x = audioSeconds / tookSeconds;
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(2)}x real time`;
}

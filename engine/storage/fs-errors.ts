/**
 * The errors the fs backend reports (no I/O here): each says what failed, where (folder, file,
 * byte offset) and what the operator can do about it.
 */
import { RookeryError } from "../core/index.ts";

/** logError names a failed operation on the log file; permission problems get their own code. */
export function logError(file: string, verb: string, error: unknown): RookeryError {
  const code = errorCode(error);
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return notWritable(file, error, "storage log");
  }
  return new RookeryError(
    "StorageFailed",
    `cannot ${verb} the storage log ${file}: ${messageOf(error, file)}`,
    { file, cause: code },
  );
}

/** folderError says why the data folder cannot be created or used. */
export function folderError(path: string, error: unknown): RookeryError {
  const code = errorCode(error);
  if (code === "ENOTDIR" || code === "EEXIST") {
    return new RookeryError(
      "StorageNotDirectory",
      `the data folder ${path} cannot be created: part of its path is a file, not a directory; ` +
        "point dataDir at a folder",
      { dir: path, cause: code },
    );
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return notWritable(path, error);
  return new RookeryError(
    "StorageFailed",
    `the data folder ${path} cannot be used: ${messageOf(error, path)}`,
    { dir: path, cause: code },
  );
}

/** notWritable says the process lacks write permission, and how to fix it. */
export function notWritable(path: string, error: unknown, what = "data folder"): RookeryError {
  return new RookeryError(
    "StorageNotWritable",
    `the ${what} ${path} is not writable (${errorCode(error) ?? messageOf(error)}); give this ` +
      "process write permission on it, or point dataDir at another folder",
    { path, cause: errorCode(error) },
  );
}

/**
 * corrupt describes damage at `offset` that recovery will not guess past; `next` is where a valid
 * record follows (what makes it damage rather than a torn tail).
 */
export function corrupt(
  file: string,
  dir: string,
  offset: number,
  problem: string,
  next: number | null,
  records: number,
): RookeryError {
  const why =
    next === null
      ? ""
      : `, yet a valid record follows at byte ${next}, so this is damage, not a write cut short ` +
        "by a crash";
  return new RookeryError(
    "StorageCorrupt",
    `the storage log ${file} is corrupt at byte offset ${offset}: ${problem}${why}. Rookery did ` +
      `not start with part of the data (${records} records before it were readable). Restore ` +
      `${dir} from a backup, or move ${file} aside: the server then starts empty, as a new ` +
      "server (tag ?) that the cluster no longer counts as its old node, so remove that node " +
      "from the cluster and add this server again to let it catch up",
    { file, offset, nextValidOffset: next, recordsBefore: records },
  );
}

/** errorCode is a Node error's code ("ENOSPC"), if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * messageOf is the message of anything thrown. Node's file errors end with the syscall and the
 * path ("ENOENT: no such file or directory, open '/x/y'"); when the message around it already
 * names that path (`named`), the tail is dropped rather than said twice.
 */
export function messageOf(error: unknown, named?: string): string {
  if (!(error instanceof Error)) return String(error);
  const { path, syscall } = error as { path?: unknown; syscall?: unknown };
  if (named !== undefined && path === named && typeof syscall === "string")
    return error.message.replace(`, ${syscall} '${path}'`, "");
  return error.message;
}

/** logEndsEarly says the log is shorter than the records it held: changed under us. */
export function logEndsEarly(file: string, offset: number): RookeryError {
  return new RookeryError(
    "StorageCorrupt",
    `the storage log ${file} ends at byte offset ${offset}, before the records it held when ` +
      "opened; another process may have changed it",
    { file, offset },
  );
}

/**
 * Recovery's reading of the log (no I/O here; fs.ts reads the file and cuts or rewrites it): it
 * checks every record, indexes where each live value sits, and finds where the valid records end
 * (a torn tail after that) or stops at damage in the middle.
 */
import { RookeryError } from "../core/index.ts";
import { LiveState } from "./codec.ts";
import { corrupt, messageOf } from "./fs-errors.ts";
import {
  PayloadReader,
  checkRecord,
  findValidRecord,
  isLegacyPayload,
  logMagic,
  parseLegacyPayload,
  recordBytes,
  recordHeaderBytes,
} from "./fs-format.ts";
import type { Crc32, OperationVisitor } from "./fs-format.ts";
import type { LogIndex } from "./fs-index.ts";

export interface Replay {
  /** Where the valid records end; anything after is a torn tail. */
  readonly end: number;
  readonly records: number;
  /** Whether some record has the older one-line layout, so the log must be rewritten. */
  readonly legacy: boolean;
}

/** replayLog checks every record of `data` and indexes the line-layout ones into `index`. */
export function replayLog(
  data: Uint8Array,
  file: string,
  dir: string,
  index: LogIndex,
  crc32: Crc32,
): Replay {
  if (data.length < logMagic.length || logMagic.some((byte, at) => data[at] !== byte)) {
    throw new RookeryError(
      "StorageUnknownFormat",
      `${file} is not a Rookery storage log (it does not start with "RKYLOG01"); move it aside ` +
        `or point dataDir at another folder than ${dir}`,
      { file },
    );
  }
  const reader = new PayloadReader();
  const visit: OperationVisitor = (store, key, _lineStart, _lineEnd, valueStart, valueEnd) => {
    if (valueStart < 0) index.delete(store, key);
    else index.put(store, key, valueStart, valueEnd - valueStart);
  };
  let offset = logMagic.length;
  let records = 0;
  let legacy = false;
  while (offset < data.length) {
    const problem = checkRecord(data, offset, crc32);
    if (problem !== null) {
      const next = findValidRecord(data, offset + 1, crc32);
      if (next === null) return { end: offset, records, legacy }; // a torn tail: nothing valid after it
      throw corrupt(file, dir, offset, problem, next, records);
    }
    const start = offset + recordHeaderBytes;
    const end = offset + recordBytes(data, offset);
    if (isLegacyPayload(data, start)) legacy = true;
    else {
      let unreadable: string | null;
      try {
        unreadable = reader.read(data, start, end, visit);
      } catch (error) {
        unreadable = messageOf(error);
      }
      // The checksum matched, so these bytes are what was written: a bug or a foreign writer.
      if (unreadable !== null) {
        throw corrupt(
          file,
          dir,
          offset,
          `the record's content is unreadable (${unreadable})`,
          null,
          records,
        );
      }
    }
    records++;
    offset = end;
  }
  return { end: offset, records, legacy };
}

/**
 * replayLegacy reads a log that has records of the older one-line layout the slow way (JSON.parse
 * of every payload, which reads both layouts), so that recovery can rewrite it in the line layout.
 */
export function replayLegacy(data: Uint8Array, file: string, dir: string): LiveState {
  const live = new LiveState();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let records = 0;
  for (let offset = logMagic.length; offset < data.length; offset += recordBytes(data, offset)) {
    const start = offset + recordHeaderBytes;
    try {
      live.apply(
        parseLegacyPayload(
          decoder.decode(data.subarray(start, offset + recordBytes(data, offset))),
        ),
      );
    } catch (error) {
      const problem = `the record's content is unreadable (${messageOf(error)})`;
      throw corrupt(file, dir, offset, problem, null, records);
    }
    records++;
  }
  return live;
}

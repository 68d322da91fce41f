/**
 * databaseLimits bounds what one database instance accepts. The unit is the last word of each
 * name; a server may pass smaller limits (tests do) but never larger ones than it can store.
 */
export const databaseLimits = {
  /** Characters in a document id (RavenDB refuses very long ids too). */
  documentIdLengthMax: 512,
  /** Bytes of one document body as JSON text. */
  documentBytesMax: 16 * 1024 * 1024,
  /** Nesting depth of a document body, so validation and canonical JSON never run away. */
  documentDepthMax: 64,
  /** Characters in an attachment name. */
  attachmentNameLengthMax: 256,
  /** Bytes of one attachment's content. */
  attachmentBytesMax: 64 * 1024 * 1024,
  /** Commands (puts, deletes, attachment changes) in one transaction. */
  transactionCommandsMax: 10_000,
} as const;

/** DatabaseLimits is the shape of databaseLimits with every limit adjustable. */
export type DatabaseLimits = { -readonly [K in keyof typeof databaseLimits]: number };

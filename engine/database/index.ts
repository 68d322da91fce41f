export * from "./limits.ts";
export * from "./json.ts";
export * from "./ids.ts";
export * from "./items.ts";
export * from "./content.ts";
export * from "./storage.ts";
export * from "./config.ts";
export * from "./conflicts.ts";
export * from "./replicated.ts";
export type {
  AttachmentDelete,
  AttachmentPut,
  DocumentDelete,
  DocumentPut,
  TransactionInput,
} from "./transaction.ts";
export * from "./instance.ts";
export { includedIds } from "./includes.ts";

import type { AttachmentInfo, StoredItem } from "./items.ts";

/**
 * itemJson returns JSON.stringify(item), built from pieces so that a body whose text the caller
 * already has (a put stringified it to copy and measure it) is not stringified again. The pieces
 * follow the key order the writer gives items, so the text is the one JSON.stringify prints;
 * `bodyJson` must be JSON.stringify of the item's body.
 */
export function itemJson(item: StoredItem, bodyJson: string | undefined): string {
  if (item.kind === "attachment" || item.kind === "tombstone") return JSON.stringify(item);
  const body = item.body === null ? "null" : (bodyJson ?? JSON.stringify(item.body));
  return (
    `{"kind":"${item.kind}","id":${JSON.stringify(item.id)},` +
    `"collection":${JSON.stringify(item.collection)},` +
    `"changeVector":${JSON.stringify(item.changeVector)},` +
    `"lastModifiedMs":${JSON.stringify(item.lastModifiedMs)},"body":${body},` +
    `"attachments":${attachmentsJson(item.attachments)},` +
    `"etag":${item.etag},"transaction":${item.transaction}}`
  );
}

function attachmentsJson(attachments: readonly AttachmentInfo[]): string {
  return attachments.length === 0 ? "[]" : JSON.stringify(attachments);
}

/**
 * storableJson returns the text storage may keep instead of encoding the value itself, or
 * undefined when it may hold the object key "\u0000" that storage reserves for its own escapes.
 * JSON.stringify always writes that character as the six characters \u0000, so text without
 * them has no such key; text with them (rare: a string holding the character) is left to storage.
 */
export function storableJson(json: string): string | undefined {
  return json.includes("\\u0000") ? undefined : json;
}

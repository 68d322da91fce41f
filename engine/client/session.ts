import { isRookeryError, quote, RookeryError } from "../core/index.ts";
import type { DocumentDelete, DocumentPut } from "../database/index.ts";
import type { DocumentView, WriteAssuranceRequest } from "../transport/index.ts";
import type { RequestExecutor, Served } from "./request-executor.ts";

/** WaitForReplicationOptions are waitForReplicationAfterSaveChanges' options (RavenDB's names). */
export interface WaitForReplicationOptions {
  /** Siblings that must have the write (RavenDB's default: 1). */
  readonly replicas?: number;
  /** Wait for a majority of the siblings instead of `replicas`. */
  readonly majority?: boolean;
  /** How long the server waits, in ms (default: conventions.waitForReplicationTimeoutMs). */
  readonly timeout?: number;
  /** Raise WriteAssuranceTimeout when the wait times out (default true); the write stays either way. */
  readonly throwOnTimeout?: boolean;
}

/** DocumentMetadata as a session knows it: `@id`, `@change-vector` and what the server sent. */
export type SessionMetadata = Readonly<Record<string, unknown>> & {
  readonly "@id": string;
  readonly "@change-vector"?: string;
};

interface DocumentInfo {
  id: string;
  entity: object;
  /** The change vector the session last saw; undefined for a new entity. */
  changeVector: string | undefined;
  metadata: Record<string, unknown>;
  /** The entity as last loaded or saved, to tell whether it changed. */
  snapshot: string;
  isNew: boolean;
  /** A change vector given explicitly to store(): checked on save whatever the session setting. */
  forcedChangeVector: string | undefined;
}

interface PendingDelete {
  id: string;
  expectedChangeVector: string | undefined;
}

interface BatchResult {
  readonly written?: readonly {
    readonly id: string;
    readonly kind: string;
    readonly changeVector: string;
  }[];
}

const key = (id: string): string => id.toLowerCase();

function serialise(entity: object): string {
  return JSON.stringify(entity);
}

/**
 * DocumentSession is a unit of work, as in RavenDB: it loads documents into entities it tracks
 * (one entity per id), remembers what was stored and deleted, and saveChanges sends all of it as
 * ONE batch request, which the server applies as one transaction and replicates as one.
 */
export class DocumentSession {
  readonly advanced: SessionAdvanced;
  private readonly byId = new Map<string, DocumentInfo>();
  private readonly byEntity = new Map<object, DocumentInfo>();
  private readonly deletes = new Map<string, PendingDelete>();
  private readonly missing = new Set<string>();
  /** @internal */ writeAssurance: WriteAssuranceRequest | undefined;
  /** @internal */ requests = 0;
  /** @internal */ lastNode: string | undefined;

  /** @internal Sessions come from store.openSession(). */
  constructor(
    private readonly executor: RequestExecutor,
    readonly sessionId: number,
    private readonly waitTimeoutDefaultMs: number,
    private readonly requestTimeoutMs: number,
  ) {
    this.advanced = new SessionAdvanced(this);
  }

  /**
   * load reads one document (null when there is none) or several (a record by id). An id already
   * in the session is answered from it, so the same id always gives the same object.
   */
  load<T extends object = Record<string, unknown>>(id: string): Promise<T | null>;
  load<T extends object = Record<string, unknown>>(
    ids: readonly string[],
  ): Promise<Record<string, T | null>>;
  async load<T extends object>(
    idOrIds: string | readonly string[],
  ): Promise<T | null | Record<string, T | null>> {
    const ids = typeof idOrIds === "string" ? [idOrIds] : [...idOrIds];
    for (const id of ids) {
      if (typeof id !== "string" || id.length === 0)
        throw new RookeryError(
          "InvalidDocumentId",
          `load needs non-empty string ids, got ${JSON.stringify(id)}`,
        );
    }
    const wanted = [...new Set(ids.map(key))]
      .map((k) => ids.find((id) => key(id) === k)!)
      .filter(
        (id) => !this.byId.has(key(id)) && !this.missing.has(key(id)) && !this.deletes.has(key(id)),
      );
    if (wanted.length > 0) {
      const served = await this.execute(
        { type: "get-documents", database: this.executor.database, ids: wanted },
        true,
      );
      const documents = served.result as readonly (DocumentView | null)[];
      wanted.forEach((id, i) => {
        const doc = documents[i];
        if (doc) this.trackLoaded(doc);
        else this.missing.add(key(id));
      });
    }
    const entityOf = (id: string): T | null =>
      this.deletes.has(key(id))
        ? null
        : ((this.byId.get(key(id))?.entity as T | undefined) ?? null);
    if (typeof idOrIds === "string") return entityOf(idOrIds);
    const result: Record<string, T | null> = {};
    for (const id of ids) result[id] = entityOf(id);
    return result;
  }

  private trackLoaded(doc: DocumentView): void {
    const entity = structuredClone(doc.body) as object;
    const info: DocumentInfo = {
      id: doc.id,
      entity,
      changeVector: doc.metadata["@change-vector"],
      metadata: { ...structuredClone(doc.metadata), "@id": doc.id },
      snapshot: serialise(entity),
      isNew: false,
      forcedChangeVector: undefined,
    };
    this.byId.set(key(doc.id), info);
    this.byEntity.set(entity, info);
  }

  /**
   * store adds an entity under `id`; saveChanges writes it. `changeVector` makes the write
   * conditional on the stored document having exactly that vector (optimistic concurrency).
   */
  store(entity: object, id: string, options: { readonly changeVector?: string } = {}): void {
    if (typeof entity !== "object" || entity === null || Array.isArray(entity)) {
      throw new RookeryError(
        "InvalidEntity",
        `store needs an object (a document body), got ${Array.isArray(entity) ? "an array" : JSON.stringify(entity)}`,
      );
    }
    if (typeof id !== "string" || id.length === 0)
      throw new RookeryError(
        "InvalidDocumentId",
        `store needs a non-empty string id, got ${JSON.stringify(id)}`,
      );
    const tracked = this.byEntity.get(entity);
    if (tracked) {
      if (key(tracked.id) !== key(id)) {
        throw new RookeryError(
          "InvalidOperation",
          `this entity is already in the session as ${quote(tracked.id)}; it cannot also be ${quote(id)}`,
        );
      }
      if (options.changeVector !== undefined) tracked.forcedChangeVector = options.changeVector;
      return;
    }
    if (this.byId.has(key(id))) {
      throw new RookeryError(
        "NonUniqueObject",
        `another object is already in the session with id ${quote(id)}; change that one, or evict it first`,
        { id },
      );
    }
    if (this.deletes.has(key(id))) {
      throw new RookeryError(
        "InvalidOperation",
        `${quote(id)} was deleted in this session; save the delete first, or use another id`,
        { id },
      );
    }
    const info: DocumentInfo = {
      id,
      entity,
      changeVector: undefined,
      metadata: { "@id": id },
      snapshot: "",
      isNew: true,
      forcedChangeVector: options.changeVector,
    };
    this.missing.delete(key(id));
    this.byId.set(key(id), info);
    this.byEntity.set(entity, info);
  }

  /**
   * delete removes a document by id or by a tracked entity on saveChanges. With optimistic
   * concurrency (or an explicit `expectedChangeVector`) the delete fails if the document changed.
   */
  delete(idOrEntity: string | object, expectedChangeVector?: string): void {
    let info: DocumentInfo | undefined;
    if (typeof idOrEntity === "string") {
      info = this.byId.get(key(idOrEntity));
    } else {
      info = this.byEntity.get(idOrEntity);
      if (!info)
        throw new RookeryError(
          "InvalidOperation",
          "this entity is not in the session; delete it by id, or load it first",
        );
    }
    const id = info?.id ?? (idOrEntity as string);
    if (info) {
      this.byId.delete(key(id));
      this.byEntity.delete(info.entity);
      // A new entity deleted before it was saved was never on the server: forget it.
      if (info.isNew) return;
    }
    const concurrency =
      expectedChangeVector ??
      (this.advanced.useOptimisticConcurrency ? info?.changeVector : undefined);
    this.deletes.set(key(id), { id, expectedChangeVector: concurrency });
  }

  /** @internal what saveChanges would send: puts of new and changed entities, then deletes. */
  pending(): { puts: DocumentPut[]; deletes: DocumentDelete[]; infos: DocumentInfo[] } {
    const puts: DocumentPut[] = [];
    const infos: DocumentInfo[] = [];
    for (const info of this.byId.values()) {
      const now = serialise(info.entity);
      if (!info.isNew && now === info.snapshot && info.forcedChangeVector === undefined) continue;
      const expected =
        info.forcedChangeVector ??
        (this.advanced.useOptimisticConcurrency && !info.isNew ? info.changeVector : undefined);
      puts.push({
        id: info.id,
        body: JSON.parse(now) as unknown,
        ...(expected !== undefined ? { expectedChangeVector: expected } : {}),
      });
      infos.push(info);
    }
    const deletes = [...this.deletes.values()].map((d) => ({
      id: d.id,
      ...(d.expectedChangeVector !== undefined
        ? { expectedChangeVector: d.expectedChangeVector }
        : {}),
    }));
    return { puts, deletes, infos };
  }

  /**
   * saveChanges sends every change of this session as one batch: one transaction on the server,
   * replicated as one. Nothing to save sends nothing. With write assurance, a timeout raises
   * WriteAssuranceTimeout (reached/wanted in its details) after the session has taken the saved
   * state in, because the write itself is committed.
   */
  async saveChanges(): Promise<void> {
    const { puts, deletes, infos } = this.pending();
    if (puts.length === 0 && deletes.length === 0) return;
    const assurance = this.writeAssurance;
    let served: Served;
    try {
      served = await this.execute(
        {
          type: "batch",
          database: this.executor.database,
          transaction: {
            ...(puts.length > 0 ? { puts } : {}),
            ...(deletes.length > 0 ? { deletes } : {}),
          },
          ...(assurance ? { writeAssurance: assurance } : {}),
        },
        false,
        this.requestTimeoutMs + (assurance?.timeoutMs ?? 0),
      );
    } catch (error) {
      if (isRookeryError(error, "WriteAssuranceTimeout")) {
        const written = (error.details as { written?: BatchResult }).written;
        if (written) this.saved(written, puts, infos);
      }
      throw error;
    }
    this.saved(served.result as BatchResult, puts, infos);
  }

  private saved(
    result: BatchResult,
    puts: readonly DocumentPut[],
    infos: readonly DocumentInfo[],
  ): void {
    const vectors = new Map(
      (result.written ?? [])
        .filter((w) => w.kind === "document")
        .map((w) => [key(w.id), w.changeVector]),
    );
    puts.forEach((put, i) => {
      const info = infos[i]!;
      const vector = vectors.get(key(put.id));
      info.isNew = false;
      info.forcedChangeVector = undefined;
      info.snapshot = JSON.stringify(put.body);
      if (vector !== undefined) {
        info.changeVector = vector;
        info.metadata = { ...info.metadata, "@change-vector": vector };
      }
    });
    for (const d of this.deletes.values()) this.missing.add(key(d.id));
    this.deletes.clear();
  }

  private async execute(
    request: Parameters<RequestExecutor["execute"]>[0],
    read: boolean,
    timeoutMs?: number,
  ): Promise<Served> {
    this.requests++;
    const served = await this.executor.execute(request, {
      read,
      sessionId: this.sessionId,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    this.lastNode = served.node.tag;
    return served;
  }

  /** @internal */ info(entity: object): DocumentInfo {
    const info = this.byEntity.get(entity);
    if (!info)
      throw new RookeryError(
        "InvalidOperation",
        "this entity is not in the session (load or store it first)",
      );
    return info;
  }

  /** @internal */ forget(entity: object): void {
    const info = this.byEntity.get(entity);
    if (!info) return;
    this.byEntity.delete(entity);
    this.byId.delete(key(info.id));
  }

  /** @internal */ forgetAll(): void {
    this.byId.clear();
    this.byEntity.clear();
    this.deletes.clear();
    this.missing.clear();
  }

  /** @internal */ isTracked(id: string): boolean {
    return this.byId.has(key(id));
  }

  /** @internal */ setWaitForReplication(options: WaitForReplicationOptions): void {
    const replicas = options.replicas ?? 1;
    const timeoutMs = options.timeout ?? this.waitTimeoutDefaultMs;
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new RookeryError(
        "InvalidWriteAssurance",
        `replicas must be a whole number >= 0, got ${replicas}`,
      );
    if (!(timeoutMs > 0))
      throw new RookeryError(
        "InvalidWriteAssurance",
        `timeout must be a positive number of ms, got ${timeoutMs}`,
      );
    this.writeAssurance = {
      replicas,
      majority: options.majority ?? false,
      timeoutMs,
      throwOnTimeout: options.throwOnTimeout ?? true,
    };
  }
}

/** SessionAdvanced is `session.advanced`: concurrency, write assurance and what the session tracks. */
export class SessionAdvanced {
  /** When true, puts and deletes of loaded documents carry the change vector they were loaded with. */
  useOptimisticConcurrency = false;

  constructor(private readonly session: DocumentSession) {}

  /** waitForReplicationAfterSaveChanges makes every later saveChanges of this session wait for replicas. */
  waitForReplicationAfterSaveChanges(options: WaitForReplicationOptions = {}): void {
    this.session.setWaitForReplication(options);
  }

  /** getChangeVectorFor is the change vector the session last saw for an entity (undefined if new). */
  getChangeVectorFor(entity: object): string | undefined {
    return this.session.info(entity).changeVector;
  }

  /** getMetadataFor is the entity's `@metadata` as last loaded or saved. */
  getMetadataFor(entity: object): SessionMetadata {
    return { ...this.session.info(entity).metadata } as SessionMetadata;
  }

  /** getDocumentId is the id an entity is tracked under. */
  getDocumentId(entity: object): string {
    return this.session.info(entity).id;
  }

  /** isLoaded tells whether an id is tracked by this session. */
  isLoaded(id: string): boolean {
    return this.session.isTracked(id);
  }

  /** hasChanges tells whether saveChanges would send anything. */
  hasChanges(): boolean {
    const { puts, deletes } = this.session.pending();
    return puts.length > 0 || deletes.length > 0;
  }

  /** hasChanged tells whether a tracked entity differs from what was loaded or saved. */
  hasChanged(entity: object): boolean {
    const info = this.session.info(entity);
    return info.isNew || JSON.stringify(entity) !== info.snapshot;
  }

  /** evict stops tracking an entity; saveChanges ignores it from now on. */
  evict(entity: object): void {
    this.session.forget(entity);
  }

  /** clear forgets everything the session tracks, pending stores and deletes included. */
  clear(): void {
    this.session.forgetAll();
  }

  /** numberOfRequests counts the requests this session sent (loads and saves). */
  get numberOfRequests(): number {
    return this.session.requests;
  }

  /** lastServedBy is the tag of the node that answered this session's last request. */
  get lastServedBy(): string | undefined {
    return this.session.lastNode;
  }
}

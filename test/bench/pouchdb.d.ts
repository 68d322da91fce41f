// The little of PouchDB the workers bench uses (the packages ship no types).
declare module "pouchdb-core" {
  interface PouchDatabase {
    bulkDocs(docs: readonly Record<string, unknown>[]): Promise<unknown>;
    info(): Promise<{ doc_count: number }>;
    destroy(): Promise<unknown>;
  }
  interface PouchConstructor {
    new (name: string, options: { adapter: string }): PouchDatabase;
    plugin(plugin: unknown): PouchConstructor;
    replicate(source: PouchDatabase, target: PouchDatabase): Promise<unknown>;
  }
  const PouchDB: PouchConstructor;
  export default PouchDB;
}
declare module "pouchdb-adapter-memory" {
  const plugin: unknown;
  export default plugin;
}
declare module "pouchdb-replication" {
  const plugin: unknown;
  export default plugin;
}

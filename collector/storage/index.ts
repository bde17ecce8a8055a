/** Public surface of collector/storage (the only code that imports `level`). */
export { CollectorStore, StoreFormatError, isStoreLocked, type StoreOptions } from './store.js'
export type { WriteOp } from './level-db.js'
export type { BatchWrite, FlowIndex, StoredFlowSegment } from './batch-store.js'
export { ip16, keys, KEY_PREFIX, STORE_FORMAT_VERSION } from './keys.js'
export { decodePostings, encodePostings } from './postings.js'
export * from './records.js'

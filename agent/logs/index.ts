/** Public surface of agent/logs: framing, parsers, normalised events, tailing sources. */
export { type LogEvent, type EventOutcome, LOG_EVENT_FIELDS, rawEvent, isHostAuthFailure } from './log-event.js'
export { LineFramer, frameBuffer, type Frame } from './framing/line-framer.js'
export { parseLogLine, parseProgramMessage, LOG_TYPES, type LogType, type ParseOptions } from './parse/parse-line.js'
export { FileSource, type FileSourceCounter } from './tail/file-source.js'
export { fileSourceConfig, FILE_SOURCE_DEFAULTS, type FileSourceConfig } from './tail/file-source-config.js'
export { JournaldSource, journalEntryToEvent, type JournaldSourceConfig } from './tail/journald-source.js'
export type { Delivery } from './tail/delivery-queue.js'

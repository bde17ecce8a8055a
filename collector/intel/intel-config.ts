/** The `intel` section: feed files (re-read on change) and limits. */
import { Type, type Static } from '@sinclair/typebox'

export const IntelConfigSchema = Type.Object({
  files: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'feed files (CSV/plain, STIX 2.1 bundle, MISP event JSON); re-read when size or mtime changes' }),
  reload_interval_s: Type.Integer({ minimum: 1, default: 30, description: 'how often feed files are checked for changes' }),
  max_feeds: Type.Integer({ minimum: 1, default: 64 }),
  max_feed_bytes: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024, description: 'largest feed body accepted by POST /api/v1/intel/feeds' }),
}, { additionalProperties: false, default: {} })

export type IntelConfigSection = Static<typeof IntelConfigSchema>

/** Test helper: paths of the built CLIs (tests run from dist/test). */
import { fileURLToPath } from 'node:url'

export const AGENT_MAIN = fileURLToPath(new URL('../../agent/cli/main.js', import.meta.url))
export const COLLECTOR_MAIN = fileURLToPath(new URL('../../collector/cli/main.js', import.meta.url))

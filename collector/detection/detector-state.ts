/**
 * Learning that survives a restart. Detectors with a baseline (new_device's known devices,
 * rogue_dhcp's learned servers, exfiltration's per-host means) hand their state over as
 * JSON-able data (Detector.saveState); it is saved gzipped, one value per detector, in one
 * atomic write together with the batch numbers detection has examined, and handed back at
 * start (loadState) before the first batch. Without it a restart began every learning
 * period again: a day without new_device alerts, an hour in which a rogue DHCP server would
 * be learned as a known one.
 *
 * The texts are taken between two batches, synchronously (DetectionService.betweenBatches):
 * the detectors and the examined marks describe the same point of the record stream, and
 * after a restart detection reads back every stored batch after it.
 */
import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import type { Detector } from './detection-types.js'

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/** The state name the examined marks are saved under (no detector has it). */
export const EXAMINED_STATE = 'examined-batches'

/** Each detector's state that has one, as JSON text by detector name (synchronous: one point in time). */
export function detectorStateTexts(detectors: readonly Detector[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const d of detectors) if (d.saveState !== undefined) out.set(d.name, JSON.stringify(d.saveState()))
  return out
}

/** The texts gzipped, as saved. */
export async function gzipStates(texts: ReadonlyMap<string, string>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const [name, text] of texts) out.set(name, await gzipAsync(text, { level: 1 }))
  return out
}

/** detectorStateTexts, gzipped. */
export async function snapshotDetectors(detectors: readonly Detector[]): Promise<Map<string, Buffer>> {
  return gzipStates(detectorStateTexts(detectors))
}

/** A saved value as JSON data; undefined when it does not inflate or parse. */
export async function savedData(value: Buffer): Promise<unknown> {
  try {
    return JSON.parse((await gunzipAsync(value)).toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

export interface RestoreResult { restored: string[]; ignored: string[] }

/**
 * Hands saved states back to the detectors of the same name. A value that does not inflate
 * or parse, or that the detector does not recognise (another version, other settings), is
 * ignored and named: that detector learns again.
 */
export async function restoreDetectors(detectors: readonly Detector[], saved: ReadonlyMap<string, Buffer>): Promise<RestoreResult> {
  const r: RestoreResult = { restored: [], ignored: [] }
  for (const d of detectors) {
    const value = saved.get(d.name)
    if (value === undefined || d.loadState === undefined) continue
    const data = await savedData(value)
    if (data !== undefined && d.loadState(data)) r.restored.push(d.name)
    else r.ignored.push(d.name)
  }
  return r
}

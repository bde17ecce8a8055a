/**
 * Learning that survives a restart. Detectors with a baseline (new_device's known devices,
 * rogue_dhcp's learned servers, exfiltration's per-host means) hand their state over as
 * JSON-able data (Detector.saveState); it is saved gzipped, one value per detector, in one
 * atomic write, and handed back at start (loadState) before the first batch. Without it a
 * restart began every learning period again: a day without new_device alerts, an hour in
 * which a rogue DHCP server would be learned as a known one.
 *
 * A snapshot is of one point in the record stream (taken between two slices of a batch,
 * synchronously); the records processed after the last save and before a crash are not
 * learned again (detection does not re-read stored batches), so a device first seen in
 * that interval can be reported once more.
 */
import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import type { Detector } from './detection-types.js'

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/** Each detector's state that has one, gzipped JSON by detector name. */
export async function snapshotDetectors(detectors: readonly Detector[]): Promise<Map<string, Buffer>> {
  const texts: [string, string][] = []
  // The JSON of every detector first (synchronously: one consistent point), then compressed.
  for (const d of detectors) if (d.saveState !== undefined) texts.push([d.name, JSON.stringify(d.saveState())])
  const out = new Map<string, Buffer>()
  for (const [name, text] of texts) out.set(name, await gzipAsync(text, { level: 1 }))
  return out
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
    let data: unknown
    try {
      data = JSON.parse((await gunzipAsync(value)).toString('utf8'))
    } catch {
      r.ignored.push(d.name)
      continue
    }
    if (d.loadState(data)) r.restored.push(d.name)
    else r.ignored.push(d.name)
  }
  return r
}

import { createRequire } from 'node:module'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LINKTYPE_ETHERNET } from './link-types.js'

/**
 * Checks a live-capture filter before any interface is opened (check-config, start of `run`),
 * with libpcap's own compiler through the `pcap` binding: an offline handle on a header-only
 * pcap file of the given link type, which is what pcap_compile() needs. Live capture compiles
 * again per interface at open (its link type may differ); this catches a typo with its config
 * line instead of at the first open.
 *
 * Returns libpcap's message for a bad expression, undefined when it compiles, or when the
 * binding or a writable temp directory is not available here (the open at start then reports it).
 */
interface OfflineSession {
  open_offline(path: string, filter: string, bufferSize: number, snaplen: number, outFile: string,
    onPacket: () => void, monitor: boolean, bufferTimeoutMs: number, onWarning: (msg: string) => void, promisc: boolean): string
  dispatch(buf: Buffer, header: Buffer): number
  close(): void
}

/**
 * libpcap's message for an expression that compiles for none of `linkTypes` (tried in order,
 * one header-only file each, in one temp directory), or undefined.
 */
export function captureFilterProblem(expr: string, linkTypes: readonly number[] = [LINKTYPE_ETHERNET], snaplen = 262_144): string | undefined {
  if (expr.trim() === '') return undefined
  let Session: new () => OfflineSession
  try {
    const require = createRequire(import.meta.url)
    Session = (require('pcap/build/Release/pcap_binding.node') as { PcapSession: new () => OfflineSession }).PcapSession
  } catch {
    return undefined
  }
  let dir: string
  try {
    dir = mkdtempSync(join(tmpdir(), 'telltale-filter-'))
  } catch {
    return undefined // no writable temp directory: the open at start checks the filter
  }
  try {
    let first: string | undefined
    for (const linkType of linkTypes) {
      const file = join(dir, `lt${linkType}.pcap`)
      const h = Buffer.alloc(24)
      h.writeUInt32LE(0xa1b2c3d4, 0)
      h.writeUInt16LE(2, 4)
      h.writeUInt16LE(4, 6)
      h.writeUInt32LE(snaplen, 16)
      h.writeUInt32LE(linkType >>> 0, 20)
      try { writeFileSync(file, h) } catch { return undefined }
      const s = new Session()
      try {
        s.open_offline(file, expr, 0, snaplen, '', () => {}, false, 1000, () => {}, false)
      } catch (err) {
        first ??= (err as Error).message
        continue
      }
      // close() only breaks the loop; the dispatch that sees the break releases the pcap_t.
      s.close()
      s.dispatch(Buffer.alloc(64), Buffer.alloc(16))
      return undefined
    }
    return first
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

import { createRequire } from 'node:module'
import type { RawPacket } from './raw-packet.js'
import { linkTypeFromBindingName, type KernelStats, type LiveBackend, type LiveHandle, type LiveOpenOptions } from './live-backend.js'

/**
 * Live capture through the `cap` npm package (0.2.x), as its source (src/binding.cc) allows:
 * - the native callback emits only `('packet', caplen, truncated)`: no timestamp and no wire
 *   length reach JavaScript. We stamp packets with the wall clock at delivery and use
 *   caplen as origLen (exact unless the frame was cut by the snaplen);
 * - snaplen is fixed at 65535 in C and the open is always promiscuous; we honour a smaller
 *   snaplen by sizing the copy buffer (cap copies at most buffer.length bytes) and refuse
 *   promisc=false instead of silently ignoring it;
 * - immediate mode is always on (one wake-up per packet);
 * - there is no pcap_stats(): kernel received/dropped counters are unavailable.
 */

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string
  close(): boolean
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void
}

interface CapModule {
  Cap: (new () => CapInstance) & { deviceList(): Array<{ name: string }> }
}

let capModule: CapModule | undefined

function loadCap(): CapModule {
  if (!capModule) {
    const require = createRequire(import.meta.url)
    capModule = require('cap') as CapModule
  }
  return capModule
}

/** cap's compiled-in snaplen (pcap_set_snaplen(handle, 65535) in binding.cc). */
export const CAP_FIXED_SNAPLEN = 65535

/**
 * Every cap instance stays referenced for the life of the process. Its C++ destructor,
 * run by the garbage collector, (a) calls uv_poll_stop() on a poll handle that was never
 * initialised when open() failed, and (b) destroys a Nan::AsyncResource from inside GC,
 * which crashes Node 20 (SIGSEGV in AsyncWrap::EmitDestroy from Pcap::~Pcap, seen under
 * gdb). A closed instance holds only a small object (its pcap_t is already closed).
 * Opens happen at start-up, so this stays small.
 */
const keepAlive: CapInstance[] = []

function newCap(): CapInstance {
  const cap = new (loadCap().Cap)()
  keepAlive.push(cap)
  return cap
}

function openCap(cap: CapInstance, opts: LiveOpenOptions, buf: Buffer): string {
  return cap.open(opts.iface, opts.filter, opts.bufferSize, buf)
}

function probeCap(opts: LiveOpenOptions): boolean {
  if (!opts.promisc) return false
  const cap = newCap()
  try {
    openCap(cap, { ...opts, bufferSize: 65536 }, Buffer.alloc(64))
  } catch {
    return false
  }
  cap.close()
  return true
}

class CapHandle implements LiveHandle {
  readonly headerTimestamps = false
  readonly kernelStatsAvailable = false
  readonly linkType: number
  private closed = false
  private readonly cap: CapInstance

  constructor(opts: LiveOpenOptions, pkt: RawPacket, deliver: () => void, onTruncated: () => void) {
    if (!opts.promisc) throw new Error('the cap binding always opens the device in promiscuous mode; use the pcap backend for promisc off')
    const cap = newCap()
    this.cap = cap
    const buf = Buffer.alloc(Math.min(opts.snaplen, CAP_FIXED_SNAPLEN))
    cap.on('packet', (nbytes: number, truncated: boolean) => {
      if (truncated) onTruncated()
      const nowMs = performance.timeOrigin + performance.now()
      const sec = Math.floor(nowMs / 1000)
      pkt.tsSec = sec
      pkt.tsNsec = Math.min(999_999_999, Math.round((nowMs - sec * 1000) * 1e6))
      pkt.data = buf.subarray(0, nbytes)
      pkt.origLen = nbytes
      pkt.linkType = this.linkType
      deliver()
    })
    this.linkType = linkTypeFromBindingName(openCap(cap, opts, buf))
  }

  kernelStats(): KernelStats | null {
    return null
  }

  drain(): void {
    // cap reads everything readable in its own poll callback; there is no call to pull more.
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      this.cap.close()
    }
    return Promise.resolve()
  }
}

export function createCapBackend(onTruncated: () => void): LiveBackend {
  return {
    name: 'cap',
    // The cap binding reports no read errors: LiveCapture notices a vanished device by its stats.
    open: (opts, pkt, deliver) => new CapHandle(opts, pkt, deliver, onTruncated),
    probe: probeCap,
    listDevices: () => {
      try {
        return loadCap().Cap.deviceList().map((d) => d.name)
      } catch {
        return []
      }
    },
  }
}

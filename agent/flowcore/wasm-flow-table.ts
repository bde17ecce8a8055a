/**
 * The flow table of the WebAssembly flow core (agent/flowcore/assembly/, AssemblyScript):
 * the same semantics and emission order as FlowTable (agent/flow/flow-table.ts), with the
 * connection state in linear memory, no object per connection and no per-packet garbage.
 * It serves the flows-only path (no application analyzers: they need the TypeScript table's
 * per-packet hand-off); test/flow-core-differential.test.ts holds the two record-for-record equal.
 *
 * Two ways in: packet(), for packets the TypeScript decoder decoded (the FlowTableLike the
 * pipeline calls), and the core's own record loop over classic pcap bytes in its memory
 * (wasm-pcap-file.ts), which decodes ordinary packets itself and leaves the rest to the pipeline.
 */
import { readFileSync } from 'node:fs'
import { fillRandom } from '../util/random-bytes.js'
import type { PacketInfo } from '../decode/packet-info.js'
import { L4_BAD_CHECKSUM, L4_OTHER, L4_OK, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from '../decode/transport-layer.js'
import { addrTextAt } from '../flow/addr-text-cache.js'
import { communityIdV1 } from '../flow/community-id.js'
import { macNumber, macText } from '../flow/mac-text.js'
import { CONN_STATES, type ConnRecord } from '../flow/conn-record.js'
import type { FlowTableConfig, FlowTableCounter, FlowTableLike } from '../flow/flow-table.js'
import type { HostFlowFacts } from '../assets/host-inventory.js'

/** The part of the WebAssembly API used here (the Node 20 type package declares none). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> }
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** The core's exports (agent/flowcore/assembly/index.ts). */
export interface FlowCoreExports {
  memory: { readonly buffer: ArrayBuffer }
  configure(maxFlows: number, udp: number, icmp: number, other: number, active: number, ignoreChecksums: number,
    attempt: number, syn: number, session: number, linger: number, close: number, partialClose: number,
    inactivity: number, handshake: number): void
  start(): void
  advance(t: number): void
  flushAll(): void
  packet(t: number): number
  setDecoded(v6: number, proto: number, l4: number, total: number, l4Len: number, l4Cap: number, sport: number,
    dport: number, flags: number, seq: number, ack: number, win: number, thl: number, plen: number, icmpT: number,
    icmpC: number, vlan: number, ivlan: number, smac: number, dmac: number, iface: number, tparent: number): void
  recPtr(): number
  addrScratchPtr(): number
  liveFlows(): number
  counter(i: number): number
  getChunkOffset(): number
  getClock(): number
  getFragClock(): number
  setClocks(clock: number, fragClock: number): void
  fastCounter(i: number): number
  runRecords(ptr: number, off: number, len: number, le: number, nsec: number, snaplen: number, hostOnly: number): number
  inputBuffer(size: number): number
  uidOf(slot: number, to: number): number
  localNetsBuffer(v4: number, v6: number): number
  startWriter(bytes: number, vlan: number): void
  flushWriter(): void
  setNotifyWritten(on: number): void
  rowsWritten(): number
}

/**
 * The core writes conn.log rows itself (ConnRecord objects and the TypeScript encoder only
 * for the rows it leaves to the host): see WasmFlowTable.writeConnLog.
 */
export interface CoreConnLogWriter {
  /** Complete rows as bytes (valid only during the call). */
  writeRows(bytes: Uint8Array, rows: number): void
  vlanColumns: boolean
  /** Each record whose row the core wrote, as the facts the host inventory reads (one reused object). */
  onWritten?: (facts: HostFlowFacts) => void
}

// Record area offsets (agent/flowcore/assembly/layout.ts R_*).
const R_TS = 0
const R_LAST = 1
const R_OBYTES = 2
const R_RBYTES = 3
const R_MISSED = 4
const R_OPKTS = 5
const R_OIPB = 6
const R_RPKTS = 7
const R_RIPB = 8
const R_OMAC = 9
const R_RMAC = 10
const R_OPORT = 22 // i32 index (byte 88)
const R_RPORT = 23
const R_IPPROTO = 24
const R_STATE = 25
const R_VLAN = 26
const R_IVLAN = 27
const R_V6 = 28
const R_IFACE = 29
const R_TPARENT = 30
const R_HLEN = 31
const R_SLOT = 32
const R_LOCAL = 33
const R_ULEN = 54 // i32 index (byte 216)
const R_UID = 220 // bytes
const R_OADDR = 144 // bytes
const R_RADDR = 160
const R_HIST = 176
const HIST_CAP = 40

const EMIT_INTERIM = 1
const EMIT_WRITTEN = 2
const REASONS: readonly ConnRecord['reason'][] = ['end', 'inactive', 'active_timeout', 'evicted', 'flush']
/** conn_state code 13: RSTOS0 or OTH, decided on the whole history as Zeek's conn_state(). */
const STATE_RSTOS0_OR_OTH = 13
const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R.*$/

let compiled: object | undefined

/** The compiled core (dist/agent/flowcore/flowcore.wasm, built by `npm run build`); compiled once per process. */
export function flowCoreModule(): object {
  compiled ??= new WASM.Module(readFileSync(new URL('./flowcore.wasm', import.meta.url)))
  return compiled
}

function protoName(p: number): ConnRecord['proto'] {
  return p === PROTO_TCP ? 'tcp' : p === PROTO_UDP ? 'udp' : p === PROTO_ICMP || p === PROTO_ICMPV6 ? 'icmp' : 'unknown_transport'
}

/** The uid handle packet() returns (one per table, reused): the pipeline reads `uid` for a tunnel's parent. */
class SlotHandle {
  slot = -1
  constructor(private readonly table: WasmFlowTable) {}
  get uid(): string {
    return this.table.uidOfSlot(this.slot)
  }
}

export class WasmFlowTable implements FlowTableLike {
  readonly core: FlowCoreExports
  /** History letters beyond the core's 40 per connection, by slot. */
  private readonly spill = new Map<number, string>()
  private readonly ifaceIds = new Map<string, number>([['', 0]])
  private readonly ifaceNames: string[] = ['']
  /** Tunnel parent uids by id (0 = none), with the number of live connections holding each. */
  private readonly parentIds = new Map<string, number>()
  private readonly parents: (string | undefined)[] = [undefined]
  private readonly parentRefs: number[] = [0]
  private readonly freeParentIds: number[] = []
  private readonly handle = new SlotHandle(this)
  private writer: CoreConnLogWriter | undefined
  /** The record facts handed to CoreConnLogWriter.onWritten (reused). */
  private readonly facts: HostFlowFacts = {
    origH: '', respH: '', ts: 0, lastTs: 0, tunnelParents: [], origL2Addr: undefined, respL2Addr: undefined,
    localOrig: undefined, localResp: undefined, respPkts: 0, proto: 'tcp', connState: 'OTH', service: '', respP: 0,
  }
  private readonly recPtr: number
  private readonly addrPtr: number
  private buffer: ArrayBuffer
  private f64: Float64Array
  private i32: Int32Array
  private u8: Uint8Array

  constructor(private readonly cfg: FlowTableConfig, private readonly emit: (rec: ConnRecord) => void, ignoreChecksums = false) {
    const instance = new WASM.Instance(flowCoreModule(), {
      env: {
        emit: (reason: number, flags: number) => { this.onEmit(reason, flags) },
        random: (ptr: number, len: number) => { fillRandom(this.bytes(), ptr, len) },
        flushOut: (ptr: number, len: number, rows: number) => { this.writer!.writeRows(this.bytes().subarray(ptr, ptr + len), rows) },
        histSpill: (slot: number, code: number) => { this.spill.set(slot, (this.spill.get(slot) ?? '') + String.fromCharCode(code)) },
        parentRef: (id: number, delta: number) => { this.onParentRef(id, delta) },
        abort: (_msg: number, _file: number, line: number, col: number) => {
          throw new Error(`flow core aborted at ${line}:${col}`)
        },
      },
    })
    this.core = instance.exports as unknown as FlowCoreExports
    const t = cfg.tcp
    this.core.configure(cfg.maxFlows, cfg.udpInactivityTimeout, cfg.icmpInactivityTimeout, cfg.otherInactivityTimeout,
      cfg.activeTimeout, ignoreChecksums ? 1 : 0, t.attemptDelay, t.synTimeout, t.sessionTimer, t.connectionLinger,
      t.closeDelay, t.partialCloseDelay, t.inactivityTimeout, t.handshakeInactivityTimeout)
    this.core.start()
    const nets = cfg.localNets.prefixTables()
    const tables = this.core.localNetsBuffer(nets.net4.length, nets.net6.length / 4)
    const words = new Uint32Array(this.core.memory.buffer, tables, nets.net4.length * 2 + nets.net6.length * 2)
    for (let i = 0; i < nets.net4.length; i++) { words[2 * i] = nets.net4[i]!; words[2 * i + 1] = nets.mask4[i]! }
    const b6 = nets.net4.length * 2
    for (let i = 0; i < nets.net6.length / 4; i++) {
      for (let w = 0; w < 4; w++) { words[b6 + 8 * i + w] = nets.net6[4 * i + w]!; words[b6 + 8 * i + 4 + w] = nets.mask6[4 * i + w]! }
    }
    this.recPtr = this.core.recPtr()
    this.addrPtr = this.core.addrScratchPtr()
    this.buffer = this.core.memory.buffer
    this.f64 = new Float64Array(this.buffer)
    this.i32 = new Int32Array(this.buffer)
    this.u8 = new Uint8Array(this.buffer)
  }

  get size(): number {
    return this.core.liveFlows()
  }

  counters(): Record<FlowTableCounter, number> {
    const c = this.core
    return {
      flows_created: c.counter(0), flows_emitted: c.counter(1), flows_evicted: c.counter(2),
      flows_interim: c.counter(3), flows_reused: c.counter(4), packets_tracked: c.counter(5),
    }
  }

  advance(t: number): void {
    this.core.advance(t)
  }

  flushAll(): void {
    this.core.flushAll()
  }

  /** Linear memory as bytes (views are remade after the core grew its memory). */
  bytes(): Uint8Array {
    this.views()
    return this.u8
  }

  packet(info: PacketInfo, l4: number, t: number, iface: string, tunnelParent: string | undefined): SlotHandle {
    const u8 = this.bytes()
    const b = info.buf
    const n = info.addrLen
    const a = this.addrPtr
    for (let i = 0; i < n; i++) { u8[a + i] = b[info.srcAddrOff + i]!; u8[a + 16 + i] = b[info.dstAddrOff + i]! }
    let ifaceId = this.ifaceIds.get(iface)
    if (ifaceId === undefined) {
      ifaceId = this.ifaceNames.length
      this.ifaceNames.push(iface)
      this.ifaceIds.set(iface, ifaceId)
    }
    const parentId = tunnelParent === undefined ? 0 : this.parentIdOf(tunnelParent)
    const l2 = info.l2Buf
    const status = l4 === L4_BAD_CHECKSUM ? L4_BAD_CHECKSUM : l4 === L4_OTHER ? L4_OTHER : L4_OK
    this.core.setDecoded(n === 16 ? 1 : 0, info.ipProto, status, info.ipTotalLen, info.l4Len, info.l4CapLen,
      info.sport, info.dport, info.tcpFlags, info.seq, info.ack, info.window, info.tcpHdrLen, info.payloadLen,
      info.icmpType, info.icmpCode, info.vlan, info.innerVlan,
      info.srcMacOff >= 0 ? macNumber(l2, info.srcMacOff) : -1, info.dstMacOff >= 0 ? macNumber(l2, info.dstMacOff) : -1,
      ifaceId, parentId)
    // The call holds a reference of its own on the parent id: a connection it removes on the way
    // (reuse, eviction) may drop the last other one, and the id must still name this parent when
    // the new connection takes it (found by test/flow-core-differential.test.ts).
    if (parentId !== 0) this.parentRefs[parentId]!++
    const slot = this.core.packet(t)
    if (parentId !== 0 && --this.parentRefs[parentId]! === 0) this.releaseParentId(parentId)
    this.handle.slot = slot
    return this.handle
  }

  /** The uid of the live connection in `slot`, drawn now if it had none. */
  uidOfSlot(slot: number): string {
    const n = this.core.uidOf(slot, this.addrPtr)
    return Buffer.from(this.bytes().buffer, this.addrPtr, n).toString('latin1')
  }

  /**
   * From now on the core writes the conn.log rows (Zeek ASCII, the 22 columns and optionally the
   * VLAN ones; not the Community ID column: its SHA-1 is the host's) into `writer`; rows it leaves
   * to the host (tunnel parents, very long histories) still come as records through `emit`, in
   * order. Call finishConnLog() before closing the file.
   */
  writeConnLog(writer: CoreConnLogWriter): void {
    this.writer = writer
    this.core.setNotifyWritten(writer.onWritten !== undefined ? 1 : 0)
    this.core.startWriter(256 * 1024, writer.vlanColumns ? 1 : 0)
  }

  /** Hands the last rows the core holds to the writer. */
  finishConnLog(): void {
    if (this.writer !== undefined) this.core.flushWriter()
  }

  /** Rows the core wrote (records it did not hand over). */
  get rowsWritten(): number {
    return this.core.rowsWritten()
  }

  private parentIdOf(uid: string): number {
    let id = this.parentIds.get(uid)
    if (id !== undefined) return id
    id = this.freeParentIds.pop() ?? this.parents.length
    this.parents[id] = uid
    this.parentRefs[id] = 0
    this.parentIds.set(uid, id)
    return id
  }

  private releaseParentId(id: number): void {
    const uid = this.parents[id]
    if (uid === undefined) return
    this.parentIds.delete(uid)
    this.parents[id] = undefined
    this.freeParentIds.push(id)
  }

  private onParentRef(id: number, delta: number): void {
    const n = (this.parentRefs[id] ?? 0) + delta
    this.parentRefs[id] = n
    if (n <= 0 && delta < 0) this.releaseParentId(id)
  }

  private views(): void {
    const buf = this.core.memory.buffer
    if (buf !== this.buffer) {
      this.buffer = buf
      this.f64 = new Float64Array(buf)
      this.i32 = new Int32Array(buf)
      this.u8 = new Uint8Array(buf)
    }
  }

  private onEmit(reasonCode: number, flags: number): void {
    this.views()
    const f = this.f64
    const w = this.i32
    const u8 = this.u8
    const fr = this.recPtr >>> 3
    const ir = this.recPtr >>> 2
    const rp = this.recPtr
    const interim = (flags & EMIT_INTERIM) !== 0
    const slot = w[ir + R_SLOT]!
    const v6 = w[ir + R_V6] !== 0
    const stateCode = w[ir + R_STATE]!
    const ipProto = w[ir + R_IPPROTO]!
    const omac = f[fr + R_OMAC]!
    const rmac = f[fr + R_RMAC]!
    const local = w[ir + R_LOCAL]!
    const parentId = w[ir + R_TPARENT]!
    const parent = parentId !== 0 ? this.parents[parentId] : undefined
    if ((flags & EMIT_WRITTEN) !== 0) {
      // The core wrote the row: only the facts the writer's onWritten reads.
      const x = this.facts
      x.origH = addrTextAt(u8, rp + R_OADDR, v6)
      x.respH = addrTextAt(u8, rp + R_RADDR, v6)
      x.ts = f[fr + R_TS]!
      x.lastTs = f[fr + R_LAST]!
      x.tunnelParents = parent !== undefined ? [parent] : NO_PARENTS
      x.origL2Addr = omac >= 0 ? macText(omac) : undefined
      x.respL2Addr = rmac >= 0 ? macText(rmac) : undefined
      x.localOrig = (local & 1) !== 0
      x.localResp = (local & 2) !== 0
      x.respPkts = f[fr + R_RPKTS]!
      x.proto = protoName(ipProto)
      // A written row's history fits the row, so the core decided RSTOS0 itself (no code 13 here).
      x.connState = CONN_STATES[stateCode]!
      x.service = ''
      x.respP = w[ir + R_RPORT]!
      this.writer!.onWritten!(x)
      return
    }
    const hlen = w[ir + R_HLEN]!
    let history = historyText(u8, rp + R_HIST, Math.min(hlen, HIST_CAP))
    if (hlen > HIST_CAP) {
      history += this.spill.get(slot) ?? ''
      if (!interim) this.spill.delete(slot)
    }
    const state = stateCode === STATE_RSTOS0_OR_OTH ? (RSTOS0_HISTORY.test(history) ? 8 : 12) : stateCode
    const alen = v6 ? 16 : 4
    const start = f[fr + R_TS]!
    const last = f[fr + R_LAST]!
    const duration = last - start
    const ob = f[fr + R_OBYTES]!
    const rb = f[fr + R_RBYTES]!
    const origP = w[ir + R_OPORT]!
    const respP = w[ir + R_RPORT]!
    const vlan = w[ir + R_VLAN]!
    const innerVlan = w[ir + R_IVLAN]!
    const rec: ConnRecord = {
      ts: start,
      uid: Buffer.from(u8.buffer, rp + R_UID, w[ir + R_ULEN]!).toString('latin1'),
      origH: addrTextAt(u8, rp + R_OADDR, v6),
      origP,
      respH: addrTextAt(u8, rp + R_RADDR, v6),
      respP,
      proto: protoName(ipProto),
      service: '',
      duration: duration > 0 ? duration : undefined,
      origBytes: ob >= 0 ? ob : undefined,
      respBytes: rb >= 0 ? rb : undefined,
      connState: CONN_STATES[state]!,
      localOrig: (local & 1) !== 0,
      localResp: (local & 2) !== 0,
      missedBytes: f[fr + R_MISSED]!,
      history,
      origPkts: f[fr + R_OPKTS]!,
      origIpBytes: f[fr + R_OIPB]!,
      respPkts: f[fr + R_RPKTS]!,
      respIpBytes: f[fr + R_RIPB]!,
      tunnelParents: parent !== undefined ? [parent] : NO_PARENTS,
      ipProto,
      communityId: this.cfg.communityId !== false
        ? communityIdV1(ipProto, u8.slice(rp + R_OADDR, rp + R_OADDR + alen), u8.slice(rp + R_RADDR, rp + R_RADDR + alen), origP, respP)
        : '',
      vlan: vlan >= 0 ? vlan : undefined,
      innerVlan: innerVlan >= 0 ? innerVlan : undefined,
      origL2Addr: omac >= 0 ? macText(omac) : undefined,
      respL2Addr: rmac >= 0 ? macText(rmac) : undefined,
      iface: this.ifaceNames[w[ir + R_IFACE]!] ?? '',
      lastTs: last,
      interim,
      reason: REASONS[reasonCode]!,
    }
    this.emit(rec)
  }
}

/** Records without a tunnel parent share one (frozen) empty list. */
const NO_PARENTS: string[] = Object.freeze([]) as unknown as string[]

/*
 * History texts: a few dozen distinct ones make up nearly every record ("ShADadFf", "D", "Dd"…).
 * A direct-mapped cache keyed by the bytes returns the same flat string instead of building
 * one per record (concatenated per letter, it was the largest line of record building).
 */
const H_BITS = 10
const H_SLOT = HIST_CAP + 1
const hKeys = new Uint8Array((1 << H_BITS) * H_SLOT)
const hTexts: string[] = new Array<string>(1 << H_BITS).fill('')

function historyText(u8: Uint8Array, off: number, n: number): string {
  let h = n
  for (let i = 0; i < n; i++) h = Math.imul(h ^ u8[off + i]!, 0x9e3779b1)
  const e = h >>> (32 - H_BITS)
  const k = e * H_SLOT
  if (hKeys[k] === n + 1) {
    let i = 0
    while (i < n && hKeys[k + 1 + i] === u8[off + i]) i++
    if (i === n) return hTexts[e]!
  }
  const text = String.fromCharCode(...u8.subarray(off, off + n))
  hKeys[k] = n + 1
  hKeys.set(u8.subarray(off, off + n), k + 1)
  hTexts[e] = text
  return text
}

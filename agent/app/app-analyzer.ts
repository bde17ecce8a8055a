/**
 * The contract between the flow layer and application-layer analyzers (DNS, HTTP, TLS, SSH,
 * DHCP, FTP, …). An analyzer is a per-connection state machine fed with payload bytes in
 * order: whole UDP datagrams, or the reassembled TCP byte stream of each direction. It never
 * does I/O: it reports through `AppOutput`. It must not throw on bad bytes: it calls
 * `out.violation()` (the analyzer is then detached, as Zeek's DPD does) or `out.anomaly()`.
 * Its state per connection is bounded (documented limits in each analyzer).
 */
import type { ZeekField } from '../output/zeek-ascii-writer.js'

export type AppTransport = 'tcp' | 'udp'

/** The connection an analyzer is attached to (Zeek's `c$id` + uid + start time). */
export interface AppConnInfo {
  readonly uid: string
  readonly ts: number
  readonly origH: string
  readonly origP: number
  readonly respH: string
  readonly respP: number
  readonly proto: AppTransport
  /**
   * TCP: the connection is partial right now (Zeek's TCP()->IsPartial(): its start was not
   * seen). Zeek's HTTP analyzer ignores the stream while this holds. Absent = not known.
   */
  readonly partial?: boolean
}

/** An observation about a host, for the asset inventory (hosts.ndjson, issue 3 "Assets"). */
export interface HostObservation {
  ts: number
  ip?: string
  mac?: string
  /** Host name and where it came from. */
  name?: string
  nameSource?: 'dhcp' | 'dns_ptr' | 'dns_a' | 'mdns' | 'netbios' | 'ssl_sni' | 'http_host'
  /** Software seen on the host (server banner, user agent, SSH version…). */
  software?: string
  softwareRole?: 'server' | 'client'
  service?: { port: number; proto: AppTransport; name: string }
  osHint?: string
  dhcpVendorClass?: string
  dhcpParamList?: string
}

export interface AppOutput {
  /** One row of a Zeek-style log (path 'dns', 'http', 'ssl', 'x509', 'ssh', 'dhcp', 'ftp'), keyed by Zeek field name. */
  log(path: string, row: Record<string, unknown>): void
  /** The protocol is confirmed: its name goes into conn.log `service` (Zeek's analyzer confirmation). */
  confirm(service: string): void
  /** The bytes are not this protocol after all: the analyzer is detached (Zeek's protocol violation). */
  violation(reason: string): void
  /**
   * Nothing more to learn from this connection (e.g. TLS after the handshake, as Zeek's
   * `disable_analyzer_after_detection`): no more data is delivered; `finish` is still called.
   */
  done?(): void
  /** A named anomaly (weird) seen by the analyzer. */
  anomaly(name: string): void
  /** A fact about a host for the asset inventory. */
  observe(obs: HostObservation): void
  /** Attach another analyzer to this connection from the current stream position (STARTTLS → 'ssl'). */
  upgrade(analyzer: string): void
  /**
   * Expect a future connection (Zeek's expected connections, e.g. FTP data channels from
   * PORT/PASV): a connection to respH:respP (from origH when given) within `ttlSec` gets
   * `service` in conn.log and the named analyzer attached, if any.
   */
  expect(e: { origH?: string; respH: string; respP: number; service: string; analyzer?: string; ttlSec: number }): void
}

export interface AppAnalyzer {
  /** A UDP datagram, or the next in-order chunk of one TCP direction. `data` is a view: copy what you keep. */
  deliver(isOrig: boolean, data: Buffer, ts: number): void
  /** `len` bytes of one TCP direction were never seen (content gap). */
  gap?(isOrig: boolean, len: number): void
  /** The connection is over (or being flushed): write what is pending. */
  finish(ts: number): void
  /**
   * Nothing pending: `finish` now would write and report nothing. The dispatcher may then let
   * the session go before the connection is removed: a TCP session once both ends have
   * closed (instead of for Zeek's 5 s close delay), and a UDP session between datagrams
   * (parked; new analyzers are attached by port for the next datagram, so on UDP idle must
   * also mean that a new analyzer would do the same with it: a DNS connection stays tracked
   * for the 60 s UDP inactivity timeout, its session no longer does). Absent = never.
   */
  idle?(): boolean
}

export interface AppAnalyzerFactory {
  /** Service name as Zeek writes it in conn.log (`dns`, `http`, `ssl`, `ssh`, `ftp`, `smtp`, …). */
  readonly name: string
  readonly transports: readonly AppTransport[]
  /** Well-known server ports: the analyzer is attached from the first packet (Zeek's port registration). */
  readonly ports: readonly number[]
  /**
   * Dynamic protocol detection: given the first payload of a direction (up to a few KB),
   * could this be the protocol? Must be cheap and pure. Absent = port-only.
   */
  detect?(isOrig: boolean, firstPayload: Buffer): boolean
  /**
   * True when `detect`'s answer for this direction can no longer change however many bytes
   * follow `firstPayload` (it has seen all it looks at). Detection ends early, and the bytes
   * kept for it are freed, once every detector still untried is settled in both directions.
   * Absent = never settled (detection runs to dpdBufferBytes).
   */
  detectSettled?(isOrig: boolean, firstPayload: Buffer): boolean
  create(conn: AppConnInfo, out: AppOutput): AppAnalyzer
}

/** The Zeek-format logs an analyzer module writes: path and columns, in Zeek's order. */
export interface AppLogSpec {
  readonly path: string
  readonly fields: readonly ZeekField[]
}

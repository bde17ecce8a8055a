/**
 * SSH analyzer (ssh.log), following Zeek's binpac analyzer (src/analyzer/protocol/ssh) and
 * base/protocols/ssh/main.zeek:
 * - identification line of each side (the first line, whatever it says, as Zeek);
 * - clear-text binary packets until NEWKEYS (SSH2) or the first SSH1 key message: KEXINIT
 *   algorithm lists (negotiated algorithms, HASSH), server host key from the kex reply;
 * - after that, only the size of the encrypted bytes of each delivered chunk, for Zeek's
 *   authentication heuristic (ssh-auth-inference.ts);
 * - the row is written at authentication success (as Zeek) or when the connection ends.
 *
 * Limits per connection: a clear-text packet larger than MAX_PACKET or an identification line
 * longer than MAX_LINE stops parsing of that direction (anomaly counted); the buffered bytes per
 * direction never exceed MAX_PACKET + 4. After a content gap nothing more is parsed (as Zeek).
 */
import type { AppAnalyzer, AppConnInfo, AppOutput } from '../app-analyzer.js'
import type { LocalNets } from '../../flow/local-nets.js'
import { bannerKind, logVersion, SSH2, SSH_UNKNOWN, wireVersion } from './ssh-version.js'
import { hassh, kexFamily, negotiate, parseKexInit, findAlg, KEX_UNKNOWN, type KexInit } from './ssh-kexinit.js'
import { carriesHostKey, firstString, hostKeyFingerprint } from './ssh-host-key.js'
import { SshAuthInference } from './ssh-auth-inference.js'
import { sshDirection } from './ssh-direction.js'

export const MAX_PACKET = 256 * 1024
export const MAX_LINE = 8 * 1024

const ST_VERSION = 0
const ST_KEX_INIT = 1
const ST_KEX = 2
const ST_ENCRYPTED = 3
const ST_DEAD = 4

const EMPTY = Buffer.alloc(0)
const MSG_KEXINIT = 20
const MSG_NEWKEYS = 21
const SSH1_SMSG_PUBLIC_KEY = 2
const SSH1_CMSG_SESSION_KEY = 3
const COMPRESSION_ALGS = new Set(['zlib', 'zlib@openssh.com'])

export class SshAnalyzer implements AppAnalyzer {
  private readonly state = [ST_VERSION, ST_VERSION]
  private readonly pending: [Buffer, Buffer] = [EMPTY, EMPTY]
  /**
   * Copies of chunks that arrived after `pending` while the direction waits for the peer's
   * identification (nothing can be parsed): joined once when parsing can go on, instead of a
   * concat of everything so far per segment.
   */
  private readonly held: [Buffer[] | undefined, Buffer[] | undefined] = [undefined, undefined]
  private clientKind = SSH_UNKNOWN
  private serverKind = SSH_UNKNOWN
  private wire = SSH_UNKNOWN
  private kexFamily = KEX_UNKNOWN
  private firstKex: { isOrig: boolean; kex: KexInit } | undefined
  private readonly auth = new SshAuthInference()
  private hadGap = false
  private stopped = false
  private confirmed = false
  /** The ssh.log record (undefined until the first identification line, like c$ssh). */
  private row: Record<string, unknown> | undefined
  private logged = false

  constructor(private readonly conn: AppConnInfo, private readonly out: AppOutput, private readonly localNets: LocalNets) {}

  deliver(isOrig: boolean, data: Buffer, ts: number): void {
    // Zeek's SSH analyzer ignores partial connections (start not seen) and everything after a gap.
    if (this.conn.partial === true || this.hadGap || this.stopped || data.length === 0) return
    const dir = isOrig ? 0 : 1
    const st = this.state[dir]!
    if (st === ST_DEAD) return
    if (st === ST_ENCRYPTED) {
      this.encrypted(isOrig, data.length)
      return
    }
    const prev = this.pending[dir]!
    if (prev.length > 0 && st !== ST_VERSION && this.wire === SSH_UNKNOWN && (this.clientKind === SSH_UNKNOWN || this.serverKind === SSH_UNKNOWN)) {
      // Still waiting for the peer's identification: parse() could do nothing with it yet.
      const h = this.held[dir]
      if (h === undefined) this.held[dir] = [Buffer.from(data)]
      else h.push(Buffer.from(data))
      return
    }
    // Nothing pending: parse the chunk in place and copy only an unfinished tail.
    const inPlace = prev.length === 0
    this.pending[dir] = inPlace ? data : Buffer.concat([this.joined(dir), data])
    const enc = this.parse(isOrig, ts)
    if (inPlace && this.pending[dir]!.length > 0) this.pending[dir] = Buffer.from(this.pending[dir]!)
    if (enc > 0) this.encrypted(isOrig, enc)
  }

  gap(): void {
    this.hadGap = true
    this.pending[0] = EMPTY
    this.pending[1] = EMPTY
    this.held[0] = this.held[1] = undefined
  }

  finish(): void {
    this.pending[0] = EMPTY
    this.pending[1] = EMPTY
    this.held[0] = this.held[1] = undefined
    if (this.row === undefined || this.logged) return
    this.write()
  }

  /** The direction's pending bytes with any held chunks joined on. */
  private joined(dir: number): Buffer {
    const held = this.held[dir]
    if (held === undefined) return this.pending[dir]!
    this.held[dir] = undefined
    return (this.pending[dir] = Buffer.concat([this.pending[dir]!, ...held]))
  }

  /** Parses what is buffered for one direction; returns bytes seen after it turned encrypted. */
  private parse(isOrig: boolean, ts: number): number {
    const dir = isOrig ? 0 : 1
    let buf = this.joined(dir)
    let off = 0
    let enc = 0
    for (;;) {
      const st = this.state[dir]!
      if (st === ST_ENCRYPTED) { enc += buf.length - off; off = buf.length; break }
      if (st === ST_DEAD) { off = buf.length; break }
      if (st === ST_VERSION) {
        const lf = buf.indexOf(0x0a, off)
        if (lf < 0) {
          if (buf.length - off > MAX_LINE) this.kill(dir, 'ssh_identification_too_long')
          break
        }
        const end = lf > off && buf[lf - 1] === 0x0d ? lf - 1 : lf
        this.version(isOrig, buf.toString('latin1', off, end), ts)
        off = lf + 1
        continue
      }
      if (this.wire === SSH_UNKNOWN) {
        // The peer's identification is not known yet: keep the bytes until it is. Both known
        // and incompatible (SSH1 vs SSH2): Zeek cannot parse either, nor can we.
        if (this.clientKind !== SSH_UNKNOWN && this.serverKind !== SSH_UNKNOWN) this.kill(dir, 'ssh_unknown_version')
        break
      }
      const used = this.wire === SSH2 ? this.packet2(isOrig, buf, off) : this.packet1(isOrig, buf, off)
      if (used === 0) break
      off += used
    }
    buf = off >= buf.length ? EMPTY : buf.subarray(off)
    this.pending[dir] = buf
    return enc
  }

  /** One SSH2 binary packet at `off`; returns its length, 0 when incomplete. */
  private packet2(isOrig: boolean, buf: Buffer, off: number): number {
    if (buf.length - off < 4) return 0
    const len = buf.readUInt32BE(off)
    if (len > MAX_PACKET) { this.kill(isOrig ? 0 : 1, 'ssh_packet_too_long'); return 0 }
    if (buf.length - off < 4 + len) return 0
    if (len < 2) { this.out.anomaly('ssh_packet_too_short'); return 4 + len }
    const padding = buf[off + 4]!
    const msgType = buf[off + 5]!
    const payloadLen = Math.max(0, len - padding - 2)
    const payload = buf.subarray(off + 6, off + 6 + Math.min(payloadLen, len - 2))
    const dir = isOrig ? 0 : 1
    if (msgType === MSG_NEWKEYS) {
      this.state[dir] = ST_ENCRYPTED
      this.confirm()
      return 4 + len
    }
    if (this.state[dir] === ST_KEX_INIT) {
      if (msgType === MSG_KEXINIT) this.kexInit(isOrig, payload)
    } else if (carriesHostKey(this.kexFamily, msgType)) {
      const ks = firstString(payload)
      if (ks !== undefined) this.hostKey(ks)
      else this.out.anomaly('ssh_truncated_kex_reply')
    }
    return 4 + len
  }

  /** One SSH1 packet at `off` (length, 8 - len % 8 bytes of padding, type, data, CRC). */
  private packet1(isOrig: boolean, buf: Buffer, off: number): number {
    if (buf.length - off < 4) return 0
    const len = buf.readUInt32BE(off)
    if (len > MAX_PACKET) { this.kill(isOrig ? 0 : 1, 'ssh_packet_too_long'); return 0 }
    const total = 4 + len + 8 - (len % 8)
    if (buf.length - off < total) return 0
    const msgType = buf[off + 4 + 8 - (len % 8)]!
    // Any SSH1 message ends the clear-text part of that direction in Zeek's grammar.
    this.state[isOrig ? 0 : 1] = ST_ENCRYPTED
    if (msgType === SSH1_CMSG_SESSION_KEY) this.confirm()
    else if (msgType !== SSH1_SMSG_PUBLIC_KEY) this.out.anomaly('ssh1_unexpected_message')
    return total
  }

  private version(isOrig: boolean, line: string, ts: number): void {
    const row = this.session(ts)
    const kind = bannerKind(line)
    if (isOrig) { row['client'] = line; this.clientKind = kind } else { row['server'] = line; this.serverKind = kind }
    this.state[isOrig ? 0 : 1] = ST_KEX_INIT
    this.wire = wireVersion(this.clientKind, this.serverKind)
    const v = logVersion(row['client'] as string | undefined, row['server'] as string | undefined)
    if (v !== undefined) row['version'] = v
    this.out.observe({
      ts,
      ip: isOrig ? this.conn.origH : this.conn.respH,
      software: line,
      softwareRole: isOrig ? 'client' : 'server',
    })
    // The other side may have sent binary packets before this line was known.
    if (this.wire !== SSH_UNKNOWN && this.pending[isOrig ? 1 : 0]!.length > 0) {
      const enc = this.parse(!isOrig, ts)
      if (enc > 0) this.encrypted(!isOrig, enc)
    }
  }

  private kexInit(isOrig: boolean, payload: Buffer): void {
    const kex = parseKexInit(payload)
    if (kex === undefined) { this.out.anomaly('ssh_truncated_kexinit'); return }
    const row = this.row
    if (row === undefined) return
    row[isOrig ? 'hassh' : 'hasshServer'] = hassh(kex, !isOrig)
    if (this.firstKex === undefined) { this.firstKex = { isOrig, kex }; return }
    if (this.firstKex.isOrig === isOrig) return
    const client = isOrig ? kex : this.firstKex.kex
    const server = isOrig ? this.firstKex.kex : kex
    Object.assign(row, negotiate(client, server))
    const alg = findAlg(client.kex, server.kex)
    this.kexFamily = kexFamily(alg)
    if (this.kexFamily === KEX_UNKNOWN) {
      if (alg !== 'Algorithm negotiation failed') this.out.anomaly('ssh_unknown_kex_algorithm')
      else return
    }
    // Both KEXINITs seen: the key exchange. A direction already past it (its NEWKEYS was
    // parsed first, from bytes buffered until the peer's banner was known) stays where it is.
    if (this.state[0] === ST_KEX_INIT) this.state[0] = ST_KEX
    if (this.state[1] === ST_KEX_INIT) this.state[1] = ST_KEX
  }

  private hostKey(blob: Buffer): void {
    if (this.row !== undefined) this.row['host_key_fingerprint'] = hostKeyFingerprint(blob)
  }

  private encrypted(isOrig: boolean, len: number): void {
    if (this.wire !== SSH2) return
    const ev = this.auth.segment(isOrig, len)
    if (ev !== undefined) this.attempted(ev === 'success')
  }

  /** main.zeek ssh_auth_attempted. */
  private attempted(authenticated: boolean): void {
    const row = this.row
    if (row === undefined || row['auth_success'] === true) return
    const comp = row['compression_alg']
    if (typeof comp === 'string' && COMPRESSION_ALGS.has(comp)) return
    row['auth_success'] = authenticated
    row['auth_attempts'] = (row['auth_attempts'] as number) + 1
    if (authenticated) {
      this.write()
      this.stopped = true // SSH::disable_analyzer_after_detection
    }
  }

  private confirm(): void {
    if (this.confirmed) return
    this.confirmed = true
    this.out.confirm('ssh')
    this.out.observe({ ts: this.conn.ts, ip: this.conn.respH, service: { port: this.conn.respP, proto: 'tcp', name: 'ssh' } })
  }

  private session(ts: number): Record<string, unknown> {
    if (this.row === undefined) {
      this.row = {
        ts,
        uid: this.conn.uid,
        'id.orig_h': this.conn.origH,
        'id.orig_p': this.conn.origP,
        'id.resp_h': this.conn.respH,
        'id.resp_p': this.conn.respP,
        auth_attempts: 0,
        direction: sshDirection(this.localNets, this.conn.origH, this.conn.respH),
      }
    }
    return this.row
  }

  private write(): void {
    if (this.row === undefined || this.logged) return
    this.logged = true
    this.out.log('ssh', this.row)
  }

  private kill(dir: number, anomaly: string): void {
    this.out.anomaly(anomaly)
    this.state[dir] = ST_DEAD
    this.pending[dir] = EMPTY
    this.held[dir] = undefined
  }
}


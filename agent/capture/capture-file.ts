/**
 * Reading a capture file: detect the format by its magic (classic pcap in either byte order
 * and precision, or pcapng), stream the file through one reused read buffer into the
 * matching reader, and return what was read. Packets reach `onPacket` synchronously as ONE
 * reused RawPacket whose `data` is valid only during the call (see raw-packet.ts).
 */
import { readSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import type { CaptureInterfaceInfo, CaptureStreamReader, ReaderFailure } from './file-reader-common.js'
import { SUPPORTED_LINK_TYPES } from './link-types.js'
import { isPcapMagic, PcapFileReader } from './pcap-file-reader.js'
import { PCAPNG_SHB_TYPE, PcapngReader } from './pcapng-reader.js'
import type { PacketHandler } from './raw-packet.js'

export type CaptureFormat = 'pcap' | 'pcapng'

export interface CaptureFileStats {
  format: CaptureFormat
  /** Packets delivered to onPacket. */
  packets: number
  /** Captured bytes delivered (sum of data.length). */
  bytes: number
  /** Named anomaly counters (see FileAnomaly); absent names are zero. */
  anomalies: Record<string, number>
  interfaces: CaptureInterfaceInfo[]
  /** True when the signal stopped the read before the end of the file. */
  aborted: boolean
}

export interface ReadCaptureFileOptions {
  onPacket: PacketHandler
  /** Read size; default 1 MiB. */
  chunkSize?: number
  signal?: AbortSignal
  /**
   * Read with blocking reads on the calling thread. For batch replay this avoids a thread-pool
   * round trip per chunk (measured: about a fifth of replay time went to waiting on it);
   * never use it where the event loop must stay responsive (the live agent).
   */
  blocking?: boolean
}

export const DEFAULT_CHUNK_SIZE = 1024 * 1024

const SUPPORTED_FORMATS_HINT = 'supported formats are pcap (microsecond or nanosecond, either byte order) and pcapng; ' +
  'convert other formats with "editcap -F pcap IN OUT" or "tshark -r IN -F pcap -w OUT"'

/** The capture format announced by the first bytes, or null. */
export function detectCaptureFormat(head: Buffer): CaptureFormat | null {
  if (head.length < 4) return null
  const first = head.readUInt32LE(0)
  if (isPcapMagic(first)) return 'pcap'
  if (first === PCAPNG_SHB_TYPE) return 'pcapng'
  return null
}

/** Why the first bytes are not a capture, in words a user can act on. */
function notACaptureDetail(head: Buffer): string {
  if (head.length === 0) return 'the file is empty'
  if (head.length < 4) return `the file is only ${head.length} bytes long`
  if (head[0] === 0x1f && head[1] === 0x8b) return 'it is gzip-compressed; decompress it first (gunzip)'
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'it is zstd-compressed; decompress it first (unzstd)'
  return `unknown magic 0x${head.subarray(0, 4).toString('hex')}`
}

export function createCaptureReader(format: CaptureFormat, onPacket: PacketHandler): CaptureStreamReader {
  return format === 'pcap' ? new PcapFileReader(onPacket) : new PcapngReader(onPacket)
}

function notACapture(where: string, detail: string): AgentError {
  return new AgentError(AgentErrorCode.FILE_NOT_A_CAPTURE, `${where} is not a capture file (${detail}); ${SUPPORTED_FORMATS_HINT}`)
}

function failureError(where: string, f: ReaderFailure): AgentError {
  if (f.kind === 'not_a_capture') return notACapture(where, f.message)
  const supported = [...SUPPORTED_LINK_TYPES].sort((a, b) => a - b).join(', ')
  return new AgentError(AgentErrorCode.FILE_UNSUPPORTED_LINKTYPE,
    `${where}: no interface has a supported link type (${f.message}); supported LINKTYPE values are ${supported} ` +
    '(Ethernet, Linux cooked v1/v2, BSD loopback, raw IP); re-capture on such an interface')
}

function statsOf(format: CaptureFormat, r: CaptureStreamReader, aborted: boolean): CaptureFileStats {
  return { format, packets: r.packets, bytes: r.bytes, anomalies: r.anomalies(), interfaces: r.interfaces(), aborted }
}

/**
 * Parses a whole capture held in memory (tests, fuzzing). `chunkSize` feeds it in slices
 * to exercise the carry-over path. Throws AgentError FILE_NOT_A_CAPTURE /
 * FILE_UNSUPPORTED_LINKTYPE like readCaptureFile; malformed records are anomalies.
 */
export function parseCaptureBuffer(buf: Buffer, onPacket: PacketHandler, opts: { chunkSize?: number } = {}): CaptureFileStats {
  const format = detectCaptureFormat(buf)
  if (format === null) throw notACapture('the buffer', notACaptureDetail(buf))
  const reader = createCaptureReader(format, onPacket)
  const step = opts.chunkSize ?? buf.length
  for (let off = 0; off < buf.length && reader.failure === null; off += step) {
    reader.push(buf.subarray(off, Math.min(buf.length, off + step)))
  }
  reader.end()
  if (reader.failure) throw failureError('the buffer', reader.failure)
  return statsOf(format, reader, false)
}

const ERRNO_MEANING: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  ENAMETOOLONG: 'file name too long',
}

/** The error for a capture file that cannot be opened or read (one line that says what to do). */
export function unreadable(path: string, err: unknown): AgentError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN'
  const meaning = ERRNO_MEANING[code] ?? (err instanceof Error ? err.message : String(err))
  return new AgentError(AgentErrorCode.FILE_UNREADABLE,
    `cannot read capture file ${path}: ${meaning} (${code}); check the path and that the agent's user may read it`, { cause: err })
}

/**
 * Streams a capture file from disk: one reused buffer of `chunkSize` bytes, the format
 * detected from the first chunk, constant memory whatever the file size.
 */
export async function readCaptureFile(path: string, opts: ReadCaptureFileOptions): Promise<CaptureFileStats> {
  const chunkSize = Math.max(64, opts.chunkSize ?? DEFAULT_CHUNK_SIZE)
  let fh: FileHandle
  try {
    // Loaded here: a replay that walks its files through the flow core never needs it (start-up).
    const { open } = await import('node:fs/promises')
    fh = await open(path, 'r')
  } catch (err) {
    throw unreadable(path, err)
  }
  try {
    const buf = Buffer.allocUnsafe(chunkSize)
    const read = async (at = 0): Promise<number> => {
      try {
        if (opts.blocking) return readSync(fh.fd, buf, at, chunkSize - at, null)
        return (await fh.read(buf, at, chunkSize - at, null)).bytesRead
      } catch (err) {
        throw unreadable(path, err)
      }
    }
    // Fill the first chunk enough to see the magic even if the OS returns short reads.
    let n = await read()
    while (n > 0 && n < 12) {
      const more = await read(n)
      if (more === 0) break
      n += more
    }
    const format = detectCaptureFormat(buf.subarray(0, n))
    if (format === null) throw notACapture(path, notACaptureDetail(buf.subarray(0, n)))
    const reader = createCaptureReader(format, opts.onPacket)
    let aborted = false
    while (n > 0) {
      reader.push(buf.subarray(0, n))
      if (reader.failure) break
      if (opts.signal?.aborted) { aborted = true; break }
      n = await read()
    }
    reader.end()
    if (reader.failure) throw failureError(path, reader.failure)
    return statsOf(format, reader, aborted)
  } finally {
    await fh.close()
  }
}

/**
 * Reads an ingest body with limits before AND after decompression, in bounded memory:
 *   * Content-Length over the limit → refused before reading a byte;
 *   * the raw stream is counted while read and abandoned past the limit;
 *   * gzip is inflated with zlib's `maxOutputLength`, which stops inflating (and frees
 *     what it produced) as soon as the output would pass the cap: a gzip bomb costs at
 *     most `maxDecompressedBytes` of memory, then is a 413.
 */
import type { Readable } from 'node:stream'
import { gunzip, gunzipSync } from 'node:zlib'
import { CollectorError } from '../errors.js'

export interface BodyLimits {
  /** Largest body accepted as sent (compressed). */
  maxBodyBytes: number
  /** Largest body accepted after decompression. */
  maxDecompressedBytes: number
}

/** Which Content-Encoding the body uses, or the error for an unsupported one. */
export function bodyEncoding(header: string | undefined): 'gzip' | 'identity' | CollectorError {
  const v = (header ?? '').trim().toLowerCase()
  if (v === '' || v === 'identity') return 'identity'
  if (v === 'gzip' || v === 'x-gzip') return 'gzip'
  return new CollectorError('UNSUPPORTED_ENCODING', `Content-Encoding "${header ?? ''}" is not supported; use gzip or identity`)
}

/** Reads the raw body; rejects with BODY_TOO_LARGE past the limit (and stops reading). */
export function readRaw(stream: Readable, contentLength: number | undefined, limit: number): Promise<Buffer> {
  if (contentLength !== undefined && contentLength > limit) {
    stream.resume()
    return Promise.reject(new CollectorError('BODY_TOO_LARGE', `the body is ${contentLength} bytes; this collector accepts at most ${limit} (ingest.max_body_bytes)`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    let done = false
    const finish = (err: Error | null): void => {
      if (done) return
      done = true
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      if (err !== null) {
        stream.resume() // drain, do not buffer
        reject(err)
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total))
    }
    const onData = (chunk: Buffer): void => {
      total += chunk.length
      if (total > limit) {
        finish(new CollectorError('BODY_TOO_LARGE', `the body is over ${limit} bytes, the most this collector accepts (ingest.max_body_bytes)`))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => finish(null)
    const onError = (err: Error): void => finish(err)
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
  })
}

/**
 * Bodies up to this size (as sent) are inflated on the event loop: ~0.3 ms per 1000 flows
 * (~50 kB gzipped; an agent's full 512 kB batch is ~200 kB), where a zlib stream on the
 * thread pool cost about twice the CPU in stream set-up and hand-offs. Larger bodies go to
 * the pool. On the loop a body may inflate to at most INFLATE_ON_LOOP_RATIO times its size
 * (at least 1 MiB; agents' batches inflate about 3×): one that inflates further — a small gzip
 * bomb from an enrolled agent — is inflated again on the pool with the full cap, so it never
 * holds the loop for more than ~1 ms per 100 kB sent.
 */
const INFLATE_ON_LOOP_MAX = 256 * 1024
const INFLATE_ON_LOOP_RATIO = 16

function inflateError(err: Error, maxOut: number): CollectorError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
    return new CollectorError('DECOMPRESSED_TOO_LARGE', `the body inflates to more than ${maxOut} bytes, the most this collector accepts (ingest.max_decompressed_bytes)`)
  }
  return new CollectorError('BAD_GZIP', `the body is not valid gzip (${err.message})`)
}

/** Inflates gzip with an output cap. */
export function inflateCapped(raw: Buffer, maxOut: number): Promise<Buffer> {
  if (raw.length <= INFLATE_ON_LOOP_MAX) {
    const loopCap = Math.min(maxOut, Math.max(1 << 20, raw.length * INFLATE_ON_LOOP_RATIO))
    try {
      return Promise.resolve(gunzipSync(raw, { maxOutputLength: loopCap }))
    } catch (err) {
      const e = inflateError(err as Error, maxOut)
      // Past the loop's cap but maybe within the configured one: the pool decides.
      if (!(e.code === 'COLLECTOR_ERR_DECOMPRESSED_TOO_LARGE' && loopCap < maxOut)) return Promise.reject(e)
    }
  }
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength: maxOut }, (err, out) => {
      if (err === null) resolve(out)
      else reject(inflateError(err, maxOut))
    })
  })
}

/** Raw body → decompressed bytes, with both limits. */
export async function readBody(stream: Readable, contentLength: number | undefined, encoding: 'gzip' | 'identity', limits: BodyLimits): Promise<Buffer> {
  const raw = await readRaw(stream, contentLength, limits.maxBodyBytes)
  if (encoding === 'identity') {
    if (raw.length > limits.maxDecompressedBytes) throw new CollectorError('DECOMPRESSED_TOO_LARGE', `the body is ${raw.length} bytes; this collector accepts at most ${limits.maxDecompressedBytes} (ingest.max_decompressed_bytes)`)
    return raw
  }
  return inflateCapped(raw, limits.maxDecompressedBytes)
}

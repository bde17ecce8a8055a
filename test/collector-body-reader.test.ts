/**
 * inflateCapped: small bodies inflate on the event loop only up to 16× their size (≥ 1 MiB);
 * one that inflates further (a small gzip bomb) is inflated on the thread pool with the full
 * cap, so it is still accepted when within ingest.max_decompressed_bytes and a 413 past it.
 */
import t from 'tap'
import * as zlib from 'node:zlib'
import { gzipSync } from 'node:zlib'
import type * as BodyReader from '../collector/ingest/body-reader.js'

t.test('a small, highly compressible body inflates on the pool, not on the loop', async (t) => {
  let onLoopBytes = 0
  let onPool = 0
  const { inflateCapped } = await t.mockImport<typeof BodyReader>('../collector/ingest/body-reader.js', {
    'node:zlib': {
      ...zlib,
      gunzipSync: (buf: Buffer, opts: zlib.ZlibOptions) => {
        try {
          const out = zlib.gunzipSync(buf, opts)
          onLoopBytes += out.length
          return out
        } catch (err) {
          onLoopBytes += opts.maxOutputLength ?? 0
          throw err
        }
      },
      gunzip: (buf: Buffer, opts: zlib.ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => { onPool++; zlib.gunzip(buf, opts, cb) },
    },
  })
  const bomb = gzipSync(Buffer.alloc(8 << 20))
  t.ok(bomb.length < 64 * 1024, `8 MiB of zeros is ${bomb.length} bytes gzipped`)
  const out = await inflateCapped(bomb, 16 << 20)
  t.equal(out.length, 8 << 20, 'within the configured cap: accepted whole')
  t.ok(onLoopBytes <= 1 << 20, `at most 1 MiB inflated on the loop (${onLoopBytes})`)
  t.equal(onPool, 1, 'the rest on the pool')
  await t.rejects(inflateCapped(bomb, 4 << 20), { code: 'COLLECTOR_ERR_DECOMPRESSED_TOO_LARGE', statusCode: 413 }, 'past the configured cap: 413')
  t.equal(onPool, 2)

  onLoopBytes = 0
  onPool = 0
  const batchLike = gzipSync(Buffer.from(Array.from({ length: 20_000 }, (_, i) => `flow ${i} 10.0.${i % 250}.${i % 7} ${i * 7919 % 65536}\n`).join('')))
  const plain = await inflateCapped(batchLike, 64 << 20)
  t.ok(plain.length > batchLike.length, 'an ordinary body')
  t.equal(onPool, 0, 'an ordinary small body stays on the loop')
  await t.rejects(inflateCapped(Buffer.from('not gzip at all'), 1 << 20), { code: 'COLLECTOR_ERR_BAD_GZIP', statusCode: 400 })
})

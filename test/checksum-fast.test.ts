/**
 * onesComplementSumFast (32-bit loads over the buffer's memory) must equal the byte-wise
 * onesComplementSum for every length, offset and alignment of the view in its ArrayBuffer.
 */
import t from 'tap'
import fc from 'fast-check'
import { onesComplementSum, onesComplementSumFast } from '../agent/decode/checksum.js'

t.test('same sum as the byte-wise loop at any alignment', async (t) => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat(7), fc.nat(40), fc.nat(0x3ffff),
    (bytes, shift, cut, initial) => {
      // The view starts `shift` bytes into its ArrayBuffer, the summed range `cut` bytes into the view.
      const whole = Buffer.alloc(bytes.length + shift + 8)
      whole.set(bytes, shift)
      const view = whole.subarray(shift, shift + bytes.length)
      const off = Math.min(cut, bytes.length)
      const len = bytes.length - off
      return onesComplementSumFast(view, off, len, initial) === onesComplementSum(view, off, len, initial)
    }), { numRuns: 20000 })
  t.pass('20000 random ranges agree')
})

t.test('edge values: all zero, all 0xff, one byte', async (t) => {
  for (const fill of [0, 0xff, 0x01]) {
    for (const len of [0, 1, 31, 32, 33, 64, 1499, 1500, 65536 + 7]) {
      const b = Buffer.alloc(len + 3, fill).subarray(1)
      for (const init of [0, 1, 0xffff, 0x1fffe]) {
        t.equal(onesComplementSumFast(b, 0, len, init), onesComplementSum(b, 0, len, init), `fill ${fill} len ${len} init ${init}`)
      }
    }
  }
})

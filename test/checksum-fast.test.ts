/**
 * onesComplementSumFast (32-bit loads over the buffer's memory) must equal the byte-wise
 * onesComplementSum for every length, offset and alignment of the view in its ArrayBuffer; the
 * IPv4 header and transport (pseudo-header) checks must say what the byte-wise sums say.
 */
import t from 'tap'
import fc from 'fast-check'
import { ipv4HeaderChecksumOk, onesComplementSum, onesComplementSumFast, transportChecksumOk } from '../agent/decode/checksum.js'

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

/** The transport check as RFC 793/768 state it, with the byte-wise sum throughout. */
function transportReference(buf: Buffer, srcOff: number, dstOff: number, addrLen: number, proto: number, l4Off: number, l4Len: number): boolean {
  let sum = onesComplementSum(buf, srcOff, addrLen, 0)
  sum = onesComplementSum(buf, dstOff, addrLen, sum)
  sum += proto + (l4Len & 0xffff) + (l4Len >>> 16)
  return onesComplementSum(buf, l4Off, l4Len, sum) === 0xffff
}

t.test('IPv4 header check: a header whose checksum field is set passes, one changed byte fails', async (t) => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 60, maxLength: 60 }), fc.integer({ min: 5, max: 15 }), fc.nat(3), fc.nat(59), fc.integer({ min: 1, max: 255 }),
    (bytes, ihlWords, shift, at, delta) => {
      const len = ihlWords * 4
      const buf = Buffer.alloc(len + shift)
      buf.set(bytes.subarray(0, len), shift)
      buf.writeUInt16BE(0, shift + 10)
      buf.writeUInt16BE(~onesComplementSum(buf, shift, len, 0) & 0xffff, shift + 10)
      if (!ipv4HeaderChecksumOk(buf, shift, len)) return false
      const i = shift + (at % len)
      buf[i] = (buf[i]! + delta) & 0xff
      return !ipv4HeaderChecksumOk(buf, shift, len)
    }), { numRuns: 5000 })
  t.pass('5000 headers')
})

t.test('transport check (pseudo-header sums, IPv4 and IPv6) agrees with the byte-wise reference', async (t) => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 0, maxLength: 1600 }), fc.boolean(), fc.constantFrom(6, 17, 58), fc.nat(5), fc.boolean(),
    (payload, v6, proto, shift, makeValid) => {
      const addrLen = v6 ? 16 : 4
      const buf = Buffer.alloc(shift + 2 * addrLen + payload.length + 8)
      const srcOff = shift
      const dstOff = shift + addrLen
      const l4Off = shift + 2 * addrLen
      for (let i = 0; i < 2 * addrLen; i++) buf[shift + i] = (payload.length * 31 + i * 97 + shift) & 0xff
      buf.set(payload, l4Off)
      const l4Len = payload.length
      if (makeValid && l4Len >= 8) {
        // Store the checksum at byte 6 of the segment (UDP's place) so that the sum validates.
        buf.writeUInt16BE(0, l4Off + 6)
        let s = onesComplementSum(buf, srcOff, addrLen, 0)
        s = onesComplementSum(buf, dstOff, addrLen, s)
        s += proto + (l4Len & 0xffff) + (l4Len >>> 16)
        buf.writeUInt16BE(~onesComplementSum(buf, l4Off, l4Len, s) & 0xffff, l4Off + 6)
      }
      const want = transportReference(buf, srcOff, dstOff, addrLen, proto, l4Off, l4Len)
      if (makeValid && l4Len >= 8 && !want) return false
      return transportChecksumOk(buf, srcOff, dstOff, addrLen, proto, l4Off, l4Len) === want
    }), { numRuns: 5000 })
  t.pass('5000 segments')
})

/**
 * The protobufjs runtime the generated telltale.v1 code is bound to (the generator passes
 * this module as pbjs's `--dependency`, so it is evaluated before any generated type).
 *
 * 64-bit integer fields (µs timestamps, byte and packet counters) are read as plain JS
 * numbers instead of `Long` objects: no allocation per field on decode, and the generated
 * types say `number`. Exact up to 2^53 — µs timestamps until the year 2255, counters up to
 * 9 PB — which is every value a flow record can hold.
 *
 * This sets protobufjs's process-wide `util.Long`; every protobufjs user in this process
 * sees numbers for 64-bit fields. Only protocol/ uses protobufjs.
 */
import protobuf from 'protobufjs/minimal.js'

protobuf.util.Long = null as unknown as typeof protobuf.util.Long
protobuf.configure()

export default protobuf

/**
 * replay's asset inventory: the HostInventory it fills and the hosts.ndjson it writes. A module
 * of its own so that a replay without the inventory (`--no-hosts`, no `--log-dir`) does not
 * load it, the OUI registry or the line encoder.
 */
import { HostInventory } from '../../assets/host-inventory.js'
import { macVendor } from '../../../protocol/oui-registry.js'
import { BufferedFileSink } from '../../output/buffered-file-sink.js'
import { encodeHostLine, hostLineMaxBytes } from '../../output/host-line-bytes.js'

export function newReplayInventory(): HostInventory {
  return new HostInventory(1_000_000, macVendor)
}

/**
 * One line at a time through the buffered sink: no array of records, no file-sized string.
 * Lines are rendered as bytes (host-line-bytes.ts); JSON.stringify for what that declines.
 */
export function writeHostsNdjson(hosts: HostInventory, path: string): void {
  const out = new BufferedFileSink(path)
  for (const h of hosts.eachToWrite()) {
    const b = out.reserve(hostLineMaxBytes(h))
    const end = b === undefined ? -1 : encodeHostLine(h, b, out.offset)
    if (end >= 0) out.commit(end)
    else out.append(JSON.stringify(h) + '\n')
  }
  out.close()
}

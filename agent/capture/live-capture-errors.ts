import { AgentError, AgentErrorCode } from '../util/errors.js'

/**
 * Turns libpcap's text (as the bindings throw it) into one AgentError line that says what
 * to do. Classification is by libpcap's message, since neither binding exposes the status
 * code of pcap_activate(); a filter error is confirmed by the caller (the same open succeeds
 * without the filter), so it is never guessed from the message alone.
 */

const PERMISSION_RE = /Operation not permitted|permission|EPERM|Permission denied/i
const NO_DEVICE_RE = /No such device|doesn't exist|does not exist|ENODEV|not found/i

export const SETCAP_HINT = 'run as root, or `setcap cap_net_raw,cap_net_admin=eip $(which node)`, or use the systemd unit'

export function permissionError(iface: string, libpcapMessage: string): AgentError {
  return new AgentError(AgentErrorCode.CAPTURE_NO_PERMISSION,
    `capturing on ${iface} needs CAP_NET_RAW (${libpcapMessage}): ${SETCAP_HINT}`)
}

export function noSuchDeviceError(iface: string, available: string[]): AgentError {
  const list = available.length > 0 ? available.join(', ') : 'none found (pcap_findalldevs returned nothing)'
  return new AgentError(AgentErrorCode.CAPTURE_NO_SUCH_DEVICE,
    `no such interface "${iface}": pick one of ${list}`)
}

export function badFilterError(filter: string, libpcapMessage: string, where: string): AgentError {
  return new AgentError(AgentErrorCode.CAPTURE_BAD_FILTER,
    `bad capture filter "${filter}" (${where}): ${libpcapMessage}; check the expression against pcap-filter(7)`)
}

export function openFailedError(iface: string, libpcapMessage: string): AgentError {
  return new AgentError(AgentErrorCode.CAPTURE_OPEN_FAILED,
    `cannot capture on ${iface}: ${libpcapMessage}; check that the interface is up and that libpcap can open it (try \`tcpdump -i ${iface} -c 1\`)`)
}

export type OpenFailureKind = 'permission' | 'no-such-device' | 'other'

export function classifyOpenFailure(libpcapMessage: string): OpenFailureKind {
  if (PERMISSION_RE.test(libpcapMessage)) return 'permission'
  if (NO_DEVICE_RE.test(libpcapMessage)) return 'no-such-device'
  return 'other'
}

export function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err)
  return msg.replace(/\s+/g, ' ').trim() || 'unknown libpcap error'
}

/** Flow table settings (FlowTableConfig and Zeek's TCP timers), set once by the host. */
export let maxFlows: i32 = 1000000
export let udpTimeout: f64 = 60
export let icmpTimeout: f64 = 60
export let otherTimeout: f64 = 60
export let activeTimeout: f64 = 0
export let ignoreChecksums: bool = false
export let attemptDelay: f64 = 5
export let synTimeout: f64 = 5
export let sessionTimer: f64 = 6
export let connectionLinger: f64 = 5
export let closeDelay: f64 = 5
export let partialCloseDelay: f64 = 3
export let tcpInactivity: f64 = 300
export let handshakeInactivity: f64 = 60

export function configure(maxFlows_: i32, udp: f64, icmp: f64, other: f64, active: f64, ignoreChecksums_: bool,
  attempt: f64, syn: f64, session: f64, linger: f64, close: f64, partialClose: f64, inactivity: f64, handshake: f64): void {
  maxFlows = maxFlows_
  udpTimeout = udp
  icmpTimeout = icmp
  otherTimeout = other
  activeTimeout = active
  ignoreChecksums = ignoreChecksums_
  attemptDelay = attempt
  synTimeout = syn
  sessionTimer = session
  connectionLinger = linger
  closeDelay = close
  partialCloseDelay = partialClose
  tcpInactivity = inactivity
  handshakeInactivity = handshake
}

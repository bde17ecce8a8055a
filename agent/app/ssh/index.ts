/**
 * SSH analyzer factory: port 22/tcp (Zeek's registration) and detection of an identification
 * line ("SSH-1." / "SSH-2.", any case, as Zeek's dpd.sig) on any port.
 */
import type { AppAnalyzerFactory } from '../app-analyzer.js'
import { LocalNets } from '../../flow/local-nets.js'
import { SshAnalyzer } from './ssh-analyzer.js'

export { SSH_LOG } from './ssh-log.js'

const SIG = /^[sS][sS][hH]-[12]\./

export function createSshAnalyzerFactory(localNets: LocalNets = LocalNets.zeekDefault()): AppAnalyzerFactory {
  return {
    name: 'ssh',
    transports: ['tcp'],
    ports: [22],
    // 's'/'S' first: most payloads are ruled out before a string is made.
    detect: (_isOrig, first) => first.length >= 6 && (first[0] === 0x73 || first[0] === 0x53) && SIG.test(first.toString('latin1', 0, 6)),
    detectSettled: (_isOrig, first) => first.length >= 6,
    create: (conn, out) => new SshAnalyzer(conn, out, localNets),
  }
}

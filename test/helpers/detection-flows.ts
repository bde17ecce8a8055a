/** DetectionFlow records built in code for detector tests (addresses and MACs as text; the numeric forms derived). */
import type { DetectionFlow } from '../../collector/detection/detection-types.js'
import { parseV4 } from '../../collector/detection/net-match.js'

export const T0 = 1_700_000_000_000_000

let uid = 0

/** A completed TCP flow origH → respH:443 at T0 unless `p` says otherwise; each gets its own uid. */
export function detectionFlow(p: Partial<DetectionFlow> & { origH: string; respH: string }): DetectionFlow {
  const macN = (m: string | undefined): number => (m === undefined || m === '' ? -1 : Number.parseInt(m.replace(/:/g, ''), 16))
  const f: DetectionFlow = {
    agentId: 'a1', tsUs: T0, endUs: T0, origP: 40000, respP: 443, origV4: parseV4(p.origH), respV4: parseV4(p.respH), proto: 'tcp', connState: 'SF', history: 'ShADadFf',
    durationUs: 1000, origBytes: 500, respBytes: 5000, origPkts: 5, respPkts: 6, service: '', uid: `C${uid++}`, communityId: () => '1:x', origMac: '', respMac: '', origMacN: -1, respMacN: -1,
    localOrig: undefined, localResp: undefined, vlan: undefined, missedBytes: 0, interim: false, ...p,
  }
  f.endUs = f.tsUs + f.durationUs
  f.origMacN = macN(f.origMac)
  f.respMacN = macN(f.respMac)
  return f
}

/** Test helper: deterministic ConnRecords for the shipping tests (uids C1, C2, …). */
import type { ConnRecord } from '../../agent/flow/conn-record.js'

export function makeConn(i: number, t0 = 1_700_000_000): ConnRecord {
  return {
    ts: t0 + i * 0.001, uid: `C${i}`, origH: `10.0.${(i >> 8) & 255}.${i & 255}`, origP: 1024 + (i % 60000), respH: '192.0.2.1', respP: 443,
    proto: 'tcp', service: 'ssl', duration: 0.5, origBytes: 100, respBytes: 2000, connState: 'SF', localOrig: true, localResp: false,
    missedBytes: 0, history: 'ShADadFf', origPkts: 5, origIpBytes: 400, respPkts: 6, respIpBytes: 2400, tunnelParents: [], ipProto: 6,
    communityId: '', vlan: undefined, innerVlan: undefined, origL2Addr: undefined, respL2Addr: undefined, iface: 'eth0',
    lastTs: t0 + i * 0.001 + 0.5, interim: false, reason: 'end',
  }
}

/**
 * NTP service identification (UDP 123): a 48-byte-or-longer datagram with a valid version
 * (1–4) and mode (1–5; 6/7 are control/private) confirms `ntp`, as Zeek's NTP analyzer does.
 * ntp.log (Zeek's policy) is not written.
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppOutput } from '../app-analyzer.js'

export function looksLikeNtp(d: Buffer): boolean {
  if (d.length < 48) return d.length >= 12 && ((d[0]! & 0x7) === 6 || (d[0]! & 0x7) === 7) && ((d[0]! >> 3) & 0x7) >= 1
  const version = (d[0]! >> 3) & 0x7
  const mode = d[0]! & 0x7
  return version >= 1 && version <= 4 && mode >= 1 && mode <= 7
}

class NtpAnalyzer implements AppAnalyzer {
  private confirmed = false
  constructor(private readonly out: AppOutput) {}
  deliver(_isOrig: boolean, data: Buffer): void {
    if (this.confirmed) return
    if (looksLikeNtp(data)) { this.confirmed = true; this.out.confirm('ntp') } else this.out.violation('not NTP')
  }
  finish(): void {}
}

export const NTP_ANALYZER: AppAnalyzerFactory = {
  name: 'ntp',
  transports: ['udp'],
  ports: [123],
  create: (_c, out) => new NtpAnalyzer(out),
}

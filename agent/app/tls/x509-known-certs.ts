/**
 * Zeek's x509.log de-duplication (X509::known_log_certs): a certificate is logged once per
 * (fingerprint, host_cert, client_cert) until `relogAfterSec` of network time has passed
 * (Zeek's default 1 day). Bounded: at `maxEntries` the oldest entry is evicted (counted).
 */
export class KnownCerts {
  private readonly seen = new Map<string, number>()
  evicted = 0

  constructor(private readonly relogAfterSec = 86400, private readonly maxEntries = 100_000) {}

  /** True when the certificate should be logged now (and remembers it). */
  shouldLog(fingerprint: string, hostCert: boolean, clientCert: boolean, ts: number): boolean {
    if (this.relogAfterSec <= 0) return true
    const k = `${fingerprint}|${hostCert ? 1 : 0}|${clientCert ? 1 : 0}`
    const at = this.seen.get(k)
    if (at !== undefined && ts - at < this.relogAfterSec) return false
    this.seen.delete(k)
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value as string
      this.seen.delete(oldest)
      this.evicted++
    }
    this.seen.set(k, ts)
    return true
  }
}

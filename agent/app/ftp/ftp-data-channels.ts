/**
 * Expected FTP data channels (main.zeek ftp_data_expected, keyed by responder address and
 * port, expiring after 5 minutes): the FTP analyzer registers its session record here when it
 * sees PORT/EPRT/PASV/EPSV, and the ftp-data analyzer of the data connection finds it there to
 * attach the transferred file's id (fuid) to the control session, as files.zeek does.
 * Bounded: at most `max` entries (oldest dropped first, counted in `dropped`).
 */
export interface FtpDataTarget {
  /** Set by the data channel when a file starts on it (ftp.log `fuid`). */
  fuid: string | undefined
}

export class FtpDataChannels {
  dropped = 0
  private readonly map = new Map<string, { target: FtpDataTarget; expires: number }>()

  constructor(private readonly max = 10_000, private readonly ttlSec = 300) {}

  add(respH: string, respP: number, target: FtpDataTarget, now: number): void {
    const k = `${respH}|${respP}`
    this.map.delete(k)
    if (this.map.size >= this.max) {
      this.map.delete(this.map.keys().next().value as string)
      this.dropped++
    }
    this.map.set(k, { target, expires: now + this.ttlSec })
  }

  get(respH: string, respP: number, now: number): FtpDataTarget | undefined {
    const k = `${respH}|${respP}`
    const e = this.map.get(k)
    if (e === undefined) return undefined
    if (now > e.expires) { this.map.delete(k); return undefined }
    return e.target
  }

  get size(): number { return this.map.size }
}

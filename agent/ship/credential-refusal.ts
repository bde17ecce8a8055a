/**
 * Whether the collector currently refuses the agent's credential (HTTP 401, or 403 for a
 * revoked agent or token). Such a refusal is about the identity, not the batch: shipping
 * pauses (the retrying transport tries again every `maxDelayMs`), every batch stays in the
 * spool (still bounded by spool.max_bytes: the oldest become gap records when it is full),
 * and after `telltale-agent enroll --force` on the same machine the spool's batches are
 * sealed again under the new identity (Spool.start) and delivered.
 *
 * Set by the retrying transport, read by `status`, the heartbeat and `replay` (which stops
 * waiting and says how to re-enroll).
 */
export interface RefusalInfo {
  status: number
  reason: string
  sinceMs: number
}

export class CredentialRefusal {
  private info: RefusalInfo | undefined
  private waiters: Array<(r: RefusalInfo) => void> = []

  get current(): RefusalInfo | undefined { return this.info }

  /** The collector refused the credential; returns true when this starts a refusal. */
  refused(status: number, reason: string, nowMs: number): boolean {
    if (this.info !== undefined) return false
    const info = { status, reason, sinceMs: nowMs }
    this.info = info
    for (const w of this.waiters.splice(0)) w(info)
    return true
  }

  /** The collector accepted a request: the refusal (if any) is over. */
  accepted(): void {
    this.info = undefined
  }

  /** Resolves at the next refusal (at once when one is current). */
  whenRefused(): Promise<RefusalInfo> {
    if (this.info !== undefined) return Promise.resolve(this.info)
    return new Promise((resolve) => this.waiters.push(resolve))
  }
}

/**
 * Zeek's guess at SSH2 authentication outcome from the sizes of encrypted data
 * (src/analyzer/protocol/ssh/SSH.cc ProcessEncrypted), reproduced step by step:
 * - nothing is inferred until the client has sent encrypted data;
 * - the first encrypted server "packet" is taken as SERVICE_ACCEPT and its size remembered;
 * - a server packet 16 bytes smaller is USERAUTH_SUCCESS (decision made: success);
 * - the next one is USERAUTH_FAILURE (its size remembered), unless it is more than 256 bytes
 *   larger than SERVICE_ACCEPT the first time (a pre-auth banner, skipped once);
 * - later packets of the failure size are failed attempts, one 16 bytes smaller than
 *   SERVICE_ACCEPT is the success.
 *
 * "Packet" here is what Zeek sees: the encrypted bytes of one delivered TCP segment. Our
 * stream delivers one chunk per in-order segment, so sizes match for in-order traffic; a
 * segment that arrived out of order and was delivered together with its successor is seen
 * as two chunks (as Zeek's reassembler also delivers them), but coalesced data is not split.
 */
export type AuthEvent = 'success' | 'failure'

export class SshAuthInference {
  decided = false
  private sawClientData = false
  private serviceAcceptSize = 0
  private failureSize = 0
  private skippedBanner = false

  /** Encrypted bytes of one segment; returns the inferred event, if any. */
  segment(isOrig: boolean, len: number): AuthEvent | undefined {
    if (this.decided || len <= 0) return undefined
    if (isOrig) {
      this.sawClientData = true
      return undefined
    }
    if (!this.sawClientData) return undefined
    if (this.serviceAcceptSize === 0) {
      this.serviceAcceptSize = len
      return undefined
    }
    if (this.failureSize === 0 && len + 16 === this.serviceAcceptSize) {
      this.decided = true
      return 'success'
    }
    if (this.failureSize === 0) {
      if (!this.skippedBanner && len - this.serviceAcceptSize > 256) {
        this.skippedBanner = true
        return undefined
      }
      this.failureSize = len
      return undefined
    }
    if (len === this.failureSize) return 'failure'
    if (len - this.serviceAcceptSize === -16) {
      this.decided = true
      return 'success'
    }
    return undefined
  }
}

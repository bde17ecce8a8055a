/**
 * Whether the TLS files of the agent ↔ collector transport hold what they should: a PEM
 * certificate, a PEM private key that belongs to it, a CA bundle with at least one
 * certificate. Checked with Node's own parsers by both sides' config loaders (check-config and
 * start), so a wrong file is a config problem with its key and line, not OpenSSL's "key values
 * mismatch" or "DECODER routines::unsupported" at the first connection. Shared here because
 * agent/ and collector/ do not import each other.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'

export interface TlsFileProblem { which: 'cert' | 'key' | 'ca'; message: string }

function certificateProblem(pem: Buffer, file: string, what: string): string | undefined {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return `${file} holds no PEM ${what} (-----BEGIN CERTIFICATE-----)`
  try {
    new X509Certificate(pem)
    return undefined
  } catch (err) {
    return `${file}: the ${what} does not parse (${(err as Error).message})`
  }
}

export function tlsFileProblems(f: { cert?: { file: string; pem: Buffer }; key?: { file: string; pem: Buffer }; ca?: { file: string; pem: Buffer } }): TlsFileProblem[] {
  const out: TlsFileProblem[] = []
  let certOk = false
  let keyOk = false
  if (f.cert) {
    const p = certificateProblem(f.cert.pem, f.cert.file, 'certificate')
    if (p !== undefined) out.push({ which: 'cert', message: p })
    else certOk = true
  }
  if (f.key) {
    try {
      createPrivateKey(f.key.pem)
      keyOk = true
    } catch (err) {
      const encrypted = f.key.pem.includes('ENCRYPTED')
      out.push({ which: 'key', message: encrypted
        ? `${f.key.file} is an encrypted private key; it must be unencrypted (openssl pkey -in KEY -out KEY.plain), readable by the service user only`
        : `${f.key.file} holds no usable PEM private key (${(err as Error).message})` })
    }
  }
  if (certOk && keyOk) {
    try {
      createSecureContext({ cert: f.cert!.pem, key: f.key!.pem })
    } catch (err) {
      const mismatch = (err as { code?: string }).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH'
      out.push({ which: 'key', message: mismatch
        ? `${f.key!.file} is not the key of the certificate in ${f.cert!.file} (key values mismatch)`
        : `${f.key!.file} and ${f.cert!.file} do not make a TLS identity (${(err as Error).message})` })
    }
  }
  if (f.ca) {
    const p = certificateProblem(f.ca.pem, f.ca.file, 'CA certificate')
    if (p !== undefined) out.push({ which: 'ca', message: p })
  }
  return out
}

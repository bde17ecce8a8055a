/** SSL/TLS analyzer: ssl.log, x509.log, JA3/JA3S/JA4/JA4S. */
export { createTlsAnalyzerFactory, looksLikeClientHello, looksLikeServerHello, SSL_PORTS, TLS_ANALYZER } from './tls-analyzer.js'
export { SSL_LOG, X509_LOG } from './tls-logs.js'
export { DEFAULT_TLS_CONFIG, TlsSession, type TlsAnalyzerConfig } from './tls-session.js'
export { KnownCerts } from './x509-known-certs.js'
export { parseCertificate, type X509Info } from './x509-parse.js'
export { ja3, ja3s, ja4, ja4s } from './tls-fingerprints.js'
export { SslState } from './tls-ssl-state.js'

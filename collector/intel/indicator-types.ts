/** Threat-intel indicators as the parsers produce them and the index stores them. */

export type IndicatorKind = 'ip' | 'cidr' | 'domain' | 'url' | 'ja3' | 'ja4' | 'cert_hash'

export const INDICATOR_KINDS: readonly IndicatorKind[] = ['ip', 'cidr', 'domain', 'url', 'ja3', 'ja4', 'cert_hash']

export interface Indicator {
  kind: IndicatorKind
  /** Normalised value: address or CIDR text, lower-case domain, URL, lower-case hash. */
  value: string
  /** Short description (threat name, MISP category, STIX indicator name); '' when none. */
  label: string
}

export type FeedFormat = 'csv' | 'stix' | 'misp'

/** What a parser returns: indicators and the lines/objects it could not use (counted, not thrown). */
export interface ParsedFeed {
  format: FeedFormat
  indicators: Indicator[]
  skipped: number
}

/** A match: which feed, which indicator, and its label. */
export interface IntelMatch {
  feed: string
  kind: IndicatorKind
  indicator: string
  label: string
}

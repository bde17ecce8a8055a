/** The HTTP/1.x analyzer: factory, http.log columns, and the parsing pieces for tests. */
export { HTTP_ANALYZER, createHttpAnalyzerFactory, detectHttp } from './http-factory.js'
export { HTTP_LOG } from './http-log-spec.js'
export { HttpAnalyzer, DEFAULT_HTTP_CONFIG, type HttpAnalyzerConfig } from './http-analyzer.js'

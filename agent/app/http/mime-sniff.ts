/**
 * Content sniffing of file data, as Zeek's file analysis does with its file-magic signatures
 * (scripts/base/frameworks/files/magic/*.sig): every signature is a regular expression
 * anchored at the start of the first bytes of the file (Zeek's default_file_bof_buffer_size,
 * 4096); among the matches the highest strength wins. This is a subset of Zeek's table: the
 * common web, image, archive and executable types. Patterns are applied to the bytes as a
 * latin1 string; Zeek's "." (any byte but newline) is written [^\n].
 */

interface MagicSig { mime: string; strength: number; re: { test(s: string): boolean } }

/** Zeek's default_file_bof_buffer_size. */
export const SNIFF_BYTES = 4096

const WS = '[\\r\\n \\t]'
// Zeek writes ([ws]*(<!--.*-->)?[ws]*)*; this is the same language without nested quantifiers
// (no exponential backtracking on long runs of white space).
const COMMENTS = `(?:${WS}|<!--[^\\n]*?-->)*`
const XMLDECL = '(<\\?xml [^\\n]*\\?>)?'
const BOM = '(\\xef\\xbb\\xbf)?'
const MARKUP = `^${BOM}${COMMENTS}${XMLDECL}${COMMENTS}`

/**
 * The first "<?php" of `s` starts before its first newline (or `s` has none). The search
 * goes by "?php": a body full of "<" (markup, or the bench capture's filler) made a search
 * for "<?php" stop at every byte; "?" is rare, so the usual body costs one fast scan.
 */
function phpFirstLine(s: string): boolean {
  let start = -1
  for (let i = s.indexOf('?php', 1); i >= 0; i = s.indexOf('?php', i + 1)) {
    if (s.charCodeAt(i - 1) === 0x3c) { start = i - 1; break }
  }
  if (start < 0) return false
  const nl = s.indexOf('\n')
  return nl < 0 || start < nl
}

const sig = (mime: string, strength: number, re: string): MagicSig => ({ mime, strength, re: new RegExp(re) })

const SIGS: MagicSig[] = [
  // general.sig
  sig('text/plain', -20, '^(\\xef\\xbb\\xbf|(\\x00\\x00)?\\xfe\\xff|\\xff\\xfe(\\x00\\x00)?)?[\\t\\n\\v\\f\\r \\x20-\\x7e]{10}'),
  sig('text/json', 1, `^${BOM}${WS}*\\{${WS}*(["][^"]{1,}["]|[a-zA-Z][a-zA-Z0-9\\\\_]*)${WS}*:${WS}*(["]|\\[|\\{|[0-9]|true|false)`),
  sig('text/json', 1, `^${BOM}${WS}*\\[${WS}*((((["][^"]{1,}["]|[0-9]{1,}(\\.[0-9]{1,})?|true|false)${WS}*,)|\\{|\\[)${WS}*)`),
  sig('text/json', 0, `^${BOM}${WS}*(\\[\\]|\\{\\})${WS}*$`),
  sig('application/xml', 10, `^${BOM}${COMMENTS}<\\?xml `),
  sig('text/html', 100, `${MARKUP}<(![dD][oO][cC][tT][yY][pP][eE] {1,}[hH][tT][mM][lL]|[hH][tT][mM][lL]|[mM][eE][tT][aA] {1,}[hH][tT][tT][pP]-[eE][qQ][uU][iI][vV])`),
  sig('text/html', 49, `${MARKUP}<![dD][oO][cC][tT][yY][pP][eE] {1,}[hH][tT][mM][lL]`),
  sig('text/html', 20, `${MARKUP}<([hH][eE][aA][dD]|[hH][tT][mM][lL]|[tT][iI][tT][lL][eE]|[bB][oO][dD][yY])`),
  sig('text/rss', 90, `${MARKUP}<[rR][sS][sS]`),
  sig('application/soap+xml', 49, `${MARKUP}<[sS][oO][aA][pP](-[eE][nN][vV])?:[eE][nN][vV][eE][lL][oO][pP][eE]`),
  sig('application/xml-rpc', 49, `${MARKUP}<[mM][eE][tT][hH][oO][dD][rR][eE][sS][pP][oO][nN][sS][eE]>`),
  sig('application/java-archive', 100, '^PK\\x03\\x04[^\\n]{1,200}\\x14\\x00[^\\n][^\\n]META-INF\\/MANIFEST\\.MF'),
  sig('application/x-java-applet', 71, '^\\xca\\xfe\\xba\\xbe[^\\n][^\\n][^\\n][\\x2d-\\x34]'),
  sig('application/x-shockwave-flash', 60, '^(F|C|Z)WS'),
  sig('application/x-mach-o-executable', 100, '^[\\xce\\xcf]\\xfa\\xed\\xfe'),
  sig('application/x-pem', 0, '^-----BEGIN CERTIFICATE-----'),
  sig('application/vnd.tcpdump.pcap', 70, '^(\\xa1\\xb2\\xc3\\xd4|\\xd4\\xc3\\xb2\\xa1)'),
  sig('text/x-shellscript', 250, '^\\x23\\x21[^\\n]{1,15}bin\\/(env[\\t\\n\\v\\f\\r ]+)?(ba|tc|c|z|fa|ae|k)?sh'),
  sig('text/x-perl', 60, '^\\x23\\x21[^\\n]{1,15}bin\\/(env[\\t\\n\\v\\f\\r ]+)?perl'),
  sig('text/x-python', 60, '^\\x23\\x21[^\\n]{1,15}bin\\/(env[\\t\\n\\v\\f\\r ]+)?python'),
  sig('application/javascript', 60, `^${WS}*<[sS][cC][rR][iI][pP][tT][ \\t]+([tT][yY][pP][eE]|[lL][aA][nN][gG][uU][aA][gG][eE])=['"]?([tT][eE][xX][tT]\\/)?[jJ][aA][vV][aA][sS][cC][rR][iI][pP][tT]`),
  sig('application/javascript', 60, `^${WS}*for \\(;;\\);`),
  sig('application/javascript', 60, `^${WS}*document\\.write(ln)?[: \\t]?\\(`),
  sig('application/javascript', 60, '^\\(function\\(\\)[ \\t\\n]*\\{'),
  sig('application/javascript', 60, `^${WS}*<script>${WS}*(var|function) `),
  // '^[^\\n]*<\\?php' without the regex (which ran to the end of the line and backtracked):
  // "<?php" holds no newline, so it matches when the first "<?php" starts before the first newline.
  { mime: 'text/x-php', strength: 40, re: { test: phpFirstLine } },
  sig('application/x-executable', 50, '^\\x7fELF[\\x01\\x02](\\x01[^]{10}\\x02\\x00|\\x02[^]{10}\\x00\\x02)'),
  sig('application/x-sharedlib', 50, '^\\x7fELF[\\x01\\x02](\\x01[^]{10}\\x03\\x00|\\x02[^]{10}\\x00\\x03)'),
  // image.sig
  sig('image/tiff', 70, '^(MM\\x00[\\x2a\\x2b]|II[\\x2a\\x2b]\\x00)'),
  sig('image/gif', 70, '^GIF8'),
  sig('image/jpeg', 52, '^\\xff\\xd8'),
  sig('image/x-ms-bmp', 50, '^BM[^\\n]{12}[\\x0c\\x28\\x40\\x6c\\x7c\\x80]\\x00'),
  sig('image/x-icon', 70, '^\\x00\\x00\\x01\\x00'),
  sig('image/vnd.adobe.photoshop', 70, '^8BPS'),
  sig('image/png', 110, '^\\x89PNG'),
  sig('image/webp', 70, '^RIFF[^\\n]{4}WEBP'),
  // archive.sig
  sig('application/zip', 10, '^PK\\x03\\x04[^\\n]{2}'),
  sig('application/x-rar', 70, '^Rar!'),
  sig('application/x-gzip', 100, '^\\x1f\\x8b'),
  sig('application/vnd.ms-cab-compressed', 110, '^MSCF\\x00\\x00\\x00\\x00'),
  sig('application/x-7z-compressed', 50, '^7z\\xbc\\xaf\\x27\\x1c'),
  sig('application/x-xz', 90, '^\\xfd7zXZ\\x00'),
  sig('application/x-bzip2', 60, '^BZh'),
  // executable.sig / libmagic.sig
  sig('application/x-dosexec', 51, '^MZ'),
  sig('application/pdf', 80, '^%PDF-'),
]

/**
 * SIGS by strength, strongest first; equal strengths keep their table order (the sort is
 * stable). The winner is the strongest match, the earliest in the table among equals: the
 * first match in this order, so testing stops there.
 */
const BY_STRENGTH = [...SIGS].sort((a, b) => b.strength - a.strength)

/** The MIME type Zeek's file_sniff would report for these first bytes, or undefined. */
export function sniffMime(bof: Buffer): string | undefined {
  if (bof.length === 0) return undefined
  return sniffMimeText(bof.toString('latin1', 0, Math.min(bof.length, SNIFF_BYTES)))
}

/** sniffMime of the first bytes already as latin1 text (at most SNIFF_BYTES characters). */
export function sniffMimeText(s: string): string | undefined {
  if (s.length === 0) return undefined
  for (let i = 0; i < BY_STRENGTH.length; i++) if (BY_STRENGTH[i]!.re.test(s)) return BY_STRENGTH[i]!.mime
  return undefined
}

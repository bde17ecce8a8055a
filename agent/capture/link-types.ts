/** libpcap LINKTYPE_* values the decoder understands (https://www.tcpdump.org/linktypes.html). */
export const LINKTYPE_NULL = 0 // BSD loopback: 4-byte host-order address family
export const LINKTYPE_ETHERNET = 1
export const LINKTYPE_RAW = 101 // raw IPv4/IPv6, version from the first nibble
export const LINKTYPE_LOOP = 108 // OpenBSD loopback: 4-byte network-order address family
export const LINKTYPE_LINUX_SLL = 113
export const LINKTYPE_IPV4 = 228
export const LINKTYPE_IPV6 = 229
export const LINKTYPE_LINUX_SLL2 = 276
/** DLT_RAW on some platforms (OpenBSD uses 14, others 12). */
export const DLT_RAW_12 = 12
export const DLT_RAW_14 = 14

export const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set([
  LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP, LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2, DLT_RAW_12, DLT_RAW_14,
])

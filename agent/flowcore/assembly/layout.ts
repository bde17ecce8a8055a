/*
 * Memory layout of the WebAssembly flow core (AssemblyScript). Every connection is one row of
 * STRIDE bytes, both TCP endpoints inline; rows live in segments of 4096 (conn-row.ts). The record area
 * (REC_*) is what the core fills before it calls the host's emit(); the host reads it at
 * recPtr() with the offsets below (agent/flowcore/flow-core-layout.ts holds the same numbers).
 */

/*
 * Row layout by cache line (64 bytes): what an established TCP packet reads and writes sits in
 * the first five lines (key and flags; counters and timers; the rest of the timers; each
 * endpoint's sequence state), the rest — set at creation, read for the record, or on rare
 * packets (SYN/FIN/RST letters, retransmits, zero windows) — after them. With every flow of the
 * bench capture live at once (80k rows, 42 MB), a packet costs the lines it touches.
 */
// line 0: key (compared on every lookup), flags, times
export const C_KA: i32 = 0 // 16 bytes (IPv4 in the first 4)
export const C_KB: i32 = 16
export const C_PA: i32 = 32
export const C_PB: i32 = 36
export const C_KPROTO: i32 = 40
export const C_FLAGS: i32 = 44
export const C_LAST: i32 = 48
export const C_TOUCH: i32 = 56
// line 1: counters and timers
export const C_OPKTS: i32 = 64
export const C_OIPB: i32 = 72
export const C_RPKTS: i32 = 80
export const C_RIPB: i32 = 88
export const C_NEXT: i32 = 96
export const C_INACT: i32 = 104
export const C_EXPIRE: i32 = 112
export const C_ATTEMPT: i32 = 120
// line 2
export const C_PCLOSE: i32 = 128
export const C_DELETE: i32 = 136
export const C_OLEN: i32 = 144
export const C_RLEN: i32 = 152
export const C_MISSED: i32 = 160
export const C_HSEEN: i32 = 168
export const C_HLEN: i32 = 172
export const C_IPPROTO: i32 = 176
export const C_LIVE: i32 = 180
export const C_GEN: i32 = 184
export const C_SLOT: i32 = 188
// lines 3 and 4: the endpoints' hot halves (E_* below); lines 5 and 6 their cold halves (+128)
export const C_EP0: i32 = 192
export const C_EP1: i32 = 256
// set at creation, read for the record
export const C_OPORT: i32 = 368
export const C_RPORT: i32 = 372
export const C_HASH: i32 = 376
export const C_VLAN: i32 = 380
export const C_IVLAN: i32 = 432
export const C_IFACE: i32 = 436
export const C_TPARENT: i32 = 440
export const C_LRUP: i32 = 444
export const C_LRUN: i32 = 448
export const C_START: i32 = 456
export const C_OMAC: i32 = 464
export const C_RMAC: i32 = 472
export const C_INTERIM: i32 = 480
// history letters
export const C_HIST: i32 = 488
export const HIST_CAP: i32 = 40
// the uid: its length (0 = not drawn yet), then up to 19 ASCII bytes ("C" + 3 × 6 base62 digits)
export const C_ULEN: i32 = 528
export const C_UID: i32 = 529
export const UID_CAP: i32 = 19
export const STRIDE: i32 = 552

// flags (C_FLAGS)
export const F_ORIG_ACTIVE: i32 = 1
export const F_RESP_ACTIVE: i32 = 2
export const F_ORIG_IS_A: i32 = 4
export const F_V6: i32 = 8
export const F_TCP_PARTIAL: i32 = 0x100
export const F_TCP_FIRST_SHIFT: i32 = 9
export const F_TCP_FIRST: i32 = 0x600
export const F_TCP_SYNACK_START: i32 = 0x800
/** The originator's endpoint is EP1 (after an odd number of flips). */
export const F_ORIG_EP1: i32 = 0x1000
export const F_TCP: i32 = 0x2000

// ---- TCP endpoint (offsets from its base: hot half 0..63, cold half 128..175) ----
export const E_START: i32 = 0 // u32
export const E_LAST: i32 = 4 // u32
export const E_ACK: i32 = 8 // u32
export const E_STATE: i32 = 12
export const E_PREV: i32 = 16
export const E_SEQW: i32 = 20
export const E_ACKW: i32 = 24
export const E_FLAGS: i32 = 28
export const E_FINCNT: i32 = 32
export const E_BLOCKS: i32 = 36 // pointer to the out-of-order range list, 0 = none
export const E_REASSEM: i32 = 40 // f64
export const E_TRIM: i32 = 48 // f64
export const E_RSTCNT: i32 = 56
export const E_HOLES: i32 = 60
export const E_CHK: i32 = 128
export const E_RXMT: i32 = 132
export const E_WIN0: i32 = 136
export const E_GAP: i32 = 140
export const E_FINSEQ: i32 = 144 // f64
export const E_HSYN: i32 = 152
export const E_HFIN: i32 = 160
export const E_HRST: i32 = 168

export const EF_DID_CLOSE: i32 = 1

// ---- record area filled before emit() ----
export const R_TS: i32 = 0
export const R_LAST: i32 = 8
export const R_OBYTES: i32 = 16
export const R_RBYTES: i32 = 24
export const R_MISSED: i32 = 32
export const R_OPKTS: i32 = 40
export const R_OIPB: i32 = 48
export const R_RPKTS: i32 = 56
export const R_RIPB: i32 = 64
export const R_OMAC: i32 = 72
export const R_RMAC: i32 = 80
export const R_OPORT: i32 = 88
export const R_RPORT: i32 = 92
export const R_IPPROTO: i32 = 96
export const R_STATE: i32 = 100
export const R_VLAN: i32 = 104
export const R_IVLAN: i32 = 108
export const R_V6: i32 = 112
export const R_IFACE: i32 = 116
export const R_TPARENT: i32 = 120
export const R_HLEN: i32 = 124
export const R_SLOT: i32 = 128
/** bit 0 local_orig, bit 1 local_resp */
export const R_LOCAL: i32 = 132
export const R_OADDR: i32 = 144
export const R_RADDR: i32 = 160
export const R_HIST: i32 = 176
export const R_ULEN: i32 = 216
export const R_UID: i32 = 220
export const REC_BYTES: i32 = 240

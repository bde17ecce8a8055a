/**
 * Classic BPF interpreter with libpcap's userland semantics (pcap's bpf_filter.c), used to
 * apply capture filters to packets read from files. Programs come from libpcap's own
 * compiler (see bpf-compile.ts), so verdicts equal tcpdump's.
 *
 * Safety, as in the kernel and libpcap: a load outside the captured bytes, a division or
 * modulo by zero, an unknown opcode, a scratch-memory index out of range or a jump past the
 * end all end the program with 0 (reject). Jumps are forward-only, so every run ends after
 * at most `length` instructions. Never throws.
 */

/** A classic BPF program as four parallel arrays (struct bpf_insn: code, jt, jf, k). */
export interface BpfProgram {
  readonly code: Uint16Array
  readonly jt: Uint8Array
  readonly jf: Uint8Array
  readonly k: Uint32Array
  readonly length: number
}

export interface BpfInsn { code: number; jt: number; jf: number; k: number }

export function bpfProgram(insns: readonly BpfInsn[]): BpfProgram {
  const n = insns.length
  const p = { code: new Uint16Array(n), jt: new Uint8Array(n), jf: new Uint8Array(n), k: new Uint32Array(n), length: n }
  insns.forEach((ins, i) => {
    p.code[i] = ins.code
    p.jt[i] = ins.jt
    p.jf[i] = ins.jf
    p.k[i] = ins.k >>> 0
  })
  return p
}

// Instruction classes and fields (pcap/bpf.h).
export const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03
export const BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06, BPF_MISC = 0x07
export const BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10
export const BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_IND = 0x40, BPF_MEM = 0x60, BPF_LEN = 0x80, BPF_MSH = 0xa0
export const BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30, BPF_OR = 0x40, BPF_AND = 0x50
export const BPF_LSH = 0x60, BPF_RSH = 0x70, BPF_NEG = 0x80, BPF_MOD = 0x90, BPF_XOR = 0xa0
export const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40
export const BPF_K = 0x00, BPF_X = 0x08
export const BPF_A = 0x10
export const BPF_TAX = 0x00, BPF_TXA = 0x80

/** Scratch memory words (BPF_MEMWORDS). */
export const BPF_MEMWORDS = 16

const mem = new Uint32Array(BPF_MEMWORDS)

/**
 * Runs `prog` over one packet. `buflen` = captured bytes available in `p` (caplen),
 * `wirelen` = length on the wire (what `len` / `greater` / `less` see).
 * Returns the program's unsigned result: 0 = reject, anything else = accept (snap length).
 */
export function runBpf(prog: BpfProgram, p: Uint8Array, wirelen: number, buflen: number = p.length): number {
  const { code, jt, jf, k: kk, length } = prog
  if (buflen > p.length) buflen = p.length
  let A = 0
  let X = 0
  mem.fill(0)
  let pc = 0
  while (pc < length) {
    const k = kk[pc]!
    switch (code[pc]!) {
      case BPF_RET | BPF_K: return k
      case BPF_RET | BPF_A: return A
      case BPF_LD | BPF_W | BPF_ABS:
        if (k > buflen || 4 > buflen - k) return 0
        A = ((p[k]! << 24) | (p[k + 1]! << 16) | (p[k + 2]! << 8) | p[k + 3]!) >>> 0
        break
      case BPF_LD | BPF_H | BPF_ABS:
        if (k > buflen || 2 > buflen - k) return 0
        A = (p[k]! << 8) | p[k + 1]!
        break
      case BPF_LD | BPF_B | BPF_ABS:
        if (k >= buflen) return 0
        A = p[k]!
        break
      case BPF_LD | BPF_W | BPF_LEN: A = wirelen >>> 0; break
      case BPF_LDX | BPF_W | BPF_LEN: X = wirelen >>> 0; break
      case BPF_LD | BPF_W | BPF_IND: {
        if (k > buflen || X > buflen - k) return 0
        const o = X + k
        if (4 > buflen - o) return 0
        A = ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0
        break
      }
      case BPF_LD | BPF_H | BPF_IND: {
        if (k > buflen || X > buflen - k) return 0
        const o = X + k
        if (2 > buflen - o) return 0
        A = (p[o]! << 8) | p[o + 1]!
        break
      }
      case BPF_LD | BPF_B | BPF_IND: {
        if (k >= buflen || X >= buflen - k) return 0
        A = p[X + k]!
        break
      }
      case BPF_LDX | BPF_MSH | BPF_B:
        if (k >= buflen) return 0
        X = (p[k]! & 0xf) << 2
        break
      case BPF_LD | BPF_IMM: A = k; break
      case BPF_LDX | BPF_IMM: X = k; break
      case BPF_LD | BPF_MEM:
        if (k >= BPF_MEMWORDS) return 0
        A = mem[k]!
        break
      case BPF_LDX | BPF_MEM:
        if (k >= BPF_MEMWORDS) return 0
        X = mem[k]!
        break
      case BPF_ST:
        if (k >= BPF_MEMWORDS) return 0
        mem[k] = A
        break
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return 0
        mem[k] = X
        break
      case BPF_JMP | BPF_JA: pc += k; break
      case BPF_JMP | BPF_JGT | BPF_K: pc += A > k ? jt[pc]! : jf[pc]!; break
      case BPF_JMP | BPF_JGE | BPF_K: pc += A >= k ? jt[pc]! : jf[pc]!; break
      case BPF_JMP | BPF_JEQ | BPF_K: pc += A === k ? jt[pc]! : jf[pc]!; break
      case BPF_JMP | BPF_JSET | BPF_K: pc += (A & k) !== 0 ? jt[pc]! : jf[pc]!; break
      case BPF_JMP | BPF_JGT | BPF_X: pc += A > X ? jt[pc]! : jf[pc]!; break
      case BPF_JMP | BPF_JGE | BPF_X: pc += A >= X ? jt[pc]! : jf[pc]!; break
      case BPF_JMP | BPF_JEQ | BPF_X: pc += A === X ? jt[pc]! : jf[pc]!; break
      case BPF_JMP | BPF_JSET | BPF_X: pc += (A & X) !== 0 ? jt[pc]! : jf[pc]!; break
      case BPF_ALU | BPF_ADD | BPF_X: A = (A + X) >>> 0; break
      case BPF_ALU | BPF_SUB | BPF_X: A = (A - X) >>> 0; break
      case BPF_ALU | BPF_MUL | BPF_X: A = Math.imul(A, X) >>> 0; break
      case BPF_ALU | BPF_DIV | BPF_X:
        if (X === 0) return 0
        A = Math.floor(A / X) >>> 0
        break
      case BPF_ALU | BPF_MOD | BPF_X:
        if (X === 0) return 0
        A = (A % X) >>> 0
        break
      case BPF_ALU | BPF_AND | BPF_X: A = (A & X) >>> 0; break
      case BPF_ALU | BPF_OR | BPF_X: A = (A | X) >>> 0; break
      case BPF_ALU | BPF_XOR | BPF_X: A = (A ^ X) >>> 0; break
      case BPF_ALU | BPF_LSH | BPF_X: A = X < 32 ? (A << X) >>> 0 : 0; break
      case BPF_ALU | BPF_RSH | BPF_X: A = X < 32 ? A >>> X : 0; break
      case BPF_ALU | BPF_ADD | BPF_K: A = (A + k) >>> 0; break
      case BPF_ALU | BPF_SUB | BPF_K: A = (A - k) >>> 0; break
      case BPF_ALU | BPF_MUL | BPF_K: A = Math.imul(A, k) >>> 0; break
      case BPF_ALU | BPF_DIV | BPF_K:
        if (k === 0) return 0
        A = Math.floor(A / k) >>> 0
        break
      case BPF_ALU | BPF_MOD | BPF_K:
        if (k === 0) return 0
        A = (A % k) >>> 0
        break
      case BPF_ALU | BPF_AND | BPF_K: A = (A & k) >>> 0; break
      case BPF_ALU | BPF_OR | BPF_K: A = (A | k) >>> 0; break
      case BPF_ALU | BPF_XOR | BPF_K: A = (A ^ k) >>> 0; break
      case BPF_ALU | BPF_LSH | BPF_K: A = k < 32 ? (A << k) >>> 0 : 0; break
      case BPF_ALU | BPF_RSH | BPF_K: A = k < 32 ? A >>> k : 0; break
      case BPF_ALU | BPF_NEG: A = (-A) >>> 0; break
      case BPF_MISC | BPF_TAX: X = A; break
      case BPF_MISC | BPF_TXA: A = X; break
      default: return 0
    }
    pc++
  }
  return 0
}

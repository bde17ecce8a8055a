/**
 * Slot numbers for per-flow typed-array columns (Conn, TcpEndpoint): released slots are
 * reused first (a stack in an Int32Array, not a JS array reallocated in old space as flows
 * end); capacity doubles from 1024 and `grow(n)` is called so the owner can regrow its
 * columns to `n` slots. Called once per flow, never per packet.
 */
export class SlotPool {
  private cap = 0
  private next = 0
  private free = new Int32Array(0)
  private top: number

  constructor(private readonly grow: (capacity: number) => void) {
    // Assigned here (see Conn's constructor): "const" until the first release() otherwise,
    // which deoptimised the functions that had inlined acquire().
    this.top = 0
  }

  acquire(): number {
    const slot = this.top > 0 ? this.free[--this.top]! : this.next++
    if (slot >= this.cap) {
      const n = Math.max(1024, this.cap * 2)
      const fs = new Int32Array(n); fs.set(this.free); this.free = fs
      this.grow(n)
      this.cap = n
    }
    return slot
  }

  release(slot: number): void {
    this.free[this.top++] = slot
  }

  get inUse(): number {
    return this.next - this.top
  }
}

/** `a` copied into a new array of `length` elements (the column's new capacity). */
export function grownColumn<T extends Float64Array | Int32Array | Uint32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length)
  b.set(a)
  return b
}

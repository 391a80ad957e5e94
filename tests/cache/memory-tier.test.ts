import { describe, expect, it } from 'vitest';
import { MemoryTier } from '../../core/cache/memory-tier.js';
import type { StoredResult } from '../../core/cache/stored.js';

/** A result whose payload is exactly `n` float32s = 4n bytes. */
const result = (n: number, fill = 0): StoredResult => ({
  out: { kind: 'tensor', tensor: { dtype: 'float32', shape: [n], data: new Float32Array(n).fill(fill) } },
});

describe('MemoryTier', () => {
  it('keeps results within the byte budget, evicting the least recently used', () => {
    const m = new MemoryTier(100);
    m.set('a', result(10, 1)); // 40 bytes
    m.set('b', result(10, 2));
    expect(m.stats()).toEqual({ entries: 2, bytes: 80 });
    m.get('a'); // a is now more recent than b
    m.set('c', result(10, 3)); // 120 > 100: b goes
    expect(m.has('a')).toBe(true);
    expect(m.has('b')).toBe(false);
    expect(m.get('c')).toEqual(result(10, 3));
    expect(m.stats()).toEqual({ entries: 2, bytes: 80 });
  });
  it('does not keep a result larger than the budget', () => {
    const m = new MemoryTier(100);
    m.set('small', result(5));
    m.set('huge', result(26)); // 104 bytes
    expect(m.get('huge')).toBeUndefined();
    expect(m.has('small')).toBe(true);
  });
  it('counts table and json payloads and empty results', () => {
    const m = new MemoryTier(1000);
    m.set('j', { v: { kind: 'json', json: [1, 2, 3] } }); // "[1,2,3]" = 7 bytes
    m.set('e', {}); // counted as 1 byte
    expect(m.stats()).toEqual({ entries: 2, bytes: 8 });
  });
  it('deletes and clears', () => {
    const m = new MemoryTier(1000);
    m.set('a', result(1));
    m.set('b', result(1));
    m.delete('a');
    expect(m.get('a')).toBeUndefined();
    m.clear();
    expect(m.stats()).toEqual({ entries: 0, bytes: 0 });
  });
  it('is off with a zero budget and refuses a bad one', () => {
    const m = new MemoryTier(0);
    m.set('a', result(1));
    expect(m.get('a')).toBeUndefined();
    expect(m.stats()).toEqual({ entries: 0, bytes: 0 });
    expect(() => new MemoryTier(-1)).toThrow(/invalid byte budget/);
    expect(() => new MemoryTier(1.5)).toThrow(/invalid byte budget/);
  });
});

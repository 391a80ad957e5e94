import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256FileSync, sha256Hex } from '../../core/io/hash.js';

describe('canonicalJson', () => {
  it('sorts keys recursively, keeps array order and writes no whitespace', () => {
    const value = { b: 1, a: { d: [3, { y: 1, x: 2 }], c: 's p' } };
    expect(canonicalJson(value)).toBe('{"a":{"c":"s p","d":[3,{"x":2,"y":1}]},"b":1}');
  });
  it('gives the same text whatever the insertion order', () => {
    expect(canonicalJson({ x: 1, y: [true, null] })).toBe(canonicalJson({ y: [true, null], x: 1 }));
  });
  it('drops undefined members', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });
  it('escapes strings and keys as JSON does', () => {
    expect(canonicalJson({ 'q"k': 'line\nbreak "quoted"' })).toBe('{"q\\"k":"line\\nbreak \\"quoted\\""}');
  });
  it('sorts keys by code unit, not locale', () => {
    expect(canonicalJson({ b: 0, B: 0, a: 0, _: 0 })).toBe('{"B":0,"_":0,"a":0,"b":0}');
  });
  it('rejects non-finite numbers and says where', () => {
    expect(() => canonicalJson({ a: [1, NaN] })).toThrow('non-finite number NaN at /a/1');
    expect(() => canonicalJson(Infinity)).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: -Infinity })).toThrow(/-Infinity at \/a/);
  });
  it('rejects values JSON has no form for', () => {
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function at \/f/);
    expect(() => canonicalJson([undefined])).toThrow(/undefined at \/0/);
    expect(() => canonicalJson(1n)).toThrow(/bigint/);
  });
});

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vectors', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
  it('hashes strings as UTF-8, the same as their bytes', () => {
    expect(sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe(sha256Hex('abc'));
    expect(sha256Hex('é')).toBe(sha256Hex(new Uint8Array([0xc3, 0xa9])));
  });
});

describe('sha256FileSync', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kf-hash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('equals the hash of the whole content, across read chunks', () => {
    // 2.5 MiB: more than two of the 1 MiB chunks the function reads.
    const bytes = new Uint8Array(2.5 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    const file = path.join(dir, 'big.bin');
    writeFileSync(file, bytes);
    expect(sha256FileSync(file)).toBe(sha256Hex(bytes));
  });
  it('hashes an empty file', () => {
    const file = path.join(dir, 'empty.bin');
    writeFileSync(file, '');
    expect(sha256FileSync(file)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

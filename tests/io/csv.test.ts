import { describe, expect, it } from 'vitest';
import { parseCsv, tableToCsv } from '../../core/io/csv.js';

describe('parseCsv', () => {
  it('reads a headerless numeric matrix', () => {
    expect(parseCsv('1,2.5,-3\n4e2,.5,+6\n')).toEqual({ rows: [[1, 2.5, -3], [400, 0.5, 6]] });
  });
  it('detects a header row when the first row is not all numbers', () => {
    expect(parseCsv('x,y\n1,2\n3,4')).toEqual({ columns: ['x', 'y'], rows: [[1, 2], [3, 4]] });
    // One non-numeric cell is enough.
    expect(parseCsv('1,y\n1,2')).toEqual({ columns: ['1', 'y'], rows: [[1, 2]] });
  });
  it('honours an explicit header choice', () => {
    expect(parseCsv('10,20\n1,2', { header: true })).toEqual({ columns: ['10', '20'], rows: [[1, 2]] });
    expect(() => parseCsv('x,y\n1,2', { header: false })).toThrow('csv: line 1, column 1: "x" is not a number');
  });
  it('follows RFC 4180 quoting: commas, doubled quotes and line breaks inside quotes', () => {
    const text = '"a,b","say ""hi""","multi\nline"\r\n"1",2,3\r\n4,"5",6\r\n';
    expect(parseCsv(text)).toEqual({ columns: ['a,b', 'say "hi"', 'multi\nline'], rows: [[1, 2, 3], [4, 5, 6]] });
  });
  it('ignores trailing blank lines, spaces around cells and a byte-order mark', () => {
    expect(parseCsv('\ufeff 1 , 2\n3,4\n\n\n')).toEqual({ rows: [[1, 2], [3, 4]] });
    expect(parseCsv('1\r\n2\r\n\r\n')).toEqual({ rows: [[1], [2]] });
  });
  it('accepts nan and inf in any case', () => {
    const [row] = parseCsv('nan,NaN,inf,-Inf,+infinity').rows;
    expect(row.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(row.slice(2)).toEqual([Infinity, -Infinity, Infinity]);
  });
  it('returns no rows for an empty file or a lone header', () => {
    expect(parseCsv('')).toEqual({ rows: [] });
    expect(parseCsv('\n')).toEqual({ rows: [] });
    expect(parseCsv('a,b\n')).toEqual({ columns: ['a', 'b'], rows: [] });
  });
  it('names the line and column of a non-numeric cell', () => {
    expect(() => parseCsv('a,b\n1,2\n3,oops\n')).toThrow('csv: line 3, column 2 ("b"): "oops" is not a number');
    expect(() => parseCsv('1,2\n3,\n')).toThrow('csv: line 2, column 2: "" is not a number');
    // Number() would take these; a data file should not.
    expect(() => parseCsv('1\n0x10')).toThrow('line 2, column 1: "0x10" is not a number');
    expect(() => parseCsv('1\n1_000')).toThrow(/"1_000" is not a number/);
  });
  it('counts lines inside quoted cells when naming a line', () => {
    expect(() => parseCsv('"a\nb",c\n1,2\n3,x')).toThrow('csv: line 4, column 2 ("c")');
  });
  it('rejects ragged rows, blank lines inside the data and bad quoting', () => {
    expect(() => parseCsv('1,2\n3\n')).toThrow('csv: line 2 has 1 cells, expected 2 like line 1');
    expect(() => parseCsv('1,2\n\n3,4\n')).toThrow('csv: line 2 is blank');
    expect(() => parseCsv('1,"2\n3,4\n')).toThrow('csv: line 1: unterminated quoted field');
    expect(() => parseCsv('1,"2"x\n')).toThrow('unexpected text after a closing quote');
    expect(() => parseCsv('1,2"3\n')).toThrow('quote inside an unquoted field');
  });
});

describe('tableToCsv', () => {
  it('writes a header and one line per row, quoting only where needed', () => {
    const csv = tableToCsv({
      columns: ['step', 'loss, total', 'note'],
      rows: [
        { step: 1, 'loss, total': 0.5, note: 'said "ok"' },
        { step: 2, 'loss, total': null, note: 'two\nlines' },
        { step: 3, 'loss, total': NaN },
      ],
    });
    expect(csv).toBe('step,"loss, total",note\n1,0.5,"said ""ok"""\n2,,"two\nlines"\n3,NaN,\n');
  });
  it('round-trips a numeric table through parseCsv', () => {
    const table = { columns: ['a', 'b'], rows: [{ a: 0.1, b: -2e-30 }, { a: 1e21, b: Infinity }] };
    expect(parseCsv(tableToCsv(table))).toEqual({ columns: ['a', 'b'], rows: [[0.1, -2e-30], [1e21, Infinity]] });
  });
  it('writes only the header for an empty table', () => {
    expect(tableToCsv({ columns: ['x'], rows: [] })).toBe('x\n');
  });
});

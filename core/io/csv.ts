/**
 * Numeric CSV reading (RFC 4180 quoting) and writing of the engine's `table` values.
 * Small on purpose: the engine reads matrices of numbers and writes tables of scalars, nothing more.
 */
import type { Table } from '../operator/values.js';

/** A numeric CSV: `columns` when the file has a header row; every row has the same length. */
export interface NumericCsv {
  columns?: string[];
  rows: number[][];
}

/** How parseCsv treats the first row. */
export interface ParseCsvOptions {
  /** 'auto' (default): the first row is a header when one of its cells is not a number. */
  header?: 'auto' | boolean;
}

/** A record as split by the tokenizer, with the 1-based line it starts on. */
interface RawRecord {
  line: number;
  cells: string[];
  /** Which cells were quoted: a quoted empty cell is a value, an unquoted empty line is blank. */
  quoted: boolean[];
}

/**
 * Parses a CSV of numbers. Cells may be RFC 4180 quoted; surrounding spaces are ignored; `nan`,
 * `inf`, `-inf` and `infinity` (any case) are accepted. Trailing blank lines are ignored. Throws an
 * Error naming the line and column of a non-numeric cell, a ragged row, a blank line or bad quoting.
 */
export function parseCsv(text: string, options: ParseCsvOptions = {}): NumericCsv {
  const records = splitRecords(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  while (records.length > 0 && isBlank(records[records.length - 1])) records.pop();
  if (records.length === 0) return { rows: [] };
  const header = options.header ?? 'auto';
  const first = records[0];
  const hasHeader = header === 'auto' ? first.cells.some((c) => parseNumber(c) === undefined) : header;
  const columns = hasHeader ? first.cells.map((c) => c.trim()) : undefined;
  const width = first.cells.length;
  const rows: number[][] = [];
  for (const rec of hasHeader ? records.slice(1) : records) {
    if (isBlank(rec)) throw new Error(`csv: line ${rec.line} is blank (blank lines are allowed only at the end)`);
    if (rec.cells.length !== width) {
      throw new Error(`csv: line ${rec.line} has ${rec.cells.length} cells, expected ${width} like line ${first.line}`);
    }
    rows.push(
      rec.cells.map((cell, j) => {
        const v = parseNumber(cell);
        if (v === undefined) {
          const name = columns ? ` ("${columns[j]}")` : '';
          throw new Error(`csv: line ${rec.line}, column ${j + 1}${name}: ${JSON.stringify(cell)} is not a number`);
        }
        return v;
      }),
    );
  }
  return columns ? { columns, rows } : { rows };
}

function isBlank(rec: RawRecord): boolean {
  return rec.cells.length === 1 && !rec.quoted[0] && rec.cells[0].trim() === '';
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number (or nan/inf), or undefined; stricter than Number(), which takes '' and '0x1f'. */
function parseNumber(cell: string): number | undefined {
  const s = cell.trim();
  if (NUMBER.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  const m = /^([+-]?)(inf|infinity)$/.exec(lower);
  if (m) return m[1] === '-' ? -Infinity : Infinity;
  return undefined;
}

/** RFC 4180 tokenizer: fields split by ',', records by CRLF or LF, "" inside quotes is a quote. */
function splitRecords(text: string): RawRecord[] {
  const records: RawRecord[] = [];
  let line = 1;
  let cells: string[] = [];
  let quoted: boolean[] = [];
  let recordLine = 1;
  let i = 0;
  const n = text.length;
  if (n === 0) return records;
  for (;;) {
    // One field.
    let field = '';
    let isQuoted = false;
    if (text[i] === '"') {
      isQuoted = true;
      const startLine = line;
      i++;
      for (;;) {
        if (i >= n) throw new Error(`csv: line ${startLine}: unterminated quoted field`);
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n') line++;
        field += c;
        i++;
      }
      // Only spaces may follow the closing quote before the separator.
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        throw new Error(`csv: line ${line}, column ${cells.length + 1}: unexpected text after a closing quote`);
      }
    } else {
      const start = i;
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        if (text[i] === '"') throw new Error(`csv: line ${line}, column ${cells.length + 1}: quote inside an unquoted field`);
        i++;
      }
      field = text.slice(start, i);
    }
    cells.push(field);
    quoted.push(isQuoted);
    if (i < n && text[i] === ',') {
      i++;
      continue;
    }
    // End of record: at end of text, or at CRLF / LF / lone CR.
    records.push({ line: recordLine, cells, quoted });
    if (i >= n) break;
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    i++;
    line++;
    recordLine = line;
    cells = [];
    quoted = [];
    if (i >= n) break;
  }
  return records;
}

/**
 * Writes a table as CSV: a header row of column names, then one row per record; `null` and missing
 * cells are empty, numbers use JavaScript's shortest round-trip form, and cells holding a comma,
 * quote, line break or edge space are quoted. Lines end with `\n`.
 */
export function tableToCsv(table: Table): string {
  const lines = [table.columns.map(quote).join(',')];
  for (const row of table.rows) {
    lines.push(table.columns.map((c) => cellText(row[c])).join(','));
  }
  return lines.join('\n') + '\n';
}

function cellText(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'number' ? String(v) : quote(v);
}

function quote(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

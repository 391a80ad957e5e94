/**
 * Parse a graph file's text into a JSON value, reporting a syntax error with its line and column.
 * jsonc-parser is used (strict JSON mode) because JSON.parse reports only an offset, and not for
 * every error.
 */
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { Diagnostic } from '../diagnostics.js';

export type ParseResult = { ok: true; value: unknown } | { ok: false; diagnostics: Diagnostic[] };

export function parseJsonText(text: string, file: string): ParseResult {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length === 0) return { ok: true, value };
  return {
    ok: false,
    diagnostics: errors.map((e) => {
      const { line, column } = lineColumn(text, e.offset);
      return { code: 'syntax', file, pointer: '', line, column, message: `invalid JSON: ${describe(printParseErrorCode(e.error))}` };
    }),
  };
}

function describe(code: string): string {
  // 'CloseBraceExpected' → 'close brace expected'
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

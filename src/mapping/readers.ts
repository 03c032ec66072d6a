/** Streaming readers for CSV, NDJSON and JSON inputs in UTF-8, GB18030/GBK and other encodings. */
import { parse } from 'csv-parse';
import { JSONParser } from '@streamparser/json';
import iconv from 'iconv-lite';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import type { Mapping } from './mapping-schema.js';
import type { SourceRow } from './compile.js';
import { withoutQuotedValues } from '../core/redact.js';

/** The input cannot be read at all (exit 1): wrong encoding, unterminated quote, oversized row. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

export type ReadItem = { row: number; data: SourceRow } | { row: number; error: string; column?: string };

/** NUL, or half of a UTF-16 surrogate pair: text that PostgreSQL cannot store (text nor jsonb). */
const suspectText = /[\u0000\ud800-\udfff]/;

/** Why a value cannot be stored, or undefined when it can. */
export function unstorableText(value: string): string | undefined {
  if (!suspectText.test(value)) return undefined;
  if (value.includes('\u0000')) return 'holds a NUL character (U+0000), which cannot be stored; remove it from the export';
  if (!value.isWellFormed()) return 'holds invalid Unicode (an unpaired surrogate), which cannot be stored; fix the text in the export';
  return undefined;
}

/** Text made storable whatever it holds: NUL and unpaired surrogates become U+FFFD (for messages, not data). */
export function storableText(value: string): string {
  return suspectText.test(value) ? value.replaceAll('\u0000', '\ufffd').toWellFormed() : value;
}

/** The first string of a parsed JSON value (key or value) that cannot be stored, with its path. */
function firstUnstorable(value: unknown, path: string): { path: string; reason: string } | undefined {
  if (typeof value === 'string') {
    const reason = unstorableText(value);
    return reason ? { path, reason } : undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = firstUnstorable(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    const keyReason = unstorableText(key);
    if (keyReason) return { path: path ? `${path}.(a key)` : '(a key)', reason: keyReason };
    const found = firstUnstorable(inner, path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return undefined;
}

/** A row of cells, or the rejection of the first cell that cannot be stored. */
function cellsItem(row: number, cells: string[], header: readonly string[]): ReadItem {
  for (let i = 0; i < cells.length; i += 1) {
    const reason = unstorableText(cells[i]!);
    if (reason) return { row, column: header[i] ?? `#${i + 1}`, error: `column "${header[i] ?? `#${i + 1}`}" ${reason}` };
  }
  return { row, data: { kind: 'cells', cells } };
}

/** A record object, or the rejection of the first value that cannot be stored. */
function objectItem(row: number, object: Record<string, unknown>): ReadItem {
  const found = firstUnstorable(object, '');
  if (found) return { row, column: found.path, error: `field "${found.path}" ${found.reason}` };
  return { row, data: { kind: 'object', object } };
}

/** The largest row read by default; a larger CSV row is nearly always an unterminated quote. */
export const MAX_ROW_BYTES = 1024 * 1024;

/** Decodes the input to text; an error of the input (too large, cut off) reaches the reader too, since pipe() alone would drop it. */
function decode(input: Readable, encoding: Mapping['source']['encoding']): Transform {
  const decoded = input.pipe(decoder(encoding));
  if (input.errored) queueMicrotask(() => decoded.destroy(input.errored ?? undefined));
  else input.on('error', (error) => decoded.destroy(error));
  return decoded;
}

/** csv-parse's errors: most codes start CSV_, some do not (INVALID_OPENING_QUOTE, INVALID_BUFFER_STATE). */
function isCsvParseError(error: unknown): error is { code: string; message: string; lines?: number; column?: number } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(CSV_|INVALID_)/.test(code);
}

type Encoding = NonNullable<Mapping['source']['encoding']>;

/** Newlines in a text: the line an error is on. */
function countLines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) n += 1;
  return n;
}

/**
 * An export's encoding when its mapping states none: a BOM decides (UTF-8, UTF-16LE), then whether
 * the first bytes are valid UTF-8, then GB18030 (which reads GBK), the encoding of Chinese systems.
 */
export function detectEncoding(head: Buffer): Encoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  try {
    // stream: a character cut at the end of the sample is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

/** The start of a file as text, in its detected encoding (cut characters at the end are dropped). */
export function decodeHead(head: Buffer): string {
  const encoding = detectEncoding(head);
  return encoding === 'utf-8' ? new TextDecoder('utf-8').decode(head) : iconv.decode(head, encoding);
}

interface ChunkDecoder {
  write(chunk: Buffer): string;
  end(): string;
}

/**
 * A decoder that refuses what its encoding cannot read, saying on which line: UTF-8 strictly, the
 * others (iconv) by the replacement character they put where bytes made no sense.
 */
function chunkDecoder(encoding: Encoding, stated: boolean, startLine = 1): ChunkDecoder {
  let lines = startLine;
  const hint = encoding === 'utf-8' && !stated ? ' (it looked like UTF-8 at first); set source.encoding, e.g. "gb18030" for a Chinese system' : encoding === 'utf-8' ? '; if it comes from a Chinese system, set source.encoding to "gb18030"' : '; check source.encoding';
  const refuse = (valid: string): never => {
    throw new InputError(`the input is not valid ${encoding.toUpperCase()} at line ${lines + countLines(valid)}${hint}`);
  };
  const counted = (text: string) => ((lines += countLines(text)), text);
  if (encoding === 'utf-8') {
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    return {
      write(chunk) {
        try {
          return counted(strict.decode(chunk, { stream: true }));
        } catch {
          const lenient = new TextDecoder('utf-8').decode(chunk, { stream: true });
          return refuse(lenient.slice(0, lenient.indexOf('\ufffd')));
        }
      },
      end() {
        try {
          return counted(strict.decode());
        } catch {
          return refuse('');
        }
      },
    };
  }
  const legacy = iconv.getDecoder(encoding);
  const checked = (text: string) => {
    const bad = text.indexOf('\ufffd');
    return bad === -1 ? counted(text) : refuse(text.slice(0, bad));
  };
  return { write: (chunk) => checked(legacy.write(chunk)), end: () => checked(legacy.end() ?? '') };
}

/** Whether every byte is ASCII, which reads the same in UTF-8 and GB18030. */
function isAscii(chunk: Buffer): boolean {
  for (let i = 0; i < chunk.length; i += 1) if (chunk[i]! >= 0x80) return false;
  return true;
}

function decoder(stated: Mapping['source']['encoding']): Transform {
  let chosen: ChunkDecoder | undefined = stated ? chunkDecoder(stated, true) : undefined;
  let first = true;
  let asciiLines = 1;
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, done) {
      try {
        if (chosen) return done(null, chosen.write(chunk));
        // Undecided: ASCII passes as it is (so rows still stream), and the first chunk with other
        // bytes, or a BOM at the start, decides.
        const bom = first && chunk.length >= 2 && (chunk[0] === 0xef || chunk[0] === 0xff);
        first = false;
        if (!bom && isAscii(chunk)) {
          const text = chunk.toString('latin1');
          asciiLines += countLines(text);
          return done(null, text);
        }
        chosen = chunkDecoder(detectEncoding(chunk), false, asciiLines);
        done(null, chosen.write(chunk));
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        done(null, chosen ? chosen.end() : '');
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/** What went wrong and where, never the value: csv-parse's own messages quote the field. */
function describeCsvError(error: { code?: string; message: string; lines?: number; column?: number }, maxRowBytes: number): string {
  const where = `line ${error.lines ?? '?'}${typeof error.column === 'number' ? `, column ${error.column + 1}` : ''}`;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `a quoted field is never closed (it starts on or before line ${error.lines ?? '?'}); check the quote character`;
    case 'CSV_MAX_RECORD_SIZE':
      return `a row near line ${error.lines ?? '?'} is larger than ${maxRowBytes} bytes; is a quote left open?`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `a quote is closed in the middle of a field near line ${error.lines ?? '?'}; check the quote character and delimiter`;
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return `a quoted field is followed by other characters (${where}); check the quote character and delimiter`;
    default:
      return `the CSV cannot be read at ${where} (${error.code ?? 'parse error'}); check the delimiter, quote character and encoding`;
  }
}

async function* readCsv(input: Readable, source: Mapping['source'], onHeader: (header: string[]) => void, maxRowBytes: number): AsyncGenerator<ReadItem> {
  const parser = parse({
    delimiter: source.delimiter,
    quote: source.quote,
    bom: true,
    relax_column_count: true,
    // A quote inside an unquoted field (=HYPERLINK("x"), 5'10") is a character of the field, as
    // spreadsheets write it; refusing it would refuse many real exports.
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: maxRowBytes,
    info: true,
  });
  const decoded = decode(input, source.encoding);
  decoded.on('error', (error) => parser.destroy(error));
  decoded.pipe(parser);
  let header: string[] | undefined = source.header ? undefined : source.columns;
  if (!source.header) {
    if (!header) throw new InputError('a CSV source without a header row needs source.columns');
    onHeader(header);
  }
  let row = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = record.map((h) => h.trim());
        header.forEach((name, i) => {
          const reason = unstorableText(name);
          if (reason) throw new InputError(`the header's column ${i + 1} ${reason}`);
        });
        onHeader(header);
        continue;
      }
      row += 1;
      if (record.length !== header.length) {
        yield { row, error: `line ${info.lines} has ${record.length} fields where the header has ${header.length}` };
        continue;
      }
      yield cellsItem(row, record, header);
    }
  } catch (error) {
    if (isCsvParseError(error)) throw new InputError(describeCsvError(error, maxRowBytes));
    throw error;
  }
  if (!header) throw new InputError('the input is empty: no header row');
}

async function* readNdjson(input: Readable, source: Mapping['source'], maxRowBytes: number): AsyncGenerator<ReadItem> {
  const decoded = decode(input, source.encoding);
  // readline passes a decoding error (invalid UTF-8) on to the loop below.
  const lines = createInterface({ input: decoded, crlfDelay: Infinity });
  let row = 0;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    row += 1;
    if (line.length > maxRowBytes) {
      yield { row, error: `line ${row} is larger than ${maxRowBytes} bytes` };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      const at = /position (\d+)/.exec((error as Error).message)?.[1];
      // JSON.parse quotes the text it chokes on; say where instead.
      yield { row, error: `line ${row} is not JSON${at ? ` (at character ${Number(at) + 1})` : ''}` };
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      yield { row, error: `line ${row} is not a JSON object` };
      continue;
    }
    yield objectItem(row, value as Record<string, unknown>);
  }
}

const JSON_SLICE = 64 * 1024;

/**
 * A JSON array of records, parsed as it streams in: each record is handed on once complete and
 * not kept, so memory stays flat however large the array.
 */
async function* readJson(input: Readable, source: Mapping['source'], maxRowBytes: number): AsyncGenerator<ReadItem> {
  const where = source.recordsPath ? ` at "${source.recordsPath}"` : '';
  const parser = new JSONParser({ paths: [source.recordsPath ? `$.${source.recordsPath}.*` : '$.*'], keepStack: false });
  let ready: ReadItem[] = [];
  let row = 0;
  let sizeOfRecord = 0;
  let started = false;
  parser.onValue = ({ value, parent }) => {
    if (!Array.isArray(parent)) throw new InputError(`expected an array of records${where}, found an object`);
    row += 1;
    sizeOfRecord = 0;
    if (!value || typeof value !== 'object' || Array.isArray(value)) ready.push({ row, error: `record ${row} is not an object` });
    else ready.push(objectItem(row, value as Record<string, unknown>));
  };
  const feed = (chunk: Uint8Array) => {
    try {
      parser.write(chunk);
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(`the input is not JSON: ${withoutQuotedValues((error as Error).message)}`);
    }
  };
  for await (const chunk of decode(input, source.encoding) as AsyncIterable<string | Buffer>) {
    const asText = () => (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    if (!started && !source.recordsPath) {
      // Without a records path the document itself must be the array.
      const first = asText().trimStart()[0];
      if (first !== undefined && first !== '[' && first !== '\uFEFF') throw new InputError('expected an array of records');
      started = first !== undefined;
    }
    if (parser.isEnded) {
      if (asText().trim() !== '') throw new InputError('the input is not JSON: more follows the end of the document');
      continue;
    }
    // Fed in slices, so that a record's size is known to within one slice.
    // The parser reads UTF-8 bytes and keeps a character split between slices whole.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let at = 0; at < bytes.length; at += JSON_SLICE) {
      const slice = bytes.subarray(at, at + JSON_SLICE);
      sizeOfRecord += slice.length;
      feed(slice);
      if (sizeOfRecord > maxRowBytes) throw new InputError(`record ${row + 1} is larger than ${maxRowBytes} bytes`);
    }
    yield* ready;
    ready = [];
  }
  if (!parser.isEnded) {
    try {
      parser.end();
    } catch (error) {
      throw new InputError(`the input is not JSON: ${withoutQuotedValues((error as Error).message)}`);
    }
  }
  yield* ready;
  if (row === 0) throw new InputError(`found no records${where}: expected an array of records`);
}

/** Reads rows from the input as the mapping's source describes it. */
export function readRows(
  input: Readable,
  source: Mapping['source'],
  onHeader: (header: string[]) => void,
  maxRowBytes = MAX_ROW_BYTES,
): AsyncGenerator<ReadItem> {
  switch (source.format) {
    case 'csv':
      return readCsv(input, source, onHeader, maxRowBytes);
    case 'ndjson':
      return readNdjson(input, source, maxRowBytes);
    case 'json':
      return readJson(input, source, maxRowBytes);
  }
}

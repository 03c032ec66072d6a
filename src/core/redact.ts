/**
 * Parsers and drivers quote the input they choke on in their messages ('Unexpected token …, "…" is
 * not valid JSON'; 'value is "=HYPERLINK("'), and that input is somebody's data: the quoted parts
 * go, whether the quotes pair up or not (an unclosed one takes the rest of the message with it).
 */
const quoted = /"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?/g;

export function withoutQuotedValues(message: string, placeholder = '…'): string {
  return message.replace(quoted, placeholder);
}

/** Calls to a running exchange from the CLI: where it is, the key, and one clear line when it refuses. */
import { Option } from 'commander';
import { CliError } from './runtime.js';

export interface ExchangeOptions {
  url: string;
  key?: string;
}

export const urlOption = () => new Option('--url <url>', 'the exchange').env('CX_URL').default('http://127.0.0.1:8080');
export const keyOption = () => new Option('--key <key>', 'your API key').env('CX_API_KEY');

/** Sends a JSON request and returns the JSON answer; a problem answer becomes a CliError. */
export async function callExchange(options: ExchangeOptions, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  if (!options.key) throw new CliError('no API key: pass --key or set CX_API_KEY');
  let response: Response;
  try {
    response = await fetch(`${options.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new CliError(`cannot reach the exchange at ${options.url}: ${String((error as Error).cause ?? (error as Error).message)}`);
  }
  const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const fields = Array.isArray(payload.errors) ? ` (${(payload.errors as { path: string; message: string }[]).map((e) => `${e.path}: ${e.message}`).join('; ')})` : '';
    throw new CliError(`refused (${response.status}): ${String(payload.detail ?? payload.title ?? response.statusText)}${fields}`);
  }
  return payload;
}

/** The one line a failed command prints, whatever failed. */
import { ZodError } from 'zod';
import { ConsentToolError } from '../consent/mint.js';
import { AppError, invalidInput } from '../errors.js';
import { CliError } from './output.js';

/** The one line a failed command prints: whatever failed, one line. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  const { message, exitCode } = describe(error);
  return { message: message.replace(/\s*\n\s*/g, ' ').trim() || 'failed', exitCode };
}

function describe(error: unknown): { message: string; exitCode: number } {
  if (error instanceof ZodError) return describe(invalidInput(error));
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConsentToolError) return { message: error.message, exitCode: 1 };
  if (error instanceof AppError) {
    const fields = error.errors?.map((e) => `${e.path}: ${e.message}`).join('; ');
    return { message: fields ? `${error.message} (${fields})` : error.message, exitCode: 1 };
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return { message: `cannot reach the database or service: ${error.message}`, exitCode: 1 };
    return { message: error.message, exitCode: 1 };
  }
  return { message: String(error), exitCode: 1 };
}


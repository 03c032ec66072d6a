import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has defaults that work on a laptop', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', DATA_DIR: './data', LOG_LEVEL: 'info' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.BODY_LIMIT_BYTES).toBeGreaterThan(0);
  });

  it('reads and coerces the environment, treating empty values as unset', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: 'postgres://u@h/db', LOG_LEVEL: 'debug', DATA_DIR: '' });
    expect(config).toMatchObject({ PORT: 9000, DATABASE_URL: 'postgres://u@h/db', LOG_LEVEL: 'debug', DATA_DIR: './data' });
  });

  it.each([
    [{ PORT: 'eighty' }, /^invalid configuration: PORT="eighty"/],
    [{ PORT: '70000' }, /PORT="70000"/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL="mysql:\/\/x": must be a postgres:\/\//],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
    [{ BODY_LIMIT_BYTES: '-1' }, /BODY_LIMIT_BYTES="-1"/],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

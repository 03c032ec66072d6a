/**
 * Fixed-window counters for rate limits, one set per exchange instance (kept in its app state):
 * per API key, for the match routes, and for failed authentications per client address.
 */
interface Window {
  start: number;
  count: number;
}

/** Counts events per key in windows of `windowMs`; memory is bounded by the keys active in a window. */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(
    readonly name: string,
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  private current(key: string, now: number): Window {
    if (now - this.lastSweep > this.windowMs) {
      for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
      this.lastSweep = now;
    }
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    return window;
  }

  /** Counts one event; says whether it was within the limit, what is left and when the window ends. */
  take(key: string, now = Date.now()): { allowed: boolean; remaining: number; resetSeconds: number } {
    const window = this.current(key, now);
    window.count += 1;
    return this.state(window, now);
  }

  /** Whether the next event would be refused, without counting one. */
  peek(key: string, now = Date.now()): { allowed: boolean; remaining: number; resetSeconds: number } {
    const window = this.current(key, now);
    const state = this.state(window, now);
    return { ...state, allowed: window.count < this.limit };
  }

  private state(window: Window, now: number) {
    return {
      allowed: window.count <= this.limit,
      remaining: Math.max(0, this.limit - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000)),
    };
  }
}

export interface RateLimits {
  perKey: FixedWindowLimiter;
  match: FixedWindowLimiter;
  authFailures: FixedWindowLimiter;
}

export function createRateLimits(config: { RATE_LIMIT_PER_KEY: number; RATE_LIMIT_MATCH_PER_KEY: number; RATE_LIMIT_AUTH_FAILURES: number; RATE_LIMIT_WINDOW_SECONDS: number }): RateLimits {
  const windowMs = config.RATE_LIMIT_WINDOW_SECONDS * 1000;
  return {
    perKey: new FixedWindowLimiter('key', config.RATE_LIMIT_PER_KEY, windowMs),
    match: new FixedWindowLimiter('match', config.RATE_LIMIT_MATCH_PER_KEY, windowMs),
    authFailures: new FixedWindowLimiter('auth-failures', config.RATE_LIMIT_AUTH_FAILURES, windowMs),
  };
}


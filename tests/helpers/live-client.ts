// A real graphql-ws client for live tests: collects what a subscription delivers, and waits for counts.

import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Collected<T = any> {
  events: T[];
  errors: unknown[];
  completed: boolean;
  closedWith?: { code: number; reason: string };
  /** Stop the subscription (client `complete`). */
  stop(): void;
  /** Resolves once at least n events arrived (rejects on error or timeout). */
  waitFor(n: number, timeoutMs?: number): Promise<T[]>;
}

export function wsClient(wsUrl: string, opts: { onClosed?: (code: number, reason: string) => void } = {}): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    onNonLazyError: () => {},
    on: { closed: (e) => opts.onClosed?.((e as { code: number }).code, String((e as { reason: string }).reason)) },
  });
}

export function collect<T = any>(client: Client, query: string, variables?: Record<string, unknown>, pick: (data: any) => T = (d) => d[Object.keys(d)[0]!]): Collected<T> {
  const events: T[] = [];
  const errors: unknown[] = [];
  let waiters: Array<() => void> = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const c: Collected<T> = {
    events,
    errors,
    completed: false,
    stop: () => unsubscribe(),
    waitFor(n, timeoutMs = 30_000) {
      const started = Date.now();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (events.length >= n) return resolve(events.slice());
          if (errors.length) return reject(new Error(`subscription failed: ${JSON.stringify(errors[0])}`));
          if (c.completed) return reject(new Error(`subscription completed after ${events.length} of ${n} events`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`timed out with ${events.length} of ${n} events`));
          waiters.push(check);
          setTimeout(wake, 100).unref();
        };
        check();
      });
    },
  };
  const unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) errors.push(v.errors);
        else events.push(pick(v.data));
        wake();
      },
      error: (e) => {
        errors.push(e);
        wake();
      },
      complete: () => {
        c.completed = true;
        wake();
      },
    },
  );
  return c;
}

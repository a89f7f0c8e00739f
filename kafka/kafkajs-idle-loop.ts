// A fix for kafkajs 2.2.4's request queue, which runs a 1 ms timer loop per broker connection for as long as the
// connection lives (kafkajs issues #1556, #1604 and #1704; the fixes proposed upstream, #1667 and #1768, were never
// released: kafkajs is unmaintained past 2.2.4).
//
// RequestQueue.scheduleCheckPendingRequests() computes `throttledUntil - Date.now()`; with no throttle in effect
// (throttledUntil is -1) and nothing pending, that is a large negative delay, which setTimeout turns into 1 ms, and
// the check it schedules schedules the next one. Every connection of every kafkajs client wakes its process ~1,000
// times a second, idle or not. Measured on this repo's dev cluster, one idle consumer (3 brokers, maxWaitTimeInMs 200):
// 7.1% of a core before, 1.4% after; a lakegate gateway holds several clients (its tail, its publisher, admin).
//
// The fix schedules a check only when one can do something: a request is pending, or a throttle is in effect (its end
// is when pending requests may go). Pending requests are otherwise sent where kafkajs already sends them without the
// timer: at once in push() when the queue allows it, and in fulfillRequest() and a request's timeout, when an
// in-flight request ends. A request pushed while throttled or at maxInFlightRequests still schedules its check (the
// stock code path, unchanged).
//
// Invariants:
// - Only kafkajs 2.2.4 is patched (the code read to write this); any other version keeps its own.
// - Installed (once per process: a prototype patch) by createKafkaClient (kafka/client.ts), so every process that
//   makes a lakegate Kafka client has it: the CLI's commands, an embedded gateway (startGateway), the tests' gateways.
//   A process that only uses kafkajs directly (the benchmarks' raw baselines) keeps stock kafkajs.
// - tests/kafka/kafkajs-idle-loop.test.ts checks, on the dev cluster, that an idle client sets no timer loop and that
//   requests queued behind a throttle or the in-flight limit are still sent.

/* eslint-disable @typescript-eslint/no-require-imports */

const KAFKAJS_VERSION = '2.2.4';

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
}

let installed: { ok: boolean; reason: string } | null = null;

/** Patches kafkajs' RequestQueue (all its instances, present and future) in this process; idempotent. */
export function installKafkajsIdleLoopFix(): { ok: boolean; reason: string } {
  if (installed) return installed;
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== KAFKAJS_VERSION) return (installed = { ok: false, reason: `kafkajs ${version} is not ${KAFKAJS_VERSION}: its request queue is left as is` });
  const RequestQueue = require(require.resolve('kafkajs/src/network/requestQueue')) as { prototype: RequestQueueLike };
  const stock = RequestQueue.prototype.scheduleCheckPendingRequests;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueLike) {
    // Nothing waits and nothing is throttled: a check would find nothing to do and schedule the next one.
    if (!this.throttleCheckTimeoutId && this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    stock.call(this);
  };
  return (installed = { ok: true, reason: `kafkajs ${version}: request queue checks only when a request waits or a throttle is in effect` });
}

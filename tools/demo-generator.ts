// Demo events for `lakegate dev`: realistic orders (and the occasional customer update) produced to the example
// topics at a steady rate, event time = now. A few malformed records on purpose, so the dead-letter path shows too.

import type { Catalog } from '../config';
import type { KafkaClient, LakegateProducer, OutgoingMessage } from '../kafka';

export interface DemoGenerator {
  readonly produced: () => number;
  stop(): Promise<void>;
}

const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];
const TAGS = ['gift', 'express', 'bulk', 'promo', 'b2b', 'fragile'];
const CHANNELS = ['web', 'app', 'store', 'phone'];
const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'JP', 'BR', 'IN', 'NL'];

export async function startDemoGenerator(kafka: KafkaClient, catalog: Catalog, opts: { eventsPerSecond?: number; log?: (m: string) => void } = {}): Promise<DemoGenerator | null> {
  const orders = catalog.datasetMap.get('orders');
  const customers = catalog.datasetMap.get('customers');
  if (!orders) return null;
  const rate = opts.eventsPerSecond ?? 50;
  const producer: LakegateProducer = await kafka.createProducer();
  let n = 0;
  let seq = Date.now() % 1_000_000;
  let stopped = false;
  const rnd = (k: number) => Math.floor(Math.random() * k);
  const tick = async () => {
    const batch: OutgoingMessage[] = [];
    const per = Math.max(1, Math.round(rate / 10));
    for (let i = 0; i < per; i++) {
      const id = `ord_live_${(seq++).toString().padStart(9, '0')}`;
      const amount = Math.round((2 + Math.random() * 498) * 100) / 100;
      const quantity = 1 + rnd(9);
      const value =
        seq % 500 === 0
          ? JSON.stringify({ id, amount: 'not-a-number' }) // a poison record now and then: see orders.dlq
          : JSON.stringify({
              id,
              customerId: `cus_${rnd(50_000).toString().padStart(6, '0')}`,
              amount,
              quantity,
              total: String(Math.round(amount * 100) * quantity),
              paid: Math.random() < 0.8,
              status: STATUSES[rnd(STATUSES.length)],
              createdAt: new Date().toISOString(),
              tags: TAGS.slice(rnd(3), 1 + rnd(4)),
              attributes: { channel: CHANNELS[rnd(CHANNELS.length)] },
            });
      batch.push({ key: id, value });
    }
    await producer.send(orders.topic, batch);
    n += batch.length;
    if (customers && Math.random() < 0.1) {
      const cid = `cus_${rnd(50_000).toString().padStart(6, '0')}`;
      await producer.send(customers.topic, [
        { key: cid, value: JSON.stringify({ id: cid, name: `Customer ${cid.slice(4)}`, email: `${cid}@example.com`, country: COUNTRIES[rnd(COUNTRIES.length)], segment: 'consumer', updatedAt: new Date().toISOString() }) },
      ]);
      n++;
    }
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(tick).catch((err) => opts.log?.(`demo generator: ${(err as Error).message}`));
  }, 100);
  return {
    produced: () => n,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await producer.disconnect();
    },
  };
}

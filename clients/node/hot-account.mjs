// One hot account for the tour (docs/tour.md, steps "Actor / mailbox" and "Per-account ordered work"):
// sends N charges to one fresh account straight to payments (x-tenant-id, as the gateway forwards it),
// charge i for amount i, one every SPACING ms without waiting for answers (open loop), then prints one
// JSON line: outcomes by status/x-mesh-reject-reason, wall time, and how many charges committed out of
// submission order (from each answer's balance_minor: sorting by balance gives the commit order).
// Usage: node hot-account.mjs host:port [count=40] [spacing-ms=2] [tenant=acme]
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = dirname(fileURLToPath(import.meta.url));
const target = process.argv[2];
const count = Number(process.argv[3] ?? 40);
const spacingMs = Number(process.argv[4] ?? 2);
const tenant = process.argv[5] ?? 'acme';
if (!target || !(count > 0) || !(spacingMs >= 0)) {
  console.error('usage: node hot-account.mjs host:port [count] [spacing-ms] [tenant]');
  process.exit(3);
}

const definition = protoLoader.loadSync(['meshbulkheads/payments/v1/payments.proto'],
  { includeDirs: [join(here, '..', '..', 'protos')], keepCase: true, longs: String, enums: String, defaults: true });
const pkg = grpc.loadPackageDefinition(definition).meshbulkheads;
const payments = new pkg.payments.v1.PaymentsService(target, grpc.credentials.createInsecure());
const account = `tour-${randomUUID().slice(0, 8)}`;

function charge(amount) {
  const metadata = new grpc.Metadata();
  metadata.set('x-tenant-id', tenant);
  const request = { account_id: account, amount_minor: String(amount), currency: 'USD', idempotency_key: randomUUID() };
  return new Promise((resolve) => {
    payments.Charge(request, metadata, { deadline: new Date(Date.now() + 10_000) }, (error, response) => {
      if (!error) {
        resolve({ amount, outcome: 'OK', balance: BigInt(response.balance_minor) });
        return;
      }
      const reason = error.metadata?.get('x-mesh-reject-reason')?.[0];
      const status = Object.keys(grpc.status).find((name) => grpc.status[name] === error.code) ?? String(error.code);
      resolve({ amount, outcome: reason ? `${status}/${reason}` : status });
    });
  });
}

const started = performance.now();
const calls = [];
for (let amount = 1; amount <= count; amount++) {
  calls.push(charge(amount));
  if (spacingMs > 0 && amount < count) {
    await new Promise((resolve) => setTimeout(resolve, spacingMs));
  }
}
const results = await Promise.all(calls);
const wallMs = performance.now() - started;

const outcomes = {};
for (const r of results) {
  outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
}
// Commit order = ascending balance after the charge; an inversion is a charge that committed before
// one submitted earlier.
const committed = results.filter((r) => r.outcome === 'OK').sort((a, b) => (a.balance < b.balance ? -1 : 1));
let outOfOrder = 0;
for (let i = 1; i < committed.length; i++) {
  if (committed[i].amount < committed[i - 1].amount) {
    outOfOrder++;
  }
}
console.log(JSON.stringify({ account, sent: count, outcomes, committed: committed.length, outOfOrder, wallMs: Math.round(wallMs) }));
payments.close();

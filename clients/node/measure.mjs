// Fixed-rate latency measurement through the gateway, used for the numbers in slo.yaml.
// Usage: node measure.mjs <charge|getbalance|buildreport> <rate per s> <seconds> [target] [api-key]
// Sends calls at a fixed rate (open loop: a slow server does not slow the sender), each with a 5 s
// deadline, waits for all of them, and prints the count by status and p50/p90/p99/max of the
// successful calls' latency as seen by this client. Bounded: rate × seconds calls, then it exits.
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const [kind = 'getbalance', rateArg = '50', secondsArg = '10', target = '127.0.0.1:8080', apiKey = 'acme-dev-key'] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!(rate > 0 && rate <= 2000 && seconds > 0 && seconds <= 120)) {
  console.error('rate must be 1..2000 per second and seconds 1..120');
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const definition = protoLoader.loadSync(
  ['meshbulkheads/payments/v1/payments.proto', 'meshbulkheads/reporting/v1/reporting.proto'],
  { includeDirs: [join(here, '..', '..', 'protos')], keepCase: true, longs: String, defaults: true });
const pkg = grpc.loadPackageDefinition(definition).meshbulkheads;
const credentials = grpc.credentials.createInsecure();
const payments = new pkg.payments.v1.PaymentsService(target, credentials);
const reporting = new pkg.reporting.v1.ReportingService(target, credentials);
const accounts = Array.from({ length: 100 }, (_, i) => `acct-${String(i + 1).padStart(4, '0')}`);

function request(i) {
  switch (kind) {
    case 'charge':
      return [payments, 'Charge', { account_id: accounts[i % 100], amount_minor: '100', currency: 'USD', idempotency_key: randomUUID() }];
    case 'buildreport':
      return [reporting, 'BuildReport', { account_ids: Array.from({ length: 10 }, (_, k) => accounts[(i + k * 7) % 100]) }];
    default:
      return [payments, 'GetBalance', { account_id: accounts[i % 100] }];
  }
}

function once(i) {
  const [client, method, body] = request(i);
  const metadata = new grpc.Metadata();
  metadata.set('x-api-key', apiKey);
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    client[method](body, metadata, { deadline: new Date(Date.now() + 5000) }, (error) => {
      resolve({ code: error ? error.code : 0, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

const total = Math.round(rate * seconds);
const pending = [];
const start = Date.now();
for (let i = 0; i < total; i++) {
  const due = start + (i * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) {
    await new Promise((r) => setTimeout(r, wait));
  }
  pending.push(once(i));
}
const results = await Promise.all(pending);
const byStatus = {};
for (const r of results) {
  const name = Object.keys(grpc.status).find((k) => grpc.status[k] === r.code) ?? String(r.code);
  byStatus[name] = (byStatus[name] ?? 0) + 1;
}
const ok = results.filter((r) => r.code === 0).map((r) => r.ms).sort((a, b) => a - b);
const q = (p) => (ok.length ? ok[Math.min(ok.length - 1, Math.ceil(p * ok.length) - 1)].toFixed(1) : 'n/a');
console.log(JSON.stringify({ kind, rate, seconds, calls: total, byStatus, p50_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: q(1) }));
payments.close();
reporting.close();

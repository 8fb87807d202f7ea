// A client written in another language (Node.js, @grpc/grpc-js), using only the protos and the
// contract in the README: it exercises every method through the gateway and checks the answers.
// Usage: node smoke.mjs [host:port] [api-key]     (defaults 127.0.0.1:8080, acme-dev-key)
// Exit code 0 when every check passed; prints one line per check.
import { createHash, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = dirname(fileURLToPath(import.meta.url));
const protoRoot = join(here, '..', '..', 'protos');
const target = process.argv[2] ?? '127.0.0.1:8080';
const apiKey = process.argv[3] ?? 'acme-dev-key';

const definition = protoLoader.loadSync(
  ['meshbulkheads/payments/v1/payments.proto', 'meshbulkheads/reporting/v1/reporting.proto', 'meshbulkheads/render/v1/render.proto'],
  { includeDirs: [protoRoot], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const pkg = grpc.loadPackageDefinition(definition).meshbulkheads;
const credentials = grpc.credentials.createInsecure();
const payments = new pkg.payments.v1.PaymentsService(target, credentials);
const reporting = new pkg.reporting.v1.ReportingService(target, credentials);
const render = new pkg.render.v1.RenderService(target, credentials);

function call(client, method, request, key = apiKey) {
  const metadata = new grpc.Metadata();
  if (key) {
    metadata.set('x-api-key', key);
  }
  const deadline = new Date(Date.now() + 10_000);
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline }, (error, response) => resolve({ error, response }));
  });
}

let failures = 0;
function check(name, condition, detail = '') {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  if (!condition) {
    failures++;
  }
}

const account = `node-${randomUUID().slice(0, 8)}`;
const key = randomUUID();
const charge = { account_id: account, amount_minor: '1250', currency: 'USD', idempotency_key: key };

let r = await call(payments, 'Charge', charge);
check('Charge creates a payment', !r.error && r.response.payment_id && r.response.balance_minor === '1250' && !r.response.replayed, r.error?.details);
const paymentId = r.response?.payment_id;
r = await call(payments, 'Charge', charge);
check('Charge replays the same idempotency key', !r.error && r.response.replayed && r.response.payment_id === paymentId, r.error?.details);
r = await call(payments, 'Charge', { ...charge, amount_minor: '99' });
check('Charge with a reused key and another payload is ALREADY_EXISTS', r.error?.code === grpc.status.ALREADY_EXISTS, r.error?.details);
r = await call(payments, 'Charge', { ...charge, amount_minor: '0', idempotency_key: randomUUID() });
check('Charge with amount 0 is INVALID_ARGUMENT naming the amount', r.error?.code === grpc.status.INVALID_ARGUMENT && r.error.details.includes('amount'), r.error?.details);
r = await call(payments, 'GetBalance', { account_id: account });
check('GetBalance', !r.error && r.response.balance_minor === '1250' && r.response.currency === 'USD', r.error?.details);
r = await call(payments, 'GetBalance', { account_id: 'acct-0001' });
check('GetBalance of a seeded account', !r.error && BigInt(r.response.balance_minor) > 0n, r.error?.details);
r = await call(payments, 'GetBalance', { account_id: 'no-such-account' });
check('GetBalance of an unknown account is NOT_FOUND', r.error?.code === grpc.status.NOT_FOUND, r.error?.details);
r = await call(payments, 'ListPayments', { account_id: account, page_size: 10 });
check('ListPayments', !r.error && r.response.payments.length === 1 && r.response.payments[0].payment_id === paymentId, r.error?.details);
r = await call(payments, 'GetBalance', { account_id: account }, 'not-a-key');
check('an unknown API key is UNAUTHENTICATED', r.error?.code === grpc.status.UNAUTHENTICATED, r.error?.details);
r = await call(reporting, 'BuildReport', { account_ids: ['acct-0001', account] });
check('BuildReport', !r.error && r.response.accounts.length === 2
  && BigInt(r.response.total_minor) === r.response.accounts.reduce((s, a) => s + BigInt(a.balance_minor), 0n), r.error?.details);
r = await call(reporting, 'BuildReport', { account_ids: ['acct-0001', 'missing-account'] });
check('BuildReport with a missing account is NOT_FOUND naming it', r.error?.code === grpc.status.NOT_FOUND && r.error.details.includes('missing-account'), r.error?.details);
r = await call(render, 'Render', { width: 64, height: 48, iterations: 100 });
const png = r.response?.png;
check('Render returns a PNG and its SHA-256', !r.error && png.subarray(1, 4).toString() === 'PNG'
  && createHash('sha256').update(png).digest('hex') === r.response.sha256, r.error?.details);
r = await call(render, 'Render', { width: 100000, height: 1, iterations: 1 });
check('Render beyond the maximum is INVALID_ARGUMENT', r.error?.code === grpc.status.INVALID_ARGUMENT, r.error?.details);

payments.close();
reporting.close();
render.close();
console.log(failures === 0 ? 'all checks passed' : `${failures} checks failed`);
process.exit(failures === 0 ? 0 : 1);

// The kubectl shim's stand-in for a Service (k8s/chaos/README.md, "The kubectl shim"): a TCP relay on
// 127.0.0.1:LISTEN to the endpoints GRPC_PORT:ADMIN_PORT,… that answer GET /readyz on their admin port (polled every
// 200 ms, as the endpoints controller follows readiness), one connection to one endpoint, round robin. With CUT, it is
// also the NetworkPolicy between reporting and payments: while the file CUT exists it moves no byte in either
// direction — established connections included — and accepts new connections without relaying them, as a CNI that
// drops the packets would (the caller sees no refusal, only silence, and its deadline ends the call). When the file is
// gone the relay resumes where it stopped, as TCP retransmits what was dropped. Node's standard library only.
//
//   node service-relay.mjs LISTEN GRPC:ADMIN[,GRPC:ADMIN…] [CUT]
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";

const [listenPort, endpointList, cutFile] = process.argv.slice(2);
if (!listenPort || !endpointList) {
  console.error("usage: node service-relay.mjs LISTEN GRPC:ADMIN[,GRPC:ADMIN…] [CUT]");
  process.exit(2);
}

const endpoints = endpointList.split(",").map((e) => {
  const [grpc, admin] = e.split(":").map(Number);
  return { grpc, admin, ready: false };
});
let next = 0;

// Readiness, as the endpoints controller sees it: /readyz answering 200.
function poll(endpoint) {
  const request = http.get({ host: "127.0.0.1", port: endpoint.admin, path: "/readyz", timeout: 1000 }, (response) => {
    endpoint.ready = response.statusCode === 200;
    response.resume();
  });
  request.on("timeout", () => request.destroy());
  request.on("error", () => {
    endpoint.ready = false;
  });
}
setInterval(() => endpoints.forEach(poll), 200);
endpoints.forEach(poll);

// The next ready endpoint, round robin (any endpoint when none is ready: the connection then fails as it would).
function pick() {
  const ready = endpoints.filter((e) => e.ready);
  const from = ready.length > 0 ? ready : endpoints;
  next = (next + 1) % from.length;
  return from[next];
}

const cutNow = () => (cutFile ? existsSync(cutFile) : false);
let cut = cutNow();
/** @type {Set<{client: net.Socket, upstream: net.Socket | null}>} */
const pairs = new Set();

// from → to, byte for byte, with backpressure; nothing moves while cut: a chunk read as the cut begins goes back to
// the front of its socket's buffer, and the sockets stay paused until the cut ends.
function relay(from, to) {
  from.on("data", (chunk) => {
    if (cut) {
      from.pause();
      from.unshift(chunk);
      return;
    }
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", () => {
        if (!cut) from.resume();
      });
    }
  });
}

function connect(pair) {
  const upstream = net.connect({ host: "127.0.0.1", port: pick().grpc });
  pair.upstream = upstream;
  relay(pair.client, upstream);
  relay(upstream, pair.client);
  const close = () => {
    pairs.delete(pair);
    pair.client.destroy();
    upstream.destroy();
  };
  upstream.on("error", close).on("close", close);
  pair.client.on("end", () => upstream.end());
  upstream.on("end", () => pair.client.end());
}

function apply() {
  for (const pair of pairs) {
    if (!cut && !pair.upstream) connect(pair);
    for (const socket of [pair.client, pair.upstream]) {
      if (socket && !socket.destroyed) {
        if (cut) socket.pause();
        else socket.resume();
      }
    }
  }
}

const server = net.createServer({ allowHalfOpen: true }, (client) => {
  const pair = { client, upstream: null };
  const close = () => {
    pairs.delete(pair);
    pair.upstream?.destroy();
  };
  client.on("error", close).on("close", close);
  pairs.add(pair);
  if (cut) client.pause();
  else connect(pair);
});

server.listen(Number(listenPort), "127.0.0.1", () =>
  console.log(`service-relay 127.0.0.1:${listenPort} -> ${endpointList}${cutFile ? `, cut while ${cutFile} exists` : ""}`));

setInterval(() => {
  const now = cutNow();
  if (now !== cut) {
    cut = now;
    console.log(`${new Date().toISOString()} ${cut ? "cut" : "healed"} (${pairs.size} connections)`);
    apply();
  }
}, 100);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}

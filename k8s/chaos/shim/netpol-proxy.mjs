// The kubectl shim's stand-in for a NetworkPolicy between reporting and payments (k8s/chaos/README.md, "The kubectl
// shim"): a TCP relay on 127.0.0.1:LISTEN to 127.0.0.1:TARGET that, while the file CUT exists, moves no byte in either
// direction — established connections included — and accepts new connections without relaying them, as a CNI that
// drops the packets would (the caller sees no refusal, only silence, and its deadline ends the call). When the file is
// gone the relay resumes where it stopped, as TCP retransmits what was dropped. Node's standard library only.
//
//   node netpol-proxy.mjs LISTEN TARGET CUT
import { existsSync } from "node:fs";
import net from "node:net";

const [listenPort, targetPort, cutFile] = process.argv.slice(2);
if (!listenPort || !targetPort || !cutFile) {
  console.error("usage: node netpol-proxy.mjs LISTEN TARGET CUT");
  process.exit(2);
}

let cut = existsSync(cutFile);
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
  const upstream = net.connect({ host: "127.0.0.1", port: Number(targetPort) });
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

server.listen(Number(listenPort), "127.0.0.1", () => console.log(`netpol-proxy 127.0.0.1:${listenPort} -> 127.0.0.1:${targetPort}, cut while ${cutFile} exists`));

setInterval(() => {
  const now = existsSync(cutFile);
  if (now !== cut) {
    cut = now;
    console.log(`${new Date().toISOString()} ${cut ? "cut" : "healed"} (${pairs.size} connections)`);
    apply();
  }
}, 100);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}

// A TCP proxy in front of a server, for tests that drop connections the way a
// restarting server or a flaky network would: it records the head of each
// request it forwards, can hold new connections back, and can cut every open
// one at once.
import { connect, createServer } from "node:net";

/** Starts a proxy to `target` (`http://127.0.0.1:PORT`): `{ origin, heads, hold, release, cut, close }`. */
export async function startCutter(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const heads = [];
  const held = [];
  let holding = false;
  const forward = (client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on("close", done);
      socket.on("error", done);
    }
    client.once("data", (chunk) => heads.push(chunk.toString("latin1")));
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const server = createServer((client) => (holding ? held.push(client) : forward(client)));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    /** The first bytes of every forwarded connection: its request line and headers. */
    heads,
    /** New connections wait, unread, until `release()`. */
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const client of held.splice(0)) forward(client);
    },
    /** Cuts every open connection, as a dropped network would. */
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => {
      for (const socket of [...sockets, ...held]) socket.destroy();
      server.close();
    },
  };
}

import { createServer } from 'node:net';

/**
 * Ports are chosen below the kernel's ephemeral range (32768–60999 on Linux), where outgoing
 * connections take their local ports: a port the kernel hands out for `listen(0)` is free at that
 * moment, but an outgoing connection can take it before the server that was told to use it binds
 * (a Java server starting for seconds, say). Here nothing but a server asked to listen uses them.
 */
const LOW = 20_000;
const HIGH = 32_000;
const ATTEMPTS = 50;

/** Ports this process has handed out: never handed out twice. */
const handedOut = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A loopback port free at this moment, outside the ephemeral range, never handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < ATTEMPTS; i += 1) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await tryListen(port)) return port;
  }
  throw new Error(`could not find a free loopback port between ${LOW} and ${HIGH} in ${ATTEMPTS} tries`);
}

// TCP ports for tests that must stay within a range (helpers on one machine share loopback).
import net from 'node:net';

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first port in [from, to] that nothing listens on now. */
export async function portInRange(from: number, to: number): Promise<number> {
  for (let p = from; p <= to; p++) if (await listenable(p)) return p;
  throw new Error(`no free TCP port in ${from}-${to}`);
}

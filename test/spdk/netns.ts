// Two network namespaces joined by two veth pairs: an initiator and a target that reach each other
// over two independent links, with addresses that exist only inside those namespaces (nothing is
// added to this machine's own network). For multipath tests: one link can go down on its own, and
// the initiator's TCP notices within seconds (tcp_retries2, below).
import { spawnSync } from 'node:child_process';

export interface TwoPathNetwork {
  /** Namespace of the initiator and of the target. */
  initiator: string;
  target: string;
  /** Per link: the device on the initiator's side, and each side's address. */
  paths: Array<{ initiatorDev: string; initiatorAddr: string; targetAddr: string }>;
  /** Deletes both namespaces (their veth devices go with them). */
  remove(): void;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** Why namespaces cannot be made here, or null when they can (root and iproute2's `ip`). */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  // Listing works without the right to make one (a container without CAP_SYS_ADMIN): try one.
  const probe = `spdkn-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return `cannot make a network namespace here (ip netns add: ${r.error?.message ?? r.stderr.trim()})`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

export function makeTwoPathNetwork(): TwoPathNetwork {
  const id = `${process.pid % 100000}`;
  const initiator = `spdkn-ini-${id}`;
  const target = `spdkn-tgt-${id}`;
  const remove = (): void => {
    for (const ns of [initiator, target]) spawnSync('ip', ['netns', 'del', ns]);
  };
  remove();
  try {
    ip('netns', 'add', initiator);
    ip('netns', 'add', target);
    const paths = [1, 2].map((n) => {
      const initiatorDev = `snp${n}i${id}`.slice(0, 15);
      const targetDev = `snp${n}t${id}`.slice(0, 15);
      const initiatorAddr = `10.201.${n}.1`;
      const targetAddr = `10.201.${n}.2`;
      ip('link', 'add', initiatorDev, 'netns', initiator, 'type', 'veth', 'peer', 'name', targetDev, 'netns', target);
      ip('-n', initiator, 'addr', 'add', `${initiatorAddr}/24`, 'dev', initiatorDev);
      ip('-n', target, 'addr', 'add', `${targetAddr}/24`, 'dev', targetDev);
      ip('-n', initiator, 'link', 'set', initiatorDev, 'up');
      ip('-n', target, 'link', 'set', targetDev, 'up');
      return { initiatorDev, initiatorAddr, targetAddr };
    });
    for (const ns of [initiator, target]) ip('-n', ns, 'link', 'set', 'lo', 'up');
    // A dropped link closes no TCP connection; TCP gives up on it after tcp_retries2
    // retransmissions (15 by default: many minutes). 3 makes that about 3 s, in this namespace only.
    ip('netns', 'exec', initiator, 'sysctl', '-q', '-w', 'net.ipv4.tcp_retries2=3');
    return { initiator, target, paths, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

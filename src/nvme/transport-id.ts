// NVMe transport IDs: where a controller is (a PCI address, or a fabrics address and subsystem).
// Both forms users write are accepted: SPDK's string form ('trtype:TCP adrfam:IPv4
// traddr:127.0.0.1 trsvcid:4420 subnqn:nqn...', as spdk_nvme_transport_id_parse reads it) and an
// object. Either is checked here, strictly (SPDK's own parser ignores unknown keys), and turned
// into one canonical string for the native side.

export type NvmeTransportType = 'PCIe' | 'RDMA' | 'TCP' | 'FC' | 'VFIOUSER' | 'CUSTOM';
export type NvmeAddressFamily = 'IPv4' | 'IPv6' | 'IB' | 'FC' | 'INTRA_HOST';

export interface TransportId {
  /** Transport type (case-insensitive on input). */
  trtype: NvmeTransportType;
  /** Address family of `traddr` for fabrics. Default: IPv6 if traddr has a ':', else IPv4. */
  adrfam?: NvmeAddressFamily;
  /** PCI address (`0000:01:00.0`) or fabrics address (IP address or host name). */
  traddr?: string;
  /** Fabrics service ID: the port, e.g. `'4420'`. */
  trsvcid?: string | number;
  /** Subsystem NQN (fabrics). */
  subnqn?: string;
  /** Priority of this path (SPDK's trid priority). */
  priority?: number;
  /** Host NQN to connect as (fabrics); `options.hostnqn` takes precedence. */
  hostnqn?: string;
}

/** The NQN of an NVMe-oF discovery subsystem. */
export const DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery';

const trtypes: readonly NvmeTransportType[] = ['PCIe', 'RDMA', 'TCP', 'FC', 'VFIOUSER', 'CUSTOM'];
const adrfams: readonly NvmeAddressFamily[] = ['IPv4', 'IPv6', 'IB', 'FC', 'INTRA_HOST'];
const keys = ['trtype', 'adrfam', 'traddr', 'trsvcid', 'subnqn', 'priority', 'hostnqn'] as const;
const PCI_ADDRESS = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
// SPDK's limits (SPDK_NVMF_TRADDR_MAX_LEN, SPDK_NVMF_TRSVCID_MAX_LEN, SPDK_NVMF_NQN_MAX_LEN).
const TRADDR_MAX = 256;
const NQN_MAX = 223;

// Whitespace separates fields, and C reads a string only up to its first NUL: neither may be in a
// field (nor any other control character).
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;

function bad(operation: string, message: string): TypeError {
  return new TypeError(`${operation}: ${message}`);
}

function pick<T extends string>(operation: string, key: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (found === undefined) throw bad(operation, `unknown ${key} '${value}' (expected ${allowed.join(', ')})`);
  return found;
}

/**
 * Parses SPDK's string form of a transport ID: whitespace-separated `key:value` (or `key=value`)
 * pairs. Checks each field's form (not that the address is complete). Throws a TypeError naming
 * what is wrong.
 */
export function parseTransportId(text: string): TransportId {
  return normalizeTransportId(parseFields(text, 'parseTransportId'), 'parseTransportId', 'any');
}

function parseFields(text: string, operation: string): TransportId {
  if (typeof text !== 'string') throw bad(operation, `a transport ID must be a string or an object, got ${typeof text}`);
  const fields: Record<string, string> = {};
  const tokens = text.trim().split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) throw bad(operation, "the transport ID is empty (expected e.g. 'trtype:TCP traddr:127.0.0.1 trsvcid:4420 subnqn:nqn...')");
  for (const token of tokens) {
    const m = /^([A-Za-z_]+)[:=](.+)$/.exec(token);
    if (m === null) throw bad(operation, `malformed transport ID field '${token}' in '${text}' (expected key:value)`);
    const key = m[1]!.toLowerCase();
    if (!(keys as readonly string[]).includes(key)) throw bad(operation, `unknown transport ID key '${m[1]}' in '${text}' (known: ${keys.join(', ')})`);
    if (key in fields) throw bad(operation, `transport ID key '${key}' appears twice in '${text}'`);
    fields[key] = m[2]!;
  }
  if (fields.trtype === undefined) throw bad(operation, `the transport ID '${text}' has no trtype`);
  const trid: TransportId = { trtype: fields.trtype as NvmeTransportType };
  if (fields.adrfam !== undefined) trid.adrfam = fields.adrfam as NvmeAddressFamily;
  if (fields.traddr !== undefined) trid.traddr = fields.traddr;
  if (fields.trsvcid !== undefined) trid.trsvcid = fields.trsvcid;
  if (fields.subnqn !== undefined) trid.subnqn = fields.subnqn;
  if (fields.hostnqn !== undefined) trid.hostnqn = fields.hostnqn;
  if (fields.priority !== undefined) {
    if (!/^\d+$/.test(fields.priority)) throw bad(operation, `priority must be a non-negative integer, got '${fields.priority}'`);
    trid.priority = Number(fields.priority);
  }
  return trid;
}

function checkNqn(operation: string, key: string, nqn: unknown): string {
  if (typeof nqn !== 'string' || !nqn.startsWith('nqn.') || SPACE_OR_CONTROL.test(nqn) || Buffer.byteLength(nqn) > NQN_MAX) {
    throw bad(operation, `${key} must be an NVMe qualified name ('nqn.…', at most ${NQN_MAX} bytes, no spaces or control characters), got ${safeJson(nqn)}`);
  }
  return nqn;
}

/**
 * Checks a transport ID (either form) and fills in defaults. `purpose` 'connect' needs a full
 * address; 'probe' may leave a PCIe address out (every local controller) and defaults a fabrics
 * subsystem NQN to the discovery NQN (which nvme.probe then refuses, saying why); 'any' checks
 * only the form of the fields given.
 */
export function normalizeTransportId(input: string | TransportId, operation: string, purpose: 'connect' | 'probe' | 'any'): TransportId {
  if (typeof input === 'string') input = parseFields(input, operation);
  if (input === null || typeof input !== 'object') throw bad(operation, `a transport ID must be a string or an object, got ${input === null ? 'null' : typeof input}`);
  for (const key of Object.keys(input)) {
    if (!(keys as readonly string[]).includes(key)) throw bad(operation, `unknown transport ID key '${key}' (known: ${keys.join(', ')})`);
  }
  if (typeof input.trtype !== 'string') throw bad(operation, `trtype must be one of ${trtypes.join(', ')}, got ${String(input.trtype)}`);
  const trtype = pick(operation, 'trtype', input.trtype, trtypes);
  const out: TransportId = { trtype };
  const fabrics = trtype !== 'PCIe' && trtype !== 'CUSTOM';

  if (input.traddr !== undefined) {
    if (typeof input.traddr !== 'string' || input.traddr === '' || SPACE_OR_CONTROL.test(input.traddr) || Buffer.byteLength(input.traddr) > TRADDR_MAX) {
      throw bad(operation, `traddr must be a non-empty address without spaces or control characters (at most ${TRADDR_MAX} bytes), got ${safeJson(input.traddr)}`);
    }
    if (trtype === 'PCIe' && !PCI_ADDRESS.test(input.traddr)) {
      throw bad(operation, `a PCIe traddr is a PCI address such as '0000:01:00.0', got '${input.traddr}'`);
    }
    out.traddr = trtype === 'PCIe' && input.traddr.length === 7 ? `0000:${input.traddr}` : input.traddr;
  } else if (purpose === 'connect' || (purpose === 'probe' && fabrics)) {
    throw bad(operation, `a ${trtype} transport ID needs traddr (${trtype === 'PCIe' ? "the PCI address, e.g. '0000:01:00.0'" : 'the address of the target'})`);
  }

  if (input.adrfam !== undefined) {
    if (typeof input.adrfam !== 'string') throw bad(operation, `adrfam must be one of ${adrfams.join(', ')}`);
    out.adrfam = pick(operation, 'adrfam', input.adrfam, adrfams);
  } else if (trtype === 'TCP' || trtype === 'RDMA') {
    out.adrfam = out.traddr?.includes(':') ? 'IPv6' : 'IPv4';
  }

  if (input.trsvcid !== undefined) {
    const svc = String(input.trsvcid);
    if ((trtype === 'TCP' || trtype === 'RDMA') && (!/^\d+$/.test(svc) || Number(svc) < 1 || Number(svc) > 65535)) {
      throw new RangeError(`${operation}: trsvcid must be a port number between 1 and 65535, got '${svc}'`);
    }
    if (svc === '' || SPACE_OR_CONTROL.test(svc) || svc.length > 32) throw bad(operation, `trsvcid must be a service ID without spaces or control characters, got ${safeJson(svc)}`);
    out.trsvcid = svc;
  } else if ((trtype === 'TCP' || trtype === 'RDMA') && purpose !== 'any') {
    throw bad(operation, `a ${trtype} transport ID needs trsvcid (the port, e.g. 4420)`);
  }

  if (input.subnqn !== undefined) {
    out.subnqn = checkNqn(operation, 'subnqn', input.subnqn);
  } else if (fabrics && purpose !== 'any') {
    if (purpose === 'connect') throw bad(operation, `a ${trtype} transport ID needs subnqn (the NQN of the subsystem to connect to)`);
    out.subnqn = DISCOVERY_NQN;
  }

  if (input.priority !== undefined) {
    if (!Number.isSafeInteger(input.priority) || input.priority < 0) throw bad(operation, `priority must be a non-negative integer, got ${String(input.priority)}`);
    out.priority = input.priority;
  }
  if (input.hostnqn !== undefined) out.hostnqn = checkNqn(operation, 'hostnqn', input.hostnqn);
  return out;
}

/** JSON text of a value for a message; bigints and the like, which JSON cannot hold, as typeof. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

/** SPDK's string form of a transport ID (without hostnqn, which is not part of the address). */
export function formatTransportId(trid: TransportId): string {
  const parts = [`trtype:${trid.trtype}`];
  if (trid.adrfam !== undefined) parts.push(`adrfam:${trid.adrfam}`);
  if (trid.traddr !== undefined) parts.push(`traddr:${trid.traddr}`);
  if (trid.trsvcid !== undefined) parts.push(`trsvcid:${trid.trsvcid}`);
  if (trid.subnqn !== undefined) parts.push(`subnqn:${trid.subnqn}`);
  if (trid.priority !== undefined) parts.push(`priority:${trid.priority}`);
  return parts.join(' ');
}

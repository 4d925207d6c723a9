// Argument checks shared by the device functions: TypeError for the wrong kind of value.
import { systemHost, type DeviceHost } from './host';

/** Checks that `options` is undefined or a plain object with only `allowed` keys. */
export function checkOptions(operation: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${operation}: options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`${operation}: unknown option '${key}' (known: ${allowed.join(', ')})`);
  }
  return options as Record<string, unknown>;
}

/** The host option: the real machine unless a DeviceHost is given. */
export function checkHost(operation: string, host: unknown): DeviceHost {
  if (host === undefined) return systemHost();
  if (host === null || typeof host !== 'object' || typeof (host as DeviceHost).root !== 'string') throw new TypeError(`${operation}: host must be a DeviceHost`);
  return host as DeviceHost;
}

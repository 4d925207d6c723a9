// The SMART / Health Information log page (log identifier 02h, 512 bytes), decoded. Counters
// that the specification makes 128 bits wide are bigints.

export const HEALTH_LOG_ID = 0x02;
export const HEALTH_LOG_SIZE = 512;

export interface NvmeCriticalWarnings {
  /** Available spare capacity fell below the threshold. */
  availableSpare: boolean;
  /** A temperature is outside its threshold. */
  temperature: boolean;
  /** Reliability is degraded by media errors. */
  reliability: boolean;
  /** The media is read-only. */
  readOnly: boolean;
  /** The volatile memory backup device failed. */
  volatileMemoryBackup: boolean;
  /** The persistent memory region became read-only or unreliable. */
  persistentMemoryRegion: boolean;
}

export interface NvmeHealthLog {
  /** Critical warning bits, raw. */
  criticalWarning: number;
  criticalWarnings: NvmeCriticalWarnings;
  /** Composite temperature, kelvin (0: not reported). */
  temperatureKelvin: number;
  /** Available spare capacity, percent. */
  availableSparePercent: number;
  availableSpareThresholdPercent: number;
  /** Estimate of the life used, percent (may exceed 100). */
  percentageUsed: number;
  enduranceGroupCriticalWarning: number;
  /** Data read / written by the host, in thousands of 512-byte units. */
  dataUnitsRead: bigint;
  dataUnitsWritten: bigint;
  hostReadCommands: bigint;
  hostWriteCommands: bigint;
  controllerBusyTimeMinutes: bigint;
  powerCycles: bigint;
  powerOnHours: bigint;
  unsafeShutdowns: bigint;
  mediaErrors: bigint;
  errorLogEntries: bigint;
  warningTemperatureTimeMinutes: number;
  criticalTemperatureTimeMinutes: number;
  /** Temperature sensors 1-8, kelvin; null where a sensor is not reported. */
  temperatureSensorsKelvin: Array<number | null>;
}

function u128(b: Buffer, offset: number): bigint {
  return b.readBigUInt64LE(offset) + (b.readBigUInt64LE(offset + 8) << 64n);
}

/** Decodes a health information log page (at least 512 bytes). */
export function decodeHealthLog(b: Buffer): NvmeHealthLog {
  if (b.length < HEALTH_LOG_SIZE) throw new RangeError(`the health information log page is ${HEALTH_LOG_SIZE} bytes, got ${b.length}`);
  const cw = b.readUInt8(0);
  const sensors: Array<number | null> = [];
  for (let i = 0; i < 8; i++) {
    const k = b.readUInt16LE(200 + 2 * i);
    sensors.push(k === 0 ? null : k);
  }
  return {
    criticalWarning: cw,
    criticalWarnings: {
      availableSpare: (cw & 0x01) !== 0,
      temperature: (cw & 0x02) !== 0,
      reliability: (cw & 0x04) !== 0,
      readOnly: (cw & 0x08) !== 0,
      volatileMemoryBackup: (cw & 0x10) !== 0,
      persistentMemoryRegion: (cw & 0x20) !== 0,
    },
    temperatureKelvin: b.readUInt16LE(1),
    availableSparePercent: b.readUInt8(3),
    availableSpareThresholdPercent: b.readUInt8(4),
    percentageUsed: b.readUInt8(5),
    enduranceGroupCriticalWarning: b.readUInt8(6),
    dataUnitsRead: u128(b, 32),
    dataUnitsWritten: u128(b, 48),
    hostReadCommands: u128(b, 64),
    hostWriteCommands: u128(b, 80),
    controllerBusyTimeMinutes: u128(b, 96),
    powerCycles: u128(b, 112),
    powerOnHours: u128(b, 128),
    unsafeShutdowns: u128(b, 144),
    mediaErrors: u128(b, 160),
    errorLogEntries: u128(b, 176),
    warningTemperatureTimeMinutes: b.readUInt32LE(192),
    criticalTemperatureTimeMinutes: b.readUInt32LE(196),
    temperatureSensorsKelvin: sensors,
  };
}

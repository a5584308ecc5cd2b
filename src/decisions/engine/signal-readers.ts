import { GeoLocator } from './geo-locator';
import { MobileNetworkTable } from './mobile-networks';
import { RegionDirectory } from './regions';
import { impliedSpeedKmh } from './travel';
import { CellSignal, GpsSignal, NeighbourFix, SignalReading, SimSignal } from './types';

/** A fix whose accuracy radius is larger than this cannot place a device on one side of a border. */
export const DEFAULT_MAX_GPS_ACCURACY_METERS = 5_000;

/** What reading a fix needs besides the fix: the limits, the attempt's instant and the device's neighbouring fixes. */
export interface FixContext {
  maxAccuracyMeters: number;
  staleFixMinutes: number;
  impossibleTravelKmh: number;
  /** Epoch milliseconds of the attempt. */
  occurredAt: number;
  neighbours?: readonly NeighbourFix[];
  recordedSpeedKmh?: number | null;
}

/** Epoch milliseconds of a fix: its own instant, else the attempt's. */
export function fixInstant(gps: GpsSignal, occurredAt: number): number {
  if (gps.fixedAt == null) return occurredAt;
  const instant = typeof gps.fixedAt === 'string' ? Date.parse(gps.fixedAt) : gps.fixedAt.getTime();
  return Number.isNaN(instant) ? occurredAt : instant;
}

const formatMinutes = (milliseconds: number) => `${Math.round(milliseconds / 60_000)} min`;

/**
 * Reads a fix. The checks run in the order of how little the fix is worth: a mocked fix is no
 * evidence at all, an inaccurate one cannot place the phone on one side of a border, a stale one
 * says where the phone was, and one too far from the device's neighbouring fixes cannot be where
 * the phone is. Each keeps the region it points at, so the explanation shows what it claimed.
 */
export function readGps(locator: GeoLocator, gps: GpsSignal, context: FixContext): SignalReading {
  const regionCode = locator.locate(gps.latitude, gps.longitude);
  const claimed = regionCode ?? 'no territory';
  // The evidence names no coordinates: it outlives the raw signals (retention) and partners read it.
  if (gps.mock === true) {
    return {
      source: 'GPS',
      regionCode,
      usable: false,
      assessment: 'MOCKED',
      finding: 'GPS_MOCKED',
      detail: `the OS reported the fix (in ${claimed}) as coming from a mock location provider`,
    };
  }
  if (gps.accuracyMeters != null && gps.accuracyMeters > context.maxAccuracyMeters) {
    return {
      source: 'GPS',
      regionCode,
      usable: false,
      assessment: 'INACCURATE',
      finding: 'GPS_INACCURATE',
      detail: `the GPS fix is accurate to ${Math.round(gps.accuracyMeters)} m, worse than the ${context.maxAccuracyMeters} m required`,
    };
  }
  const fixedAt = fixInstant(gps, context.occurredAt);
  const age = context.occurredAt - fixedAt;
  if (age > context.staleFixMinutes * 60_000) {
    return {
      source: 'GPS',
      regionCode,
      usable: false,
      assessment: 'STALE',
      finding: 'GPS_STALE',
      detail: `the fix (in ${claimed}) was taken ${formatMinutes(age)} before the attempt, more than the ${context.staleFixMinutes} min allowed`,
    };
  }
  const speedKmh = context.neighbours
    ? impliedSpeedKmh(
        { latitude: gps.latitude, longitude: gps.longitude, fixedAt, uncertaintyMeters: gps.accuracyMeters ?? 0 },
        context.neighbours,
      )
    : (context.recordedSpeedKmh ?? null);
  const speed = speedKmh === null ? {} : { speedKmh };
  if (speedKmh !== null && speedKmh > context.impossibleTravelKmh) {
    return {
      source: 'GPS',
      regionCode,
      usable: false,
      assessment: 'IMPOSSIBLE_TRAVEL',
      finding: 'IMPOSSIBLE_TRAVEL',
      detail: `reaching the fix (in ${claimed}) from the device's neighbouring fix implies ${Number.isFinite(speedKmh) ? `${Math.round(speedKmh)} km/h` : 'being in two places at once'}, more than the ${context.impossibleTravelKmh} km/h possible`,
      ...speed,
    };
  }
  if (regionCode === null) {
    return {
      source: 'GPS',
      regionCode,
      usable: true,
      assessment: 'USABLE',
      finding: 'GPS_OUTSIDE_TERRITORY',
      detail: 'the GPS fix lies in no territory (open sea)',
      ...speed,
    };
  }
  return {
    source: 'GPS',
    regionCode,
    usable: true,
    assessment: 'USABLE',
    finding: 'GPS_IN_REGION',
    detail: `the GPS fix lies in ${regionCode}`,
    ...speed,
  };
}

export function readSim(networks: MobileNetworkTable, sim: SimSignal): SignalReading {
  const lookup = networks.lookup(sim.mcc, sim.mnc);
  return {
    source: 'SIM',
    regionCode: lookup.regionCode,
    usable: lookup.regionCode !== null,
    assessment: lookup.regionCode !== null ? 'USABLE' : 'UNRESOLVED',
    finding: lookup.finding,
    detail: lookup.detail,
  };
}

/**
 * The serving cell's network, looked up in the same table as a SIM's: a network operating only in
 * a subdivision (the Crimean operators) puts the phone there, a nationwide one in its country.
 * Unlike a SIM's home network it says where the radio is now, not where the card was sold.
 */
export function readCell(networks: MobileNetworkTable, cell: CellSignal): SignalReading {
  const lookup = networks.lookup(cell.mcc, cell.mnc);
  return {
    source: 'CELL',
    regionCode: lookup.regionCode,
    usable: lookup.regionCode !== null,
    assessment: lookup.regionCode !== null ? 'USABLE' : 'UNRESOLVED',
    finding: lookup.finding.replace('SIM_', 'CELL_'),
    detail: `serving network: ${lookup.detail}`,
  };
}

export function readIp(regions: RegionDirectory, ipCountry: string): SignalReading {
  const code = ipCountry.toUpperCase();
  if (!regions.has(code)) {
    return {
      source: 'IP',
      regionCode: null,
      usable: false,
      assessment: 'UNRESOLVED',
      finding: 'IP_UNKNOWN_COUNTRY',
      detail: `${ipCountry} is not a known country code`,
    };
  }
  return {
    source: 'IP',
    regionCode: code,
    usable: true,
    assessment: 'USABLE',
    finding: 'IP_COUNTRY',
    detail: `the gateway located the IP address in ${code}`,
  };
}

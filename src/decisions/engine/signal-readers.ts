import { GeoLocator } from './geo-locator';
import { MobileNetworkTable } from './mobile-networks';
import { RegionDirectory } from './regions';
import { GpsSignal, SignalReading, SimSignal } from './types';

/** A fix whose accuracy radius is larger than this cannot place a device on one side of a border. */
export const DEFAULT_MAX_GPS_ACCURACY_METERS = 5_000;

export function readGps(locator: GeoLocator, gps: GpsSignal, maxAccuracyMeters: number): SignalReading {
  const regionCode = locator.locate(gps.latitude, gps.longitude);
  // The evidence names no coordinates: it outlives the raw signals (retention) and partners read it.
  if (gps.accuracyMeters != null && gps.accuracyMeters > maxAccuracyMeters) {
    return {
      source: 'GPS',
      regionCode,
      usable: false,
      finding: 'GPS_INACCURATE',
      detail: `the GPS fix is accurate to ${Math.round(gps.accuracyMeters)} m, worse than the ${maxAccuracyMeters} m required`,
    };
  }
  if (regionCode === null) {
    return {
      source: 'GPS',
      regionCode,
      usable: true,
      finding: 'GPS_OUTSIDE_TERRITORY',
      detail: 'the GPS fix lies in no territory (open sea)',
    };
  }
  return {
    source: 'GPS',
    regionCode,
    usable: true,
    finding: 'GPS_IN_REGION',
    detail: `the GPS fix lies in ${regionCode}`,
  };
}

export function readSim(networks: MobileNetworkTable, sim: SimSignal): SignalReading {
  const lookup = networks.lookup(sim.mcc, sim.mnc);
  return {
    source: 'SIM',
    regionCode: lookup.regionCode,
    usable: lookup.regionCode !== null,
    finding: lookup.finding,
    detail: lookup.detail,
  };
}

export function readIp(regions: RegionDirectory, ipCountry: string): SignalReading {
  const code = ipCountry.toUpperCase();
  if (!regions.has(code)) {
    return {
      source: 'IP',
      regionCode: null,
      usable: false,
      finding: 'IP_UNKNOWN_COUNTRY',
      detail: `${ipCountry} is not a known country code`,
    };
  }
  return {
    source: 'IP',
    regionCode: code,
    usable: true,
    finding: 'IP_COUNTRY',
    detail: `the gateway located the IP address in ${code}`,
  };
}

import { NeighbourFix } from './types';

/** Mean Earth radius (IUGG), kilometres. */
const EARTH_RADIUS_KM = 6371.0088;
const HOUR_MS = 3_600_000;

/** A neighbour further than this from the fix in time says nothing about it (the rule's "within 24 hours"). */
export const TRAVEL_WINDOW_MS = 24 * HOUR_MS;

/** Great-circle distance (haversine), kilometres. */
export function distanceKm(
  from: { latitude: number; longitude: number },
  to: { latitude: number; longitude: number },
): number {
  const radians = Math.PI / 180;
  const dLatitude = (to.latitude - from.latitude) * radians;
  const dLongitude = (to.longitude - from.longitude) * radians;
  const a =
    Math.sin(dLatitude / 2) ** 2 +
    Math.cos(from.latitude * radians) * Math.cos(to.latitude * radians) * Math.sin(dLongitude / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * The fastest speed (km/h) a fix implies from the neighbouring fixes within the travel window,
 * or null when none is near enough in time. Both positions' uncertainty is taken off the distance
 * first, so jitter between two fixes moments apart is not travel; the same place at the same
 * instant is 0, another place at the same instant is infinite.
 */
export function impliedSpeedKmh(
  fix: { latitude: number; longitude: number; fixedAt: number; uncertaintyMeters: number },
  neighbours: readonly NeighbourFix[],
): number | null {
  let fastest: number | null = null;
  for (const neighbour of neighbours) {
    const elapsedMs = Math.abs(fix.fixedAt - neighbour.fixedAt);
    if (elapsedMs > TRAVEL_WINDOW_MS) continue;
    const travelledKm = Math.max(
      0,
      distanceKm(fix, neighbour) - (fix.uncertaintyMeters + neighbour.uncertaintyMeters) / 1000,
    );
    const speed = travelledKm === 0 ? 0 : elapsedMs === 0 ? Infinity : travelledKm / (elapsedMs / HOUR_MS);
    if (fastest === null || speed > fastest) fastest = speed;
  }
  return fastest;
}

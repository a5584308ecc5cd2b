/**
 * Where generated activations happen: cities and towns with their region (the generator's ground
 * truth), weighted by how often activations happen there. Restricted territories are rare.
 */
export interface Place {
  name: string;
  regionCode: string;
  latitude: number;
  longitude: number;
  weight: number;
}

export const places: Place[] = [
  { name: 'New York', regionCode: 'US', latitude: 40.7128, longitude: -74.006, weight: 60 },
  { name: 'Los Angeles', regionCode: 'US', latitude: 34.0522, longitude: -118.2437, weight: 40 },
  { name: 'Toronto', regionCode: 'CA', latitude: 43.6532, longitude: -79.3832, weight: 20 },
  { name: 'Mexico City', regionCode: 'MX', latitude: 19.4326, longitude: -99.1332, weight: 25 },
  { name: 'São Paulo', regionCode: 'BR', latitude: -23.5505, longitude: -46.6333, weight: 35 },
  { name: 'Buenos Aires', regionCode: 'AR', latitude: -34.6037, longitude: -58.3816, weight: 15 },
  { name: 'London', regionCode: 'GB', latitude: 51.5074, longitude: -0.1278, weight: 40 },
  { name: 'Paris', regionCode: 'FR', latitude: 48.8566, longitude: 2.3522, weight: 35 },
  { name: 'Berlin', regionCode: 'DE', latitude: 52.52, longitude: 13.405, weight: 35 },
  { name: 'Madrid', regionCode: 'ES', latitude: 40.4168, longitude: -3.7038, weight: 25 },
  { name: 'Warsaw', regionCode: 'PL', latitude: 52.2297, longitude: 21.0122, weight: 20 },
  { name: 'Kyiv', regionCode: 'UA', latitude: 50.4501, longitude: 30.5234, weight: 20 },
  { name: 'Kherson', regionCode: 'UA-65', latitude: 46.6354, longitude: 32.6169, weight: 3 },
  { name: 'Odesa', regionCode: 'UA', latitude: 46.4825, longitude: 30.7233, weight: 6 },
  { name: 'Moscow', regionCode: 'RU', latitude: 55.7558, longitude: 37.6173, weight: 30 },
  { name: 'Krasnodar', regionCode: 'RU', latitude: 45.0355, longitude: 38.9753, weight: 5 },
  { name: 'Istanbul', regionCode: 'TR', latitude: 41.0082, longitude: 28.9784, weight: 25 },
  { name: 'Dubai', regionCode: 'AE', latitude: 25.2048, longitude: 55.2708, weight: 15 },
  { name: 'Cairo', regionCode: 'EG', latitude: 30.0444, longitude: 31.2357, weight: 15 },
  { name: 'Lagos', regionCode: 'NG', latitude: 6.5244, longitude: 3.3792, weight: 15 },
  { name: 'Nairobi', regionCode: 'KE', latitude: -1.2921, longitude: 36.8219, weight: 8 },
  { name: 'Juba', regionCode: 'SS', latitude: 4.8594, longitude: 31.5713, weight: 2 },
  { name: 'Baghdad', regionCode: 'IQ', latitude: 33.3152, longitude: 44.3661, weight: 6 },
  { name: 'Beirut', regionCode: 'LB', latitude: 33.8938, longitude: 35.5018, weight: 4 },
  { name: 'Mumbai', regionCode: 'IN', latitude: 19.076, longitude: 72.8777, weight: 50 },
  { name: 'Delhi', regionCode: 'IN', latitude: 28.7041, longitude: 77.1025, weight: 45 },
  { name: 'Jakarta', regionCode: 'ID', latitude: -6.2088, longitude: 106.8456, weight: 25 },
  { name: 'Seoul', regionCode: 'KR', latitude: 37.5665, longitude: 126.978, weight: 20 },
  { name: 'Tokyo', regionCode: 'JP', latitude: 35.6762, longitude: 139.6503, weight: 30 },
  { name: 'Beijing', regionCode: 'CN', latitude: 39.9042, longitude: 116.4074, weight: 30 },
  { name: 'Sydney', regionCode: 'AU', latitude: -33.8688, longitude: 151.2093, weight: 15 },
  { name: 'Miami', regionCode: 'US', latitude: 25.7617, longitude: -80.1918, weight: 10 },
  // Restricted territories: together about 3% of activations.
  { name: 'Simferopol', regionCode: 'UA-43', latitude: 44.9521, longitude: 34.1024, weight: 2 },
  { name: 'Yalta', regionCode: 'UA-43', latitude: 44.4952, longitude: 34.1663, weight: 1 },
  { name: 'Sevastopol', regionCode: 'UA-40', latitude: 44.6054, longitude: 33.522, weight: 1.5 },
  { name: 'Havana', regionCode: 'CU', latitude: 23.1136, longitude: -82.3666, weight: 3 },
  { name: 'Tehran', regionCode: 'IR', latitude: 35.6892, longitude: 51.389, weight: 5 },
  { name: 'Damascus', regionCode: 'SY', latitude: 33.5138, longitude: 36.2765, weight: 2 },
  { name: 'Pyongyang', regionCode: 'KP', latitude: 39.0392, longitude: 125.7625, weight: 0.5 },
  { name: 'Khartoum', regionCode: 'SD', latitude: 15.5007, longitude: 32.5599, weight: 2 },
];

/** Countries devices are sold for, weighted by sales. */
export const markets: { regionCode: string; weight: number }[] = [
  { regionCode: 'US', weight: 25 },
  { regionCode: 'GB', weight: 8 },
  { regionCode: 'DE', weight: 8 },
  { regionCode: 'FR', weight: 7 },
  { regionCode: 'IN', weight: 15 },
  { regionCode: 'BR', weight: 7 },
  { regionCode: 'RU', weight: 6 },
  { regionCode: 'UA', weight: 3 },
  { regionCode: 'TR', weight: 4 },
  { regionCode: 'AE', weight: 3 },
  { regionCode: 'JP', weight: 5 },
  { regionCode: 'MX', weight: 4 },
  { regionCode: 'EG', weight: 3 },
  { regionCode: 'NG', weight: 2 },
];

export const partnerNames: { name: string; kind: 'DISTRIBUTOR' | 'CARRIER' }[] = [
  { name: 'Northwind Distribution', kind: 'DISTRIBUTOR' },
  { name: 'Atlas Mobile Trading', kind: 'DISTRIBUTOR' },
  { name: 'Meridian Devices', kind: 'DISTRIBUTOR' },
  { name: 'Harbor Wireless', kind: 'CARRIER' },
  { name: 'Blue Steppe Telecom', kind: 'CARRIER' },
  { name: 'Orion Retail Group', kind: 'DISTRIBUTOR' },
  { name: 'Cascade Cellular', kind: 'CARRIER' },
  { name: 'Sahel Connect', kind: 'CARRIER' },
  { name: 'Ganges Electronics', kind: 'DISTRIBUTOR' },
  { name: 'Aurora Logistics', kind: 'DISTRIBUTOR' },
];

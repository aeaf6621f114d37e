/** The demo's locations: what `kubegate dev` configures the weather adapter with. */
export interface Location {
  name: string;
  latitude: number;
  longitude: number;
  country: string;
  region: string;
  city?: string;
}

export const LOCATIONS: Location[] = [
  { name: 'paris', latitude: 48.8566, longitude: 2.3522, country: 'FR', region: 'europe', city: 'Paris' },
  { name: 'lyon', latitude: 45.764, longitude: 4.8357, country: 'FR', region: 'europe', city: 'Lyon' },
  { name: 'berlin', latitude: 52.52, longitude: 13.405, country: 'DE', region: 'europe', city: 'Berlin' },
  { name: 'munich', latitude: 48.1351, longitude: 11.582, country: 'DE', region: 'europe', city: 'Munich' },
  { name: 'tokyo', latitude: 35.6762, longitude: 139.6503, country: 'JP', region: 'asia', city: 'Tokyo' },
  { name: 'new-york', latitude: 40.7128, longitude: -74.006, country: 'US', region: 'north-america', city: 'New York' },
];

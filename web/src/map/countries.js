// European countries (plus Turkey and the Caucasus) by ISO 3166-1 alpha-2
// code, with the ISO 3166-1 numeric code that world-atlas uses as the
// feature id. Kosovo has no numeric code, so world-atlas leaves its id empty
// and it is matched by the name Natural Earth gives it.
export const EUROPE = {
  AD: '020', AL: '008', AM: '051', AT: '040', AZ: '031', BA: '070', BE: '056',
  BG: '100', BY: '112', CH: '756', CY: '196', CZ: '203', DE: '276', DK: '208',
  EE: '233', ES: '724', FI: '246', FR: '250', GB: '826', GE: '268', GR: '300',
  HR: '191', HU: '348', IE: '372', IS: '352', IT: '380', LI: '438', LT: '440',
  LU: '442', LV: '428', MC: '492', MD: '498', ME: '499', MK: '807', MT: '470',
  NL: '528', NO: '578', PL: '616', PT: '620', RO: '642', RS: '688', RU: '643',
  SE: '752', SI: '705', SK: '703', SM: '674', TR: '792', UA: '804', VA: '336',
  XK: 'Kosovo',
};

// The part of the globe drawn when no country is focused, in degrees:
// Iceland and Portugal in the west, Cyprus in the south, the Urals' foot in the east.
export const EUROPE_BOUNDS = { west: -25, south: 34, east: 45, north: 71 };

/** Return whether `feature` (a world-atlas country) is the country with this alpha-2 code. */
export function isCountry(feature, alpha2) {
  const key = EUROPE[alpha2];
  if (key === undefined) {
    return false;
  }
  return feature.id === key || (feature.id === undefined && feature.properties?.name === key);
}

// Drawing of the campaign map: country outlines and one marker per town, in SVG.
import { geoAzimuthalEqualArea, geoBounds, geoCentroid, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';

import { EUROPE_BOUNDS, isCountry } from './countries.js';

const SVG = 'http://www.w3.org/2000/svg';
// Space kept free around the fitted area, in CSS pixels.
const PADDING = 16;

function svgElement(name, attributes = {}) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    element.setAttribute(key, String(value));
  }
  return element;
}

function insideEurope([longitude, latitude]) {
  const b = EUROPE_BOUNDS;
  return longitude >= b.west && longitude <= b.east && latitude >= b.south && latitude <= b.north;
}

/** Return the area to fit the projection to: a focused country's European parts, else Europe. */
function fitTarget(countries, focus) {
  const b = EUROPE_BOUNDS;
  const europe = {
    type: 'MultiPoint',
    coordinates: [[b.west, b.south], [b.west, b.north], [b.east, b.south], [b.east, b.north], [10, b.north], [10, b.south]],
  };
  const country = focus ? countries.find((c) => isCountry(c, focus)) : null;
  if (!country) {
    return europe;
  }

  // Overseas parts, such as French Guiana for France, would zoom the map out to half the
  // globe, so only the polygons whose centre lies in Europe are fitted.
  const polygons = country.geometry.type === 'Polygon' ? [country.geometry.coordinates] : country.geometry.coordinates;
  const european = polygons.filter((rings) => insideEurope(geoCentroid({ type: 'Polygon', coordinates: rings })));
  if (european.length === 0) {
    // Russia's and Turkey's largest polygons are centred in Asia: show Europe instead.
    return europe;
  }
  const [[west, south], [east, north]] = geoBounds({ type: 'MultiPolygon', coordinates: european });
  return { type: 'MultiPoint', coordinates: [[west, south], [west, north], [east, south], [east, north]] };
}

export class MapView {
  /**
   * @param {HTMLElement} container - the element the map fills; it is redrawn when its size changes
   * @param {{focus: string | null, onOpenTown: (key: string) => void}} options - `focus` is an alpha-2 code
   */
  constructor(container, { focus, onOpenTown }) {
    this.container = container;
    this.focus = focus;
    this.onOpenTown = onOpenTown;
    this.countries = [];
    this.towns = [];
    this.markers = new Map();

    this.svg = svgElement('svg', { class: 'map-svg', role: 'group', 'aria-label': 'Map of campaign activities' });
    this.outlineLayer = svgElement('g', { class: 'outlines', 'aria-hidden': 'true' });
    this.markerLayer = svgElement('g', { class: 'markers' });
    this.svg.append(this.outlineLayer, this.markerLayer);
    container.append(this.svg);

    let frame = null;
    new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => this.draw());
    }).observe(container);
  }

  setOutlines(topology) {
    this.countries = feature(topology, topology.objects.countries).features;
    this.draw();
  }

  setTowns(towns) {
    this.towns = towns;
    this.drawMarkers();
  }

  /** Fit the projection to the container's current size, then draw outlines and markers. */
  draw() {
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    if (width === 0 || height === 0 || this.countries.length === 0) {
      return;
    }
    this.svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.projection = geoAzimuthalEqualArea()
      .rotate([-10, -52])
      .fitExtent([[PADDING, PADDING], [width - PADDING, height - PADDING]], fitTarget(this.countries, this.focus))
      .clipExtent([[0, 0], [width, height]]);
    const path = geoPath(this.projection);

    const outlines = this.countries.map((country) => {
      const focused = this.focus !== null && isCountry(country, this.focus);
      return svgElement('path', {
        class: focused ? 'country focused' : 'country',
        d: path(country) ?? '',
        'data-name': country.properties.name,
      });
    });
    this.outlineLayer.replaceChildren(...outlines);
    this.drawMarkers();
  }

  /** Add, move and remove town markers, keeping each existing element so that focus stays on it. */
  drawMarkers() {
    if (!this.projection) {
      return;
    }
    const focusedKey = document.activeElement?.closest?.('.marker')?.dataset.town;
    const seen = new Set();

    for (const town of this.towns) {
      seen.add(town.key);
      const position = this.projection([town.longitude, town.latitude]);
      let marker = this.markers.get(town.key);
      if (!marker) {
        marker = this.createMarker(town.key);
        this.markers.set(town.key, marker);
      }
      // A town outside the drawn area (another country while one is focused) gets no
      // marker, so that Tab never moves the focus to something the reader cannot see.
      if (position === null || !this.isVisible(position)) {
        marker.remove();
        continue;
      }
      this.updateMarker(marker, town, position);
      // Appending in town order keeps the Tab order alphabetical.
      this.markerLayer.append(marker);
    }

    for (const [key, marker] of this.markers) {
      if (!seen.has(key)) {
        marker.remove();
        this.markers.delete(key);
      }
    }
    if (focusedKey && this.markers.has(focusedKey)) {
      this.markers.get(focusedKey).focus();
    }
  }

  isVisible([x, y]) {
    const [[left, top], [right, bottom]] = this.projection.clipExtent();
    return x >= left && x <= right && y >= top && y <= bottom;
  }

  createMarker(key) {
    const marker = svgElement('g', { class: 'marker', tabindex: 0, role: 'button', 'aria-haspopup': 'dialog', 'data-town': key });
    marker.addEventListener('click', () => this.onOpenTown(key));
    marker.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.onOpenTown(key);
      }
    });
    return marker;
  }

  updateMarker(marker, town, [x, y]) {
    const count = town.activities.length;
    const kind = town.closed === 0 ? 'planned' : town.planned === 0 ? 'closed' : 'mixed';
    // Big enough to tap on a phone (at least 24 CSS pixels across), growing slowly with the count.
    const radius = 12 + 2 * Math.sqrt(count - 1);

    marker.setAttribute('class', `marker ${kind}`);
    marker.setAttribute('transform', `translate(${x.toFixed(1)} ${y.toFixed(1)})`);
    marker.dataset.count = String(count);
    marker.dataset.planned = String(town.planned);
    marker.dataset.closed = String(town.closed);

    const statuses = [];
    if (town.planned > 0) {
      statuses.push(`${town.planned} planned`);
    }
    if (town.closed > 0) {
      statuses.push(`${town.closed} closed`);
    }
    const activities = count === 1 ? '1 activity' : `${count} activities`;
    marker.setAttribute('aria-label', `${town.city} (${town.countryCode}): ${activities}, ${statuses.join(', ')}`);

    // Planned towns are filled circles, closed ones outlined squares, so that the
    // status shows by shape and fill as well as by colour.
    const shape = kind === 'closed'
      ? svgElement('rect', { class: 'shape', x: -radius, y: -radius, width: radius * 2, height: radius * 2, rx: 3 })
      : svgElement('circle', { class: 'shape', r: radius });
    const children = [shape];
    if (kind === 'mixed') {
      // A small outlined square on the circle tells that some activities there are closed.
      const size = 9;
      children.push(svgElement('rect', { class: 'badge', x: radius * 0.7 - size / 2, y: -radius * 0.7 - size / 2, width: size, height: size }));
    }
    const label = svgElement('text', { class: 'count', 'text-anchor': 'middle', dy: '0.35em' });
    label.textContent = String(count);
    children.push(label);
    marker.replaceChildren(...children);
  }
}

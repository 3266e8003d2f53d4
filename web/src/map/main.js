// The public campaign map page: loads campaignMap, draws it and applies mapUpdates live.
//
// Query parameters: `country=XX` (ISO 3166-1 alpha-2) focuses one country and
// shows only its activities; `status=PLANNED` or `status=CLOSED` keeps one status.
import './map.css';

import { fetchCampaignMap, subscribeToMapUpdates } from './api.js';
import { EUROPE } from './countries.js';
import { DetailsPanel } from './details.js';
import { CampaignMapState } from './state.js';
import { MapView } from './view.js';

const root = document.getElementById('campaign-map');
const statusLine = document.getElementById('map-status');
const alertBox = document.getElementById('map-alert');
const unplacedBox = document.getElementById('unplaced');

function readOptions() {
  const params = new URLSearchParams(window.location.search);
  const notices = [];

  let countryCode = params.get('country')?.trim().toUpperCase() || null;
  if (countryCode !== null && !(countryCode in EUROPE)) {
    notices.push(`"${params.get('country')}" is not the code of a European country; the whole campaign is shown.`);
    countryCode = null;
  }

  let status = params.get('status')?.trim().toUpperCase() || null;
  if (status !== null && status !== 'PLANNED' && status !== 'CLOSED') {
    notices.push(`"${params.get('status')}" is not an activity status (PLANNED or CLOSED); every activity is shown.`);
    status = null;
  }
  return { countryCode, status, notices };
}

function showAlert(message) {
  alertBox.textContent = message;
  alertBox.hidden = false;
}

const options = readOptions();
if (options.notices.length) {
  showAlert(options.notices.join(' '));
}

const state = new CampaignMapState({ status: options.status });
const details = new DetailsPanel(document.getElementById('details'));
let openTownKey = null;
let liveStatus = 'connecting';

const view = new MapView(document.getElementById('map-area'), {
  focus: options.countryCode,
  onOpenTown: (key) => {
    const town = state.towns().towns.find((t) => t.key === key);
    if (!town) {
      return;
    }
    openTownKey = key;
    details.open(`${town.city} (${town.countryCode})`, town.activities, () => view.markers.get(key));
  },
});

const LIVE_TEXT = {
  connecting: 'connecting to live updates…',
  live: 'live',
  reconnecting: 'connection lost, reconnecting…',
  unavailable: 'live updates unavailable',
};

/** Redraw markers, the status line and an open panel after the activities changed. */
function refresh() {
  const { towns, unplaced } = state.towns();
  view.setTowns(towns);

  const total = state.activities.size;
  const activities = total === 1 ? '1 activity' : `${total} activities`;
  const places = towns.length === 1 ? '1 town' : `${towns.length} towns`;
  const loaded = root.dataset.state === 'ready';
  statusLine.textContent = loaded ? `${activities} in ${places} · ${LIVE_TEXT[liveStatus]}` : LIVE_TEXT[liveStatus];
  root.dataset.activities = String(total);
  root.dataset.lastSequence = state.lastSequence === null ? '' : String(state.lastSequence);

  renderUnplaced(unplaced);

  if (details.isOpen && openTownKey !== null) {
    const town = towns.find((t) => t.key === openTownKey);
    if (town) {
      details.show(`${town.city} (${town.countryCode})`, town.activities);
    } else {
      details.close();
    }
  }
}

function renderUnplaced(unplaced) {
  unplacedBox.hidden = unplaced.length === 0;
  const summary = unplacedBox.querySelector('summary');
  summary.textContent = unplaced.length === 1
    ? '1 activity has no map coordinates'
    : `${unplaced.length} activities have no map coordinates`;
  const items = unplaced.map((activity) => {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `${activity.title}, ${activity.location.city}`;
    button.addEventListener('click', () => {
      openTownKey = null;
      details.open(activity.title, [activity], button);
    });
    item.append(button);
    return item;
  });
  unplacedBox.querySelector('ul').replaceChildren(...items);
}

async function loadOutlines() {
  const response = await fetch(new URL('countries-50m.json', import.meta.url));
  if (!response.ok) {
    throw new Error(`country outlines failed to load: HTTP ${response.status}`);
  }
  view.setOutlines(await response.json());
  root.dataset.outlines = 'ready';
}

// Updates that arrive while the campaignMap snapshot is loading are kept, then
// applied on top of it in order. Applying one that the snapshot already shows changes nothing.
let pending = null;

async function loadSnapshot() {
  pending = [];
  root.dataset.state = 'loading';
  try {
    state.load(await fetchCampaignMap('/graphql', options));
  } catch (error) {
    console.warn(error);
    root.dataset.state = 'error';
    showAlert('The campaign map could not be loaded. Reload the page to try again.');
    pending = null;
    return;
  }
  for (const update of pending) {
    state.apply(update);
  }
  pending = null;
  root.dataset.state = 'ready';
  refresh();
}

function onUpdate(update) {
  if (pending !== null) {
    pending.push(update);
    return;
  }
  if (state.apply(update)) {
    refresh();
  }
}

const webSocketUrl = new URL('/graphql', window.location.href);
webSocketUrl.protocol = webSocketUrl.protocol === 'https:' ? 'wss:' : 'ws:';

let snapshotRequested = false;
subscribeToMapUpdates(webSocketUrl.href, {
  countryCode: options.countryCode,
  afterSequence: () => state.lastSequence,
  onConnected: () => {
    // Without a sequence to resume from, updates during the drop may be lost,
    // so the whole map is loaded again; otherwise the server replays them.
    if (!snapshotRequested || state.lastSequence === null) {
      snapshotRequested = true;
      loadSnapshot();
    }
  },
  onUpdate,
  onStatus: (status) => {
    liveStatus = status;
    root.dataset.live = status;
    // The map is still worth showing when live updates cannot connect.
    if (status !== 'connecting' && status !== 'live' && !snapshotRequested) {
      snapshotRequested = true;
      loadSnapshot();
    }
    refresh();
  },
});

loadOutlines().catch((error) => {
  console.warn(error);
  showAlert('The country outlines could not be loaded. Reload the page to try again.');
});

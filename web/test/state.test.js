// Unit tests of the campaign map's state: snapshot, live updates and grouping by town.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { enumLabel, formatDates } from '../src/map/format.js';
import { CampaignMapState, townKey } from '../src/map/state.js';

function activity(id, overrides = {}) {
  return {
    id,
    title: `Activity ${id}`,
    status: 'PLANNED',
    startsOn: '2027-03-12',
    endsOn: null,
    format: 'IN_PERSON',
    stemTopics: ['PHYSICS'],
    location: { city: 'Lyon', countryCode: 'FR', latitude: 45.76, longitude: 4.84 },
    schoolName: 'Lycée Ampère',
    companyName: 'Aero Works',
    ...overrides,
  };
}

function update(sequence, kind, changed) {
  return { sequence, kind, activity: changed, at: '2027-03-01T10:00:00Z' };
}

test('townKey ignores case and spaces around the city', () => {
  assert.equal(townKey({ city: ' Lyon ', countryCode: 'fr' }), townKey({ city: 'LYON', countryCode: 'FR' }));
  assert.notEqual(townKey({ city: 'Valence', countryCode: 'FR' }), townKey({ city: 'Valence', countryCode: 'ES' }));
});

test('towns groups activities of one town into one entry', () => {
  const state = new CampaignMapState();
  state.load([
    activity('a'),
    activity('b', { status: 'CLOSED', location: { city: 'lyon', countryCode: 'FR', latitude: 45.78, longitude: 4.86 } }),
    activity('c', { location: { city: 'Berlin', countryCode: 'DE', latitude: 52.52, longitude: 13.4 } }),
  ]);

  const { towns, unplaced } = state.towns();

  assert.deepEqual(towns.map((town) => town.city), ['Berlin', 'Lyon']);
  const lyon = towns[1];
  assert.equal(lyon.activities.length, 2);
  assert.equal(lyon.planned, 1);
  assert.equal(lyon.closed, 1);
  assert.ok(Math.abs(lyon.latitude - 45.77) < 1e-9);
  assert.deepEqual(unplaced, []);
});

test('towns lists activities without coordinates apart', () => {
  const state = new CampaignMapState();
  state.load([activity('a', { location: { city: 'Lyon', countryCode: 'FR', latitude: null, longitude: null } })]);

  const { towns, unplaced } = state.towns();

  assert.deepEqual(towns, []);
  assert.deepEqual(unplaced.map((item) => item.id), ['a']);
});

test('apply handles every kind of update', () => {
  const state = new CampaignMapState();
  state.load([activity('a')]);

  assert.equal(state.apply(update(1, 'CREATED', activity('b'))), true);
  assert.equal(state.apply(update(2, 'UPDATED', activity('a', { title: 'Renamed' }))), true);
  assert.equal(state.apply(update(3, 'CLOSED', activity('b', { status: 'CLOSED' }))), true);
  assert.equal(state.apply(update(4, 'DELETED', activity('a'))), true);

  assert.deepEqual([...state.activities.keys()], ['b']);
  assert.equal(state.activities.get('b').status, 'CLOSED');
  assert.equal(state.lastSequence, 4);
});

test('apply skips updates at or below the last sequence', () => {
  const state = new CampaignMapState();
  state.apply(update(5, 'CREATED', activity('a')));

  assert.equal(state.apply(update(5, 'DELETED', activity('a'))), false);
  assert.equal(state.apply(update(3, 'DELETED', activity('a'))), false);
  assert.ok(state.activities.has('a'));
  assert.equal(state.lastSequence, 5);
});

test('status filter drops an activity once it is closed', () => {
  const state = new CampaignMapState({ status: 'PLANNED' });
  state.load([activity('a')]);

  state.apply(update(1, 'CLOSED', activity('a', { status: 'CLOSED' })));
  state.apply(update(2, 'CREATED', activity('b', { status: 'CLOSED' })));

  assert.equal(state.activities.size, 0);
});

test('load keeps the last applied sequence', () => {
  const state = new CampaignMapState();
  state.apply(update(7, 'CREATED', activity('a')));

  state.load([activity('b')]);

  assert.equal(state.lastSequence, 7);
  assert.deepEqual([...state.activities.keys()], ['b']);
});

test('enumLabel writes enum values as words', () => {
  assert.equal(enumLabel('IN_PERSON'), 'In person');
  assert.equal(enumLabel('COMPUTER_SCIENCE'), 'Computer science');
  assert.equal(enumLabel('DATA_AND_AI'), 'Data and AI');
});

test('formatDates shows one date or a range', () => {
  assert.equal(formatDates('2027-03-12', null), '12 Mar 2027');
  assert.equal(formatDates('2027-03-12', '2027-03-12'), '12 Mar 2027');
  assert.equal(formatDates('2027-03-12', '2027-03-14'), '12 Mar 2027 – 14 Mar 2027');
});

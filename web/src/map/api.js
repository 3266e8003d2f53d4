// The campaign map's two calls to the public GraphQL API: the campaignMap
// query over HTTP and the mapUpdates subscription over graphql-transport-ws.
import { createClient } from 'graphql-ws';

const MAP_ACTIVITY_FIELDS = `
  id title status startsOn endsOn format stemTopics
  location { city countryCode latitude longitude }
  schoolName companyName
`;

const CAMPAIGN_MAP = `
  query CampaignMap($countryCode: String, $status: ActivityStatus) {
    campaignMap(countryCode: $countryCode, status: $status) { ${MAP_ACTIVITY_FIELDS} }
  }
`;

const MAP_UPDATES = `
  subscription MapUpdates($countryCode: String, $afterSequence: Int) {
    mapUpdates(countryCode: $countryCode, afterSequence: $afterSequence) {
      sequence kind at activity { ${MAP_ACTIVITY_FIELDS} }
    }
  }
`;

// Waits between reconnection attempts, in milliseconds: doubled after each
// failed attempt up to the maximum, and back to the first after a success.
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15000;

export class GraphQLRequestError extends Error {}

/** Fetch the campaign map's activities; raise GraphQLRequestError on an HTTP or GraphQL error. */
export async function fetchCampaignMap(endpoint, { countryCode, status }) {
  const response = await fetch(endpoint, {
    method: 'POST',
    // application/json keeps the status 200 for GraphQL errors, so they are read from the body.
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: CAMPAIGN_MAP, variables: { countryCode, status } }),
  });
  if (!response.ok) {
    throw new GraphQLRequestError(`campaignMap request failed with HTTP ${response.status}`);
  }
  const body = await response.json();
  if (body.errors?.length) {
    throw new GraphQLRequestError(`campaignMap failed: ${body.errors.map((e) => e.message).join('; ')}`);
  }
  return body.data.campaignMap;
}

/**
 * Keep a mapUpdates subscription open, reconnecting after every drop.
 *
 * Each new subscription passes `afterSequence()` so that the server first
 * replays what was missed. `onConnected(isFirst)` runs once a connection is
 * acknowledged, `onUpdate(update)` for each update, `onStatus(status)` with
 * "connecting", "live", "reconnecting" or "unavailable". A GraphQL error on
 * the subscription is not retried, because the same request would fail the
 * same way; it ends in "unavailable".
 */
export function subscribeToMapUpdates(url, { countryCode, afterSequence, onConnected, onUpdate, onStatus }) {
  let stopped = false;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer = null;
  let client = null;
  let connections = 0;

  const connect = () => {
    onStatus(connections === 0 ? 'connecting' : 'reconnecting');
    client = createClient({
      url,
      lazy: true,
      // Reconnection is done here rather than by graphql-ws, because its own
      // retries would send the first subscription's afterSequence again.
      retryAttempts: 0,
      keepAlive: 10000,
      on: {
        connected: () => {
          retryMs = FIRST_RETRY_MS;
          connections += 1;
          onStatus('live');
          onConnected(connections === 1);
        },
      },
    });

    // Disposing a client can end its subscription a second time; only the first end counts.
    let ended = false;
    const end = () => {
      const first = !ended;
      ended = true;
      return first;
    };

    const variables = { countryCode, afterSequence: afterSequence() };
    client.subscribe(
      { query: MAP_UPDATES, variables },
      {
        next: (result) => {
          if (result.errors?.length) {
            console.warn('mapUpdates returned errors', result.errors);
            return;
          }
          onUpdate(result.data.mapUpdates);
        },
        error: (error) => {
          if (!end()) {
            return;
          }
          if (Array.isArray(error)) {
            console.warn('mapUpdates was rejected; live updates are off', error);
            stop();
            onStatus('unavailable');
            return;
          }
          scheduleReconnect();
        },
        complete: () => {
          if (end()) {
            scheduleReconnect();
          }
        },
      },
    );
  };

  const scheduleReconnect = () => {
    if (stopped) {
      return;
    }
    client?.dispose();
    client = null;
    onStatus('reconnecting');
    retryTimer = setTimeout(connect, retryMs * (0.75 + Math.random() * 0.5));
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };

  const stop = () => {
    stopped = true;
    clearTimeout(retryTimer);
    client?.dispose();
    client = null;
  };

  connect();
  return stop;
}

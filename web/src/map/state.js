// The activities shown on the campaign map, and the rules that change them:
// the initial campaignMap snapshot, then mapUpdates applied in sequence order.

/** Key of the town an activity takes place in: country code and city, case-insensitive. */
export function townKey(location) {
  return `${location.countryCode.toUpperCase()}|${location.city.trim().toLocaleLowerCase()}`;
}

export class CampaignMapState {
  /**
   * @param {{status: string | null}} options - `status` keeps only PLANNED or CLOSED activities, as the
   *   campaignMap argument of the same name does; live updates carry every status, so they are filtered here.
   */
  constructor({ status = null } = {}) {
    this.status = status;
    this.activities = new Map();
    this.lastSequence = null;
  }

  /** Replace every activity with those of a campaignMap result. */
  load(activities) {
    this.activities = new Map();
    for (const activity of activities) {
      this.put(activity);
    }
  }

  /**
   * Apply one mapUpdates event; return false when it was already applied.
   * A replay after a reconnection may repeat updates that arrived before the drop,
   * so anything at or below the last applied sequence is skipped.
   */
  apply(update) {
    if (this.lastSequence !== null && update.sequence <= this.lastSequence) {
      return false;
    }
    this.lastSequence = update.sequence;

    if (update.kind === 'DELETED') {
      this.activities.delete(update.activity.id);
    } else {
      // CREATED, UPDATED and CLOSED all carry the activity as it now is.
      this.put(update.activity);
    }
    return true;
  }

  put(activity) {
    if (this.status !== null && activity.status !== this.status) {
      this.activities.delete(activity.id);
      return;
    }
    this.activities.set(activity.id, activity);
  }

  /**
   * Group the activities by town, sorted by town name. A town's position is the mean of its
   * activities' coordinates; activities without coordinates are returned apart in `unplaced`.
   */
  towns() {
    const groups = new Map();
    const unplaced = [];
    for (const activity of this.activities.values()) {
      const { latitude, longitude } = activity.location;
      if (latitude == null || longitude == null) {
        unplaced.push(activity);
        continue;
      }
      const key = townKey(activity.location);
      if (!groups.has(key)) {
        groups.set(key, { key, city: activity.location.city, countryCode: activity.location.countryCode, activities: [] });
      }
      groups.get(key).activities.push(activity);
    }

    const towns = [...groups.values()].map((town) => {
      town.activities.sort(byStartDate);
      const count = town.activities.length;
      town.latitude = town.activities.reduce((sum, a) => sum + a.location.latitude, 0) / count;
      town.longitude = town.activities.reduce((sum, a) => sum + a.location.longitude, 0) / count;
      town.planned = town.activities.filter((a) => a.status === 'PLANNED').length;
      town.closed = count - town.planned;
      return town;
    });
    towns.sort((a, b) => a.city.localeCompare(b.city) || a.countryCode.localeCompare(b.countryCode));
    return { towns, unplaced };
  }
}

function byStartDate(a, b) {
  return a.startsOn.localeCompare(b.startsOn) || a.title.localeCompare(b.title);
}

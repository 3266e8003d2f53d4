// Text for the values of a MapActivity, in English.

const SPECIAL_WORDS = { AI: 'AI' };

/** Turn an enum value such as COMPUTER_SCIENCE or DATA_AND_AI into "Computer science", "Data and AI". */
export function enumLabel(value) {
  const words = value.split('_').map((word, index) => {
    if (SPECIAL_WORDS[word]) {
      return SPECIAL_WORDS[word];
    }
    const lower = word.toLowerCase();
    return index === 0 ? lower[0].toUpperCase() + lower.slice(1) : lower;
  });
  return words.join(' ');
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

/** Format an ISO date (YYYY-MM-DD) as a calendar date, the same in every time zone. */
export function formatDate(isoDate) {
  const [year, month, day] = isoDate.split('-').map(Number);
  return dateFormat.format(new Date(Date.UTC(year, month - 1, day)));
}

/** Format an activity's dates: one date, or "from – until" when it ends on another day. */
export function formatDates(startsOn, endsOn) {
  if (!endsOn || endsOn === startsOn) {
    return formatDate(startsOn);
  }
  return `${formatDate(startsOn)} – ${formatDate(endsOn)}`;
}

// The panel that shows the public details of a town's activities.
import { enumLabel, formatDates } from './format.js';

function element(name, attributes = {}, text = null) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, value);
  }
  if (text !== null) {
    node.textContent = text;
  }
  return node;
}

function fact(list, term, value) {
  list.append(element('dt', {}, term), element('dd', {}, value));
}

function activityCard(activity) {
  const card = element('article', { class: `activity ${activity.status.toLowerCase()}`, 'data-activity-id': activity.id });
  const heading = element('h3', {}, activity.title);
  // The status is written out, so it does not rest on the card's colour or border.
  const badge = element('span', { class: 'status-badge' }, activity.status === 'CLOSED' ? 'Closed' : 'Planned');
  card.append(heading, badge);

  const facts = element('dl');
  fact(facts, 'Dates', formatDates(activity.startsOn, activity.endsOn));
  fact(facts, 'Format', enumLabel(activity.format));
  fact(facts, 'Topics', activity.stemTopics.map(enumLabel).join(', ') || '–');
  fact(facts, 'School', activity.schoolName);
  fact(facts, 'Company', activity.companyName);
  fact(facts, 'City', `${activity.location.city} (${activity.location.countryCode})`);
  card.append(facts);
  return card;
}

export class DetailsPanel {
  /** @param {HTMLElement} panel - an empty element that the panel is built in; hidden while closed */
  constructor(panel) {
    this.panel = panel;
    this.opener = null;
    this.panel.hidden = true;
    this.panel.setAttribute('role', 'dialog');
    this.panel.setAttribute('aria-labelledby', 'details-heading');

    this.heading = element('h2', { id: 'details-heading', tabindex: '-1' });
    this.closeButton = element('button', { type: 'button', class: 'close', 'aria-label': 'Close details' }, '×');
    this.closeButton.addEventListener('click', () => this.close());
    this.list = element('div', { class: 'activities' });
    const header = element('header');
    header.append(this.heading, this.closeButton);
    this.panel.append(header, this.list);

    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.panel.hidden) {
        event.preventDefault();
        this.close();
      }
    });
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /** Show `activities` under `title`; `opener` gets the focus back when the panel closes. */
  open(title, activities, opener) {
    this.opener = opener ?? document.activeElement;
    this.show(title, activities);
    this.panel.hidden = false;
    this.heading.focus();
  }

  /** Refresh the content of an open panel without moving the focus. */
  show(title, activities) {
    this.heading.textContent = title;
    this.list.replaceChildren(...activities.map(activityCard));
  }

  close() {
    this.panel.hidden = true;
    const opener = typeof this.opener === 'function' ? this.opener() : this.opener;
    if (opener?.isConnected) {
      opener.focus();
    }
    this.opener = null;
  }
}

import {
  relativeTime,
  subtitle,
  ConversationList,
  newestFirst
} from '../state/history';
import { IConversationSummary } from '../tokens';

function summary(id: string, updated: string | number): IConversationSummary {
  return { id, notebook: 'a.ipynb', title: id, updated, message_count: 2 };
}

describe('newestFirst', () => {
  it('orders by time, numbers or ISO strings', () => {
    expect(
      newestFirst([
        summary('old', 5),
        summary('new', 40),
        summary('mid', 10)
      ]).map(c => c.id)
    ).toEqual(['new', 'mid', 'old']);
    expect(
      newestFirst([
        summary('old', '2024-01-02T10:00:00'),
        summary('new', '2024-03-01T09:00:00')
      ]).map(c => c.id)
    ).toEqual(['new', 'old']);
  });
});

describe('ConversationList', () => {
  it('lists a notebook newest first, and says why when it could not', () => {
    const history = new ConversationList();
    history.show('a.ipynb', [summary('x', 1), summary('y', 2)]);
    expect(history.notebook).toBe('a.ipynb');
    expect(history.conversations.map(c => c.id)).toEqual(['y', 'x']);
    expect(history.error).toBeNull();
    history.fail('The TinyAI server answered 500.');
    expect(history.error).toBe('The TinyAI server answered 500.');
    history.show(null, []);
    expect(history.error).toBeNull();
    expect(history.notebook).toBeNull();
  });

  it('opens and closes, telling only real changes', () => {
    const history = new ConversationList();
    let changes = 0;
    history.changed.connect(() => changes++);
    expect(history.open).toBe(false);
    history.setOpen(true);
    history.setOpen(true);
    expect(history.open).toBe(true);
    history.setOpen(false);
    expect(changes).toBe(2);
  });
});

describe('relativeTime', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  it.each([
    ['2026-11-29T11:59:30Z', 'just now'],
    ['2026-11-29T11:55:00Z', '5 min ago'],
    ['2026-11-29T09:00:00Z', '3 h ago'],
    ['2026-11-28T10:00:00Z', 'yesterday'],
    ['2026-11-25T12:00:00Z', '4 days ago'],
    ['2026-10-01T12:00:00Z', '2026-10-01'],
    ['not a date', '']
  ])('%s is %s', (when, text) => {
    expect(relativeTime(when, now)).toBe(text);
  });
});

describe('subtitle', () => {
  const c = (id: string, title: string, last = '') => ({
    id,
    notebook: 'a.ipynb',
    title,
    updated: 1,
    message_count: 2,
    last_prompt: last
  });
  it('tells apart conversations that started alike by their last prompt', () => {
    const a = c('a', 'plot the data', 'now in red');
    const b = c('b', 'plot the data');
    const other = c('o', 'something else');
    expect(subtitle(a, [a, b, other])).toBe('now in red');
    expect(subtitle(b, [a, b, other])).toBe('');
    expect(subtitle(other, [a, b, other])).toBe('');
  });
});

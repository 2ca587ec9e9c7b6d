import { ConversationList, newestFirst } from '../state/history';
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

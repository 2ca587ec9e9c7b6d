import { ScrollFollow } from '../state/scroll';

describe('ScrollFollow', () => {
  it('follows the newest message until the user scrolls up', () => {
    const follow = new ScrollFollow();
    expect(follow.update('c1', 1, '2|0|true')).toBe(true);
    expect(follow.update('c1', 1, '2|40|true')).toBe(true);
    follow.scrolled(false);
    expect(follow.update('c1', 1, '2|80|true')).toBe(false);
    expect(follow.unseen).toBe(true);
  });

  it('counts nothing as unseen when nothing new arrived', () => {
    const follow = new ScrollFollow();
    follow.update('c1', 1, 'a');
    follow.scrolled(false);
    let changes = 0;
    follow.changed.connect(() => changes++);
    expect(follow.update('c1', 1, 'a')).toBe(false); // e.g. a banner changed
    expect(follow.unseen).toBe(false);
    expect(changes).toBe(0);
  });

  it('follows again on send, on opening a conversation, at the bottom and on jump', () => {
    const follow = new ScrollFollow();
    follow.update('c1', 1, 'a');
    follow.scrolled(false);
    expect(follow.update('c1', 2, 'b')).toBe(true); // a prompt was sent, even scrolled up
    follow.scrolled(false);
    expect(follow.update('c2', 0, '')).toBe(true); // another conversation opened
    follow.scrolled(false);
    follow.update('c2', 0, 'x');
    expect(follow.unseen).toBe(true);
    follow.scrolled(true);
    expect(follow.unseen).toBe(false);
    expect(follow.following).toBe(true);
    follow.scrolled(false);
    follow.update('c2', 0, 'y');
    follow.jump();
    expect(follow.unseen).toBe(false);
    expect(follow.following).toBe(true);
  });
});

import { Notices } from '../state/notices';

describe('Notices', () => {
  it('shows each line once, even when the server says it again', () => {
    const notices = new Notices();
    let changes = 0;
    notices.changed.connect(() => changes++);
    notices.add(['bad.gguf: not a GGUF file', 'history set aside']);
    notices.add(['bad.gguf: not a GGUF file']);
    notices.add(undefined);
    notices.add(['history set aside', 'history set aside', 'another']);
    expect(notices.lines).toEqual([
      'bad.gguf: not a GGUF file',
      'history set aside',
      'another'
    ]);
    expect(changes).toBe(2);
  });

  it('does not bring a dismissed line back', () => {
    const notices = new Notices();
    notices.add(['one', 'two']);
    notices.dismiss('one');
    expect(notices.lines).toEqual(['two']);
    notices.add(['one', 'two']);
    expect(notices.lines).toEqual(['two']);
  });
});

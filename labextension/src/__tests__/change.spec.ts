import { applyChange, minimalChange } from '../edits/change';

describe('minimalChange', () => {
  it('replaces only what differs', () => {
    const before =
      'def f(x):\n    for i in x:\n        print(i)\n    return 1\n';
    const after =
      'def f(x):\n    for i in x:\n        print(i + 1)\n    return 1\n';
    const change = minimalChange(before, after)!;
    expect(change.insert).toBe(' + 1');
    expect(before.slice(0, change.from)).toBe(
      'def f(x):\n    for i in x:\n        print(i'
    );
    expect(applyChange(before, change)).toBe(after);
  });

  it('is null for the same text', () => {
    expect(minimalChange('x = 1', 'x = 1')).toBeNull();
  });

  it('handles insertions, deletions and a whole new text', () => {
    for (const [before, after] of [
      ['abc', 'abXbc'],
      ['abXbc', 'abc'],
      ['aaa', 'aaaa'],
      ['', 'x = 1'],
      ['x = 1', ''],
      ['one', 'two']
    ]) {
      expect(applyChange(before, minimalChange(before, after)!)).toBe(after);
    }
  });

  it('never splits a surrogate pair', () => {
    const before = 'print("\u{1F600}")';
    const after = 'print("\u{1F601}")';
    const change = minimalChange(before, after)!;
    expect(change.insert).toBe('\u{1F601}');
    expect(applyChange(before, change)).toBe(after);
  });
});

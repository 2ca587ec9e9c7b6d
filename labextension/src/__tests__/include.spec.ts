import { IncludeChoice, cellKind, cellName } from '../state/include';
import { ContextSource, IContextPiece } from '../tokens';
import { MemoryStore } from './fakes';

/** The active notebook as `gather` sees it: what each source gives now. */
function notebook() {
  const now: Partial<Record<ContextSource, IContextPiece[]>> = {
    cell: [{ label: 'Code (cell 1)', text: 'x = 1' }]
  };
  const asked: ContextSource[] = [];
  const gather = (source: ContextSource) => {
    asked.push(source);
    return [...(now[source] ?? [])];
  };
  return { now, asked, gather };
}

describe('IncludeChoice', () => {
  it('starts at the given source and previews what it gives', () => {
    const { gather } = notebook();
    const include = new IncludeChoice(gather, 'cell', undefined, () => null);
    expect(include.source).toBe('cell');
    expect(include.pieces).toEqual([{ label: 'Code (cell 1)', text: 'x = 1' }]);
    expect(include.summary).toBe('Will send: Code (cell 1) (5 characters)');
  });

  it('says when only the prompt is sent, and when the source gives nothing', () => {
    const { gather } = notebook();
    const include = new IncludeChoice(gather, 'none');
    expect(include.summary).toBe('Only your prompt is sent.');
    include.setSource('error');
    expect(include.pieces).toEqual([]);
    expect(include.summary).toBe('Nothing to include right now.');
  });

  it('reads the notebook again on refresh (another cell, a selection)', () => {
    const { now, gather } = notebook();
    const include = new IncludeChoice(gather, 'cell');
    let changes = 0;
    include.changed.connect(() => changes++);
    now.cell = [{ label: 'Code (cell 2)', text: 'print(x)' }];
    expect(include.summary).toContain('cell 1'); // the preview is as of the last refresh
    include.refresh();
    expect(include.summary).toBe('Will send: Code (cell 2) (8 characters)');
    expect(changes).toBe(1);
  });

  it('gathers afresh for sending, from the chosen source', () => {
    const { now, asked, gather } = notebook();
    const include = new IncludeChoice(gather, 'cell');
    include.setSource('selection');
    now.selection = [{ label: 'Selection (cell 1)', text: 'x' }];
    asked.length = 0;
    expect(include.gather()).toEqual([
      { label: 'Selection (cell 1)', text: 'x' }
    ]);
    expect(asked).toEqual(['selection']);
  });

  it('remembers the user’s choice across a reload; the settings’ default does not override it', () => {
    const store = new MemoryStore();
    const { gather } = notebook();
    const first = new IncludeChoice(gather, 'none', undefined, () => store);
    first.setDefault('cell'); // nothing chosen yet: the default applies
    expect(first.source).toBe('cell');
    first.setSource('none');
    const reloaded = new IncludeChoice(gather, 'cell', undefined, () => store);
    expect(reloaded.source).toBe('none');
    reloaded.setDefault('error'); // the settings load after the page
    expect(reloaded.source).toBe('none');
    expect(reloaded.gather()).toEqual([]);
  });

  it('keeps working when storage is disabled', () => {
    const store = new MemoryStore();
    store.broken = true;
    const { gather } = notebook();
    const include = new IncludeChoice(gather, 'none', undefined, () => store);
    include.setSource('cell');
    expect(include.source).toBe('cell');
  });

  it('drops a removed chip until that piece changes', () => {
    const { now, gather } = notebook();
    const include = new IncludeChoice(gather, 'cell', undefined, () => null);
    include.remove(include.pieces[0]);
    expect(include.pieces).toEqual([]);
    expect(include.gather()).toEqual([]);
    expect(include.summary).toBe('Nothing to include right now.');
    now.cell = [{ label: 'Code (cell 2)', text: 'y = 2' }];
    include.refresh();
    expect(include.pieces).toEqual([{ label: 'Code (cell 2)', text: 'y = 2' }]);
    now.cell = [{ label: 'Code (cell 1)', text: 'x = 1' }];
    include.refresh(); // back on cell 1: attached again, the removal was for then
    expect(include.pieces).toHaveLength(1);
  });

  it('attaches with "nothing" only what the notebook gives for it (the selection)', () => {
    const { now, gather } = notebook();
    const include = new IncludeChoice(gather, 'none', undefined, () => null);
    expect(include.pieces).toEqual([]);
    now.none = [{ label: 'Selection (cell 1)', text: 'x' }];
    include.refresh();
    expect(include.summary).toBe(
      'Will send: Selection (cell 1) (1 characters)'
    );
  });
});

describe('cell labels', () => {
  it('name the cell type and number', () => {
    expect(cellKind('markdown')).toBe('Markdown');
    expect(cellKind('code')).toBe('Code');
    expect(cellKind('raw')).toBe('Raw');
    expect(cellName(1)).toBe('cell 1');
    expect(cellName(5, 3)).toBe('cell 5 [3]');
    expect(cellName(5, null)).toBe('cell 5');
  });
});

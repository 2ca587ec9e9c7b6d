import { IncludeChoice } from '../state/include';
import { ContextSource, IContextPiece } from '../tokens';

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
    const include = new IncludeChoice(gather, 'cell');
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
});

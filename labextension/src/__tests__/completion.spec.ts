import {
  CompletionStream,
  completionSettings,
  completeRequest,
  DEFAULT_COMPLETION_SETTINGS,
  LineReader,
  MAX_SENT_CHARS,
  RecentCells,
  shouldAsk
} from '../completion/wire';

function reads(
  pieces: string[]
): () => Promise<{ done: boolean; value?: string }> {
  const queue = [...pieces];
  return async () =>
    queue.length ? { done: false, value: queue.shift() } : { done: true };
}

describe('completeRequest', () => {
  const cells = [
    { cell_type: 'markdown', source: '# Title' },
    { cell_type: 'code', source: 'import os' },
    { cell_type: 'code', source: 'old text' }
  ];

  it('sends the cells, the cursor and the settings', () => {
    const request = completeRequest({
      cells,
      index: 2,
      text: 'os.path.jo',
      offset: 8,
      recent: [1, 2, 7],
      language: 'python',
      session: 'nb-1',
      settings: {
        ...DEFAULT_COMPLETION_SETTINGS,
        completionModel: 'coder',
        completionMaxLines: 3
      }
    });
    expect(request.cells[2].source).toBe('os.path.jo');
    expect(request.before).toBe('os.path.');
    expect(request.after).toBe('jo');
    expect(request.recent).toEqual([1]); // not the cursor's cell, not a cell that is not there
    expect(request.model).toBe('coder');
    expect(request.max_lines).toBe(3);
    expect(request.session).toBe('nb-1');
  });

  it('leaves out the model and max lines when not set', () => {
    const request = completeRequest({
      cells,
      index: 1,
      text: 'import o',
      offset: 8,
      recent: [],
      language: 'python',
      session: 's',
      settings: DEFAULT_COMPLETION_SETTINGS
    });
    expect('model' in request).toBe(false);
    expect('max_lines' in request).toBe(false);
  });

  it('sends the cells nearest the cursor first when the notebook is large', () => {
    const big = 'x'.repeat(MAX_SENT_CHARS / 2);
    const many = [big, big, 'near', 'cursor', big, big].map(source => ({
      cell_type: 'code',
      source
    }));
    const request = completeRequest({
      cells: many,
      index: 3,
      text: 'cursor',
      offset: 6,
      recent: [],
      language: 'python',
      session: 's',
      settings: DEFAULT_COMPLETION_SETTINGS
    });
    const sent = request.cells.map(cell => cell.source.length);
    expect(request.cells[2].source).toBe('near');
    expect(sent.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_SENT_CHARS);
    expect(sent[0]).toBe(0); // the farthest went first
  });
});

describe('LineReader', () => {
  it('parses JSON lines that arrive in pieces', () => {
    const reader = new LineReader();
    expect(reader.push('{"text": "a"}\n{"te')).toEqual([{ text: 'a' }]);
    expect(reader.push('xt": "b"}\n\n{"stats": {}}\n')).toEqual([
      { text: 'b' },
      { stats: {} }
    ]);
  });
});

describe('CompletionStream', () => {
  it('grows with each text and ends with the stats', async () => {
    const stream = new CompletionStream(
      reads(['{"text": "re"}\n', '{"text": "turn"}\n{"stats": {}}\n'])
    );
    expect(await stream.next()).toBe('re');
    expect(stream.done).toBe(false);
    expect(await stream.next()).toBe('return');
    expect(stream.done).toBe(true);
  });

  it('keeps the server error as a message', async () => {
    const stream = new CompletionStream(
      reads([
        '{"error": {"kind": "model_not_found", "message": "no model named x"}}\n'
      ])
    );
    expect(await stream.next()).toBe('');
    expect(stream.error).toBe('no model named x');
    expect(stream.done).toBe(true);
  });

  it('ends quietly when aborted', async () => {
    let aborted = false;
    const stream = new CompletionStream(
      async () => {
        const error = new Error('aborted');
        error.name = 'AbortError';
        throw error;
      },
      () => (aborted = true)
    );
    stream.abort();
    expect(aborted).toBe(true);
    expect(await stream.next()).toBe('');
    expect(stream.error).toBeNull();
  });
});

describe('RecentCells', () => {
  it('keeps the last edited cells by id, the most recent last', () => {
    const recent = new RecentCells(2);
    recent.touch('a');
    recent.touch('b');
    recent.touch('a');
    recent.touch('c');
    expect(recent.indices(['c', 'b', 'a'])).toEqual([2, 0]);
    expect(recent.indices(['x'])).toEqual([]);
  });
});

describe('completionSettings', () => {
  it('reads the completion entries of the plugin settings', () => {
    expect(
      completionSettings({
        completionEnabled: false,
        completionTrigger: 'manual',
        completionDebounce: 0,
        completionMaxLines: 3,
        completionModel: ' qwen ',
        includeContext: 'cell'
      })
    ).toEqual({
      completionEnabled: false,
      completionTrigger: 'manual',
      completionDebounce: 0,
      completionMaxLines: 3,
      completionModel: 'qwen'
    });
  });

  it('falls back to the defaults for missing or wrong values', () => {
    expect(completionSettings({})).toEqual(DEFAULT_COMPLETION_SETTINGS);
    expect(
      completionSettings({
        completionEnabled: 'yes',
        completionTrigger: 'sometimes',
        completionDebounce: -5,
        completionMaxLines: 2.5,
        completionModel: 7
      })
    ).toEqual(DEFAULT_COMPLETION_SETTINGS);
  });
});

describe('shouldAsk', () => {
  const on = DEFAULT_COMPLETION_SETTINGS;
  it('asks on typing when automatic, with code before the cursor', () => {
    expect(shouldAsk(on, true, 'x = ')).toBe(true);
    expect(shouldAsk(on, true, '  \n')).toBe(false);
  });

  it('never asks when completion is off', () => {
    const off = { ...on, completionEnabled: false };
    expect(shouldAsk(off, true, 'x = ')).toBe(false);
    expect(shouldAsk(off, false, 'x = ')).toBe(false);
  });

  it('asks only on the command when manual', () => {
    const manual = { ...on, completionTrigger: 'manual' as const };
    expect(shouldAsk(manual, true, 'x = ')).toBe(false);
    expect(shouldAsk(manual, false, 'x = ')).toBe(true);
  });
});

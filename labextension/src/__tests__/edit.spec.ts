import {
  EditModel,
  IEditMessage,
  IEditRequest,
  IEditTransport
} from '../edits/model';
import { LineSplitter } from '../edits/transport';

/** A transport whose stream the test drives: `server(m)` sends a line, `end()` ends it. */
class MockTransport implements IEditTransport {
  sent: IEditRequest[] = [];
  signals: AbortSignal[] = [];
  private _onMessage: ((m: IEditMessage) => void) | null = null;
  private _end: (() => void) | null = null;
  private _fail: ((e: Error) => void) | null = null;

  stream(
    request: IEditRequest,
    onMessage: (m: IEditMessage) => void,
    signal: AbortSignal
  ): Promise<void> {
    this.sent.push(request);
    this.signals.push(signal);
    this._onMessage = onMessage;
    return new Promise((resolve, reject) => {
      this._end = resolve;
      this._fail = reject;
    });
  }
  server(message: IEditMessage): void {
    this._onMessage!(message);
  }
  end(): Promise<void> {
    this._end!();
    return Promise.resolve();
  }
  fail(error: Error): Promise<void> {
    this._fail!(error);
    return Promise.resolve();
  }
}

function setup() {
  const transport = new MockTransport();
  const frames: (() => void)[] = [];
  const model = new EditModel({ transport, schedule: cb => frames.push(cb) });
  const flush = () => frames.splice(0).forEach(cb => cb());
  return { transport, model, flush };
}

const CELL = 'total = 0\nfor p in prices:\n    total += p\n';
const tick = () => new Promise(resolve => setTimeout(resolve, 0));

describe('EditModel', () => {
  it('sends the cell, the instruction and the selection', () => {
    const { transport, model } = setup();
    expect(
      model.start(
        { code: CELL, instruction: 'use sum', selection: [0, 9] },
        { model: 'm' }
      )
    ).toBe(true);
    expect(transport.sent).toEqual([
      { code: CELL, instruction: 'use sum', selection: [0, 9], model: 'm' }
    ]);
    expect(model.busy).toBe(true);
    expect(model.start({ code: CELL, instruction: 'again' })).toBe(false);
  });

  it('streams the answer, then holds the proposed cell', async () => {
    const { transport, model, flush } = setup();
    model.start({ code: CELL, error: 'NameError: prices' });
    expect(transport.sent[0].error).toBe('NameError: prices');
    transport.server({ type: 'queued', position: 1 });
    expect(model.phase).toBe('queued');
    expect(model.status).toContain('number 1 in the queue');
    transport.server({ type: 'start', model: 'm' });
    transport.server({ type: 'token', text: '```python\n' });
    transport.server({ type: 'token', text: 'total = sum(prices)\n' });
    flush();
    expect(model.text).toBe('```python\ntotal = sum(prices)\n');
    expect(model.phase).toBe('streaming');
    transport.server({
      type: 'done',
      code: 'total = sum(prices)\n',
      message: null,
      stats: { generated_tokens: 9 } as any
    });
    await transport.end();
    await tick();
    expect(model.phase).toBe('proposed');
    expect(model.proposal).toBe('total = sum(prices)\n');
    expect(model.original).toBe(CELL);
    expect(model.busy).toBe(false);
    model.accept();
    expect(model.phase).toBe('accepted');
  });

  it('says in one line why there is nothing to apply', () => {
    const { transport, model } = setup();
    model.start({ code: CELL, instruction: 'use sum' });
    transport.server({
      type: 'done',
      code: null,
      message: 'TinyAI answered without code.'
    });
    expect(model.phase).toBe('nothing');
    expect(model.proposal).toBeNull();
    expect(model.status).toBe('TinyAI answered without code.');
  });

  it('reports an error line, a failed request and a stream cut short', async () => {
    const { transport, model } = setup();
    model.start({ code: CELL, instruction: 'x' });
    transport.server({
      type: 'error',
      kind: 'invalid_request',
      message: "'selection' must be two offsets."
    });
    expect(model.phase).toBe('failed');
    expect(model.status).toContain("'selection' must be two offsets.");
    model.start({ code: CELL, instruction: 'x' });
    await transport.fail(new Error('Failed to fetch'));
    await tick();
    expect(model.phase).toBe('failed');
    expect(model.status).toContain('Failed to fetch');
    model.start({ code: CELL, instruction: 'x' });
    transport.server({ type: 'token', text: '```python\n' });
    await transport.end();
    await tick();
    expect(model.phase).toBe('failed');
    expect(model.status).toContain('ended early');
  });

  it('stops by aborting the request; rejecting stops it too', async () => {
    const { transport, model } = setup();
    model.start({ code: CELL, instruction: 'x' });
    model.stop();
    expect(transport.signals[0].aborted).toBe(true);
    expect(model.phase).toBe('nothing');
    await transport.fail(new Error('aborted'));
    await tick();
    expect(model.phase).toBe('nothing'); // the aborted stream's end changes nothing
    model.start({ code: CELL, instruction: 'y' });
    model.reject();
    expect(transport.signals[1].aborted).toBe(true);
    expect(model.phase).toBe('rejected');
  });

  it('shows given code as a proposal without asking the model', () => {
    const { transport, model } = setup();
    model.propose(CELL, 'total = sum(prices)\n');
    expect(transport.sent).toEqual([]);
    expect(model.phase).toBe('proposed');
    expect(model.original).toBe(CELL);
  });

  it('records the turn under a conversation id, then continues it in the sidebar once', async () => {
    const { transport, model } = setup();
    model.start(
      { code: CELL, error: 'NameError: prices' },
      { notebook: 'nb.ipynb', conversation: 'c1', cell: 'cell 3' }
    );
    expect(transport.sent[0]).toEqual({
      code: CELL,
      error: 'NameError: prices',
      conversation: 'c1',
      notebook: 'nb.ipynb',
      cell: 'cell 3'
    });
    expect(model.canContinue).toBe(false); // nothing recorded while it streams
    transport.server({ type: 'start', model: 'm' });
    transport.server({
      type: 'done',
      code: 'total = sum(prices)\n',
      conversation: 'c1'
    });
    expect(model.conversation).toBe('c1');
    expect(model.canContinue).toBe(true);
    const opened: string[] = [];
    const open = async (id: string) => {
      opened.push(id);
    };
    expect(await model.continueInSidebar(open)).toBe(true);
    expect(opened).toEqual(['c1']);
    expect(model.continued).toBe(true);
    expect(model.phase).toBe('proposed'); // the proposal stays to accept or reject
    expect(model.canContinue).toBe(false);
    expect(await model.continueInSidebar(open)).toBe(false);
    expect(opened).toEqual(['c1']);
  });

  it('says why the sidebar could not open the conversation, and lets the user retry', async () => {
    const { transport, model } = setup();
    model.start({ code: CELL, instruction: 'use sum' }, { conversation: 'c2' });
    expect(transport.sent[0]).toEqual({
      code: CELL,
      instruction: 'use sum',
      conversation: 'c2'
    });
    transport.server({
      type: 'done',
      code: null,
      message: 'no code',
      conversation: 'c2'
    });
    expect(model.phase).toBe('nothing');
    const failed = await model.continueInSidebar(() =>
      Promise.reject(new Error('no conversation c2'))
    );
    expect(failed).toBe(false);
    expect(model.status).toContain('no conversation c2');
    expect(model.continued).toBe(false);
    expect(model.canContinue).toBe(true);
  });

  it('has nothing to continue without a recorded turn', () => {
    const { transport, model } = setup();
    model.start({ code: CELL, instruction: 'use sum' });
    expect(transport.sent[0].conversation).toBeUndefined();
    transport.server({ type: 'done', code: 'x = 1\n' });
    expect(model.conversation).toBeNull();
    expect(model.canContinue).toBe(false);
    model.propose(CELL, 'y = 2\n');
    expect(model.canContinue).toBe(false);
  });
});

describe('LineSplitter', () => {
  it('hands over whole lines, however the text is cut', () => {
    const lines: string[] = [];
    const split = new LineSplitter(line => lines.push(line));
    split.push('{"a":');
    split.push('1}\n{"b"');
    expect(lines).toEqual(['{"a":1}']);
    split.push(':2}\n\n{"c":3}');
    split.end();
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});

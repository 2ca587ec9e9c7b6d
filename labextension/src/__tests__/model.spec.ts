import { ChatModel } from '../model';
import { ServerMessage } from '../tokens';
import { Frames, MockConnection } from './fakes';

function setup() {
  const connection = new MockConnection();
  const frames = new Frames();
  let n = 0;
  const clock = { ms: 1000 };
  const model = new ChatModel({
    connection,
    schedule: frames.schedule,
    newId: () => `id${++n}`,
    now: () => clock.ms
  });
  let changes = 0;
  model.changed.connect(() => changes++);
  return { connection, frames, model, clock, changes: () => changes };
}

describe('ChatModel', () => {
  it('sends a chat request with the conversation, notebook, context and options', () => {
    const { connection, model } = setup();
    expect(
      model.send('  What does this do?  ', {
        context: [{ label: 'Code (cell 1)', text: 'x = 1' }],
        notebook: 'analysis.ipynb',
        model: 'llamacpp:tiny',
        temperature: 0,
        maxTokens: 64
      })
    ).toBe(true);
    expect(connection.sent).toEqual([
      {
        type: 'chat',
        id: 'id2',
        conversation: 'id1',
        notebook: 'analysis.ipynb',
        prompt: 'What does this do?',
        context: [{ label: 'Code (cell 1)', text: 'x = 1' }],
        model: 'llamacpp:tiny',
        temperature: 0,
        max_tokens: 64
      }
    ]);
    expect(model.messages.map(m => m.role)).toEqual(['user', 'assistant']);
    expect(model.messages[1].streaming).toBe(true);
    expect(model.busy).toBe(true);
    expect(model.phase).toBe('sending');
  });

  it('leaves out options that are not set, and refuses empty prompts', () => {
    const { connection, model } = setup();
    expect(model.send('   ')).toBe(false);
    model.send('hi', { temperature: null, maxTokens: null });
    const request = connection.sent[0] as any;
    expect('temperature' in request).toBe(false);
    expect('max_tokens' in request).toBe(false);
    expect('model' in request).toBe(false);
  });

  it('refuses a second prompt while an answer is running', () => {
    const { connection, model } = setup();
    model.send('one');
    expect(model.send('two')).toBe(false);
    expect(connection.sent).toHaveLength(1);
    expect(model.messages).toHaveLength(2);
  });

  it('applies tokens once per frame, not once per token', () => {
    const { connection, frames, model, changes } = setup();
    model.send('count');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'start', id });
    const before = changes();
    for (const text of ['One', ', two', ', three']) {
      connection.server({ type: 'token', id, text });
    }
    expect(model.messages[1].content).toBe('');
    expect(changes()).toBe(before);
    expect(frames.queue).toHaveLength(1);
    frames.run();
    expect(model.messages[1].content).toBe('One, two, three');
    expect(changes()).toBe(before + 1);
    connection.server({ type: 'token', id, text: '.' });
    frames.run();
    expect(model.messages[1].content).toBe('One, two, three.');
    expect(model.phase).toBe('streaming');
  });

  it('finishes on done: final text, stats, idle, finished signal', () => {
    const { connection, model } = setup();
    const finished: unknown[] = [];
    model.finished.connect((_, stats) => finished.push(stats));
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'token', id, text: 'Par' });
    const stats = {
      model: 'm',
      generated_tokens: 2,
      tokens_per_s: 50,
      finish_reason: 'stop'
    };
    connection.server({ type: 'done', id, stats, text: 'Paris' });
    expect(model.messages[1]).toMatchObject({
      content: 'Paris',
      streaming: false,
      stats
    });
    expect(model.busy).toBe(false);
    expect(model.phase).toBe('idle');
    expect(model.lastStats).toEqual(stats);
    expect(finished).toEqual([stats]);
  });

  it('flushes tokens still waiting for a frame when done arrives without text', () => {
    const { connection, frames, model } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'token', id, text: 'abc' });
    connection.server({ type: 'done', id, stats: { finish_reason: 'stop' } });
    expect(model.messages[1].content).toBe('abc');
    frames.run(); // the frame scheduled before done must not apply anything twice
    expect(model.messages[1].content).toBe('abc');
  });

  it('stops: sends stop with the request id, and ends on the cancelled done', () => {
    const { connection, frames, model } = setup();
    model.send('long');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'token', id, text: 'a' });
    model.stop();
    expect(connection.sent[1]).toEqual({ type: 'stop', id });
    expect(model.phase).toBe('stopping');
    model.stop();
    expect(connection.sent).toHaveLength(2);
    connection.server({ type: 'token', id, text: 'b' });
    expect(model.phase).toBe('stopping');
    connection.server({
      type: 'done',
      id,
      stats: { finish_reason: 'cancelled' }
    });
    frames.run();
    expect(model.busy).toBe(false);
    expect(model.messages[1].content).toBe('ab');
    expect(model.messages[1].stats?.finish_reason).toBe('cancelled');
  });

  it('ignores messages for other requests', () => {
    const { connection, frames, model } = setup();
    model.send('q');
    connection.server({ type: 'token', id: 'someone-else', text: 'nope' });
    connection.server({ type: 'done', id: 'someone-else' });
    frames.run();
    expect(model.busy).toBe(true);
    expect(model.messages[1].content).toBe('');
  });

  it.each([
    ['host', 'The model host failed.'],
    ['model_not_found', 'The model was not found.'],
    ['prompt_too_long', 'The prompt is too long.'],
    ['internal', 'TinyAI failed unexpectedly.'],
    ['a-kind-from-a-newer-server', 'TinyAI could not answer.'],
    [undefined, 'TinyAI could not answer.']
  ])('shows a clear error for kind %s', (kind, title) => {
    const { connection, model } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'token', id, text: 'half' });
    connection.server({
      type: 'error',
      id,
      kind,
      message: 'Restart it with `jupyter tinyai serve`.'
    } as ServerMessage);
    expect(model.banner).toEqual({
      level: 'error',
      text: title,
      details: 'Restart it with `jupyter tinyai serve`.'
    });
    expect(model.busy).toBe(false);
    expect(model.messages[1]).toMatchObject({
      content: 'half',
      failed: true,
      streaming: false
    });
  });

  it('reports a lost connection during an answer, and not when idle', () => {
    const { connection, model } = setup();
    connection.disconnected.emit('code 1006');
    expect(model.banner).toBeNull();
    model.send('q');
    connection.disconnected.emit('code 1006');
    expect(model.busy).toBe(false);
    expect(model.banner?.level).toBe('error');
    expect(model.banner?.text).toBe(
      'Lost the connection to the Jupyter server.'
    );
    expect(model.banner?.details).toContain(
      'Lost the connection to the Jupyter server (code 1006)'
    );
  });

  it('gives an error a short title and keeps the message as its details', () => {
    const { connection, model } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    const message =
      'the model host crashed with SIGILL; its log is ~/.local/share/jupyter/tinyai/host.log (setting c.TinyAI.host).';
    connection.server({ type: 'error', id, kind: 'host', message });
    expect(model.banner).toEqual({
      level: 'error',
      text: 'The model host failed.',
      details: message
    });
  });

  it('keeps the tokens received before the connection was lost', () => {
    const { connection, frames, model } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'token', id, text: 'Half an ans' });
    connection.disconnected.emit('code 1011');
    frames.run();
    expect(model.messages[1]).toMatchObject({
      content: 'Half an ans',
      failed: true,
      streaming: false
    });
  });

  it('turns a failing send into an error instead of hanging', () => {
    const { connection, model } = setup();
    connection.failNext = new Error('socket closed');
    model.send('q');
    expect(model.busy).toBe(false);
    expect(model.banner?.details).toContain('socket closed');
  });

  it('says on the answer how many requests are ahead, and how long it waited', () => {
    const { connection, model, clock } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'queued', id, position: 2 });
    expect(model.phase).toBe('queued');
    expect(model.messages[1].queued).toBe(2);
    connection.server({ type: 'queued', id, position: 1 });
    expect(model.messages[1].queued).toBe(1);
    clock.ms += 3500;
    connection.server({ type: 'start', id });
    expect(model.messages[1].queued).toBeUndefined();
    expect(model.messages[1].waited_s).toBe(3.5);
    connection.server({ type: 'done', id, text: 'x' });
    expect(model.messages[1].waited_s).toBe(3.5);
  });

  it('names the model and the time of each answer, and keeps its reasoning apart', () => {
    const { connection, frames, model, clock } = setup();
    clock.ms = Date.parse('2026-11-29T10:00:00Z');
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'start', id, model: 'llamacpp:SmolLM2' });
    connection.server({ type: 'reasoning', id, text: 'The user asks ' });
    connection.server({ type: 'reasoning', id, text: 'about q.' });
    frames.run();
    expect(model.messages[1].reasoning).toBe('The user asks about q.');
    expect(model.messages[1].content).toBe(''); // reasoning is not the answer
    expect(model.messages[1].model).toBe('SmolLM2');
    connection.server({ type: 'token', id, text: 'A.' });
    connection.server({
      type: 'done',
      id,
      text: 'A.',
      model: 'Qwen3 0.6B',
      time: '2026-11-29T10:00:05Z',
      reasoning: 'The user asks about q.'
    });
    expect(model.messages[0].time).toBe('2026-11-29T10:00:00.000Z');
    expect(model.messages[1]).toMatchObject({
      content: 'A.',
      model: 'Qwen3 0.6B',
      time: '2026-11-29T10:00:05Z',
      reasoning: 'The user asks about q.'
    });
  });

  it('falls back to the stats’ model and the clock when the done frame names neither', () => {
    const { connection, model, clock } = setup();
    clock.ms = Date.parse('2026-11-29T10:00:00Z');
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({
      type: 'done',
      id,
      text: 'A.',
      stats: { model: 'llamacpp:SmolLM2-135M' }
    });
    expect(model.messages[1].model).toBe('SmolLM2-135M');
    expect(model.messages[1].time).toBe('2026-11-29T10:00:00.000Z');
  });

  it('shows the model, time and reasoning of stored messages', () => {
    const { model } = setup();
    model.load({
      id: 'c',
      notebook: null,
      title: 't',
      messages: [
        { role: 'user', content: 'q', time: '2026-11-29T09:00:00Z' },
        {
          role: 'assistant',
          content: 'a',
          model: 'SmolLM2',
          time: '2026-11-29T09:00:02Z',
          reasoning: 'hmm'
        }
      ]
    });
    expect(model.messages[1]).toMatchObject({
      model: 'SmolLM2',
      time: '2026-11-29T09:00:02Z',
      reasoning: 'hmm'
    });
  });

  it('records no wait for an answer that did not queue', () => {
    const { connection, model, clock } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    clock.ms += 900; // reading the prompt is not waiting for another request
    connection.server({ type: 'start', id });
    expect(model.messages[1].waited_s).toBeUndefined();
  });

  it('shows loading progress, then clears it on start', () => {
    const { connection, model } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({
      type: 'progress',
      id,
      fraction: 0.5,
      message: 'Loading SmolLM2'
    });
    expect(model.phase).toBe('loading');
    expect(model.banner?.text).toBe('Loading SmolLM2 50%');
    connection.server({ type: 'start', id });
    expect(model.banner).toBeNull();
    expect(model.phase).toBe('streaming');
  });

  it('keeps notices on the answer they belong to', () => {
    const { connection, model } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'notice', id, text: 'The context was trimmed.' });
    expect(model.messages[1].notices).toEqual(['The context was trimmed.']);
  });

  it('continues a loaded conversation and starts new ones with new ids', () => {
    const { connection, model } = setup();
    model.load({
      id: 'saved',
      notebook: 'nb.ipynb',
      title: 'Earlier',
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b', stats: { generated_tokens: 1 } },
        { role: 'system', content: 'hidden' }
      ]
    });
    expect(model.messages.map(m => m.content)).toEqual(['a', 'b']);
    model.send('c');
    expect(connection.sent[0]).toMatchObject({
      conversation: 'saved',
      notebook: 'nb.ipynb'
    });
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'done', id, text: 'd' });
    model.newChat('other.ipynb');
    expect(model.messages).toHaveLength(0);
    expect(model.conversationId).not.toBe('saved');
    model.send('e');
    expect(connection.sent[1]).toMatchObject({
      notebook: 'other.ipynb',
      conversation: model.conversationId
    });
  });

  it('stops the running answer when a new chat starts', () => {
    const { connection, model } = setup();
    model.send('q');
    const id = (connection.sent[0] as any).id;
    model.newChat();
    expect(connection.sent[1]).toEqual({ type: 'stop', id });
    expect(model.busy).toBe(false);
    connection.server({ type: 'token', id, text: 'late' });
    expect(model.messages).toHaveLength(0);
  });

  it('lets go of the connection when disposed', () => {
    const { connection, model } = setup();
    model.dispose();
    expect(model.send('q')).toBe(false);
    connection.server({ type: 'token', id: 'x', text: 'y' });
    expect(model.isDisposed).toBe(true);
  });
});

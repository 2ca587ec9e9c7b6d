import { ChatModel } from '../model';
import { Frames, MockConnection } from './fakes';

function setup() {
  const connection = new MockConnection();
  const frames = new Frames();
  let n = 0;
  const model = new ChatModel({
    connection,
    schedule: frames.schedule,
    newId: () => `id${++n}`
  });
  return { connection, frames, model };
}

describe('ChatModel reasoning', () => {
  it('keeps reasoning frames apart from the answer, then takes done as the whole', () => {
    const { connection, frames, model } = setup();
    model.send('What is 2 + 2?');
    const id = (connection.sent[0] as any).id;
    connection.server({ type: 'start', id });
    connection.server({ type: 'reasoning', id, text: 'Two plus ' });
    connection.server({ type: 'reasoning', id, text: 'two.' });
    frames.run();
    const answer = model.messages[1];
    expect(answer.reasoning).toBe('Two plus two.');
    expect(answer.content).toBe('');
    expect(model.phase).toBe('streaming');
    connection.server({ type: 'token', id, text: '4' });
    connection.server({
      type: 'done',
      id,
      text: '4',
      reasoning: 'Two plus two.',
      stats: { model: 'm', finish_reason: 'stop' } as any
    });
    expect(answer.content).toBe('4');
    expect(answer.reasoning).toBe('Two plus two.');
    expect(answer.streaming).toBe(false);
  });

  it('shows the reasoning of a saved answer, and none where there was none', () => {
    const { model } = setup();
    model.load({
      id: 'c',
      notebook: null,
      title: 't',
      updated: '',
      model: null,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '4', reasoning: 'Two plus two.' },
        { role: 'user', content: 'q2' },
        { role: 'assistant', content: '6' }
      ]
    } as any);
    expect(model.messages.map(m => m.reasoning)).toEqual([
      undefined,
      'Two plus two.',
      undefined,
      undefined
    ]);
  });
});

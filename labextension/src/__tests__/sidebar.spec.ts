import { ChatModel } from '../model';
import { LastConversation } from '../state/resume';
import { SidebarModel } from '../state/sidebar';
import {
  ContextSource,
  DEFAULT_SETTINGS,
  IChatRequest,
  IContextPiece,
  ISettings
} from '../tokens';
import { FakeApi, Frames, MemoryStore, MockConnection } from './fakes';

/** Let the fake API's answers and what they trigger run. */
const settle = () => new Promise(resolve => setTimeout(resolve, 0));

function setup(settings: Partial<ISettings> = {}) {
  const connection = new MockConnection();
  let n = 0;
  const chat = new ChatModel({
    connection,
    schedule: new Frames().schedule,
    newId: () => `new${++n}`
  });
  const api = new FakeApi();
  const store = new MemoryStore();
  // the active notebook, and what each Include source gives in it now
  const env: {
    notebook: string | null;
    context: Partial<Record<ContextSource, IContextPiece[]>>;
  } = {
    notebook: 'a.ipynb',
    context: { cell: [{ label: 'Code (cell 1)', text: 'x = 1' }] }
  };
  const model = new SidebarModel({
    chat,
    api,
    notebook: () => env.notebook,
    gather: source => [...(env.context[source] ?? [])],
    settings: () => ({ ...DEFAULT_SETTINGS, ...settings }),
    storage: () => store
  });
  const requests = () =>
    connection.sent.filter(m => m.type === 'chat') as IChatRequest[];
  /** The server answers the last request. */
  const answer = (stats = {}) => {
    const id = requests()[requests().length - 1].id;
    connection.server({ type: 'start', id });
    connection.server({ type: 'done', id, text: 'Paris.', stats });
  };
  const banners: (string | null)[] = [];
  chat.changed.connect(() => banners.push(chat.banner?.text ?? null));
  return { chat, api, store, env, model, requests, answer, banners };
}

describe('SidebarModel', () => {
  it('refresh reads the models, the status and the notebook’s conversations', async () => {
    const { api, model } = setup();
    api.statusReply = {
      model: { id: 'llamacpp:a', name: 'A', backend: 'llamacpp' },
      backend: 'llamacpp'
    };
    await model.refresh();
    expect(api.calls.sort()).toEqual([
      'conversations ', // the chats started with no notebook open
      'conversations a.ipynb',
      'models',
      'status'
    ]);
    expect(model.picker.options.map(o => o.id)).toEqual([
      'llamacpp:a',
      'llamacpp:b'
    ]);
    expect(model.status.text).toBe('A'); // the backend is not repeated
    expect(model.history.notebook).toBe('a.ipynb');
  });

  it('sends the picked model, what Include gives now, the notebook and the settings', async () => {
    const { api, env, model, requests } = setup({
      temperature: 0.2,
      maxTokens: 64,
      includeContext: 'cell'
    });
    await model.refresh();
    env.context.cell = [{ label: 'Code (cell 2)', text: 'y = 2' }]; // moved since the preview
    expect(model.send('  What is x?  ')).toBe(true);
    expect(requests()).toEqual([
      expect.objectContaining({
        prompt: 'What is x?',
        notebook: 'a.ipynb',
        model: 'llamacpp:a',
        context: [{ label: 'Code (cell 2)', text: 'y = 2' }],
        temperature: 0.2,
        max_tokens: 64
      })
    ]);
    expect(api.calls).not.toContain('loadModel llamacpp:a');
  });

  it('does not send an empty prompt, nor a second one while an answer runs', async () => {
    const { model, requests } = setup();
    expect(model.send('   ')).toBe(false);
    expect(model.send('one')).toBe(true);
    expect(model.send('two')).toBe(false);
    expect(requests().map(r => r.prompt)).toEqual(['one']);
  });

  it("sends with the host's model, whoever loaded it (one model state)", async () => {
    const { api, model, requests } = setup();
    api.modelList = { ...api.modelList, loaded: 'llamacpp:b' };
    await model.refresh();
    expect(model.picker.chosen).toBe('llamacpp:b');
    model.send('hi');
    expect(requests()[0].model).toBe('llamacpp:b');
  });

  it('recalls the last prompt of the chat shown', () => {
    const { model, answer } = setup();
    expect(model.lastPrompt).toBeNull();
    model.send('first');
    answer();
    model.send('  second  ');
    answer();
    expect(model.lastPrompt).toBe('second');
    model.newChat();
    expect(model.lastPrompt).toBeNull();
  });

  it('attaches nothing by default', () => {
    const { model, requests } = setup();
    expect(model.include.source).toBe('none');
    model.send('hi');
    expect(requests()[0].context).toEqual([]);
  });

  it('includes nothing when the choice is nothing', () => {
    const { model, requests } = setup({ includeContext: 'none' });
    expect(model.include.summary).toBe('Only your prompt is sent.');
    model.send('hi');
    expect(requests()[0].context).toEqual([]);
    model.include.setSource('cell');
    expect(model.include.summary).toBe(
      'Will send: Code (cell 1) (5 characters)'
    );
  });

  it('loads a picked model, saying so meanwhile, then lists it as loaded', async () => {
    const { api, model, banners } = setup();
    await model.refresh();
    api.calls = [];
    await model.pickModel('llamacpp:b');
    expect(api.calls).toEqual(['loadModel llamacpp:b', 'models', 'status']);
    expect(banners).toEqual(['Loading llamacpp:b…', null]);
    expect(model.picker.chosen).toBe('llamacpp:b');
    expect(model.picker.options[1].label).toBe('B (loaded)');
    api.calls = [];
    await model.pickModel('llamacpp:b'); // already loaded: nothing to do
    expect(api.calls).toEqual([]);
  });

  it('says why a model could not be loaded', async () => {
    const { api, model, chat } = setup();
    await model.refresh();
    api.failing.loadModel = 'Not enough memory for llamacpp:b.';
    await model.pickModel('llamacpp:b');
    expect(chat.banner).toEqual({
      level: 'error',
      text: 'Not enough memory for llamacpp:b.'
    });
  });

  it('shows each server warning once, from the model list and the history', async () => {
    const { api, model } = setup();
    api.modelList = {
      ...api.modelList,
      warnings: [{ message: 'Cannot reach gpu-box.', remote: 'gpu-box' }]
    };
    api.notices = ['broken.json was set aside as broken.json.damaged-1'];
    await model.refresh();
    await model.refresh();
    expect(model.notices.lines).toEqual([
      'Cannot reach gpu-box.',
      'broken.json was set aside as broken.json.damaged-1'
    ]);
    model.notices.dismiss('Cannot reach gpu-box.');
    await model.refresh();
    expect(model.notices.lines).toHaveLength(1);
    expect(model.picker.options[2]).toMatchObject({
      id: null,
      label: 'gpu-box: not available'
    });
  });

  it('reopens the conversation the notebook showed last, after a reload', async () => {
    const { api, store, model, chat } = setup();
    api.add('older', 'a.ipynb', 1);
    api.add('newer', 'a.ipynb', 2);
    api.add('elsewhere', 'b.ipynb', 3);
    store.setItem(LastConversation.key('a.ipynb'), 'older');
    await model.refresh();
    expect(chat.conversationId).toBe('older');
    expect(chat.messages.map(m => m.content)).toEqual([
      'question older',
      'answer older'
    ]);
    expect(model.history.conversations.map(c => c.id)).toEqual([
      'newer',
      'older'
    ]);
  });

  it('reopens the newest conversation when none is remembered or storage is off', async () => {
    for (const broken of [false, true]) {
      const { api, store, model, chat } = setup();
      store.broken = broken;
      api.add('older', 'a.ipynb', 1);
      api.add('newer', 'a.ipynb', 2);
      await model.refresh();
      expect(chat.conversationId).toBe('newer');
    }
  });

  it('reopens nothing after New chat, over a chat under way, or a second time', async () => {
    const first = setup();
    first.api.add('old', 'a.ipynb', 1);
    first.model.newChat();
    await first.model.refresh();
    expect(first.chat.messages).toEqual([]);

    const second = setup();
    second.api.add('old', 'a.ipynb', 1);
    second.model.send('a question before the list came');
    await second.model.refresh();
    expect(second.chat.messages[0].content).toBe(
      'a question before the list came'
    );

    const third = setup();
    third.api.add('old', 'a.ipynb', 1);
    third.api.add('older', 'a.ipynb', 0);
    await third.model.refresh();
    await third.model.deleteConversation('old'); // the one shown: the chat empties
    expect(third.chat.messages).toEqual([]);
    expect(third.chat.conversationId).not.toBe('older');
  });

  it('on a notebook switch, shows that notebook’s last conversation', async () => {
    const { api, env, model, chat } = setup({ includeContext: 'cell' });
    api.add('in-a', 'a.ipynb', 1);
    api.add('in-b', 'b.ipynb', 1);
    await model.refresh();
    expect(chat.conversationId).toBe('in-a');
    env.notebook = 'b.ipynb';
    env.context = { cell: [{ label: 'Code (cell 3)', text: 'b = 3' }] };
    model.notebookChanged();
    expect(chat.notebook).toBe('b.ipynb');
    expect(model.include.pieces[0].label).toBe('Code (cell 3)');
    await settle();
    expect(chat.conversationId).toBe('in-b');
    expect(model.history.notebook).toBe('b.ipynb');
  });

  it('leaves an answer under way alone when the notebook changes', async () => {
    const { env, model, chat, requests } = setup();
    model.send('still answering');
    const conversation = chat.conversationId;
    env.notebook = 'b.ipynb';
    model.notebookChanged();
    expect([chat.busy, chat.notebook, chat.conversationId]).toEqual([
      true,
      'a.ipynb',
      conversation
    ]);
    expect(requests()).toHaveLength(1);
  });

  it('after an answer: remembers the conversation, shows its figures, lists it', async () => {
    const { api, store, model, chat, answer } = setup();
    await model.refresh();
    model.send('What is the capital of France?');
    api.calls = [];
    answer({ model: 'llamacpp:a', backend: 'llamacpp', tokens_per_s: 70 });
    await settle();
    expect(store.getItem(LastConversation.key('a.ipynb'))).toBe(
      chat.conversationId
    );
    expect(model.status.text).toBe('llamacpp:a · 70.0 tokens/s');
    expect(api.calls).toEqual(['conversations a.ipynb', 'conversations ']);
  });

  it('continues a conversation from an inline explanation', async () => {
    const { api, store, model, chat } = setup();
    model.history.setOpen(true);
    model.showConversation({
      id: 'inline-1',
      notebook: 'a.ipynb',
      title: 'Explanation of this cell',
      messages: [
        { role: 'user', content: 'Explain' },
        { role: 'assistant', content: 'It adds.' }
      ]
    });
    expect(chat.conversationId).toBe('inline-1');
    expect(store.getItem(LastConversation.key('a.ipynb'))).toBe('inline-1');
    expect(model.history.open).toBe(false);
    await settle();
    expect(api.kept).toEqual(['inline-1']); // listed in History from now on
  });

  it('History reads the list when opened; opening one closes it', async () => {
    const { api, model, chat } = setup();
    api.add('c1', 'a.ipynb', 1);
    model.newChat();
    model.toggleHistory();
    expect(model.history.open).toBe(true);
    await settle();
    expect(model.history.conversations.map(c => c.id)).toEqual(['c1']);
    await model.openConversation('c1');
    expect([chat.conversationId, model.history.open]).toEqual(['c1', false]);
  });

  it('says what failed: banner, status line or the list itself', async () => {
    const { api, model, chat } = setup();
    api.failing = {
      models: 'Cannot reach the Jupyter server.',
      status: 'The TinyAI host is not running.',
      conversations: 'The TinyAI server answered 500.'
    };
    await model.refresh();
    expect(chat.banner?.text).toBe('Cannot reach the Jupyter server.');
    expect([model.status.text, model.status.error]).toEqual([
      'The TinyAI host is not running.',
      true
    ]);
    expect(model.history.error).toBe('The TinyAI server answered 500.');
    await model.openConversation('missing');
    expect(chat.banner).toEqual({
      level: 'error',
      text: 'No conversation missing.'
    });
  });

  it('keeps a conversation whose deletion failed, saying why', async () => {
    const { api, model, chat } = setup();
    api.add('keep', 'a.ipynb', 1);
    model.newChat(); // 'keep' is listed, not shown
    await model.refresh();
    api.failing.deleteConversation = 'Permission denied.';
    await model.deleteConversation('keep');
    expect(model.history.conversations).toEqual([]);
    await model.settleDelete();
    expect(chat.banner?.text).toBe('Permission denied.');
    expect(model.history.conversations.map(c => c.id)).toEqual(['keep']);
  });

  it('deletes after a delay that Undo cancels', async () => {
    jest.useFakeTimers();
    try {
      const { api, model, chat } = setup();
      api.add('c1', 'a.ipynb', 2);
      api.add('c2', 'a.ipynb', 1);
      await model.refresh();
      expect(chat.conversationId).toBe('c1');
      await model.deleteConversation('c1'); // the one shown: the chat empties
      expect(chat.messages).toEqual([]);
      expect(model.history.pending?.id).toBe('c1');
      expect(model.history.conversations.map(c => c.id)).toEqual(['c2']);
      await model.undoDelete();
      expect(model.history.pending).toBeNull();
      expect(model.history.conversations.map(c => c.id)).toEqual(['c1', 'c2']);
      expect(chat.conversationId).toBe('c1'); // shown again
      expect(api.calls).not.toContain('deleteConversation c1');

      await model.deleteConversation('c2');
      jest.advanceTimersByTime(8000);
      jest.useRealTimers();
      await settle();
      await settle();
      expect(api.calls).toContain('deleteConversation c2');
      expect(model.history.pending).toBeNull();
      expect(model.history.conversations.map(c => c.id)).toEqual(['c1']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps a chat started with no notebook when one opens, listed under its own heading', async () => {
    const { api, env, model, chat, requests, answer } = setup();
    env.notebook = null;
    await model.refresh();
    model.send('hello before any notebook');
    expect(requests()[0].notebook).toBeNull();
    answer();
    api.add(chat.conversationId, null, 5);
    api.add('in-a', 'a.ipynb', 1);
    env.notebook = 'a.ipynb';
    model.notebookChanged();
    await settle();
    expect(chat.messages[0].content).toBe('hello before any notebook');
    expect(model.history.conversations.map(c => c.id)).toEqual(['in-a']);
    expect(model.history.loose.map(c => c.id)).toEqual([chat.conversationId]);
    model.send('and a follow-up');
    expect(requests()[1].notebook).toBeNull(); // it stays a chat of no notebook
  });
});

describe('LastConversation', () => {
  it('keeps the storage key of earlier versions (one per notebook path)', () => {
    expect(LastConversation.key('dir/a.ipynb')).toBe(
      'jupyter-tinyai:last:dir/a.ipynb'
    );
    expect(LastConversation.key(null)).toBe('jupyter-tinyai:last:');
  });
});

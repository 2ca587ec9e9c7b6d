import { ModelPicker } from '../state/picker';
import { IModelList } from '../tokens';
import { modelInfo, snapshot } from './fakes';

function list(overrides: Partial<IModelList> = {}): IModelList {
  return {
    models: [
      modelInfo('llamacpp:small', 'Small'),
      modelInfo('llamacpp:big', 'Big'),
      modelInfo('llamacpp:nameless')
    ],
    loaded: null,
    default: 'llamacpp:small',
    ...overrides
  };
}

describe('ModelPicker', () => {
  it("starts at the host's loaded model, whoever loaded it; else the default", () => {
    const picker = new ModelPicker();
    picker.update(list({ loaded: 'llamacpp:big' }), '');
    expect(picker.chosen).toBe('llamacpp:big');
    expect(picker.loaded).toBe('llamacpp:big');
    const fresh = new ModelPicker();
    fresh.update(list(), '');
    expect(fresh.chosen).toBe('llamacpp:small');
  });

  it('prefers the configured default (the setting) to the server default', () => {
    const picker = new ModelPicker();
    picker.update(list(), 'llamacpp:big');
    expect(picker.chosen).toBe('llamacpp:big');
  });

  it('falls back to the first model when the default is not listed', () => {
    const picker = new ModelPicker();
    picker.update(list({ default: 'llamacpp:gone' }), 'llamacpp:gone-too');
    expect(picker.chosen).toBe('llamacpp:small');
    picker.update(list({ models: [], default: null }), '');
    expect(picker.chosen).toBe('');
  });

  it("keeps the user's pick across refreshes while it is listed and nothing is loaded", () => {
    const picker = new ModelPicker();
    picker.update(list(), '');
    picker.choose('llamacpp:nameless');
    picker.update(list(), 'llamacpp:big');
    expect(picker.chosen).toBe('llamacpp:nameless');
    picker.update(
      list({ models: [modelInfo('llamacpp:big', 'Big')], default: null }),
      ''
    );
    expect(picker.chosen).toBe('llamacpp:big');
  });

  it('labels models by name (else id), marks the loaded one, and explains each', () => {
    const picker = new ModelPicker();
    picker.update(list({ loaded: 'llamacpp:big' }), '');
    expect(picker.options.map(o => o.label)).toEqual([
      'Small',
      'Big (loaded)',
      'llamacpp:nameless'
    ]);
    expect(picker.options.map(o => o.loaded)).toEqual([false, true, false]);
    expect(picker.options[0].title).toBe('llamacpp:small · llamacpp · Q4_1');
  });

  it('shows a remote that is down, not pickable, and no other warning', () => {
    const picker = new ModelPicker();
    picker.update(
      list({
        warnings: [
          {
            message: 'Cannot reach lab-gpu: connection refused',
            remote: 'lab-gpu'
          },
          { message: 'bad.gguf: not a GGUF file' }
        ]
      }),
      ''
    );
    const remote = picker.options[picker.options.length - 1];
    expect(picker.options).toHaveLength(4);
    expect(remote).toEqual({
      id: null,
      label: 'lab-gpu: not available',
      name: 'lab-gpu',
      title: 'Cannot reach lab-gpu: connection refused',
      loaded: false
    });
  });

  it('says a pick needs loading only when it is not the loaded model', () => {
    const picker = new ModelPicker();
    picker.update(list({ loaded: 'llamacpp:small' }), '');
    const changes: string[] = [];
    picker.changed.connect(() => changes.push(picker.chosen));
    expect(picker.choose('llamacpp:small')).toBe(false);
    expect(picker.choose('llamacpp:big')).toBe(true);
    expect(picker.chosen).toBe('llamacpp:big');
    expect(picker.choose('')).toBe(false);
    expect(changes).toEqual(['llamacpp:big', '']);
  });

  it('follows the host: a model picked elsewhere becomes the choice and is marked', () => {
    const picker = new ModelPicker();
    picker.update(list(), '');
    const big = { id: 'llamacpp:big', name: 'Big', source: 'path' };
    expect(
      picker.follow(
        snapshot({
          event: 'loading',
          state: 'loading',
          model: null,
          loading: big
        })
      )
    ).toBe(false);
    expect([picker.chosen, picker.loading]).toEqual([
      'llamacpp:big',
      'llamacpp:big'
    ]);
    expect(picker.options[1].label).toBe('Big (loading…)');
    picker.follow(snapshot({ model: big }));
    expect([picker.chosen, picker.loaded, picker.loading]).toEqual([
      'llamacpp:big',
      'llamacpp:big',
      null
    ]);
    expect(picker.options[1].label).toBe('Big (loaded)');
    // a refresh of the list keeps the host's model, not the list's stale "loaded"
    picker.update(list({ loaded: 'llamacpp:small' }), '');
    expect(picker.chosen).toBe('llamacpp:big');
  });

  it('says when the host has a model the list does not have yet (read it again)', () => {
    const picker = new ModelPicker();
    picker.update(list(), '');
    const added = { id: 'llamacpp:new', name: 'New', source: 'added' };
    expect(picker.follow(snapshot({ model: added }))).toBe(true);
    picker.update(
      list({ models: [...list().models, modelInfo('llamacpp:new', 'New')] }),
      ''
    );
    expect(picker.chosen).toBe('llamacpp:new');
    expect(picker.options.map(o => o.label)).toContain('New (loaded)');
  });

  it('knows when the bundled model is in use, the hint for a better one, and a single model', () => {
    const picker = new ModelPicker();
    const bundled = {
      ...modelInfo('llamacpp:small', 'Small'),
      source: 'bundled'
    };
    picker.update(list({ models: [bundled], hint: null }), '');
    expect([picker.bundled, picker.hint, picker.single]).toEqual([
      true,
      null,
      true
    ]);
    picker.update(
      list({
        models: [bundled, modelInfo('llamacpp:big', 'Big')],
        hint: {
          text: 'For real work get Qwen',
          command: 'jupyter tinyai pull qwen3-4b-instruct'
        }
      }),
      ''
    );
    expect(picker.single).toBe(false);
    expect(picker.hint?.command).toBe('jupyter tinyai pull qwen3-4b-instruct');
    picker.follow(
      snapshot({ model: { id: 'llamacpp:big', name: 'Big', source: 'path' } })
    );
    expect(picker.bundled).toBe(false);
  });

  it('redraws on a new list only when something changed', () => {
    const picker = new ModelPicker();
    let changes = 0;
    picker.changed.connect(() => (changes += 1));
    picker.update(list(), '');
    picker.update(list(), '');
    expect(changes).toBe(1);
    picker.update(list({ models: [modelInfo('llamacpp:new', 'New')] }), '');
    expect([changes, picker.chosen]).toEqual([2, 'llamacpp:new']);
  });

  it('"Get more models…" calls the callback given to the picker', () => {
    const picker = new ModelPicker();
    let opened = 0;
    picker.getMoreModels(); // none given: nothing happens
    picker.onGetMoreModels = () => (opened += 1);
    picker.getMoreModels();
    expect(opened).toBe(1);
  });
});

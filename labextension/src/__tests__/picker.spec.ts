import { ModelPicker } from '../state/picker';
import { IModelList } from '../tokens';
import { modelInfo } from './fakes';

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
  it('starts at the default model, not at the model another client loaded', () => {
    const picker = new ModelPicker();
    picker.update(list({ loaded: 'llamacpp:big' }), '');
    expect(picker.chosen).toBe('llamacpp:small');
    expect(picker.loaded).toBe('llamacpp:big');
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

  it("keeps the user's pick across refreshes while it is listed", () => {
    const picker = new ModelPicker();
    picker.update(list(), '');
    picker.choose('llamacpp:nameless');
    picker.update(list({ loaded: 'llamacpp:big' }), 'llamacpp:big');
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
});

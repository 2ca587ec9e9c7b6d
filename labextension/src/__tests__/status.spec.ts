import { StatusLine } from '../state/status';
import { snapshot } from './fakes';

const BIG = { id: 'llamacpp:big', name: 'Big', backend: 'llamacpp' };

describe('StatusLine', () => {
  it('shows the loaded model by name, where it runs and its last speed, without repeating the backend', () => {
    const status = new StatusLine();
    status.showStatus({
      model: { id: 'llamacpp:small', name: 'Small', backend: 'llamacpp' },
      backend: 'llamacpp',
      placement: 'CPU, 2 threads',
      last: { model: 'llamacpp:small', tokens_per_s: 71.26 }
    });
    expect(status.text).toBe('Small · CPU, 2 threads · 71.3 tokens/s');
    expect(status.error).toBe(false);
  });

  it('says when no model is loaded', () => {
    const status = new StatusLine();
    status.showStatus({ model: null });
    expect(status.text).toBe('no model loaded');
  });

  it("shows an answer's figures with its placement", () => {
    const status = new StatusLine();
    status.showStats('llamacpp:small', {
      model: 'llamacpp:small',
      backend: 'llamacpp',
      placement: 'Metal, 30/30 layers',
      tokens_per_s: 9
    });
    expect(status.text).toBe(
      'llamacpp:small · Metal, 30/30 layers · 9.0 tokens/s'
    );
  });

  it('says "Loading X…" while the host loads a model (the first answer too)', () => {
    const status = new StatusLine();
    status.follow(
      snapshot({
        event: 'loading',
        state: 'loading',
        model: null,
        loading: BIG,
        placement: null
      })
    );
    expect([status.text, status.error]).toEqual(['Loading Big…', false]);
    status.follow(snapshot({ model: BIG, placement: 'CPU, 2 threads' }));
    expect(status.text).toBe('Big · CPU, 2 threads');
  });

  it("shows the current model's speed only, whoever asked (a magic's answer too)", () => {
    const status = new StatusLine();
    status.follow(
      snapshot({
        event: 'answered',
        last: { model: 'llamacpp:small', tokens_per_s: 70 }
      })
    );
    expect(status.text).toBe('Small · CPU, 2 threads · 70.0 tokens/s');
    // after a switch the old model's figures are not shown as the new one's
    status.follow(
      snapshot({
        model: BIG,
        last: { model: 'llamacpp:small', tokens_per_s: 70 }
      })
    );
    expect(status.text).toBe('Big · CPU, 2 threads');
    status.showStatus({
      model: { id: 'llamacpp:big', name: 'Big', backend: 'llamacpp' },
      last: { model: 'llamacpp:small', tokens_per_s: 70 }
    });
    expect(status.text).toBe('Big');
  });

  it('says a load failed, as an error, until the next state', () => {
    const status = new StatusLine();
    status.follow(
      snapshot({ event: 'failed', error: 'big: not enough memory' })
    );
    expect([status.text, status.error]).toEqual([
      'Could not load big: not enough memory',
      true
    ]);
    status.follow(snapshot({ event: 'answered' }));
    expect(status.error).toBe(false);
  });

  it('shows why the status could not be read, as an error until it can', () => {
    const status = new StatusLine();
    status.showError('Cannot reach the Jupyter server.');
    expect([status.text, status.error]).toEqual([
      'Cannot reach the Jupyter server.',
      true
    ]);
    status.showStatus({ model: null });
    expect(status.error).toBe(false);
  });
});

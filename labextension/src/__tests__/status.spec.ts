import { StatusLine } from '../state/status';

describe('StatusLine', () => {
  it('shows the loaded model, its backend and the last speed', () => {
    const status = new StatusLine();
    status.showStatus({
      model: { id: 'llamacpp:small', name: 'Small', backend: 'llamacpp' },
      backend: 'llamacpp',
      last: { tokens_per_s: 71.26 }
    });
    expect(status.text).toBe('Small · llamacpp · 71.3 tokens/s');
    expect(status.error).toBe(false);
  });

  it('says when no model is loaded', () => {
    const status = new StatusLine();
    status.showStatus({ model: null });
    expect(status.text).toBe('no model loaded');
  });

  it("shows an answer's figures, with the backend they name", () => {
    const status = new StatusLine();
    status.showStats('llamacpp:small', {
      backend: 'llamacpp',
      tokens_per_s: 9
    });
    expect(status.text).toBe('llamacpp:small · llamacpp · 9.0 tokens/s');
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

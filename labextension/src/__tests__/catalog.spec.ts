import {
  CatalogModel,
  ICatalog,
  ICatalogApi,
  ICatalogEntry,
  IPollTimer,
  IPull
} from '../state/catalog';

const GB = 1e9;

function entry(
  name: string,
  badge: 'fits' | 'tight' | 'too large'
): ICatalogEntry {
  return {
    name,
    title: name.toUpperCase(),
    roles: ['chat'],
    repo: `org/${name}-GGUF`,
    format: 'gguf',
    quant: 'Q4_K_M',
    size_bytes: 1.1 * GB,
    license: 'apache-2.0',
    params: '1.5B',
    reasoning: false,
    fit: {
      badge,
      need_bytes: 1.5 * GB,
      weights_bytes: 1.1 * GB,
      kv_bytes: 0.2 * GB,
      n_ctx: 8192,
      available_bytes: 12 * GB,
      total_bytes: 16 * GB,
      usable_bytes: 13 * GB
    },
    best_for: [],
    pull: `jupyter tinyai pull ${name}`,
    pulled: false
  };
}

const CATALOG: ICatalog = {
  machine: {
    total_bytes: 16 * GB,
    available_bytes: 12 * GB,
    gpu_working_set_bytes: 0,
    usable_bytes: 13 * GB
  },
  n_ctx: 8192,
  models: [entry('small', 'fits'), entry('huge', 'too large')],
  best: { chat: 'small' }
};

function pull(
  id: string,
  name: string,
  state: IPull['state'],
  done = 0
): IPull {
  return {
    id,
    name,
    quant: null,
    state,
    progress:
      state === 'running'
        ? {
            phase: 'downloading',
            done,
            total: 100,
            fraction: done / 100,
            message: `${name}.gguf  ${done} B / 100 B`
          }
        : null,
    error:
      state === 'cancelled'
        ? {
            kind: 'pull_cancelled',
            message: 'stopped: kept; pull again to resume.'
          }
        : null,
    model: state === 'done' ? { id: `llamacpp:${name}`, name } : null,
    started: 1
  };
}

/** The server's pulls, played by the test. */
class FakeApi implements ICatalogApi {
  pullList: IPull[] = [];
  calls: string[] = [];
  catalog = async () => {
    this.calls.push('catalog');
    return CATALOG;
  };
  pulls = async () => {
    this.calls.push('pulls');
    return { pulls: this.pullList.map(p => ({ ...p })) };
  };
  startPull = async (name: string) => {
    this.calls.push(`start ${name}`);
    const running = this.pullList.find(
      p => p.name === name && p.state === 'running'
    );
    const p = running ?? pull(`id-${name}`, name, 'running', 0);
    if (!running) {
      this.pullList.push(p);
    }
    return { pull: { ...p } };
  };
  cancelPull = async (id: string) => {
    this.calls.push(`cancel ${id}`);
    const p = this.pullList.find(q => q.id === id)!;
    return { pull: { ...p } };
  };
}

/** A timer the test fires by hand. */
class Timer implements IPollTimer {
  due: (() => void)[] = [];
  set = (callback: () => void) => {
    this.due.push(callback);
    return callback;
  };
  clear = (handle: unknown) => {
    this.due = this.due.filter(cb => cb !== handle);
  };
  async fire(): Promise<void> {
    const due = this.due.splice(0);
    due.forEach(cb => cb());
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

function setup() {
  const api = new FakeApi();
  const timer = new Timer();
  const pulled: IPull[] = [];
  const model = new CatalogModel({ api, timer, onPulled: p => pulled.push(p) });
  return { api, timer, pulled, model };
}

describe('CatalogModel', () => {
  it('lists the catalog with badges and says what this machine has', async () => {
    const { model, timer } = setup();
    await model.refresh();
    expect(model.entries.map(e => [e.name, e.fit.badge])).toEqual([
      ['small', 'fits'],
      ['huge', 'too large']
    ]);
    expect(model.machine).toBe(
      'This machine: 16.0 GB of memory, 12.0 GB free. Memory needed is at a context of up to 8192 tokens.'
    );
    expect(model.describe(model.entries[0])).toBe('needs 1.5 GB of memory');
    expect(model.describe(model.entries[1])).toBe(
      'too large for this machine (needs 1.5 GB of memory)'
    );
    expect(timer.due).toHaveLength(0); // nothing runs: no polling
  });

  it('shows a download while it runs, then calls onPulled once when it is done', async () => {
    const { model, api, timer, pulled } = setup();
    await model.refresh();
    await model.download('small');
    expect(model.pullOf('small')?.state).toBe('running');
    expect(timer.due).toHaveLength(1);
    api.pullList[0] = pull('id-small', 'small', 'running', 40);
    await timer.fire();
    expect(model.pullOf('small')?.progress?.fraction).toBe(0.4);
    expect(model.describe(model.entries[0])).toBe('small.gguf  40 B / 100 B');
    expect(pulled).toEqual([]);
    api.pullList[0] = pull('id-small', 'small', 'done');
    await timer.fire();
    expect(pulled.map(p => p.model?.id)).toEqual(['llamacpp:small']);
    expect(model.describe(model.entries[0])).toBe(
      'Downloaded: pick it in the model list.'
    );
    expect(timer.due).toHaveLength(0); // nothing runs any more: polling stops
    await model.poll();
    expect(pulled).toHaveLength(1); // once
  });

  it('finds a download that runs on the server after a reload and follows it', async () => {
    const { api, timer, pulled } = setup();
    api.pullList = [pull('id-small', 'small', 'running', 70)];
    const reloaded = new CatalogModel({
      api,
      timer,
      onPulled: p => pulled.push(p)
    });
    await reloaded.refresh();
    expect(reloaded.pullOf('small')?.progress?.done).toBe(70);
    expect(timer.due).toHaveLength(1);
    api.pullList[0] = pull('id-small', 'small', 'done');
    await timer.fire();
    expect(pulled).toHaveLength(1);
  });

  it('cancels the running pull of an entry and shows why it stopped', async () => {
    const { model, api } = setup();
    await model.refresh();
    await model.download('small');
    api.pullList[0] = pull('id-small', 'small', 'cancelled');
    await model.cancel('small');
    expect(api.calls).toContain('cancel id-small');
    expect(model.pullOf('small')?.state).toBe('cancelled');
    expect(model.describe(model.entries[0])).toBe(
      'stopped: kept; pull again to resume.'
    );
    await model.cancel('small'); // nothing running: nothing sent
    expect(api.calls.filter(c => c.startsWith('cancel'))).toHaveLength(1);
  });

  it('shows the server error of a failed request', async () => {
    const { model, api } = setup();
    api.catalog = async () => {
      throw new Error('The TinyAI server answered 500 Internal Server Error.');
    };
    await model.refresh();
    expect(model.error).toBe(
      'The TinyAI server answered 500 Internal Server Error.'
    );
    expect(model.entries).toEqual([]);
  });

  it('stops polling when disposed', async () => {
    const { model, timer } = setup();
    await model.refresh();
    await model.download('small');
    expect(timer.due).toHaveLength(1);
    model.dispose();
    expect(timer.due).toHaveLength(0);
  });
});

import { Signal } from '@lumino/signaling';

import { IModelState, SSEParser } from '../modelstate';
import { followHostModel } from '../state/hostmodel';
import { ModelPicker } from '../state/picker';
import { StatusLine } from '../state/status';
import { modelInfo, snapshot } from './fakes';

describe('followHostModel', () => {
  it('sends each pushed snapshot to the picker and the status line, and rereads an unknown model', async () => {
    const owner = {};
    const received = new Signal<unknown, IModelState>(owner);
    const picker = new ModelPicker();
    picker.update(
      {
        models: [modelInfo('llamacpp:small', 'Small')],
        loaded: null,
        default: null
      },
      ''
    );
    const status = new StatusLine();
    let reads = 0;
    const stop = followHostModel(received, {
      picker,
      status,
      loadModels: async () => {
        reads += 1;
      }
    });
    received.emit(
      snapshot({
        event: 'loading',
        state: 'loading',
        model: null,
        loading: { id: 'llamacpp:small', name: 'Small' }
      })
    );
    expect(status.text).toBe('Loading Small…');
    expect(reads).toBe(0);
    received.emit(snapshot({ model: { id: 'llamacpp:other', name: 'Other' } }));
    expect([picker.chosen, status.text, reads]).toEqual([
      'llamacpp:other',
      'Other · CPU, 2 threads',
      1
    ]);
    picker.onOpen?.(); // opening the picker reads the list again
    expect(reads).toBe(2);
    stop();
    expect(picker.onOpen).toBe(null);
    received.emit(snapshot({ model: { id: 'llamacpp:small', name: 'Small' } }));
    expect(picker.chosen).toBe('llamacpp:other');
  });
});

describe('SSEParser', () => {
  it('splits a stream into events however it is cut, skipping comments', () => {
    const parser = new SSEParser();
    expect(parser.feed(': model events\n\nevent: model\ndata: {"seq"')).toEqual(
      []
    );
    expect(
      parser.feed(
        ':1}\n\n: keep-alive\n\nevent: model\r\ndata: {"seq":2}\r\n\r\n'
      )
    ).toEqual([
      { name: 'model', data: '{"seq":1}' },
      { name: 'model', data: '{"seq":2}' }
    ]);
    expect(parser.feed('data: a\ndata: b\n\n')).toEqual([
      { name: 'message', data: 'a\nb' }
    ]);
  });
});

/**
 * One model state in the sidebar: each snapshot the host pushes (modelstate.ts) goes to
 * the picker and the status line; a model the picker does not list yet (added or
 * downloaded since) makes it read the list again, so it appears without a reload; so does
 * opening the picker.
 */
import { ISignal } from '@lumino/signaling';

import { IModelState } from '../modelstate';
import { ModelPicker } from './picker';
import { StatusLine } from './status';

export interface IFollowers {
  picker: ModelPicker;
  status: StatusLine;
  /** Read the model list again. */
  loadModels(): Promise<void>;
}

/** Connect `followers` to `received`; returns the function that disconnects them. */
export function followHostModel(
  received: ISignal<unknown, IModelState>,
  followers: IFollowers
): () => void {
  const onState = (_: unknown, state: IModelState) => {
    const unlisted = followers.picker.follow(state);
    followers.status.follow(state);
    if (unlisted) {
      void followers.loadModels();
    }
  };
  received.connect(onState);
  followers.picker.onOpen = () => void followers.loadModels();
  return () => {
    received.disconnect(onState);
    followers.picker.onOpen = null;
  };
}

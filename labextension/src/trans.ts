/**
 * Translation as the DOM-free models see it: the part of a JupyterLab TranslationBundle
 * they use, and a stand-in that only fills in `%1`, `%2`… (tests, and no translator).
 */

/** The part of a JupyterLab TranslationBundle the models use. */
export interface ITrans {
  __(msgid: string, ...args: unknown[]): string;
}

export const plainTrans: ITrans = {
  __: (msgid: string, ...args: unknown[]) =>
    msgid.replace(/%(\d+)/g, (m, n) => {
      const value = args[Number(n) - 1];
      return value === undefined ? m : String(value);
    })
};

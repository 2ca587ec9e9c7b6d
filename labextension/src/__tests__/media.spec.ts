import { classifyUrl, placeholderLabel } from '../components/media';

// The same destinations as tests/magics/test_safe_markdown.py::test_classify_url, read by
// the URL parser of the browser (here Node's, the same WHATWG algorithm). The HTML rewrite
// itself is tested in a real browser: labextension/ui-tests/test_remote_media.py.
describe('classifyUrl', () => {
  it.each([
    ['https://evil.example/x', 'remote'],
    [' //evil.example/x', 'remote'],
    ['\\\\evil.example/x', 'remote'],
    ['/\\evil.example/x', 'remote'],
    ['ht\ttp://evil.example/x', 'remote'],
    ['HTTP://evil.example/x', 'remote'],
    ['javascript:alert(1)', 'unsafe'],
    ['java\tscript:alert(1)', 'unsafe'],
    ['DATA:image/png;base64,AAAA', 'data'],
    ['figures/plot.png', 'relative'],
    ['/files/plot.png', 'relative'],
    ['?x=1', 'relative']
  ])('%j is %s', (value, kind) => {
    expect(classifyUrl(value).kind).toBe(kind);
  });

  it('resolves a remote URL as the browser would fetch it', () => {
    expect(classifyUrl('ht\ttp://evil.example/leak?secret=1').url).toBe(
      'http://evil.example/leak?secret=1'
    );
  });
});

describe('placeholderLabel', () => {
  it('names the host, and the alt text when there is one', () => {
    expect(
      placeholderLabel(
        'image',
        'chart',
        'http://127.0.0.1:8123/md-image?secret=s3cr3t'
      )
    ).toBe('chart (image from 127.0.0.1:8123 — click to open)');
    expect(placeholderLabel('image', '', 'https://evil.example/x.png')).toBe(
      'image from evil.example — click to open'
    );
  });
});

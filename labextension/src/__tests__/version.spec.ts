import * as fs from 'fs';
import * as path from 'path';

describe('version', () => {
  it('package.json agrees with jupyter_tinyai/_version.py (the one source)', () => {
    const root = path.resolve(__dirname, '..', '..', '..');
    const python = fs.readFileSync(
      path.join(root, 'jupyter_tinyai', '_version.py'),
      'utf8'
    );
    const match = python.match(/__version__\s*=\s*["']([^"']+)["']/);
    expect(match).not.toBeNull();
    const pkg = JSON.parse(
      fs.readFileSync(path.join(root, 'labextension', 'package.json'), 'utf8')
    );
    expect(pkg.version).toBe(match![1]);
  });
});

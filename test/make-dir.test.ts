// mkdir -p without Node's recursive mkdir (which spins forever on procfs): nested creation,
// an existing directory, a file in the way, and a path under /proc that cannot exist.
import t from 'tap'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeDirSync } from '../agent/util/make-dir.js'
import { makeDataDir } from '../collector/util/make-dir.js'

const dir = mkdtempSync(join(tmpdir(), 'telltale-make-dir-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'file'), 'x')
const procfs = existsSync('/proc/self')

for (const [name, make] of [['agent makeDirSync', (d: string) => makeDirSync(d, 0o700)], ['collector makeDataDir', (d: string) => makeDataDir(d, 0o750)]] as const) {
  t.test(name, async (t) => {
    const nested = join(dir, name.split(' ')[0]!, 'a', 'b', 'c')
    make(nested)
    t.ok(statSync(nested).isDirectory(), 'creates every missing parent')
    t.equal(statSync(nested).mode & 0o777 & ~(name.startsWith('agent') ? 0o700 : 0o750), 0, 'no more open than the mode asked for (the umask may close it further)')
    t.doesNotThrow(() => make(nested), 'an existing directory is fine')
    t.throws(() => make(join(dir, 'file', 'sub')), { code: 'ENOTDIR' }, 'a file in the way')
    t.throws(() => make(join(dir, 'file')), { code: 'EEXIST' }, 'a file at the path')
    if (procfs) t.throws(() => make('/proc/telltale-no-such/x'), { code: 'ENOENT' }, 'procfs: ENOENT at once (Node\'s recursive mkdir spins here)')
  })
}

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The independent tools the trust tests check our output with: poppler's pdfsig
 * (NSS), OpenSSL, NSS certutil, and LibreOffice to make a real PDF. None of them
 * shares code with what they check.
 */

export function run(cmd: string, args: string[], opts: { input?: Buffer } = {}) {
  const r = spawnSync(cmd, args, { input: opts.input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${cmd} did not run: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}${r.stderr}` };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `certflow-${prefix}-`));
}

export function writeFile(dir: string, name: string, data: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}

/** A one-page certificate-like PDF with Chinese text, made by LibreOffice as issuance does. */
export function makeTestPdf(dir: string): Buffer {
  const html = writeFile(
    dir,
    'licence.html',
    '<html><head><meta charset="utf-8"></head><body style="font-family: \'Noto Serif CJK SC\'">' +
      '<h1>营业执照</h1><p>统一社会信用代码：91330100MA27XXXX1X</p><p>名称：杭州某某科技有限公司</p>' +
      '<p>登记机关：市场监督管理局</p></body></html>',
  );
  // Own profile: another soffice on this machine (other tests, other engineers) must not collide.
  const profile = `file://${path.join(dir, 'lo-profile')}`;
  const r = run('soffice', [
    `-env:UserInstallation=${profile}`,
    '--headless',
    '--convert-to',
    'pdf',
    '--outdir',
    dir,
    html,
  ]);
  const pdf = path.join(dir, 'licence.pdf');
  if (!fs.existsSync(pdf)) throw new Error(`soffice made no PDF: ${r.output}`);
  return fs.readFileSync(pdf);
}

/** An NSS database trusting the given roots, for `pdfsig -nssdir`. */
export function nssDatabase(dir: string, rootsPem: string[]): string {
  const db = path.join(dir, `nss-${fs.readdirSync(dir).length}`);
  fs.mkdirSync(db);
  const init = run('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
  if (init.status !== 0) throw new Error(`certutil -N failed: ${init.output}`);
  rootsPem.forEach((pem, i) => {
    const file = writeFile(dir, `nss-root-${i}.pem`, pem);
    const add = run('certutil', ['-A', '-d', `sql:${db}`, '-n', `root-${i}`, '-t', 'CT,C,C', '-i', file]);
    if (add.status !== 0) throw new Error(`certutil -A failed: ${add.output}`);
  });
  return `sql:${db}`;
}

export function pdfsig(dir: string, pdf: Buffer, nssdir: string): string {
  const file = writeFile(dir, `check-${Date.now()}-${Math.random().toString(36).slice(2)}.pdf`, pdf);
  return run('pdfsig', ['-nssdir', nssdir, file]).stdout;
}

/** Flips one byte inside the first stream's data: structure intact, signed content changed. */
export function tamperOneByte(pdf: Buffer): Buffer {
  const start = pdf.indexOf('stream\n') + 'stream\n'.length;
  const end = pdf.indexOf('endstream', start);
  const copy = Buffer.from(pdf);
  const at = start + Math.floor((end - start) / 2);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

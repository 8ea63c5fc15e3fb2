import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../platform/logger';

/**
 * Defence in depth for LibreOffice (docs/security.md, "LibreOffice isolation"): every document
 * that links external content is refused before soffice opens it (template-check.ts); should
 * one slip past that check, soffice still must not reach the network.
 *
 * - **No network.** soffice runs in a network namespace of its own (`unshare --net` as root,
 *   `unshare -rn` — a user namespace — otherwise), which has only a loopback that is down:
 *   neither the internet, the intranet nor the host's 127.0.0.1 is reachable. Where the kernel
 *   or the container refuses namespaces, soffice runs as before and one warning is logged.
 * - **No link updates.** The profile soffice starts with says: never update links or fields
 *   when loading (Writer), block untrusted referer links, macros off. (Debian's LibreOffice has
 *   no online update check to turn off.)
 */

/** Profile settings written before soffice first starts on a profile. */
export const SOFFICE_REGISTRY = `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Field" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
`;

let namespaceArgs: string[] | null | undefined;

/**
 * The `unshare` arguments that give a process no network here, or null when this machine
 * allows none (checked once per process by running `unshare … true`).
 */
export function networkNamespaceArgs(): string[] | null {
  if (namespaceArgs !== undefined) return namespaceArgs;
  const candidates = process.getuid?.() === 0 ? [['--net'], ['-rn']] : [['-rn'], ['--net']];
  namespaceArgs = null;
  for (const args of candidates) {
    const r = spawnSync('unshare', [...args, 'true'], { stdio: 'ignore', timeout: 5000 });
    if (r.status === 0) {
      namespaceArgs = args;
      break;
    }
  }
  return namespaceArgs;
}

export interface SofficeSandbox {
  /** Runs soffice with the profile settings (and, for the stock converter, without network). */
  sofficePath: string;
  /** For the warm converter: its helper and the soffice it starts, without network. */
  wrap(command: string, args: string[]): [string, string[]];
  /** Whether the network namespace is in use. */
  isolated: boolean;
}

/** Both layers by default; tests turn one or both off to show what each one holds. */
export interface SofficeIsolation {
  /** Its own network namespace, where the machine allows one. */
  network?: boolean;
  /** The profile settings in SOFFICE_REGISTRY. */
  profile?: boolean;
}

const warned = new Set<string>();

/**
 * Writes a small wrapper script into `workDir` that seeds each new profile with
 * SOFFICE_REGISTRY and then runs soffice, in a network namespace when `netnsInWrapper`
 * (the stock converter, which runs soffice itself) — the warm converter puts its whole helper
 * in the namespace instead (`wrap`), because helper and soffice talk over a pipe whose name
 * carries the uid, which a user namespace changes.
 */
export function sofficeSandbox(opts: {
  sofficePath: string;
  workDir: string;
  isolation?: SofficeIsolation;
  netnsInWrapper: boolean;
  logger?: Logger;
}): SofficeSandbox {
  const want = { network: true, profile: true, ...opts.isolation };
  const ns = want.network ? networkNamespaceArgs() : null;
  if (!want.profile && !ns) return { sofficePath: opts.sofficePath, wrap: (c, a) => [c, a], isolated: false };
  if (want.network && !ns && !warned.has('netns')) {
    warned.add('netns');
    opts.logger?.warn(
      'LibreOffice runs with network access: this machine allows no network namespace (unshare); ' +
        'external links are still refused before conversion (docs/security.md)',
    );
  }
  fs.mkdirSync(opts.workDir, { recursive: true });
  const registry = path.join(opts.workDir, 'registrymodifications.xcu');
  fs.writeFileSync(registry, SOFFICE_REGISTRY);
  const prefix = opts.netnsInWrapper && ns ? `unshare ${ns.join(' ')} ` : '';
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    '#!/bin/sh',
    '# certflow: soffice with blocked links (and no network); services/documents/soffice-sandbox.ts',
    ...(want.profile
      ? [
          'for a in "$@"; do',
          '  case "$a" in',
          '    -env:UserInstallation=file://*)',
          '      p="${a#-env:UserInstallation=file://}"',
          `      if [ ! -e "$p/user/registrymodifications.xcu" ]; then mkdir -p "$p/user" && cp ${q(registry)} "$p/user/registrymodifications.xcu"; fi`,
          '      ;;',
          '  esac',
          'done',
        ]
      : []),
    `exec ${prefix}${q(opts.sofficePath)} "$@"`,
    '',
  ].join('\n');
  const wrapper = path.join(
    opts.workDir,
    `soffice-${opts.netnsInWrapper && ns ? 'nonet' : 'net'}-${want.profile ? 'profile' : 'plain'}.sh`,
  );
  fs.writeFileSync(wrapper, script, { mode: 0o700 });
  return {
    sofficePath: wrapper,
    wrap: (command, args) => (!opts.netnsInWrapper && ns ? ['unshare', [...ns, command, ...args]] : [command, args]),
    isolated: ns !== null,
  };
}
